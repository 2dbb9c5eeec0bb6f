"""Replay benchmarks (python tests/benchmarks/bench_replay.py [EVENTS.JSONL]): prints the figures.

On a large goal (default: a generated one of 160,000 events, like the 41 MB log QA replayed; or the log given):
`Recording.load` (time and RSS, what the TUI waits for before its first frame), the background pass that makes
the checkpoints, then seeks as the TUI makes them (`view_at`: to the end, one event back, five steps back,
random positions), each against the fold from the start that every seek used to be; and `replay --headless`'s
fold (`final_view`). Times are medians of 5 unless said.
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from omk_tui.models.events import make_event  # noqa: E402
from omk_tui.projection import fold  # noqa: E402
from omk_tui.replay import Recording, final_view  # noqa: E402
from omk_tui.state.eventlog import EventLog, iter_events  # noqa: E402
from tests.support.sample_goal import write_sample_goal  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096 / 1e6


def build_log(root: Path, events: int = 160_000) -> Path:
    """A goal streamed by 8 slices: message chunks of ~250 bytes (the QA goal's size per event), a tool call in ten."""
    paths = write_sample_goal(root / "repo", stage="mid", goal_id="goal-20261123-000000-000-replay00")
    log = EventLog(paths.events, sync_interval=5.0)
    gid = paths.goal_id
    slices = [f"s{i % 4 + 1}" for i in range(8)]
    for i in range(events - log.seq):
        sid = slices[i % 8]
        if i % 10 == 0:
            log.append(make_event(gid, "agent_tool_call", {"slice_id": sid, "tool_call_id": f"{sid}-{i}",
                                                          "title": f"Run step {i}", "status": "completed"}))
        else:
            log.append(make_event(gid, "agent_message_chunk",
                                  {"slice_id": sid, "text": f"{sid} line {i} " + "x" * 60 + "\n"}))
    log.close()
    return paths.events


def timed(fn, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> int:
    tmp = None
    if len(sys.argv) > 1:
        path = Path(sys.argv[1])
    else:
        tmp = tempfile.TemporaryDirectory(prefix="bench-replay-")
        t = time.perf_counter()
        path = build_log(Path(tmp.name))
        print(f"generated {path.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - t:.1f} s")
    before = rss_mb()
    t = time.perf_counter()
    rec = Recording.load(path)
    load = time.perf_counter() - t
    n = len(rec)
    print(f"log {path.stat().st_size / 1e6:.1f} MB, {n} events")
    print(f"Recording.load: {load:.2f} s, RSS +{rss_mb() - before:.0f} MB (the lines and times it keeps)")
    t = time.perf_counter()
    rec.build_checkpoints()
    print(f"checkpoints (one pass, in the TUI's background worker): {time.perf_counter() - t:.2f} s, "
          f"{len(rec._checkpoints)} of them, {sum(map(len, rec._checkpoints.values())) / 1e6:.1f} MB")
    rng = random.Random(7)
    spots = [rng.randrange(n + 1) for _ in range(5)]
    it = iter(spots * 2)
    figures = {
        "end": timed(lambda: rec.view_at(n)),
        "one event back from the end": timed(lambda: rec.view_at(n - 1)),
        "five steps back (each one event)": timed(lambda: [rec.view_at(n - k) for k in range(1, 6)]),
        "a random position": timed(lambda: rec.view_at(next(it))),
    }
    for what, secs in figures.items():
        print(f"seek, {what}: {secs * 1000:.0f} ms")
    events = list(iter_events(path))  # the fold from the start, as every seek was before (not timed: the parse)
    t = time.perf_counter()
    fold(rec.goal_id, events[:n - 1], gaps=rec.gaps)
    print(f"for comparison, the fold from the start to one event back: {time.perf_counter() - t:.2f} s "
          f"(plus holding every parsed event: the old Recording)")
    del events
    t = time.perf_counter()
    final_view(path)
    print(f"replay --headless's fold (final_view): {time.perf_counter() - t:.2f} s")
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
