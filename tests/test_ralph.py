"""`omk-tui ralph`: the PRD loop with the scripted agent over ACP, real gates, a real worktree."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.support.goal_repo import make_repo, task, tree_fingerprint, write_script

pytestmark = pytest.mark.timeout(240)


def ralph(repo, *args, env):
    return subprocess.run([sys.executable, "-m", "omk_tui", "ralph", *args, "--repo", str(repo)], env=env,
                          capture_output=True, text=True, timeout=200)


@pytest.fixture
def env(tmp_path):
    e = {**os.environ, "OMK_WORKTREES_DIR": str(tmp_path / "worktrees")}
    e.pop("OMK_DEBUG", None)
    return e


def contract_of(repo):
    [folder] = list((repo / ".omk" / "ralph").iterdir())
    return folder, json.loads((folder / "done-contract.json").read_text())


def test_every_story_verified_with_one_fix_and_the_main_tree_untouched(tmp_path, env):
    repo = make_repo(tmp_path / "repo")
    before = tree_fingerprint(repo)
    agent = write_script(tmp_path / "s.json", {
        "plan": {"tasks": [task("US-1", ["one.check"]), task("US-2", ["two.check"])]},
        "tasks": {"US-1": [[{"write": "one.check", "content": "ok\n"}]],
                  "US-2": [[{"write": "two.check", "content": "nope\n"}], [{"write": "two.check", "content": "ok\n"}]]},
    })
    res = ralph(repo, "add the one and two check files", "--agent", agent, env=env)
    assert res.returncode == 0, res.stderr
    folder, contract = contract_of(repo)
    assert contract["passed"] is True
    assert [s["status"] for s in contract["stories"]] == ["verified", "verified"]
    assert {s["id"]: s["failures"] for s in contract["stories"]} == {"US-1": 0, "US-2": 1}
    assert sorted(contract["changed_files"]) == ["one.check", "two.check"]
    assert contract["gates"] and all(g["passed"] for g in contract["gates"])
    assert json.loads((folder / "prd.json").read_text())["user_stories"][1]["id"] == "US-2"
    assert tree_fingerprint(repo) == before
    assert "US-2 failed" in res.stderr and "US-2 verified" in res.stderr


def test_three_failures_escalate_to_an_architect_and_stop_without_yolo_then_resume(tmp_path, env):
    repo = make_repo(tmp_path / "repo")
    script = {"plan": {"tasks": [task("US-1", ["bad.check"])]},
              "tasks": {"US-1": [[{"write": "bad.check", "content": "nope\n"}]]},
              "architect": {"US-1": [{"say": "Write exactly ok into bad.check."}]}}
    agent = write_script(tmp_path / "s.json", script)
    res = ralph(repo, "make bad.check pass", "--agent", agent, env=env)
    assert res.returncode == 3, res.stderr
    assert "escalating US-1 to an architect" in res.stderr
    folder, contract = contract_of(repo)
    assert contract["passed"] is False and "--yolo" in contract["reason"]
    state = json.loads((folder / "state.json").read_text())
    assert state["iteration"] == 3 and "US-1" in state["guidance"]
    # the script now fixes it: --resume continues the same state
    script["tasks"]["US-1"] = [[{"write": "bad.check", "content": "ok\n"}]]
    write_script(tmp_path / "s.json", script)
    res = ralph(repo, "make bad.check pass", "--agent", agent, "--resume", env=env)
    assert res.returncode == 0, res.stderr
    _, contract = contract_of(repo)
    assert contract["passed"] is True
    again = ralph(repo, "make bad.check pass", "--agent", agent, env=env)
    assert again.returncode == 2 and "--resume" in again.stderr


def test_max_iterations_with_yolo_keeps_going_then_stops(tmp_path, env):
    repo = make_repo(tmp_path / "repo")
    agent = write_script(tmp_path / "s.json", {
        "plan": {"tasks": [task("US-1", ["bad.check"])]},
        "tasks": {"US-1": [[{"write": "bad.check", "content": "nope\n"}]]}})
    res = ralph(repo, "make bad.check pass", "--agent", agent, "--yolo", "-m", "4", env=env)
    assert res.returncode == 3
    _, contract = contract_of(repo)
    assert "max iterations (4)" in contract["reason"]


def test_gates_passing_on_an_untouched_tree_do_not_pass_the_run(tmp_path, env):
    repo = make_repo(tmp_path / "repo")
    agent = write_script(tmp_path / "s.json", {
        "plan": {"tasks": [task("US-1", ["one.check"])]},
        "tasks": {"US-1": [[{"say": "I did it."}]]}})
    res = ralph(repo, "add the one check file", "--agent", agent, env=env)
    assert res.returncode == 3, res.stderr
    _, contract = contract_of(repo)
    assert contract["passed"] is False and "changed no file" in contract["reason"]
    assert contract["changed_files"] == []


def test_usage_errors_exit_2_before_anything_starts(tmp_path, env):
    repo = make_repo(tmp_path / "repo")
    for args, said in ((["do something", "--agent", "bogus"], "unknown agent SPEC 'bogus'"),
                       (["do something", "--agent", "script:nope.json"], "does not exist"),
                       (["", "--agent", "kimi"], "the TASK is empty"), (["   "], "the TASK is empty")):
        res = ralph(repo, *args, env=env)
        assert res.returncode == 2 and said in res.stderr, (args, res.stderr)
        assert "internal error" not in res.stderr
    (repo / ".omk" / "config.toml").write_text('[agent]\napproval = "bogus"\n')
    res = ralph(repo, "do something", env=env)
    assert res.returncode == 2 and "agent.approval: unknown approval policy 'bogus'" in res.stderr, res.stderr
    assert not (repo / ".omk" / "ralph").exists()


def test_a_missing_agent_executable_exits_1_naming_it(tmp_path, env):
    repo = make_repo(tmp_path / "repo")
    res = ralph(repo, "do something", "--agent", 'acp:"no-such-agent-omk"', env=env)
    assert res.returncode == 1 and "the agent failed" in res.stderr and "no-such-agent-omk" in res.stderr, res.stderr
    assert "Traceback" not in res.stderr


def test_the_agents_story_titles_reach_the_terminal_escaped(tmp_path, env):
    """A story title is the agent's text: an OSC sequence in it retitled the terminal (rich drops only BEL)."""
    repo = make_repo(tmp_path / "repo")
    title = "Retitle \x1b]0;pwned\x07 and \x1b[2J clear"
    agent = write_script(tmp_path / "s.json", {
        "plan": {"tasks": [task("US-1", ["one.check"], title=title)]},
        "tasks": {"US-1": [[{"write": "one.check", "content": "ok\n"}]]},
    })
    res = ralph(repo, "add the one check file", "--agent", agent, env=env)
    assert res.returncode == 0, res.stderr
    assert "story US-1: Retitle \\x1b]0;pwned\\x07 and \\x1b[2J clear" in res.stderr
    assert "\x1b" not in res.stderr
