"""Kill -9 of the controller at random moments of a real run, then resume: the same ready proof every time.

Each chain starts a goal in a separate process and SIGKILLs it after a random delay; `omk-tui resume` continues
it and is killed again, until a run finishes by itself. After every kill: every state file parses, the event
log has strictly increasing seq, and once the next controller has started no process of the dead one is left.
At the end: the proof is ready, the integrated result has every slice, the main working tree is byte-identical.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from omk_tui.control.orphans import marked_processes
from omk_tui.models.goal import GoalState
from omk_tui.models.proof import Proof
from omk_tui.models.tasks import TaskGraph
from omk_tui.control.execution import ExecutionState
from omk_tui.state.eventlog import read_events
from omk_tui.state.store import list_goal_ids

from tests.support.goal_repo import make_repo, task, tree_fingerprint, write_script

KILLS = int(os.environ.get("OMK_RELIABILITY_KILLS", "50"))
KILLS_PER_CHAIN = 5  # then the chain runs to the end, so every chain proves a ready proof

SCRIPT = {
    "plan": {"tasks": [task("alpha", ["alpha.check"]), task("beta", ["beta.check"]),
                       task("gamma", ["gamma.check"], deps=["alpha"])]},
    "tasks": {
        "alpha": [[{"say": "alpha"}, {"sleep": 0.2}, {"write": "alpha.check", "content": "ok\n"}]],
        "beta": [[{"say": "beta, first try"}, {"write": "beta.check", "content": "not yet\n"}],
                 [{"say": "beta, fixed"}, {"write": "beta.check", "content": "ok\n"}]],
        "gamma": [[{"say": "gamma"}, {"sleep": 0.2}, {"write": "gamma.check", "content": "ok\n"}]],
    },
}


def _check_state(goal_dir: Path) -> None:
    for name, model in (("goal.json", GoalState), ("task-graph.json", TaskGraph), ("proof.json", Proof),
                        ("execution.json", ExecutionState)):
        p = goal_dir / name
        if p.exists():
            model.model_validate_json(p.read_bytes())  # raises if torn
    log = read_events(goal_dir / "events.jsonl")
    seqs = [e.seq for e in log.events]
    assert seqs == sorted(set(seqs)), "event seq must be strictly increasing"
    assert log.gaps <= 1  # at most the torn last line of the killed writer (repaired by the next writer)


def _start(args: list[str], repo: Path, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "omk_tui", *args, "--repo", str(repo), "--quiet"],
                            cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.mark.timeout(900)
def test_kill_nine_at_random_moments_then_resume_reaches_the_same_ready_proof(tmp_path):
    rng = random.Random(int(os.environ.get("OMK_RELIABILITY_SEED", "20261122")))
    env = {**os.environ, "OMK_WORKTREES_DIR": str(tmp_path / "worktrees")}
    kills = chains = 0
    while kills < KILLS:
        chains += 1
        repo = make_repo(tmp_path / f"repo{chains}")
        before = tree_fingerprint(repo)
        agent = write_script(tmp_path / f"script{chains}.json", SCRIPT)
        proc = _start(["run", "write the alpha, beta and gamma check files", "--agent", agent], repo, env)
        goal_id = None
        chain_kills = 0
        while True:
            delay = rng.uniform(0.2, 6.0) if chain_kills < KILLS_PER_CHAIN and kills < KILLS else 600
            try:
                rc = proc.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                kills += 1
                chain_kills += 1
                ids = list_goal_ids(repo)
                if ids:
                    goal_id = ids[0]
                    _check_state(repo / ".omk" / "goals" / goal_id)
                if goal_id is None:  # killed before the goal existed: start again
                    proc = _start(["run", "write the alpha, beta and gamma check files", "--agent", agent], repo, env)
                    continue
                proc = _start(["resume", goal_id], repo, env)
                continue
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            assert rc == 0, f"run ended with {rc}: {err[-2000:]}"
            break
        goal_id = goal_id or list_goal_ids(repo)[0]
        goal_dir = repo / ".omk" / "goals" / goal_id
        _check_state(goal_dir)
        proof = Proof.model_validate_json((goal_dir / "proof.json").read_bytes())
        assert proof.status.value == "ready" and proof.readiness == "ready", proof.blocker
        assert sorted(s.slice_id for s in proof.slices if s.status == "merged") == ["alpha", "beta", "gamma"]
        assert {"alpha.check", "beta.check", "gamma.check"} <= set(proof.changed_files)
        assert all(g.passed for g in proof.final_gates)
        assert tree_fingerprint(repo) == before
        deadline = time.monotonic() + 5
        while marked_processes(goal_id) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not marked_processes(goal_id), "a process of the goal outlived its controller"
    print(json.dumps({"kills": kills, "chains": chains}))
