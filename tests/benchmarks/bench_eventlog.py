"""Event log figures: durable appends per second (group commit, and fsync per event), and the time to load and
fold a 1,000,000-event log into a GoalView in a fresh process, as `omk-tui show` or the TUI opening a goal does.

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
from omk_tui.state.eventlog import EventLog, dump_line, iter_record_blocks

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


def load_once(path: Path) -> dict:
    """One load + fold in this (fresh) process: wall and CPU time, and figures of the view to compare runs by."""
    t, c = time.perf_counter(), time.process_time()
    view = load_view(path, GOAL)
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    gc.disable()  # as load_view does: the cyclic GC would rescan every decoded event
    c = time.process_time()
    for _ in iter_record_blocks(path):  # the read alone, without the fold's handlers
        pass
    decode = time.process_time() - c
    return {"wall": wall, "cpu": cpu, "decode_cpu": decode, "rss_mb": rss_mb, "events": view.events_applied,
            "gaps": view.gaps, "last_seq": view.last_seq, "tokens": view.tokens_in,
            "entries": sum(s.appended for s in view.streams.values())}


def load_in_fresh_process(path: Path) -> dict:
    # A fresh process, as `omk-tui show` or the TUI opening a goal: not the heap this script built the log with.
    out = subprocess.run([sys.executable, __file__, "--load", str(path)], check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--appends", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=5, help="fresh-process loads; the median is the figure")
    ap.add_argument("--load", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.load:
        print(json.dumps(load_once(args.load)))
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
        runs = [load_in_fresh_process(path) for _ in range(args.repeat)]
        same = {json.dumps({k: r[k] for k in ("events", "gaps", "last_seq", "tokens", "entries")}) for r in runs}
        wall = sorted(r["wall"] for r in runs)
        print(f"load + fold {runs[0]['events']:,} events ({size / 1e6:.0f} MB) into a GoalView, fresh process, "
              f"median of {args.repeat}: {statistics.median(wall):.2f} s wall (min {wall[0]:.2f}, max {wall[-1]:.2f};"
              f" target < 3 s); CPU {statistics.median(r['cpu'] for r in runs):.2f} s; "
              f"peak RSS {max(r['rss_mb'] for r in runs):.0f} MB; gaps={runs[0]['gaps']}; "
              f"every load gives the same view figures: {len(same) == 1}")
        count = runs[0]["events"]
        decode = statistics.median(r["decode_cpu"] for r in runs)
        fold = statistics.median(r["cpu"] - r["decode_cpu"] for r in runs)
        print(f"  CPU per event: reading and decoding the envelope a block at a time (msgspec) "
              f"{decode / count * 1e6:.2f} us, the fold's handlers about {fold / count * 1e6:.2f} us")


if __name__ == "__main__":
    main()
