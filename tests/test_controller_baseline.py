"""Tests red at baseline: a slice green but for them is asked once to fix them (if that is its task), and a goal
whose final gates fail only on them ends with a person's decision, not a dead end. Real scripted agent, real git."""

from __future__ import annotations

import sys

import pytest

from omk_tui.control.controller import GoalController
from omk_tui.models.goal import Budget, GoalOptions, GoalStatus
from omk_tui.state.store import load_goal

from tests.support.goal_repo import git, kinds, make_repo, task, write_script

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(autouse=True)
def _worktrees(tmp_path, monkeypatch):
    monkeypatch.setenv("OMK_WORKTREES_DIR", str(tmp_path / "worktrees"))


async def run_goal(repo, script_path, script, goal="fix the bad check so the gate passes", **opts):
    ctl = GoalController.create(repo, goal, GoalOptions(agent=write_script(script_path, script), **opts), Budget())
    return ctl, await ctl.run()


def red_repo(root):
    return make_repo(root, {"README.md": "# sample\n", "base.check": "ok\n", "bad.check": "broken\n"})


def turns(ctl, slice_id):
    return [(e.payload["role"], e.payload["attempt"], e.payload["reason"]) for e in kinds(ctl, "agent_turn_started")
            if e.payload.get("slice_id") == slice_id]


async def test_a_test_red_at_baseline_that_the_task_must_fix_gets_a_fix_round(tmp_path):
    """QA F2: the first attempt leaves the baseline's red test red; it used to be committed as 'not the slice's
    regression' and the goal ended not_ready with the correct second attempt never run."""
    repo = red_repo(tmp_path / "repo")
    script = {"plan": {"tasks": [task("fix", ["bad.check"])]},
              "tasks": {"fix": [[{"say": "first try"}, {"write": "bad.check", "content": "still broken\n"}],
                                [{"say": "second try"}, {"write": "bad.check", "content": "ok\n"}]]}}
    ctl, proof = await run_goal(repo, tmp_path / "s.json", script)
    assert not proof.baseline_gates[0].passed
    assert proof.status is GoalStatus.ready, proof.blocker
    assert turns(ctl, "fix") == [("implementer", 1, ""), ("fixer", 2, "baseline")]
    (fix,) = proof.slices
    assert fix.attempts == 2 and fix.gates[0].passed and proof.final_gates[0].passed
    prompt = (ctl.paths.agent_logs / "fix-fixer-2.md").read_text()
    assert "these tests were already failing before your change" in prompt and "- bad.check" in prompt
    assert "If they are outside your task, change nothing for them and say so" in prompt
    assert "FAILED bad.check - not ok" in prompt  # the trimmed gate output
    assert git(repo, "show", f"{fix.commit}:bad.check") == "ok\n"
    ctl.close()


async def test_a_new_features_test_failing_to_import_at_baseline_is_fixed_in_the_round(tmp_path):
    """The same with a real unittest gate: the feature's test fails to import at baseline (ERROR, _FailedTest) and
    still does after a first attempt that writes the module under the wrong name."""
    repo = make_repo(tmp_path / "repo", {
        "app/__init__.py": "",
        "tests/__init__.py": "",
        "tests/test_mul.py": "import unittest\nfrom app.mul import mul\n\n\nclass T(unittest.TestCase):\n"
                             "    def test_mul(self):\n        self.assertEqual(mul(2, 3), 6)\n",
    }, gate="none")
    cmd = [sys.executable, "-m", "unittest", "discover", "-s", "tests", "-t", "."]
    (repo / ".omk" / "gates.toml").write_text(f'[[gates]]\nname = "unittest"\ncommand = {cmd!r}\n'.replace("'", '"'))
    script = {"plan": {"tasks": [task("add-mul", ["app"])]},
              "tasks": {"add-mul": [[{"write": "app/multiply.py", "content": "def mul(a, b):\n    return a * b\n"}],
                                    [{"write": "app/mul.py", "content": "def mul(a, b):\n    return a * b\n"}]]}}
    ctl, proof = await run_goal(repo, tmp_path / "s.json", script, goal="add a mul function so the unit tests pass")
    assert not proof.baseline_gates[0].passed
    assert proof.status is GoalStatus.ready, proof.blocker
    assert turns(ctl, "add-mul") == [("implementer", 1, ""), ("fixer", 2, "baseline")]
    assert "tests.test_mul" in (ctl.paths.agent_logs / "add-mul-fixer-2.md").read_text()
    ctl.close()


async def test_an_unrelated_slice_that_changes_nothing_in_the_round_is_accepted_and_a_person_decides(tmp_path):
    """Someone else's red test does not block a slice: its agent changes nothing for it (the scripted agent repeats
    its last turn: the same content) and the slice is accepted as it was, the round not counted as an attempt. The
    final gates still fail on that test only: a person decides, with the commands to do it."""
    repo = red_repo(tmp_path / "repo")
    script = {"plan": {"tasks": [task("other", ["other.check"])]},
              "tasks": {"other": [[{"write": "other.check", "content": "ok\n"}]]}}
    ctl, proof = await run_goal(repo, tmp_path / "s.json", script, goal="add the other check file")
    assert turns(ctl, "other") == [("implementer", 1, ""), ("fixer", 2, "baseline")]
    (other,) = proof.slices
    assert other.status == "merged" and other.attempts == 1 and other.gates[0].only_baseline_failures
    gid = ctl.state.goal_id
    assert proof.status is GoalStatus.blocked_on_human
    assert proof.blocker.startswith("final gate(s) failing on the integrated result: checks (still failing as at "
                                    "baseline: bad.check; log: ")
    assert "These tests were already failing before the goal and still fail" in proof.blocker
    assert f"`omk-tui accept {gid}` takes the work" in proof.blocker
    assert f"`omk-tui reject {gid} --reason ...` and start a new goal that names them" in proof.blocker
    assert proof.human_decisions_required == [proof.blocker]
    ctl.close()


async def test_a_new_regression_in_the_round_goes_through_the_normal_failure_flow(tmp_path):
    repo = red_repo(tmp_path / "repo")
    script = {"plan": {"tasks": [task("fix", ["bad.check", "more.check"])]},
              "tasks": {"fix": [[{"write": "more.check", "content": "ok\n"}],
                                [{"write": "more.check", "content": "oops\n"}],  # the round breaks more.check
                                [{"write": "more.check", "content": "ok\n"}, {"write": "bad.check", "content": "ok\n"}]]}}
    ctl, proof = await run_goal(repo, tmp_path / "s.json", script)
    assert turns(ctl, "fix") == [("implementer", 1, ""), ("fixer", 2, "baseline"), ("fixer", 3, "gates")]
    assert "FAILED more.check" in (ctl.paths.agent_logs / "fix-fixer-3.md").read_text()
    assert proof.status is GoalStatus.ready, proof.blocker
    assert proof.slices[0].attempts == 3
    ctl.close()


async def test_final_gates_failing_on_a_new_failure_say_what_failed_and_what_to_do(tmp_path):
    """A gate red at baseline that fails on something new at the end: not_ready, with the failing ids, the log
    and a next step (it used to be the gate's name only, and no next step)."""
    repo = red_repo(tmp_path / "repo")
    script = {"plan": {"tasks": [task("fix", ["bad.check"]), task("two", ["two.check"])]},
              "tasks": {"fix": [[{"write": "bad.check", "content": "ok\n"}]],
                        "two": [[{"write": "two.check", "content": "ok\n"}]]}}
    ctl, proof = await run_goal(repo, tmp_path / "s.json", script)
    assert proof.status is GoalStatus.ready, proof.blocker  # both slices: bad.check is fixed by 'fix'
    ctl.close()
    # the same blocker text for a final result that fails on something new, from the recorded results
    from omk_tui.models.gates import GateResult

    again = GoalController.open(repo, ctl.state.goal_id)
    again.exec.final = [GateResult(name="checks", command_line="c", passed=False, exit_code=1,
                                   summary=["FAILED bad.check - not ok", "FAILED new.check - not ok"],
                                   log_path="/x/final.log")]
    blocker, human, next_action = again._readiness_blocker()
    assert blocker == ("final gate(s) failing on the integrated result: checks (already failing at baseline, and "
                       "now also: new.check; log: /x/final.log)")
    assert not human and ctl.state.integration_branch in next_action and "omk-tui reject" in next_action
    assert load_goal(ctl.paths).status is GoalStatus.ready
    again.close()
