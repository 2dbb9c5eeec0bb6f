"""Text from people, agents, gates and errors is shown literally: brackets are not markup, in the TUI or on the CLI.

A task title like ``fix [/] in list[int]`` from an agent's plan, or an error like ``[Errno 2] …``, used to be read
as markup: the brackets vanished, or a `[/]` raised MarkupError and took the TUI (or a headless run) down.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable

from omk_tui.headless import HeadlessPrinter
from omk_tui.models.events import make_event
from omk_tui.projection import permission_label
from omk_tui.state.eventlog import EventLog
from omk_tui.state.store import goal_paths
from omk_tui.ui.app import OmkApp
from omk_tui.ui.screens.modals import ConfirmModal
from tests.support.sample_goal import SAMPLE_GOAL_ID, SAMPLE_NOW, write_sample_goal

pytestmark = pytest.mark.timeout(60)
HOSTILE = "fix [/] and [bold]list[int][/bold] [type=missing, input_value={'a': 1}]"


def append(repo: Path, kind: str, payload: dict) -> None:
    log = EventLog(goal_paths(repo, SAMPLE_GOAL_ID).events)
    log.append(make_event(SAMPLE_GOAL_ID, kind, payload))
    log.close()


@pytest.fixture
def repo(tmp_path) -> Path:
    r = tmp_path / "slugger"
    write_sample_goal(r, stage="mid")
    append(r, "task_proposed", {"task": {"id": "t9", "title": HOSTILE}})
    append(r, "task_accepted", {"task_id": "t9"})
    append(r, "slice_planned", {"slice_id": "s9", "task_id": "t9", "title": HOSTILE, "branch": "omk/x/s9"})
    append(r, "agent_message_chunk", {"slice_id": "s9", "text": HOSTILE})
    return r


async def test_the_tui_shows_brackets_literally_and_does_not_crash(repo):
    app = OmkApp(repo, now=lambda: SAMPLE_NOW)
    async with app.run_test(size=(140, 40), notifications=True) as pilot:
        for _ in range(100):
            if app.dashboard.view is not None and "s9" in app.dashboard.view.slices:
                break
            await pilot.pause(0.02)
        await pilot.pause(0.3)
        tasks = app.dashboard.query_one("#tasks", DataTable)
        titles = [str(tasks.get_row_at(i)[2]) for i in range(tasks.row_count)]
        assert HOSTILE in titles
        app.dashboard.set_scope("s9")
        await pilot.pause(0.2)
        pane = app.dashboard.query_one("#agent-pane")
        assert HOSTILE in pane._border_title.plain
        # an error as a controller or pydantic phrases it, in a toast that is really drawn
        app.notify("could not resume: [Errno 2] No such file [/] " + HOSTILE, severity="error")
        app.push_screen(ConfirmModal(f"Cancel {HOSTILE}?", HOSTILE))
        await pilot.pause(0.3)
        toasts = [t for t in app.screen.query("Toast")] + [t for t in app.dashboard.query("Toast")]
        assert any("[Errno 2]" in str(t.render()) and HOSTILE in str(t.render()) for t in toasts)
        assert HOSTILE in str(app.screen.query_one(".dialog-title").render())
        assert app.is_running
    assert app._exception is None


def test_headless_lines_keep_brackets(capsys):
    printer = HeadlessPrinter()
    printer(make_event("g", "narrative", {"step": "review", "summary": HOSTILE}))
    printer(make_event("g", "slice_state", {"slice_id": "s1", "state": "blocked", "reason": HOSTILE}))
    printer(make_event("g", "status_changed", {"status": "blocked", "reason": "[Errno 28] No space left"}))
    err = capsys.readouterr().err
    assert err.count(HOSTILE) == 2 and "[Errno 28] No space left" in err


def test_a_permission_label_does_not_repeat_the_command():
    assert permission_label("Shell: mkdir -p docs", "mkdir -p docs") == "Shell: mkdir -p docs"
    assert permission_label("Shell", "mkdir -p docs") == "Shell mkdir -p docs"
    assert permission_label("WriteFile: a.py", "") == "WriteFile: a.py"
