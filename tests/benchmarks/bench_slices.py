"""Benchmark: slice planning of a 5,000-task graph with dense, overlapping read/write sets.

Run: `python tests/benchmarks/bench_slices.py [--tasks 5000] [--reference-tasks 1000] [--seed 1]`.
Prints the time of `plan_slices`, then the times of `plan_slices` and of the straightforward port of omk's
quadratic planner (tests/test_slices_reference.py) on the first `--reference-tasks` tasks of the same generator
(the port needs many minutes for 5,000), their ratio, and whether the two plans are identical.
Target: `plan_slices` under 1 s for 5,000 tasks.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from omk_tui.models.tasks import Task, TaskGraph  # noqa: E402


def scope_tree() -> tuple[list[str], list[str], list[str]]:
    """About 200 paths: 5 top folders, 4 sub-folders each, 9 files per sub-folder."""
    tops = ["src", "tests", "docs", "lib", "tools"]
    subs, files = [], []
    for top in tops:
        for s in range(4):
            sub = f"{top}/m{s}"
            subs.append(sub)
            files.extend(f"{sub}/f{f}.py" for f in range(9))
    return tops, subs, files


def dense_graph(n: int, *, seed: int = 1, window: int = 8, milestone: int = 50) -> TaskGraph:
    """`n` tasks; each reads and writes 3-8 paths of the scope tree (mostly files, some folders, rarely the
    whole project), so most pairs of tasks overlap. Each task depends on 1-3 random tasks among the `window`
    before it, and every `milestone`-th task (an integration step) on all the tasks since the previous one,
    as planned work usually is; `milestone=0` leaves the tasks far less ordered (see the README)."""
    rng = random.Random(seed)
    tops, subs, files = scope_tree()

    def scope() -> list[str]:
        paths = []
        for _ in range(rng.randint(3, 8)):
            r = rng.random()
            if r < 0.002:
                paths.append("project files")
            elif r < 0.02:
                paths.append(rng.choice(tops))
            elif r < 0.15:
                paths.append(rng.choice(subs))
            else:
                paths.append(rng.choice(files))
        return paths

    ids = [f"task-{i:05d}" for i in range(n)]
    tasks = []
    for i, tid in enumerate(ids):
        if milestone and i and i % milestone == 0:
            deps = ids[i - milestone:i]
        else:
            earlier = ids[max(0, i - window):i]
            deps = rng.sample(earlier, min(len(earlier), rng.randint(1, 3)))
        tasks.append(Task(
            id=tid, title=f"Task {i}", owner_role="executor", dependencies=deps,
            read_set=scope(), write_set=scope(), risk=rng.choice(["low", "medium", "high"]),
        ))
    rng.shuffle(tasks)  # the planner must not rely on the file order
    return TaskGraph(goal_id="goal-bench", tasks=tasks)


def timed(fn, *args, repeat: int = 1):
    """The result and the best (wall, cpu) seconds of `repeat` runs: the best run is the least disturbed by
    other processes on a busy machine."""
    best_wall = best_cpu = float("inf")
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn(*args)
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return result, best_wall, best_cpu


def main() -> None:
    from omk_tui.planning.slices import plan_slices
    from tests.test_slices_reference import reference_plan

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=5000)
    parser.add_argument("--reference-tasks", type=int, default=1000,
                        help="tasks in the graph the slow reference plans (0: skip it)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--window", type=int, default=8)
    parser.add_argument("--milestone", type=int, default=50)
    args = parser.parse_args()

    graph = dense_graph(args.tasks, seed=args.seed, window=args.window, milestone=args.milestone)
    plan, wall, cpu = timed(plan_slices, graph, repeat=args.repeat)
    kinds: dict[str, int] = {}
    for o in plan.overlap_serializations:
        kinds[o.kind] = kinds.get(o.kind, 0) + 1
    deps = sum(len(s.dependencies) for s in plan.slices)
    paths = sum(len(t.read_set) + len(t.write_set) for t in graph.tasks)
    print(f"graph: {args.tasks} tasks, {paths} scope paths, {conflicting_pairs(plan)} overlapping slice pairs; "
          f"plan: {len(plan.slices)} slices, {deps} slice dependencies, "
          f"{len(plan.overlap_serializations)} overlap serializations {kinds}")
    print(f"plan_slices, {args.tasks} tasks: {wall:.3f} s wall, {cpu:.3f} s cpu (best of {args.repeat}; "
          "target < 1 s)")

    if args.reference_tasks:
        small = dense_graph(args.reference_tasks, seed=args.seed, window=args.window, milestone=args.milestone)
        ours_plan, ours_wall, ours_cpu = timed(plan_slices, small, repeat=args.repeat)
        ref_plan, ref_wall, ref_cpu = timed(reference_plan, small)
        same = ours_plan.model_dump() == ref_plan.model_dump()
        print(f"{args.reference_tasks} tasks: plan_slices {ours_wall:.3f} s wall / {ours_cpu:.3f} s cpu, "
              f"reference (omk's quadratic planner) {ref_wall:.3f} s wall / {ref_cpu:.3f} s cpu, "
              f"ratio {ref_cpu / ours_cpu:.0f}x (cpu), identical plans: {same}")


def conflicting_pairs(plan) -> int:
    """How many (earlier, later) slice pairs have an access overlap, ordered by dependencies or not."""
    from omk_tui.planning.scope_index import ScopeIndex

    index = ScopeIndex()
    total = 0
    for number, s in enumerate(plan.slices):
        hits = 0
        for path in s.write_set:
            hits |= index.conflicting(path, index.writers) | index.conflicting(path, index.readers)
        for path in s.read_set:
            hits |= index.conflicting(path, index.writers)
        total += hits.bit_count()
        index.add(number, s.write_set, s.read_set)
    return total


if __name__ == "__main__":
    main()
