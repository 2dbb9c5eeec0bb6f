"""Event log figures: durable appends per second (group commit, and fsync per event), and the time to load and
fold a 1,000,000-event log into a GoalView (with its checker process, as `load_view` does on a machine with two
CPUs, and in one process for comparison).

    python tests/benchmarks/bench_eventlog.py [--events 1000000] [--appends 20000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from omk_tui.models.events import Event, make_event
from omk_tui.models.gates import GateResult
from omk_tui.projection import load_view
from omk_tui.state import eventlog
from omk_tui.state.eventlog import EventLog, dump_line, iter_lines, iter_record_blocks

GOAL = "goal-20261122-120000-000-abcdef01"


def bench_appends(folder: Path, n: int, *, durable_each: bool) -> float:
    path = folder / ("each.jsonl" if durable_each else "group.jsonl")
    log = EventLog(path)
    ev = [make_event(GOAL, "agent_message_chunk", {"slice_id": "s1", "text": f"chunk {i} of a streamed answer "})
          for i in range(n)]
    t = time.perf_counter()
    for e in ev:
        log.append(e, durable=durable_each)
    log.close()  # the final fsync is part of the cost
    return n / (time.perf_counter() - t)


def realistic_events(n: int):
    """A streaming-heavy goal: 8 slices, tool calls, gates, usage; most events are agent message chunks.

    Bulk events skip make_event's payload validation (the payloads are known good) so writing the log is quick.
    """
    def make_event(goal_id, kind, payload):  # noqa: F811 - the envelope is still a validated Event
        return Event(goal_id=goal_id, kind=kind, payload=payload)

    yield make_event(GOAL, "goal_created", {"goal": "bench goal", "repo": "/tmp/repo"})
    for s in range(8):
        sid = f"s{s}"
        yield make_event(GOAL, "task_proposed", {"task": {"id": f"t{s}", "title": f"task {s}"}})
        yield make_event(GOAL, "task_accepted", {"task_id": f"t{s}"})
        yield make_event(GOAL, "slice_planned", {"slice_id": sid, "task_id": f"t{s}", "branch": f"omk/{sid}"})
    i = 0
    written = 25
    result = GateResult(name="pytest", command_line="pytest -q", passed=True).model_dump(mode="json")
    while written < n:
        sid = f"s{i % 8}"
        r = i % 100
        if r < 80:
            yield make_event(GOAL, "agent_message_chunk", {"slice_id": sid, "text": f"token {i} "})
        elif r < 90:
            yield make_event(GOAL, "agent_tool_call", {"slice_id": sid, "tool_call_id": f"c{i // 10}",
                                                         "title": "edit file", "status": "in_progress"})
        elif r < 95:
            yield make_event(GOAL, "usage", {"slice_id": sid, "input_tokens": 10, "output_tokens": 5})
        elif r < 98:
            yield make_event(GOAL, "slice_state", {"slice_id": sid, "state": "running", "attempt": 1})
        elif r == 98:
            yield make_event(GOAL, "gate_started", {"scope": sid, "name": "pytest", "command_line": "pytest -q"})
        else:
            yield make_event(GOAL, "gate_finished", {"scope": sid, "result": result})
        i += 1
        written += 1


def write_log(path: Path, n: int) -> None:
    # Written with the real line format, without paying for n fsyncs.
    with open(path, "wb") as fh:
        buf = []
        for seq, ev in enumerate(realistic_events(n), 1):
            ev.seq = seq
            buf.append(dump_line(ev))
            if len(buf) >= 10000:
                fh.write(b"".join(buf))
                buf.clear()
        fh.write(b"".join(buf))


def load_once(path: Path, checker: bool) -> dict:
    """One load + fold in this (fresh) process: wall time, CPU time here and in the checker process."""
    if not checker:
        eventlog.CHECKER_MIN_BYTES = 1 << 62
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    t, c = time.perf_counter(), time.process_time()
    view = load_view(path, GOAL)
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"wall": wall, "cpu": cpu, "checker_cpu": (after.ru_utime + after.ru_stime) - (children.ru_utime +
            children.ru_stime), "events": view.events_applied, "gaps": view.gaps, "last_seq": view.last_seq,
            "tokens": view.tokens_in, "entries": sum(s.appended for s in view.streams.values()),
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def load_in_fresh_process(path: Path, checker: bool) -> dict:
    # A fresh process, as `omk-tui show` or the TUI opening a goal: not the heap this script built the log with.
    out = subprocess.run([sys.executable, __file__, "--load", str(path)] + ([] if checker else ["--one-process"]),
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--appends", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=5, help="loads of each kind; the median is the figure")
    ap.add_argument("--load", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--one-process", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.load:
        print(json.dumps(load_once(args.load, not args.one_process)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        group = bench_appends(folder, args.appends, durable_each=False)
        each = bench_appends(folder, max(500, args.appends // 20), durable_each=True)
        print(f"appends, group commit (fsync every 50 ms): {group:,.0f} events/s")
        print(f"appends, fsync per event:                  {each:,.0f} events/s")

        path = folder / "events.jsonl"
        write_log(path, args.events)
        size = os.path.getsize(path)
        # Alternating, so a slow spell of a shared machine hits both kinds alike.
        runs = {True: [], False: []}
        for _ in range(args.repeat):
            for checker in (True, False):
                runs[checker].append(load_in_fresh_process(path, checker))
        two, one = runs[True], runs[False]
        same = {json.dumps({k: r[k] for k in ("events", "gaps", "last_seq", "tokens", "entries")}) for r in two + one}
        wall = sorted(r["wall"] for r in two)
        print(f"load + fold {two[0]['events']:,} events ({size / 1e6:.0f} MB) into a GoalView, fresh process, "
              f"median of {args.repeat}: {statistics.median(wall):.2f} s wall (min {wall[0]:.2f}, max {wall[-1]:.2f};"
              f" target < 3 s); CPU {statistics.median(r['cpu'] for r in two):.2f} s here + "
              f"{statistics.median(r['checker_cpu'] for r in two):.2f} s in the checker process; "
              f"peak RSS {max(r['rss_mb'] for r in two):.0f} MB; gaps={two[0]['gaps']}")
        print(f"  the same load in one process (no checker): median {statistics.median(r['wall'] for r in one):.2f} s"
              f" wall; both folds give the same view figures: {len(same) == 1}")
        c = time.process_time()
        count = sum(1 for _ in iter_lines(path))
        split = time.process_time() - c
        gc.disable()  # as load_view does: the cyclic GC would rescan every parsed event
        c = time.process_time()
        for _ in iter_record_blocks(path):
            pass
        parse = time.process_time() - c - split
        gc.enable()
        print(f"  one process, CPU per event: splitting lines {split / count * 1e6:.2f} us, parsing + strictly "
              f"validating the envelope (pydantic-core) {parse / count * 1e6:.2f} us")


if __name__ == "__main__":
    main()
