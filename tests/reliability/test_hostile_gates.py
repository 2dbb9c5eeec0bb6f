"""Hostile gates through the whole goal controller: floods, invalid UTF-8, children left behind, never ending.

tests/test_gates_runner.py proves the runner alone; here the same hostility runs as a goal's configured gates at
baseline, on a slice and on the integrated result: the controller's memory stays bounded (measured in this
process, where the controller runs), its event log stays small, the proof records and explains the outcome,
and no gate process or grandchild outlives the goal.

`OMK_GATE_FLOOD_MB` sets the size of the flooding gate's output (default 128 MB per run, three runs per goal);
`OMK_GATE_FLOOD_MB=1024` checks the 1 GB case (about a minute).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from omk_tui.control.controller import GoalController
from omk_tui.control.orphans import marked_processes
from omk_tui.models.goal import Budget, GoalOptions, GoalStatus
from omk_tui.state.eventlog import read_events

from tests.reliability.test_hostile_agents import RssSampler
from tests.support.goal_repo import make_repo, task, tree_fingerprint, write_script

pytestmark = pytest.mark.timeout(300)
FLOOD_MB = int(os.environ.get("OMK_GATE_FLOOD_MB", "128"))


@pytest.fixture(autouse=True)
def _worktrees(tmp_path, monkeypatch):
    monkeypatch.setenv("OMK_WORKTREES_DIR", str(tmp_path / "worktrees"))


def processes_with(token: str) -> list[int]:
    """Live processes whose command line holds token (e.g. a `sleep 3017` only this test starts)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if token in cmd and state != "Z":
            out.append(int(entry.name))
    return out


def gates_toml(gates: list[dict]) -> str:
    out = []
    for g in gates:
        out.append("[[gates]]")
        out.extend(f"{k} = {json.dumps(v)}" for k, v in g.items())
    return "\n".join(out) + "\n"


async def run_goal(tmp_path: Path, repo: Path, script: dict, **opts):
    agent = write_script(tmp_path / "script.json", script)
    ctl = GoalController.create(repo, "write the check files so the gate passes", GoalOptions(agent=agent, **opts),
                                Budget())
    proof = await ctl.run()
    return ctl, proof


async def test_flooding_undecodable_and_child_leaving_gates_are_bounded_and_leave_nothing(tmp_path):
    repo = make_repo(tmp_path / "repo")
    checks = (repo / ".omk" / "gates.toml").read_text()
    (repo / ".omk" / "gates.toml").write_text(checks + gates_toml([
        {"name": "flood", "command": f"head -c {FLOOD_MB}M /dev/zero | tr '\\0' 'x' | fold -w 100",
         "timeout_secs": 600},
        {"name": "bytes", "command": "printf 'caf\\303 \\377\\376 \\355\\240\\200 half\\342\\202'; printf ' end\\n'",
         "timeout_secs": 30},
        {"name": "leaves-a-child", "command": "sleep 3017 & setsid sleep 3016 >/dev/null 2>&1 </dev/null & "
                                              "echo started a child that holds the pipe, and a daemon",
         "timeout_secs": 30},
    ]))
    before = tree_fingerprint(repo)
    script = {"plan": {"tasks": [task("one", ["one.check"])]},
              "tasks": {"one": [[{"write": "one.check", "content": "ok\n"}]]}}
    t0 = time.monotonic()
    with RssSampler() as rss:
        ctl, proof = await run_goal(tmp_path, repo, script)
    wall = time.monotonic() - t0

    assert proof.status is GoalStatus.ready, proof.blocker
    for results in (proof.baseline_gates, proof.final_gates):
        assert {r.name: r.passed for r in results} == {"checks": True, "flood": True, "bytes": True,
                                                      "leaves-a-child": True}
    by_name = {r.name: r for r in proof.final_gates}
    # invalid UTF-8 is replaced, never a crash, and the rest of the output survives
    text = "\n".join(by_name["bytes"].summary)
    assert "\ufffd" in text and "end" in text, by_name["bytes"].summary
    # the controller never held the flood: memory and the event log stay small
    assert rss.growth_mb < 150, f"controller RSS grew {rss.growth_mb:.0f} MB while gates printed {3 * FLOOD_MB} MB"
    log_size = ctl.paths.events.stat().st_size
    assert log_size < 2 * 2**20, log_size
    assert read_events(ctl.paths.events).gaps == 0
    # the background children of `leaves-a-child` were ended each time (the daemon, out of the gate's process
    # group, by the gate run's environment mark), and no gate process is left
    assert not processes_with("sleep 3017") and not processes_with("sleep 3016")
    assert not marked_processes(ctl.state.goal_id)
    assert tree_fingerprint(repo) == before
    flood_logs = sorted(ctl.paths.gate_logs.rglob("*flood*.log"))
    disk = sum(p.stat().st_size for p in flood_logs)
    print(f"gate flood {FLOOD_MB} MB x {len(flood_logs)} runs: {wall:.1f} s, controller RSS +{rss.growth_mb:.0f} MB, "
          f"event log {log_size / 1024:.0f} KB, gate logs on disk {disk / 2**20:.0f} MB")
    ctl.close()


async def test_a_gate_that_never_ends_and_spawns_grandchildren_is_timed_out_explained_and_reaped(tmp_path):
    repo = make_repo(tmp_path / "repo")
    (repo / ".omk" / "config.toml").write_text("[agent]\nturn_grace_secs = 1\n")
    checks = (repo / ".omk" / "gates.toml").read_text()
    (repo / ".omk" / "gates.toml").write_text(checks + gates_toml([
        {"name": "forever", "command": "sh -c 'sleep 3018 & sleep 3019 & wait'; sleep 3020", "timeout_secs": 1},
    ]))
    before = tree_fingerprint(repo)
    script = {"plan": {"tasks": [task("one", ["one.check"])]},
              "tasks": {"one": [[{"write": "one.check", "content": "ok\n"}]]}}
    t0 = time.monotonic()
    ctl, proof = await run_goal(tmp_path, repo, script, max_attempts=1)
    wall = time.monotonic() - t0

    assert proof.status is GoalStatus.not_ready
    assert "gates still failing after 2 attempts: forever" in proof.blocker, proof.blocker
    timed = [r for r in proof.baseline_gates if r.name == "forever"]
    assert timed and timed[0].timed_out and not timed[0].passed
    finished = [e.payload["result"] for e in read_events(ctl.paths.events).events
                if e.kind == "gate_finished" and e.payload["result"]["name"] == "forever"]
    assert len(finished) >= 3 and all(f["timed_out"] for f in finished), finished
    # each run ended at its 1 s limit (plus the kill grace), not at the 3,000 s of its sleeps
    assert all(f["duration_ms"] < 6000 for f in finished), finished
    assert wall < 90
    assert not [p for tok in ("sleep 3018", "sleep 3019", "sleep 3020") for p in processes_with(tok)]
    assert not marked_processes(ctl.state.goal_id)
    assert tree_fingerprint(repo) == before
    ctl.close()
