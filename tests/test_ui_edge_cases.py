"""The dashboard at its edges: a gate log deleted while open, amounts that are not numbers, a goal that cannot
start, a task with no slice yet, the new-goal dialog in an 80x24 terminal. Real app under `run_test`."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, TextArea

from omk_tui.ui.app import OmkApp
from omk_tui.ui.screens.diff import DiffScreen
from omk_tui.ui.screens.gate_log import GateLogScreen
from omk_tui.ui.screens.modals import BudgetModal, NewGoalModal
from omk_tui.ui.widgets.log_view import LogView
from tests.support.pilot_wait import wait_for
from tests.support.sample_goal import SAMPLE_NOW
from tests.test_ui_dashboard import SIZE, loaded, press_and_find, repo  # noqa: F401 - `repo` is the dashboard tests' fixture

pytestmark = pytest.mark.timeout(60)


def notes(app) -> list[str]:
    return [n.message for n in app._notifications]


async def test_a_gate_log_deleted_while_open_stays_readable(repo):
    app = OmkApp(repo, now=lambda: SAMPLE_NOW)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await loaded(pilot)
        gate = app.dashboard.view.gates[("baseline", "pytest")]
        await app.push_screen(GateLogScreen(gate))
        await pilot.pause(0.3)
        status = app.screen.query_one("#log-status")
        assert "20 lines" in str(status.render())  # counted on open, before any key
        Path(gate.log_path).unlink()  # `omk-tui clean` in another terminal
        await press_and_find(pilot, "f")
        await press_and_find(pilot, "pagedown", "G", "F", "g")
        view = app.screen.query_one(LogView)
        assert app.is_running and isinstance(app.screen, GateLogScreen)
        assert view.current_line == 0 and "line 1" in str(status.render())  # g moved the current line
        await press_and_find(pilot, "G", "F")  # the last failure, searching up from the bottom
        assert view.current_line is not None and view.current_line > 0
        assert view.log_file.line(view.current_line)  # still read from the open file
    assert app._exception is None


async def test_a_gate_log_that_does_not_exist_says_so(repo):
    app = OmkApp(repo, now=lambda: SAMPLE_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        gate = app.dashboard.view.gates[("baseline", "pytest")]
        Path(gate.log_path).unlink()
        await app.push_screen(GateLogScreen(gate))
        await pilot.pause(0.3)
        await press_and_find(pilot, "f", "n", "G")
        assert "does not exist" in str(app.screen.query_one("#log-status").render())
    assert app._exception is None


@pytest.mark.parametrize("field,value", [("tokens", "inf"), ("tokens", "1.5"), ("time", "inf"), ("usd", "1e999"),
                                         ("usd", "nan")])
async def test_amounts_that_are_not_finite_numbers_are_refused(repo, field, value):
    app = OmkApp(repo, now=lambda: SAMPLE_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, NewGoalModal))
        modal = app.screen
        modal.query_one(TextArea).text = "Add a changelog with tests"
        modal.query_one(f"#{field}", Input).value = value
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: field in str(modal.query_one("#new-goal-error").render()))
        assert app.screen is modal
        await pilot.press("escape", "b")
        await wait_for(pilot, lambda: isinstance(app.screen, BudgetModal))
        budget = app.screen
        budget.query_one(f"#{field}", Input).value = value
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: field in str(budget.query_one("#budget-error").render()))
        assert app.screen is budget
    assert app._exception is None


async def test_a_goal_that_cannot_start_says_why(tmp_path):
    repo = tmp_path / "empty"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)  # no commits yet
    app = OmkApp(repo)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, NewGoalModal))
        app.screen.query_one(TextArea).text = "Add a changelog with tests"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: any("could not start the goal" in n for n in notes(app)))
        message = next(n for n in notes(app) if "could not start the goal" in n)
        assert "has no commits yet" in message and "git commit" in message
        assert not app.controllers
    assert app._exception is None


async def test_a_task_without_a_slice_has_no_diff_and_shows_the_planner(repo):
    app = OmkApp(repo, now=lambda: SAMPLE_NOW)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await loaded(pilot)
        dash = app.dashboard
        dash.view.tasks["t4"].slice_id = None  # proposed and accepted, not planned into a slice yet
        tasks = dash.query_one("#tasks", DataTable)
        tasks.focus()
        tasks.move_cursor(row=1)
        await wait_for(pilot, lambda: dash.scope == "s2")
        tasks.move_cursor(row=3)
        await wait_for(pilot, lambda: dash.scope == "goal")
        await pilot.press("enter")
        await wait_for(pilot, lambda: any("task t4 has no slice yet" in n for n in notes(app)))
        assert not isinstance(app.screen, DiffScreen)


async def test_the_new_goal_dialog_fits_an_80x24_terminal(repo):
    app = OmkApp(repo, now=lambda: SAMPLE_NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, NewGoalModal))
        app.screen.query_one(TextArea).text = "fix it"
        await pilot.press("ctrl+s")  # too short: the error shows
        await wait_for(pilot, lambda: "three words" in str(app.screen.query_one("#new-goal-error").render()))
        await pilot.pause(0.1)  # and is laid out
        for selector in ("#goal-text", "#delivery", "#new-goal-error", "#start", "#cancel"):
            region = app.screen.query_one(selector).region
            assert region.height and region.bottom <= 24, (selector, region)
        assert "three words" in str(app.screen.query_one("#new-goal-error").render())


async def test_keys_with_no_goal_say_so(tmp_path):
    repo = tmp_path / "empty"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    app = OmkApp(repo)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause(0.2)
        await pilot.press("c", "b", "p", "r", "g")
        await wait_for(pilot, lambda: notes(app).count("no goal selected") == 5)
        assert app.screen is app.dashboard
        await pilot.press("a")  # not only dimmed in the footer: pressed, it says why nothing happens
        await wait_for(pilot, lambda: "no permission request is waiting" in notes(app))


async def test_an_event_log_that_cannot_be_read_is_said_once(repo):
    log = next((repo / ".omk" / "goals").iterdir()) / "events.jsonl"
    log.unlink()
    log.mkdir()  # not a file
    app = OmkApp(repo, now=lambda: SAMPLE_NOW)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause(0.5)
        app.dashboard.select_goal(app.dashboard.goal_id, force=True)  # read again, as a rescan does
        await pilot.pause(0.5)
        said = [n for n in notes(app) if "could not read the event log" in n]
        assert len(said) == 1 and "Is a directory" in said[0]
    assert app._exception is None


def test_the_diff_of_a_slice_whose_branch_was_removed_says_so(repo):
    from omk_tui.projection import SliceView
    from omk_tui.ui.diff_source import slice_diff

    gone = SliceView(slice_id="s1", task_id="t1", branch="omk/x/s1", state="merged", commit="a" * 40)
    d = slice_diff(repo, gone, None)
    assert "were removed" in d.error and "aaaaaaaaaaaa" in d.error
    planned = SliceView(slice_id="s9", task_id="t9", branch="omk/x/s9")
    assert "has no worktree or branch yet" in slice_diff(repo, planned, None).error


async def test_no_budget_is_added_to_a_settled_goal(tmp_path):
    from tests.support.sample_goal import SAMPLE_T0, write_minimal_goal

    repo = tmp_path / "r"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    write_minimal_goal(repo, "goal-20261122-120000-000-00000001", SAMPLE_T0, "ready")
    app = OmkApp(repo, now=lambda: SAMPLE_NOW)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await loaded(pilot)
        await pilot.press("b")
        await wait_for(pilot, lambda: any("is ready: no budget to add" in n for n in notes(app)))
        assert app.screen is app.dashboard


HOSTILE = "Evil \x1b]0;PWNED\x07 \x1b[2J\x1b[31mRED\x9b\r\nFAKE: ready"


async def test_what_agents_wrote_reaches_the_terminal_with_its_control_characters_escaped(repo):
    """Textual writes a string's ESC sequences to the terminal as they are: a task title, an agent message or a
    notification could retitle, clear or recolour it. Folded, live and notified text all come escaped."""
    from omk_tui.models.events import make_event
    from omk_tui.state.eventlog import EventLog
    from tests.support.sample_goal import SAMPLE_GOAL_ID as SAMPLE_GOAL

    log = next((repo / ".omk" / "goals").iterdir()) / "events.jsonl"
    with EventLog(log) as writer:
        writer.append(make_event(SAMPLE_GOAL, "task_proposed", {"task": {"id": "evil", "title": HOSTILE}}))
    app = OmkApp(repo, now=lambda: SAMPLE_NOW)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await loaded(pilot)
        dash = app.dashboard
        assert dash.view.tasks["evil"].title == "Evil \\x1b]0;PWNED\\x07 \\x1b[2J\\x1b[31mRED\\x9b\\r\nFAKE: ready"
        dash.push_event(SAMPLE_GOAL, make_event(SAMPLE_GOAL, "agent_message_chunk", {"slice_id": "s3", "text": HOSTILE}))
        await wait_for(pilot, lambda: any("PWNED" in e.text for e in dash.view.streams["s3"].entries))
        app.notify(HOSTILE)
        await pilot.pause(0.2)
        screen = app.export_screenshot()
        for shown in ([e.text for e in dash.view.streams["s3"].entries], notes(app), [screen]):
            assert not any(c in text for text in shown for c in "\x1b\x07\x9b\r"), shown
        assert "\\x1b]0;PWNED" in screen


async def test_a_huge_agent_message_is_shown_cut_and_wraps_only_what_it_shows(repo, monkeypatch):
    """One 1 MB line and one 50,000-line message, streamed as the scripted agent streams them (a few chunks), in the
    goal's event log: the agent pane wraps what it shows (heads, tails, notes), not the 1.4 MB."""
    from omk_tui.agents.scripted import _chunks
    from omk_tui.state.store import goal_paths
    from omk_tui.ui.widgets.agent_stream import AgentStreamView
    from tests.support.sample_goal import SAMPLE_GOAL_ID, _Writer

    w = _Writer(goal_paths(repo, SAMPLE_GOAL_ID), SAMPLE_GOAL_ID)
    w.at(500)
    for text in ("x" * 1_000_000 + "\n\n", "".join(f"line {i} of the message\n" for i in range(50_000))):
        for piece in _chunks(text):
            w.stream("s3", piece)
    wrapped: list[int] = []  # characters of every entry wrapped
    wrap = AgentStreamView._wrap_strips

    def counted(entry, width, console):
        strips = wrap(entry, width, console)
        wrapped.append(sum(s.cell_length for s in strips))
        return strips

    monkeypatch.setattr(AgentStreamView, "_wrap_strips", staticmethod(counted))
    app = OmkApp(repo, now=lambda: SAMPLE_NOW)
    app.animation_level = "none"
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        table = app.dashboard.query_one("#worktrees", DataTable)
        table.focus()
        table.move_cursor(row=3)
        await wait_for(pilot, lambda: app.dashboard.scope == "s3", what="the slice s3")
        await pilot.pause(0.2)
        pane = app.dashboard.query_one(AgentStreamView)
        lines = pane.plain_lines()
        assert sum(wrapped) < 80_000  # six entries of about 333,000 and 430,000 characters: their heads and tails
        assert pane.line_count < 2_000
        notes = [ln for ln in lines if "left out" in ln]
        assert len(notes) == 6  # one per oversized chunk
        assert notes[0].startswith("… 321,33") and notes[0].endswith(" characters left out …")  # of the 1 MB line
        assert "lines (" in notes[-1] and "line 49999 of the message" == lines[-1]  # the message's last line
        assert pane.scroll_y == pane.max_scroll_y  # the pane opened at the end
        visible = ["".join(seg.text for seg in pane.render_line(y)).rstrip() for y in range(pane.size.height)]
        assert visible[-1] == "line 49999 of the message"
        pane.scroll_home(animate=False, immediate=True)
        await pilot.pause(0.05)
        assert any(ln.startswith("line 0 of the message") for ln in pane.plain_lines())
