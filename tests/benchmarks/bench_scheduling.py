"""Scheduling quality: 50 slices with scripted durations and random dependencies, `max_agents` 8.

The makespan of the execution phase (first slice started to last slice committed, from the event log) against the
lower bound max(critical path, total work / agents), computed twice:
- with each slice's *measured* duration (agent start-up, turn, gates and commit included): the scheduler's own
  quality, whatever the machine;
- with the *scripted* durations plus a measured per-turn start-up constant: how close the run is to ideal.

    python tests/benchmarks/bench_scheduling.py [--slices 50] [--agents 8] [--seed 7] [--min 0.5] [--max 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from omk_tui.control.controller import GoalController  # noqa: E402
from omk_tui.models.goal import Budget, GoalOptions, GoalStatus  # noqa: E402
from omk_tui.state.eventlog import read_events  # noqa: E402

from tests.support.goal_repo import make_repo, task, write_script  # noqa: E402


def synthetic_graph(n: int, rng: random.Random, lo: float, hi: float) -> tuple[list[dict], dict[str, float]]:
    tasks, durations = [], {}
    for i in range(n):
        tid = f"s{i:02d}"
        earlier = [f"s{j:02d}" for j in range(max(0, i - 12), i)]
        deps = rng.sample(earlier, k=min(len(earlier), rng.choice([0, 0, 1, 1, 2]))) if earlier else []
        durations[tid] = round(rng.uniform(lo, hi), 2)
        tasks.append(task(tid, [f"{tid}.check"], deps=sorted(deps), budget=600))
    return tasks, durations


def lower_bound(tasks: list[dict], cost: dict[str, float], agents: int) -> tuple[float, float, float]:
    finish: dict[str, float] = {}
    for t in tasks:  # tasks are in dependency order
        finish[t["id"]] = cost[t["id"]] + max((finish[d] for d in t["dependencies"]), default=0.0)
    cp = max(finish.values())
    work = sum(cost.values()) / agents
    return max(cp, work), cp, work


def measured(events) -> tuple[dict[str, float], float, float]:
    start: dict[str, float] = {}
    end: dict[str, float] = {}
    turns: list[float] = []
    turn_start: dict[str, float] = {}
    for e in events:
        t = e.ts.timestamp()
        p = e.payload
        if e.kind == "slice_state" and p.get("state") == "running":
            start.setdefault(p["slice_id"], t)
        elif e.kind == "slice_state" and p.get("state") == "committed":
            end[p["slice_id"]] = t
        elif e.kind == "agent_turn_started" and p.get("slice_id"):
            turn_start[p["slice_id"]] = t
        elif e.kind == "agent_turn_finished" and p.get("slice_id") in turn_start:
            # start-up = the whole turn minus the agent's own turn duration (its scripted sleep)
            turns.append(t - turn_start[p["slice_id"]] - (p.get("duration_ms") or 0) / 1000)
    cost = {s: end[s] - start[s] for s in end}
    return cost, min(start.values()), max(end.values()), statistics.median(turns) if turns else 0.0


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--slices", type=int, default=50)
    ap.add_argument("--agents", type=int, default=8)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--min", type=float, default=0.5)
    ap.add_argument("--max", type=float, default=3.0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    tasks, durations = synthetic_graph(args.slices, rng, args.min, args.max)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["OMK_WORKTREES_DIR"] = str(Path(tmp) / "worktrees")
        repo = make_repo(Path(tmp) / "repo")
        script = {"plan": {"tasks": tasks},
                  "tasks": {t["id"]: [[{"sleep": durations[t["id"]]},
                                       {"write": f"{t['id']}.check", "content": "ok\n"}]] for t in tasks}}
        agent = write_script(Path(tmp) / "script.json", script)
        ctl = GoalController.create(repo, "write every check file so the gate passes",
                                    GoalOptions(agent=agent, max_agents=args.agents), Budget())
        t0 = time.monotonic()
        proof = await ctl.run()
        total = time.monotonic() - t0
        events = read_events(ctl.paths.events).events
        ctl.close()
    assert proof.status is GoalStatus.ready, proof.blocker
    cost, first, last = measured(events)[:3]
    startup = measured(events)[3]
    makespan = last - first
    lb_m, cp_m, work_m = lower_bound(tasks, cost, args.agents)
    scripted = {k: v + startup for k, v in durations.items()}
    lb_s, cp_s, work_s = lower_bound(tasks, scripted, args.agents)
    print(f"slices {args.slices}, max_agents {args.agents}, scripted durations {args.min}-{args.max} s "
          f"(total {sum(durations.values()):.1f} s), seed {args.seed}")
    print(f"whole goal wall time            {total:.1f} s")
    print(f"execution makespan              {makespan:.1f} s")
    print(f"per-turn overhead (median)      {startup:.2f} s  (agent start-up, prompt, close)")
    print(f"bound, measured slice times     {lb_m:.1f} s  (critical path {cp_m:.1f}, work/{args.agents} {work_m:.1f})"
          f"  -> makespan {100 * (makespan / lb_m - 1):+.1f} %")
    print(f"bound, scripted + start-up      {lb_s:.1f} s  (critical path {cp_s:.1f}, work/{args.agents} {work_s:.1f})"
          f"  -> makespan {100 * (makespan / lb_s - 1):+.1f} %")
    print(f"mean measured slice time        {statistics.mean(cost.values()):.2f} s "
          f"(scripted mean {statistics.mean(durations.values()):.2f} s)")


if __name__ == "__main__":
    asyncio.run(main())
