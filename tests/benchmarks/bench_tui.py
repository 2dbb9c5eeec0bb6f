"""TUI benchmarks (python tests/benchmarks/bench_tui.py): prints the figures.

1. Cold start: 200 goals on disk plus one goal of 100,000 events; time from starting the app to the first frame
   (goals list drawn) and to the selected goal folded and drawn. Target: under 1.5 s.
2. Streaming: 8 slices streaming 500 lines/s each into the dashboard (through the same inbox a controller's
   subscriber uses) while keys are pressed; key-to-screen latency (p50/p99, target p99 < 100 ms) and memory
   (RSS) once the panes are full.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from omk_tui.models.events import make_event  # noqa: E402
from omk_tui.state.eventlog import EventLog  # noqa: E402
from omk_tui.state.store import goal_paths  # noqa: E402
from tests.support.sample_goal import SAMPLE_T0, write_minimal_goal, write_sample_goal  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * 4096 / 1e6


def build_repo(root: Path) -> tuple[Path, str]:
    repo = root / "repo"
    paths = write_sample_goal(repo, stage="mid", goal_id="goal-20261123-000000-000-bigbig00")
    for i in range(199):
        write_minimal_goal(repo, f"goal-20261101-{i:06d}-000-{i:08x}", SAMPLE_T0 - timedelta(days=1, minutes=i))
    log = EventLog(paths.events, sync_interval=5.0)
    gid = paths.goal_id
    slices = [f"s{i % 4 + 1}" for i in range(8)]
    for i in range(100_000 - log.seq):
        sid = slices[i % 8]
        if i % 10 == 0:
            log.append(make_event(gid, "agent_tool_call", {"slice_id": sid, "tool_call_id": f"{sid}-{i}",
                                                          "title": f"Run step {i}", "status": "completed"}))
        else:
            log.append(make_event(gid, "agent_message_chunk", {"slice_id": sid, "text": f"line {i} of output\n\n"}))
    log.close()
    return repo, gid


async def cold_start(repo: Path, gid: str) -> dict:
    from omk_tui.ui.app import OmkApp

    t0 = time.perf_counter()
    app = OmkApp(repo)
    first_frame = folded = None
    async with app.run_test(size=(120, 36)) as pilot:
        while folded is None and time.perf_counter() - t0 < 30:
            dash = app.dashboard
            if first_frame is None and dash.goals:
                first_frame = time.perf_counter() - t0
            if dash.view is not None and dash.view.events_applied >= 100_000:
                await pilot.pause()
                folded = time.perf_counter() - t0
            await asyncio.sleep(0.005)
        goals = len(app.dashboard.goals)
    return {"goals": goals, "first_frame_s": first_frame, "goal_folded_and_drawn_s": folded}


async def streaming(repo: Path, gid: str, secs: float = 6.0) -> dict:
    from omk_tui.ui.app import OmkApp

    app = OmkApp(repo, goal_id=gid)
    latencies: list[float] = []
    rss: list[float] = []
    async with app.run_test(size=(120, 36)) as pilot:
        dash = app.dashboard
        while dash.view is None:
            await asyncio.sleep(0.02)
        stop = threading.Event()

        def stream(sid: str) -> None:
            n = 0
            start = time.perf_counter()
            while not stop.is_set():
                due = int((time.perf_counter() - start) * 500)
                while n < due:
                    ev = make_event(gid, "agent_message_chunk", {"slice_id": sid, "text": f"{sid} line {n}\n\n"})
                    ev.seq = 10_000_000 + n
                    dash.push_event(gid, ev)
                    n += 1
                time.sleep(0.01)

        threads = [threading.Thread(target=stream, args=(f"s{i}",), daemon=True) for i in range(1, 9)]
        for t in threads:
            t.start()
        keys = ["tab", "down", "up", "shift+tab"]
        end = time.perf_counter() + secs
        i = 0
        while time.perf_counter() < end:
            t = time.perf_counter()
            await pilot.press(keys[i % len(keys)])
            latencies.append((time.perf_counter() - t) * 1000)
            i += 1
            rss.append(round(rss_mb()))
            await asyncio.sleep(0.02)
        stop.set()
        for t in threads:
            t.join()
        flushes = dash.flushes
    latencies.sort()
    half = len(rss) // 2
    return {
        "keys": len(latencies),
        "key_to_screen_p50_ms": statistics.median(latencies),
        "key_to_screen_p99_ms": latencies[int(len(latencies) * 0.99) - 1],
        "redraw_batches": flushes,
        "rss_first_half_max_mb": max(rss[:half]) if half else None,
        "rss_second_half_max_mb": max(rss[half:]) if rss else None,
    }


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        repo, gid = build_repo(Path(tmp))
        print(f"setup: 200 goals, one of 100,000 events, written in {time.perf_counter() - t:.1f}s")
        r = asyncio.run(cold_start(repo, gid))
        print(f"cold start: first frame with {r['goals']} goals {r['first_frame_s']:.3f}s; "
              f"100,000-event goal folded and drawn {r['goal_folded_and_drawn_s']:.3f}s (target < 1.5s)")
        s = asyncio.run(streaming(repo, gid))
        print(f"streaming 8 slices x 500 lines/s: {s['keys']} keys, key->screen p50 {s['key_to_screen_p50_ms']:.1f}ms "
              f"p99 {s['key_to_screen_p99_ms']:.1f}ms (target p99 < 100ms); {s['redraw_batches']} redraw batches; "
              f"RSS max first half {s['rss_first_half_max_mb']} MB, second half {s['rss_second_half_max_mb']} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
