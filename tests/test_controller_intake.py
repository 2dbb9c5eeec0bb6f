"""Intake rejections and what follows: a task the goal's time left cannot cover stops the goal before it executes
(it is not handed to the broader fallback task), and a fallback that did the goal is not said to have left the work
undone. Real scripted agent over ACP, real git, real gates."""

from __future__ import annotations

import re

import pytest

from omk_tui.control.controller import GoalController
from omk_tui.control.offline import budget_add_offline
from omk_tui.models.goal import Budget, GoalOptions, GoalStatus
from omk_tui.state.store import load_goal

from tests.support.goal_repo import kinds, make_repo, task, write_script

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(autouse=True)
def _worktrees(tmp_path, monkeypatch):
    monkeypatch.setenv("OMK_WORKTREES_DIR", str(tmp_path / "worktrees"))


async def test_a_task_longer_than_the_time_left_stops_the_goal_with_the_budget_add_that_covers_it(tmp_path):
    """QA Kimi-6: the only planned task asked 300 s of a goal with less left; intake rejected it and the fallback
    `goal-execute` (which may write any file) did the work instead, and the goal ended blocked saying the work was
    not done. Now nothing runs: needs_more_budget, naming the task and the budget-add; after it, a resume plans
    again and runs the task as planned."""
    repo = make_repo(tmp_path / "repo")
    script = {"plan": {"tasks": [task("add-mul", ["mul.check"], budget=300)]},
              "tasks": {"add-mul": [[{"write": "mul.check", "content": "ok\n"}]],
                        "goal-execute": [[{"write": "anything.check", "content": "ok\n"}]]}}
    agent = write_script(tmp_path / "s.json", script)
    ctl = GoalController.create(repo, "add the mul check file", GoalOptions(agent=agent), Budget(time_secs=200))
    proof = await ctl.run()
    gid = ctl.state.goal_id
    assert proof.status is GoalStatus.needs_more_budget, proof.blocker
    assert proof.blocker.startswith("not started: the plan's task(s) 'add-mul' (300s) need more time than the goal "
                                    "has left (")
    assert not proof.slices and not (ctl.paths.root / "task-graph.json").exists()
    assert [e.payload["role"] for e in kinds(ctl, "agent_turn_started")] == ["planner"]  # no fallback turn
    state = load_goal(ctl.paths)
    m = re.fullmatch(rf"omk-tui budget-add {gid} --time (\d+)m, then omk-tui resume {gid} \(it plans again with "
                     r"that time\)", state.failure.next_action)
    assert m, state.failure.next_action
    ctl.close()

    budget_add_offline(ctl.paths, int(m.group(1)) * 60, None, None)  # what `omk-tui budget-add` does
    again = GoalController.open(repo, gid)
    proof = await again.run()
    assert proof.status is GoalStatus.ready, proof.blocker
    assert [s.slice_id for s in proof.slices] == ["add-mul"] and proof.changed_files == ["mul.check"]
    again.close()


async def test_a_fallback_that_did_the_goal_after_every_planned_task_was_rejected_says_so(tmp_path):
    repo = make_repo(tmp_path / "repo")
    script = {"plan": {"tasks": [task("bad", ["/etc/bad.check"])]},
              "tasks": {"goal-execute": [[{"write": "new.check", "content": "ok\n"}]]}}
    agent = write_script(tmp_path / "s.json", script)
    ctl = GoalController.create(repo, "add the new check file", GoalOptions(agent=agent), Budget())
    proof = await ctl.run()
    gid = ctl.state.goal_id
    assert [(s.slice_id, s.status) for s in proof.slices] == [("goal-execute", "merged")]
    assert proof.final_gates[0].passed and proof.changed_files == ["new.check"]
    assert proof.status is GoalStatus.blocked_on_human
    assert "was not done" not in proof.blocker
    assert proof.blocker.startswith("the 1 planned task(s) were rejected at intake: 'bad' (outside the allowed goal "
                                    "policy roots")
    assert ("the fallback task 'goal-execute' (which may write any project file) did the goal in one slice instead, "
            "and its gates pass") in proof.blocker
    assert proof.blocker.endswith(f". A person decides: `omk-tui accept {gid}` takes that work, or `omk-tui reject "
                                  f"{gid} --reason ...` and start a new goal")
    assert proof.human_decisions_required == [proof.blocker]
    ctl.close()
