"""TUI benchmarks (python tests/benchmarks/bench_tui.py): prints the figures.

1. Cold start: 200 goals on disk plus one goal of 100,000 events; time from starting the app to the first frame
   (goals list drawn) and to the selected goal folded and drawn. Target: under 1.5 s.
2. Streaming: one producer thread (as a controller's log subscriber) emits 8 slices x 500 lines/s into the
   dashboard's inbox while keys move the cursor of the focused worktrees table; key-to-screen latency is the time
   from the key reaching the driver to the first frame rendered after the cursor moved (p50/p99, target p99 <
   100 ms), and memory (RSS) in the first and second half of the run (it must stop growing).
3. Big content (`python tests/benchmarks/bench_tui.py big` runs only this): the longest UI-loop stall (a 10 ms
   probe's worst lateness) while the diff screen opens a slice that adds an 80,000-line file and scrolls to its
   end, and while the agent pane shows a slice whose agent sent one 1 MB line and one 50,000-line message.
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


class FrameClock:
    """Times of the frames the app renders (its `_display` calls: the compositor's update of the screen)."""

    def __init__(self, app) -> None:
        self.frames: list[float] = []
        original = app._display

        def display(screen, renderable):
            original(screen, renderable)
            if renderable is not None:
                self.frames.append(time.perf_counter())

        app._display = display


def send_key(app, key: str) -> None:
    """A key as the terminal driver delivers it (Pilot.press also waits for the process to go idle, which a
    process streaming thousands of events a second never does: that wait is not the UI's latency)."""
    from textual import events

    event = events.Key(key, None)
    event.set_sender(app)
    app._driver.send_message(event)


async def cold_start(repo: Path, gid: str) -> dict:
    from omk_tui.ui.app import OmkApp
    from omk_tui.ui.widgets.goals_table import GoalsTable

    t0 = time.perf_counter()
    app = OmkApp(repo)
    frames = FrameClock(app)
    first_frame = folded = None
    async with app.run_test(size=(120, 36), headless=True):
        while folded is None and time.perf_counter() - t0 < 30:
            dash = app.dashboard
            if first_frame is None and dash.query_one(GoalsTable).row_count:
                mark = time.perf_counter()
                while not frames.frames or frames.frames[-1] < mark:
                    await asyncio.sleep(0.001)
                first_frame = frames.frames[-1] - t0
            if dash.view is not None and dash.view.events_applied >= 100_000:
                mark = time.perf_counter()
                while not frames.frames or frames.frames[-1] < mark:
                    await asyncio.sleep(0.001)
                folded = frames.frames[-1] - t0
            await asyncio.sleep(0.002)
        goals = len(app.dashboard.goals)
    return {"goals": goals, "first_frame_s": first_frame, "goal_folded_and_drawn_s": folded}


def produce(dash, gid: str, stop: threading.Event, counter: list[int], slices: int = 8, rate: int = 500) -> None:
    """One producer thread, like a controller's log subscriber: `slices` agents at `rate` lines/s each,
    emitted every 10 ms with a sleep in between."""
    n = 0
    start = time.perf_counter()
    while not stop.is_set():
        due = int((time.perf_counter() - start) * rate * slices)
        while n < due:
            sid = f"s{n % slices + 1}"
            ev = make_event(gid, "agent_message_chunk", {"slice_id": sid, "text": f"{sid} line {n // slices}\n\n"})
            ev.seq = 10_000_000 + n
            dash.push_event(gid, ev)
            n += 1
        counter[0] = n
        time.sleep(0.01)


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * len(values)) - 1))]


async def streaming(repo: Path, gid: str, secs: float = 12.0) -> dict:
    from omk_tui.ui.app import OmkApp
    from omk_tui.ui.widgets.worktrees_table import WorktreesTable

    app = OmkApp(repo, goal_id=gid)
    frames = FrameClock(app)
    latencies: list[float] = []
    rss: list[float] = []
    async with app.run_test(size=(120, 36)) as pilot:
        dash = app.dashboard
        while dash.view is None or not dash.view.events_applied:
            await asyncio.sleep(0.02)
        table = dash.query_one(WorktreesTable)
        table.focus()
        table.move_cursor(row=1)  # s1; the keys switch the agent pane between s1 and s2, both streaming
        await pilot.pause(0.2)
        stop = threading.Event()
        counter = [0]
        producer = threading.Thread(target=produce, args=(dash, gid, stop, counter), daemon=True)
        producer.start()
        t_start = time.perf_counter()
        end = t_start + secs
        i = 0
        missed = 0
        while time.perf_counter() < end:
            before = table.cursor_row
            key = "down" if before == 1 else "up"
            t = time.perf_counter()
            send_key(app, key)
            # the effect: the cursor moved, and a frame was rendered after it moved
            while table.cursor_row == before and time.perf_counter() - t < 5:
                await asyncio.sleep(0.0005)
            moved = time.perf_counter()
            while (not frames.frames or frames.frames[-1] < moved) and time.perf_counter() - t < 5:
                await asyncio.sleep(0.0005)
            if table.cursor_row == before:
                missed += 1
            latencies.append((frames.frames[-1] - t) * 1000)
            i += 1
            rss.append(rss_mb())
            await asyncio.sleep(0.05)
        stop.set()
        producer.join()
        elapsed = time.perf_counter() - t_start
        flushes = dash.flushes
        events = counter[0]
    half = len(rss) // 2
    return {
        "keys": len(latencies),
        "missed": missed,
        "events_per_s": events / elapsed,
        "key_to_screen_p50_ms": pct(latencies, 0.5),
        "key_to_screen_p99_ms": pct(latencies, 0.99),
        "key_to_screen_max_ms": max(latencies),
        "redraw_batches_per_s": flushes / elapsed,
        "rss_first_half_max_mb": max(rss[:half]) if half else None,
        "rss_second_half_max_mb": max(rss[half:]) if rss else None,
    }


async def big_content(root: Path) -> dict:
    from omk_tui.agents.scripted import _chunks
    from omk_tui.ui.app import OmkApp
    from omk_tui.ui.screens.diff import DiffScreen
    from omk_tui.ui.widgets.agent_stream import AgentStreamView
    from tests.support.sample_goal import SAMPLE_GOAL_ID, SAMPLE_NOW, _Writer
    from tests.test_ui_dashboard import add_big_file

    repo = root / "big"
    write_sample_goal(repo, stage="mid")
    add_big_file(repo, "s2", 80_000)
    w = _Writer(goal_paths(repo, SAMPLE_GOAL_ID), SAMPLE_GOAL_ID)
    w.at(500)
    for text in ("x" * 1_000_000 + "\n\n", "".join(f"line {i} of the message\n" for i in range(50_000))):
        for piece in _chunks(text):
            w.stream("s3", piece)
    app = OmkApp(repo, now=lambda: SAMPLE_NOW)
    out: dict = {}
    async with app.run_test(size=(120, 36)) as pilot:
        while app.dashboard.view is None or not app.dashboard.view.events_applied:
            await pilot.pause(0.05)
        await pilot.pause(0.5)
        lag = [0.0]
        stop = asyncio.Event()

        async def probe() -> None:
            while not stop.is_set():
                t = time.perf_counter()
                await asyncio.sleep(0.01)
                lag[0] = max(lag[0], time.perf_counter() - t - 0.01)

        task = asyncio.create_task(probe())
        table = app.dashboard.query_one("#worktrees")
        table.focus()
        table.move_cursor(row=2)
        await pilot.pause(0.3)
        lag[0] = 0.0
        await pilot.press("d")
        while not isinstance(app.screen, DiffScreen) or app.screen.diff is None:
            await pilot.pause(0.01)
        out["diff_computing_max_stall_ms"] = lag[0] * 1000  # the worker computing it (GIL) and the key's frame
        lag[0] = 0.0
        await pilot.pause(0.3)
        app.screen.patch_view.focus()
        await pilot.press("end")
        await pilot.pause(0.5)
        out["diff_lines"] = app.screen.patch_view.log_file.line_count
        out["diff_max_stall_ms"] = lag[0] * 1000
        await pilot.press("escape")
        await pilot.pause(0.3)
        lag[0] = 0.0
        app.dashboard.query_one("#worktrees").move_cursor(row=3)
        while app.dashboard.scope != "s3":
            await pilot.pause(0.01)
        await pilot.pause(0.5)
        out["agent_max_stall_ms"] = lag[0] * 1000
        out["agent_lines"] = app.dashboard.query_one(AgentStreamView).line_count
        stop.set()
        await task
    return out


def main() -> int:
    if sys.argv[1:] == ["big"]:
        with tempfile.TemporaryDirectory() as tmp:
            b = asyncio.run(big_content(Path(tmp)))
            print(f"big content: diff of {b['diff_lines']:,} lines opened and scrolled to its end, longest UI stall "
                  f"{b['diff_max_stall_ms']:.0f}ms (while computed: {b['diff_computing_max_stall_ms']:.0f}ms); agent pane with a 1 MB line and a 50,000-line message "
                  f"({b['agent_lines']:,} lines shown), longest UI stall {b['agent_max_stall_ms']:.0f}ms")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        repo, gid = build_repo(Path(tmp))
        print(f"setup: 200 goals, one of 100,000 events, written in {time.perf_counter() - t:.1f}s")
        r = asyncio.run(cold_start(repo, gid))
        print(f"cold start: first frame with {r['goals']} goals {r['first_frame_s']:.3f}s (target < 1.5s); "
              f"100,000-event goal folded (in a worker) and drawn {r['goal_folded_and_drawn_s']:.3f}s")
        s = asyncio.run(streaming(repo, gid))
        print(f"streaming 8 slices x 500 lines/s ({s['events_per_s']:.0f} events/s delivered): {s['keys']} keys "
              f"({s['missed']} missed), key->screen p50 {s['key_to_screen_p50_ms']:.1f}ms "
              f"p99 {s['key_to_screen_p99_ms']:.1f}ms max {s['key_to_screen_max_ms']:.1f}ms (target p99 < 100ms); "
              f"{s['redraw_batches_per_s']:.1f} redraw batches/s; RSS max first half "
              f"{s['rss_first_half_max_mb']:.0f} MB, second half {s['rss_second_half_max_mb']:.0f} MB")
        b = asyncio.run(big_content(Path(tmp)))
        print(f"big content: diff of {b['diff_lines']:,} lines opened and scrolled to its end, longest UI stall "
              f"{b['diff_max_stall_ms']:.0f}ms (while computed: {b['diff_computing_max_stall_ms']:.0f}ms); agent pane with a 1 MB line and a 50,000-line message "
              f"({b['agent_lines']:,} lines shown), longest UI stall {b['agent_max_stall_ms']:.0f}ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
