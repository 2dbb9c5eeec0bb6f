"""Orchestrator overhead: the demo goal (4 slices, overlapping scopes, a gate failure fixed on attempt 2) with a
zero-latency scripted agent, against the subprocess time it could not avoid.

Unavoidable time is what agent processes (start to end of each turn, start-up included) and gate processes
(gate_started to gate_finished) took, from the event log's timestamps. Because agents and gates overlap, the
figure is their union on the wall clock; the rest of the goal's wall time is the orchestrator's own (planning the
slices, worktrees, commits, merges, snapshots and the event log).

    python tests/benchmarks/bench_overhead.py [--runs 3] [--max-agents 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from omk_tui.control.controller import GoalController  # noqa: E402
from omk_tui.demo.sample import DEMO_GOAL, create_sample_repo, demo_script  # noqa: E402
from omk_tui.models.goal import Budget, GoalOptions, GoalStatus  # noqa: E402
from omk_tui.state.eventlog import read_events  # noqa: E402
from tests.support.goal_repo import write_script  # noqa: E402


def busy_intervals(events) -> tuple[list[tuple[float, float]], float, float]:
    """(start, end) of every agent turn and gate run; also their plain sums (agents, gates)."""
    open_turns: dict[tuple, float] = {}
    open_gates: dict[tuple, float] = {}
    spans: list[tuple[float, float]] = []
    agents = gates = 0.0
    for e in events:
        t, p = e.ts.timestamp(), e.payload
        if e.kind == "agent_turn_started":
            open_turns[(p.get("slice_id"), p.get("role"))] = t
        elif e.kind == "agent_turn_finished":
            key = next((k for k in open_turns if k[0] == p.get("slice_id")), None)
            if key is not None:
                s = open_turns.pop(key)
                spans.append((s, t))
                agents += t - s
        elif e.kind == "gate_started":
            open_gates[(p.get("scope"), p.get("name"), p.get("run"))] = t
        elif e.kind == "gate_finished":
            r = p["result"]
            key = (p.get("scope"), r["name"], p.get("run"))
            if key in open_gates:
                s = open_gates.pop(key)
                spans.append((s, t))
                gates += t - s
    return spans, agents, gates


def union_length(spans: list[tuple[float, float]]) -> float:
    total, cur_s, cur_e = 0.0, None, None
    for s, e in sorted(spans):
        if cur_e is None or s > cur_e:
            if cur_e is not None:
                total += cur_e - cur_s
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    if cur_e is not None:
        total += cur_e - cur_s
    return total


async def one_run(max_agents: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["OMK_WORKTREES_DIR"] = str(Path(tmp) / "worktrees")
        repo = create_sample_repo(Path(tmp) / "calc")
        agent = write_script(Path(tmp) / "script.json", demo_script(0))
        t0 = time.monotonic()
        ctl = GoalController.create(repo, DEMO_GOAL, GoalOptions(agent=agent, max_agents=max_agents), Budget())
        proof = await ctl.run()
        wall = time.monotonic() - t0
        events = read_events(ctl.paths.events).events
        ctl.close()
    assert proof.status is GoalStatus.ready, proof.blocker
    spans, agents, gates = busy_intervals(events)
    busy = union_length(spans)
    # the goal's own recorded span (first to last event) vs. this process's wall time (create + run)
    return {"wall": wall, "busy": busy, "agents_sum": agents, "gates_sum": gates, "turns": sum(1 for e in events if e.kind == "agent_turn_started"),
            "gate_runs": sum(1 for e in events if e.kind == "gate_finished"), "events": len(events)}


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--max-agents", type=int, default=2)
    args = ap.parse_args()
    runs = [await one_run(args.max_agents) for _ in range(args.runs)]
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    over = med["wall"] - med["busy"]
    print(f"demo goal, zero-latency scripted agent, max_agents {args.max_agents}, {args.runs} runs (medians)")
    print(f"goal wall time (create + run)            {med['wall']:.2f} s")
    print(f"agent turns / gate runs / events         {med['turns']:.0f} / {med['gate_runs']:.0f} / {med['events']:.0f}")
    print(f"agent process time (sum over turns)      {med['agents_sum']:.2f} s")
    print(f"gate process time (sum over runs)        {med['gates_sum']:.2f} s")
    print(f"unavoidable (union of agents and gates)  {med['busy']:.2f} s")
    print(f"orchestrator overhead                    {over:.2f} s = {100 * over / med['wall']:.1f} % of the wall time")


if __name__ == "__main__":
    asyncio.run(main())
