"""The gate log screen on logs that take time: a search that wraps, a search stopped with esc, `G` while the log
is still being read, and a header that shows the result when the gate finishes. Real app under `run_test`."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from omk_tui.models.events import make_event
from omk_tui.models.gates import GateResult
from omk_tui.projection import GateView, apply
from omk_tui.ui.app import OmkApp
from omk_tui.ui.log_file import LogFile
from omk_tui.ui.screens.gate_log import GateLogScreen
from omk_tui.ui.widgets.log_view import LogView
from tests.support.pilot_wait import wait_for
from tests.support.sample_goal import SAMPLE_GOAL_ID, SAMPLE_NOW
from tests.test_ui_dashboard import SIZE, loaded, press_and_find, repo  # noqa: F401 - `repo` is a fixture

pytestmark = pytest.mark.timeout(60)


def status(app) -> str:
    return str(app.screen.query_one("#log-status").render())


def finished_gate(path: Path) -> GateView:
    return GateView(scope="s1", name="pytest", running=False, log_path=str(path),
                    result=GateResult(name="pytest", command_line="pytest -q", passed=False, exit_code=1))


async def open_log(app, pilot, path: Path) -> LogView:
    await app.push_screen(GateLogScreen(finished_gate(path)))
    await wait_for(pilot, lambda: app.screen.query_one(LogView).log_file.line_count > 0)
    return app.screen.query_one(LogView)


async def test_a_search_that_reaches_the_end_goes_on_from_the_top(tmp_path):
    log = tmp_path / "g.log"
    log.write_bytes(b"alpha\nbeta\ncaf\xc3\xa9 latte\n" + b"".join(b"line %d\n" % i for i in range(40)))
    app = OmkApp(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_log(app, pilot, log)
        view.go_to_line(20)
        await pilot.press("slash")
        await press_and_find(pilot, *"CAF", "enter")
        assert view.current_line == 2 and "wrapped" in status(app)
        await press_and_find(pilot, "n")  # the only match: found again, from the top
        assert view.current_line == 2
        await press_and_find(pilot, "N")
        assert view.current_line == 2 and "wrapped" in status(app)
        view.search_text = "nowhere"
        await press_and_find(pilot, "n")
        assert view.current_line == 2 and "no match for 'nowhere'" in status(app)


async def test_esc_stops_a_long_failure_jump_and_nothing_moves(tmp_path, monkeypatch):
    log = tmp_path / "g.log"
    log.write_text("".join(f"line {i}\n" for i in range(100)))
    asked = threading.Event()

    def slow_scan(self, start, *, backwards=False, stopped=None):  # a 300 MB log: until told to stop
        asked.set()
        while not stopped():
            threading.Event().wait(0.01)
        return 99

    monkeypatch.setattr(LogFile, "next_failure", slow_scan)
    app = OmkApp(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_log(app, pilot, log)
        await pilot.press("f")
        await wait_for(pilot, asked.is_set)
        assert "looking for the next failure" in status(app) and "esc stops" in status(app)
        await pilot.press("escape")
        assert isinstance(app.screen, GateLogScreen) and "search stopped" in status(app)
        await wait_for(pilot, lambda: not app.screen.workers._workers)
        await pilot.pause(0.1)
        assert view.current_line is None  # the stopped scan's answer is dropped
        await pilot.press("escape")
        assert not isinstance(app.screen, GateLogScreen)


async def test_G_while_a_large_log_is_still_read_goes_to_its_real_end(tmp_path, monkeypatch):
    log = tmp_path / "g.log"
    log.write_text("".join(f"line {i}\n" for i in range(20_000)))
    index_more = LogFile.index_more

    def slowly(self, max_bytes=0):  # a log of hundreds of MB: read in many steps
        threading.Event().wait(0.01)
        return index_more(self, 2048)

    monkeypatch.setattr(LogFile, "index_more", slowly)
    app = OmkApp(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await app.push_screen(GateLogScreen(finished_gate(log)))
        view = app.screen.query_one(LogView)
        assert view.log_file.line_count < 20_000  # still reading
        app.screen.action_bottom()  # `G` (pilot.press would wait for the reading to end)
        await wait_for(pilot, lambda: view.log_file.line_count == 20_000 and view.current_line == 19_999)
        await pilot.pause(0.2)
        assert view.is_vertical_scroll_end and "line 20000" in status(app) and "reading" not in status(app)


async def test_the_header_shows_the_result_once_the_gate_finishes(repo):
    app = OmkApp(repo, now=lambda: SAMPLE_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        dash = app.dashboard
        assert dash.view.gates[("s4", "pytest")].running
        dash.open_gate_log("s4", "pytest")
        await wait_for(pilot, lambda: isinstance(app.screen, GateLogScreen) and app.screen.query("#log-header"))
        header = app.screen.query_one("#log-header")
        assert "running" in str(header.render()) and "following" in status(app)
        result = GateResult(name="pytest", command_line="python -m pytest -q", passed=True, exit_code=0,
                            duration_ms=4200)
        apply(dash.view, make_event(SAMPLE_GOAL_ID, "gate_finished",
                                    {"scope": "s4", "result": result.model_dump(mode="json")}))
        await wait_for(pilot, lambda: "passed" in str(header.render()))
        assert "exit 0 · 4.2s" in str(header.render()) and "following" not in status(app)
        assert not app.screen.query_one(LogView).follow
