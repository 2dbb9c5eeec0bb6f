"""A state write that fails (disk full) at the controller level: a clear stop, and every file already written parses.

tests/test_state_store.py proves it for the store alone (a failed snapshot keeps the previous one byte for byte,
a failed append leaves no partial line). Here a real `omk-tui run` hits a full disk:
- a tiny tmpfs mounted on the goals folder (needs mount rights, e.g. root in a container; skipped otherwise), at
  several sizes so the disk fills at different moments of the run;
- RLIMIT_FSIZE (always available) so the first snapshot of a goal cannot be written.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from omk_tui.control.execution import ExecutionState
from omk_tui.models.goal import GoalState
from omk_tui.models.proof import Proof
from omk_tui.models.tasks import TaskGraph
from omk_tui.state.eventlog import read_events

from tests.support.goal_repo import make_repo, task, tree_fingerprint, write_script

pytestmark = pytest.mark.timeout(240)
GOAL = "write the alpha and beta check files so the gate passes"
SCRIPT = {
    "plan": {"tasks": [task("alpha", ["alpha.check"]), task("beta", ["beta.check"], deps=["alpha"])]},
    "tasks": {"alpha": [[{"say": "alpha " * 200}, {"write": "alpha.check", "content": "ok\n"}]],
              "beta": [[{"say": "beta " * 200}, {"write": "beta.check", "content": "ok\n"}]]},
}
SNAPSHOTS = {"goal.json": GoalState, "task-graph.json": TaskGraph, "proof.json": Proof, "execution.json": ExecutionState}


def _run(repo: Path, agent: str, env: dict, goal: str = GOAL, preexec=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "omk_tui", "run", goal, "--agent", agent, "--repo", str(repo)],
                          env=env, capture_output=True, text=True, timeout=180, preexec_fn=preexec)


def _every_file_parses(goals: Path) -> list[str]:
    seen = []
    for goal_dir in goals.iterdir():
        for name, model in SNAPSHOTS.items():
            p = goal_dir / name
            if p.exists():
                model.model_validate_json(p.read_bytes())  # raises if torn
                seen.append(name)
        if (goal_dir / "events.jsonl").exists():
            res = read_events(goal_dir / "events.jsonl")
            assert res.gaps <= 1  # at most a torn last line, which the next writer repairs
            seqs = [e.seq for e in res.events]
            assert seqs == sorted(set(seqs))
            seen.append("events.jsonl")
        assert not [p.name for p in goal_dir.iterdir() if p.name.endswith(".tmp")], "a temp file was left behind"
    return seen


def _mount_tmpfs(target: Path, size_kb: int) -> bool:
    target.mkdir(parents=True, exist_ok=True)
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(target)],
                         capture_output=True, text=True)
    return res.returncode == 0


@pytest.mark.parametrize("size_kb", [16, 24, 40, 64])
def test_a_full_disk_during_a_run_stops_it_clearly_and_every_file_parses(tmp_path, size_kb):
    repo = make_repo(tmp_path / "repo")
    goals = repo / ".omk" / "goals"
    if not _mount_tmpfs(goals, size_kb):
        pytest.skip("cannot mount a tmpfs here (needs mount rights)")
    try:
        before = tree_fingerprint(repo)
        agent = write_script(tmp_path / "script.json", SCRIPT)
        env = {**os.environ, "OMK_WORKTREES_DIR": str(tmp_path / "worktrees")}
        env.pop("OMK_DEBUG", None)
        res = _run(repo, agent, env)
        full = subprocess.run(["df", "-k", str(goals)], capture_output=True, text=True).stdout
        print(f"tmpfs {size_kb} KB: exit {res.returncode}; {res.stderr.strip().splitlines()[-1:]}\n{full}")
        assert "Traceback" not in res.stderr, res.stderr[-3000:]
        assert res.returncode != 0, "a run whose state could not be written must not end as if it succeeded"
        # the message says what failed and what to do
        assert "No space left on device" in res.stderr, res.stderr[-2000:]
        assert "resume" in res.stderr or "free some disk space" in res.stderr, res.stderr[-2000:]
        seen = _every_file_parses(goals)
        assert "goal.json" in seen or size_kb <= 16
        assert tree_fingerprint(repo) == before
    finally:
        subprocess.run(["umount", "-l", str(goals)], capture_output=True)


def test_a_first_snapshot_that_cannot_be_written_is_a_clear_error_not_a_traceback(tmp_path):
    repo = make_repo(tmp_path / "repo")
    agent = write_script(tmp_path / "script.json", SCRIPT)
    env = {**os.environ, "OMK_WORKTREES_DIR": str(tmp_path / "worktrees")}
    env.pop("OMK_DEBUG", None)
    limit = 100_000
    long_goal = GOAL + " and keep it tidy" * 4000  # goal.json holds it twice: over the limit, the log line is not

    def cap_file_size():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    res = _run(repo, agent, env, goal=long_goal, preexec=cap_file_size)
    assert res.returncode != 0
    assert "Traceback" not in res.stderr, res.stderr[-3000:]
    assert "could not write" in res.stderr and "goal.json" in res.stderr and "File too large" in res.stderr
    assert "previous version of the file is intact" in res.stderr
    _every_file_parses(repo / ".omk" / "goals")
    assert json.dumps(sorted(p.name for p in repo.iterdir())) == json.dumps(sorted([".git", ".omk", "README.md",
                                                                                    "base.check"]))


def test_an_event_that_cannot_be_appended_while_an_agent_streams_stops_the_run_instead_of_a_silent_gap(tmp_path):
    """The event log hits the file-size limit in the middle of an agent's stream: the turn ends, the run stops
    with a clear message and a non-zero exit, and the goal is never reported ready with events missing."""
    repo = make_repo(tmp_path / "repo")
    script = {"plan": {"tasks": [task("chatty", ["chatty.check"])]},
              "tasks": {"chatty": [[{"say": "word " * 60_000}, {"write": "chatty.check", "content": "ok\n"}]]}}
    agent = write_script(tmp_path / "script.json", script)
    env = {**os.environ, "OMK_WORKTREES_DIR": str(tmp_path / "worktrees")}
    env.pop("OMK_DEBUG", None)
    limit = 200_000

    def cap_file_size():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    res = _run(repo, agent, env, preexec=cap_file_size)
    assert res.returncode != 0, res.stderr[-2000:]
    assert "Traceback" not in res.stderr, res.stderr[-3000:]
    assert "could not append" in res.stderr and "events.jsonl" in res.stderr, res.stderr[-2000:]
    goals = repo / ".omk" / "goals"
    _every_file_parses(goals)
    state = GoalState.model_validate_json(next(goals.iterdir()).joinpath("goal.json").read_bytes())
    assert state.status.value != "ready"
