"""The dashboard under `run_test`: panes from a recorded goal, every binding, control requests, attach."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path

import pytest
from textual.command import CommandPalette
from textual.widgets import DataTable, Input, OptionList, TextArea

from omk_tui.control.lock import ControllerLock
from omk_tui.control.requests import ControlRequest
from omk_tui.ui.app import OmkApp
from omk_tui.ui.messages import GoalFolded, GoalsScanned
from omk_tui.ui.screens.diff import DiffScreen
from omk_tui.ui.screens.gate_log import GateLogScreen
from omk_tui.ui.screens.help import HelpScreen, help_lines
from omk_tui.ui.screens.modals import BudgetModal, ConfirmModal, NewGoalModal, PermissionModal
from omk_tui.ui.widgets.agent_stream import AgentStreamView
from omk_tui.ui.widgets.diff_view import DiffView
from omk_tui.ui.widgets.log_view import LogView
from tests.support.pilot_wait import wait_for
from tests.support.sample_goal import SAMPLE_GOAL_ID, SAMPLE_NOW, write_minimal_goal, write_sample_goal

pytestmark = pytest.mark.timeout(60)
SIZE = (120, 36)


@pytest.fixture
def repo(tmp_path) -> Path:
    r = tmp_path / "slugger"
    write_sample_goal(r, stage="mid")
    return r


def requests_in(repo: Path) -> list[ControlRequest]:
    control = repo / ".omk" / "goals" / SAMPLE_GOAL_ID / "control"
    out = [ControlRequest.model_validate_json(p.read_text()) for p in sorted(control.glob("*.json"))]
    for r in out:
        r.args = {k: v for k, v in r.args.items() if v is not None}
    return out


async def loaded(pilot, secs: float = 0.3) -> None:
    for _ in range(100):
        dash = pilot.app.dashboard
        if dash.view is not None and dash.view.events_applied:
            break
        await pilot.pause(0.02)
    await pilot.pause(secs)


async def open_diff(pilot, row: int) -> None:
    """Press `d` on a row of the worktrees table."""
    table = pilot.app.dashboard.query_one("#worktrees", DataTable)
    table.focus()
    table.move_cursor(row=row)
    await pilot.pause(0.05)
    await pilot.press("d")


async def press_and_find(pilot, *keys: str) -> None:
    """Press keys on the gate log screen; a search or failure jump they start has finished when this returns."""
    await pilot.press(*keys)
    await wait_for(pilot, lambda: not pilot.app.screen.searching, what="the search to finish")


def rows(app, table_id: str) -> list[list[str]]:
    table = app.dashboard.query_one(f"#{table_id}", DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_panes_show_the_recorded_goal(repo):
    dead = ControllerLock(repo / ".omk" / "goals" / SAMPLE_GOAL_ID / "controller.lock")
    dead.acquire()
    dead.release()  # its controller took the lock, then died (as after a kill -9)
    app = OmkApp(repo, now=lambda: SAMPLE_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        goals = rows(app, "goals")
        assert len(goals) == 1 and goals[0][1:4] == ["7m", "2/4", "execution"]
        tasks = rows(app, "tasks")
        assert [r[1] for r in tasks] == ["t1", "t2", "t3", "t4"]
        assert tasks[2][3] == "t2" and "s2 (read/write cli.py)" in tasks[2][4]  # dependency + serialization
        assert tasks[0][5] == "2"  # attempts
        wt = {r[0]: r for r in rows(app, "worktrees")}
        assert wt["s1"][1] == "committed #2" and wt["s1"][4] == "+3 −1"
        assert wt["s3"][2] == "stopped" and wt["s1"][2] == "○"  # the log says s3's agent runs; no controller does
        gates = {(r[0], r[1]): r for r in rows(app, "gates")}
        assert "failed" in gates[("baseline", "pytest")][2] and gates[("baseline", "pytest")][3] == "1"
        assert "running" in gates[("s4", "pytest")][2]
        status = str(app.dashboard.query_one("#status").render())
        # recorded as running, but no controller holds it: shown as interrupted, and the clock does not go on
        assert "interrupted" in status and "execution" in status and "tokens 54.2k/2.0M" in status
        assert "· 6m52s  time 6m52s/30m00s " in status  # as the last checkpoint recorded it: the clock stopped
        assert "interrupted" in goals[0][0] and app.dashboard.view.status == "running"
        assert "$0.21/5.00" in status and "agents 0 busy" in status and "permission" in status
        stream = app.dashboard.query_one(AgentStreamView)
        text = "\n".join(stream.plain_lines())
        assert app.dashboard.scope == "s3" and "Checking how --json prints" in text and "permission?" in text


async def test_switching_slices_shows_that_stream_from_its_start(repo):
    app = OmkApp(repo, now=lambda: SAMPLE_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        table = app.dashboard.query_one("#worktrees", DataTable)
        table.focus()
        await pilot.pause()
        table.move_cursor(row=1)  # s1
        await pilot.pause(0.1)
        lines = app.dashboard.query_one(AgentStreamView).plain_lines()
        assert app.dashboard.scope == "s1"
        assert lines[0].startswith("── implementer · attempt 1") and any("attempt 2" in ln for ln in lines)
        assert any("✓ Edit src/slugger/slug.py" in ln for ln in lines)  # tool call updated in place
        assert sum("Read src/slugger/slug.py" in ln for ln in lines) == 1


async def test_control_keys_write_control_requests(repo):
    with controller_elsewhere(repo):
        app = OmkApp(repo, now=lambda: SAMPLE_NOW)
        async with app.run_test(size=SIZE) as pilot:
            await loaded(pilot)
            await pilot.press("p")
            await pilot.press("g")
            await pilot.press("c")
            assert isinstance(app.screen, ConfirmModal)
            await pilot.press("y")
            await pilot.press("b")
            assert isinstance(app.screen, BudgetModal)
            await pilot.click("#time")
            await pilot.press("1", "0", "tab", "5", "0", "0", "0", "tab", "1", ".", "5", "ctrl+s")
            await pilot.pause(0.1)
            assert not isinstance(app.screen, BudgetModal)
    actions = [(r.action, r.args) for r in requests_in(repo)]
    assert actions == [("pause", {}), ("run_gates", {}), ("cancel", {}),
                       ("budget_add", {"time_secs": 600.0, "tokens": 5000, "usd": 1.5})]


async def test_without_a_controller_keys_act_on_the_record_or_say_why_not(repo):
    from omk_tui.state.store import goal_paths, load_goal

    paths = goal_paths(repo, SAMPLE_GOAL_ID)
    time_before = load_goal(paths).budget.time_secs
    app = OmkApp(repo, now=lambda: SAMPLE_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("p", "g")  # need a controller: said, and no request is left for the next run to act on
        await pilot.pause(0.1)
        notes = [n.message for n in app._notifications]
        assert any("nothing to pause" in n for n in notes) and any("nothing to run gates" in n for n in notes)
        await pilot.press("b")
        await pilot.click("#time")
        await pilot.press("1", "0", "ctrl+s")
        await wait_for(pilot, lambda: load_goal(paths).budget.time_secs != time_before)  # written in a worker
        assert load_goal(paths).budget.time_secs == time_before + 600  # applied to the record, as budget-add does
        await wait_for(pilot, lambda: any("budget now" in n.message for n in app._notifications))
        said = next(n.message for n in app._notifications if "budget now" in n.message)
        assert f"time {(time_before + 600) / 60:g} min," in said and "r resumes it" in said
        await pilot.press("c", "y")
        await wait_for(pilot, lambda: load_goal(paths).status.value != "running")
        assert load_goal(paths).status.value == "cancelled"  # as `omk-tui cancel` does for a goal nobody runs
    assert requests_in(repo) == []


async def test_cancel_can_be_declined(repo):
    app = OmkApp(repo, now=lambda: SAMPLE_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("c", "n")
        await pilot.pause(0.1)
        assert requests_in(repo) == []


@contextlib.contextmanager
def controller_elsewhere(repo: Path):
    """Another process holds the goal's controller lock (an flock, as a running controller does)."""
    lock = repo / ".omk" / "goals" / SAMPLE_GOAL_ID / "controller.lock"
    holder = ("import fcntl, json, os, sys, time\n"
              "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)\n"
              "fcntl.flock(fd, fcntl.LOCK_EX)\n"
              "os.write(fd, json.dumps({'pid': os.getpid(), 'host': 'h', 'started': time.time(),"
              " 'heartbeat': time.time()}).encode())\n"
              "print('locked', flush=True)\n"
              "time.sleep(60)\n")
    holder_proc = subprocess.Popen([sys.executable, "-c", holder, str(lock)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder_proc.stdout.readline().strip() == "locked"
        yield holder_proc
    finally:
        holder_proc.kill()
        holder_proc.wait()


async def test_resume_of_an_attached_goal_sends_a_request(repo):
    with controller_elsewhere(repo):
        app = OmkApp(repo, now=lambda: SAMPLE_NOW)
        async with app.run_test(size=SIZE) as pilot:
            await loaded(pilot)
            status = str(app.dashboard.query_one("#status").render())
            assert " running " in status and "agents 1 busy" in status  # its controller is alive
            assert "running" in rows(app, "goals")[0][0]
            assert {r[0]: r[2] for r in rows(app, "worktrees")}["s3"] == "● agent"
            await pilot.press("r")
            await pilot.pause(0.1)
        assert [r.action for r in requests_in(repo)] == ["resume"]


async def test_a_controller_that_dies_shows_as_interrupted_within_a_rescan(repo):
    with controller_elsewhere(repo) as controller:
        app = OmkApp(repo, now=lambda: SAMPLE_NOW)
        async with app.run_test(size=SIZE) as pilot:
            await loaded(pilot)
            assert " running " in str(app.dashboard.query_one("#status").render())
            controller.kill()  # kill -9: the kernel drops its flock
            controller.wait()
            for _ in range(100):  # the goals list is rescanned every 2 s
                await pilot.pause(0.1)
                if "interrupted" in str(app.dashboard.query_one("#status").render()):
                    break
            status = str(app.dashboard.query_one("#status").render())
            assert "interrupted" in status and "agents 0 busy" in status
            assert "interrupted" in rows(app, "goals")[0][0]
            assert {r[0]: r[2] for r in rows(app, "worktrees")}["s3"] == "stopped"


@pytest.mark.parametrize("keys,decision", [(("y",), "approve"), (("a",), "approve"), (("s",), "approve_for_session"),
                                           (("n",), "reject"), (("x",), "reject")])
async def test_permission_modal_answers_reach_the_controller(repo, keys, decision):
    app = OmkApp(repo, now=lambda: SAMPLE_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("a")
        assert isinstance(app.screen, PermissionModal)
        texts = " ".join(str(w.render()) for w in app.screen.query("Static"))
        assert "python -m slugger.cli --json Hello World" in texts and "README.md" in texts
        await pilot.press(*keys)
        await pilot.pause(0.05)
        assert not isinstance(app.screen, PermissionModal)
    reqs = requests_in(repo)
    assert [(r.action, r.args) for r in reqs] == [("permission", {"request_id": "perm-s3-1", "decision": decision})]


async def test_new_goal_modal_validates_and_n_is_new_goal_on_the_dashboard(repo):
    app = OmkApp(repo, now=lambda: SAMPLE_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("n")
        assert isinstance(app.screen, NewGoalModal)
        app.screen.query_one(TextArea).insert("fix")
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, NewGoalModal)
        assert "at least three words" in str(app.screen.query_one("#new-goal-error").render())
        app.screen.query_one("#max-agents", Input).value = "0"
        app.screen.query_one(TextArea).insert(" the flaky test in the parser")
        await pilot.press("ctrl+s")
        assert "max agents" in str(app.screen.query_one("#new-goal-error").render())
        await pilot.press("escape")
        assert not isinstance(app.screen, NewGoalModal)


async def test_new_goal_modal_starts_with_the_projects_agent_settings(repo):
    """It offered kimi and ask whatever .omk/config.toml said; a malformed config is said before the dialog."""
    from textual.widgets import Select

    config = repo / ".omk" / "config.toml"
    config.write_text('[agent]\ndefault = "script:/tmp/plan.json"\napproval = "pattern:^Shell: pytest"\n')
    app = OmkApp(repo, now=lambda: SAMPLE_NOW)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await loaded(pilot)
        await pilot.press("n")
        assert isinstance(app.screen, NewGoalModal)
        assert app.screen.query_one("#agent", Input).value == "script:/tmp/plan.json"
        approval = app.screen.query_one("#approval", Select)
        assert approval.value == "pattern:^Shell: pytest"
        await pilot.press("escape")
        config.write_text('[agent]\ndefault = "kimi"\n')  # no approval set: ask, a person is here
        await pilot.press("n")
        assert app.screen.query_one("#approval", Select).value == "ask"
        await pilot.press("escape")
        config.write_text('[agent]\napprovl = "never"\n')
        await pilot.press("n")
        assert not isinstance(app.screen, NewGoalModal)
        await wait_for(pilot, lambda: any("line 2: agent.approvl: unknown key" in n.message
                                          for n in app._notifications), 5, "the config error")


async def test_enter_on_a_gate_opens_its_log_with_search_and_failures(repo):
    app = OmkApp(repo, now=lambda: SAMPLE_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        gates = app.dashboard.query_one("#gates", DataTable)
        gates.focus()
        gates.move_cursor(row=0)  # baseline pytest (failed)
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert isinstance(app.screen, GateLogScreen)
        header = str(app.screen.query_one("#log-header").render())
        assert "baseline-pytest-1.log" in header and "failed" in header
        view = app.screen.query_one(LogView)
        assert view.log_file.line_count == 20
        await press_and_find(pilot, "f")
        assert "test_strips_edges" in view.log_file.line(view.current_line)
        await press_and_find(pilot, "f")
        assert view.log_file.line(view.current_line).lstrip("\x1b[0123456789;m").startswith(">") or \
            "E " in view.log_file.line(view.current_line)
        await pilot.press("slash")
        await press_and_find(pilot, *"test_slug", "enter")
        first = view.current_line
        assert "test_slug" in view.log_file.line(first)
        await press_and_find(pilot, "n")
        assert view.current_line > first
        await press_and_find(pilot, "N")
        assert view.current_line == first
        await pilot.press("escape")
        assert not isinstance(app.screen, GateLogScreen)


async def test_gate_log_follows_a_growing_file(repo):
    app = OmkApp(repo, now=lambda: SAMPLE_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        gate = app.dashboard.view.gates[("s4", "pytest")]
        assert gate.running
        await app.push_screen(GateLogScreen(gate))
        await pilot.pause(0.3)
        view = app.screen.query_one(LogView)
        before = view.log_file.line_count
        with open(gate.log_path, "a") as fh:
            fh.write("".join(f"tests/test_{i}.py ....\n" for i in range(200)))
        for _ in range(100):  # indexed in a worker, then drawn and scrolled after the next refresh (slow under load)
            await pilot.pause(0.05)
            if view.virtual_size.height >= before + 199 and view.is_vertical_scroll_end:
                break
        assert view.log_file.line_count >= before + 199 and view.virtual_size.height >= before + 199
        assert view.is_vertical_scroll_end


async def test_diff_screen_shows_the_slice_change(repo):
    app = OmkApp(repo, now=lambda: SAMPLE_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await open_diff(pilot, row=2)  # s2
        assert isinstance(app.screen, DiffScreen)
        for _ in range(50):
            await pilot.pause(0.05)
            if app.screen.diff is not None:
                break
        d = app.screen.diff
        assert d.error == "" and [f.path for f in d.files] == ["src/slugger/cli.py"]
        assert d.files[0].insertions == 8 and "+import argparse" in d.patch
        focused = app.focused
        await pilot.press("tab")  # the files list ↔ the patch
        assert app.focused is not focused and app.focused.id == "diff-patch"
        await pilot.press("escape")
        assert not isinstance(app.screen, DiffScreen)


def add_big_file(repo: Path, slice_id: str, lines: int) -> None:
    """Commit a `lines`-line file on top of the slice's branch (as a slice that adds a big generated file)."""
    import pygit2

    from tests.support.sample_goal import _commit_files

    git = pygit2.Repository(str(repo))
    ref = next(r for r in git.references if r.startswith("refs/heads/omk/") and r.endswith("/" + slice_id))
    tip = git.references[ref].peel(pygit2.Commit)
    text = "".join(f"row {i}\n" for i in range(lines))
    _commit_files(git, tip.id, {"data/big.txt": text}, "big file\n", ref, int(tip.commit_time) + 60)


async def test_a_big_diff_renders_only_the_lines_on_screen(repo, monkeypatch):
    add_big_file(repo, "s2", 10_000)
    rendered: list[tuple[object, int]] = []  # (lines shown, index) of every line rendered
    line_text = DiffView.line_text

    def counted(view, index):
        rendered.append((view.log_file, index))
        return line_text(view, index)

    monkeypatch.setattr(DiffView, "line_text", counted)
    app = OmkApp(repo, now=lambda: SAMPLE_NOW)
    app.animation_level = "none"  # `end` jumps (an animated scroll draws the screens it passes)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await open_diff(pilot, row=2)  # s2
        screen = app.screen
        assert isinstance(screen, DiffScreen)
        await wait_for(pilot, lambda: screen.diff is not None, what="the diff")
        view = screen.patch_view
        await pilot.pause(0.1)

        def drawn() -> set[int]:
            return {i for lines, i in rendered if lines is view.log_file}

        assert view.log_file.line_count > 10_000
        height = view.size.height
        assert drawn() and max(drawn()) < height  # the first screen only

        def on_screen() -> list[str]:
            return ["".join(seg.text for seg in view.render_line(y)).rstrip() for y in range(height)]

        assert on_screen()[0].startswith("diff --git")
        view.focus()
        await pilot.press("end")
        await pilot.pause(0.1)
        assert "+row 9999" in on_screen()  # the patch's last line, where the screen ends
        assert len(drawn()) <= 2 * height  # the first and the last screen, not the 10,000 lines between
        await pilot.press("home")
        await pilot.pause(0.05)
        assert on_screen()[0].startswith("diff --git")
        other = screen.query_one("#diff-files", OptionList)  # one file alone: its patch, from its top
        other.highlighted = [o.id for o in other._options].index("data/big.txt")
        await pilot.pause(0.1)
        assert on_screen()[0] == "diff --git a/data/big.txt b/data/big.txt"
        assert view.line_style.bgcolor is not None  # the theme's background under the patch, as Syntax had


async def test_help_palette_theme_focus_screenshot_and_quit(repo, tmp_path):
    with controller_elsewhere(repo):  # the palette's pause goes to a running controller
        app = OmkApp(repo, now=lambda: SAMPLE_NOW, screenshot_dir=tmp_path / "shots")
        async with app.run_test(size=SIZE) as pilot:
            await loaded(pilot)
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            help_text = "\n".join(help_lines())
            for needle in ("n  New", "p  Pause", "r  Resume", "c  Cancel", "b  Budget", "d  Diff", "g  Gates",
                           "f  Next failure", "/  Search", "n, x  Reject", "y, a  Approve", "t  Theme", "q  Quit",
                           "ctrl+p  Command palette", "enter  Open", "f8  Screenshot", "space  Play/pause"):
                assert needle in help_text, needle
            await pilot.press("escape")
            await pilot.press("ctrl+p")
            await pilot.pause(0.1)
            assert isinstance(app.screen, CommandPalette)
            await pilot.press(*"pause")
            await pilot.pause(0.3)
            await pilot.press("enter")
            await pilot.pause(0.2)
            assert [r.action for r in requests_in(repo)] == ["pause"]
            assert app.theme == "omk-dark"
            await pilot.press("t")
            assert app.theme == "omk-light"
            focused = app.focused
            await pilot.press("tab")
            assert app.focused is not focused
            await pilot.press("shift+tab")
            assert app.focused is focused
            await pilot.press("f8")
            await pilot.pause(0.1)
            assert list((tmp_path / "shots").glob("*.svg"))
            await pilot.press("q")
            await pilot.pause(0.1)
        assert app.return_code == 0


async def test_goals_list_newest_first_and_selecting_another_goal(repo):
    from datetime import timedelta

    from tests.support.sample_goal import SAMPLE_T0

    write_minimal_goal(repo, "goal-20261121-090000-000-00000001", SAMPLE_T0 - timedelta(days=1), "ready")
    write_minimal_goal(repo, "goal-20261122-110000-000-00000002", SAMPLE_T0 + timedelta(minutes=5),
                       "blocked_on_human", goal_text="A newer goal")
    messages = []
    app = OmkApp(repo, now=lambda: SAMPLE_NOW)
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await loaded(pilot)
        goals = rows(app, "goals")
        assert [g[1] for g in goals] == ["2m", "7m", "1d"]
        assert app.dashboard.goal_id == "goal-20261122-110000-000-00000002"
        table = app.dashboard.query_one("#goals", DataTable)
        table.focus()
        await pilot.press("down")
        await pilot.pause(0.3)
        assert app.dashboard.goal_id == SAMPLE_GOAL_ID
        assert app.dashboard.view is not None and app.dashboard.view.goal_id == SAMPLE_GOAL_ID
    assert any(isinstance(m, GoalsScanned) for m in messages)
    assert [m.goal_id for m in messages if isinstance(m, GoalFolded)][-1] == SAMPLE_GOAL_ID


async def test_a_rescan_leaves_the_goals_cursor_where_the_person_moved_it(repo, monkeypatch):
    """Holding a key down moves the cursor faster than a goal is selected (SELECT_DELAY_SECS): a rescan of the
    goals list then must not put the cursor back on the goal still selected."""
    from datetime import timedelta

    from omk_tui.ui.screens import dashboard
    from tests.support.sample_goal import SAMPLE_T0

    for i in range(1, 6):
        write_minimal_goal(repo, f"goal-20261121-09000{i}-000-0000000{i}", SAMPLE_T0 - timedelta(days=1, minutes=i))
    monkeypatch.setattr(dashboard, "SELECT_DELAY_SECS", 30.0)  # the key is still held
    app = OmkApp(repo, now=lambda: SAMPLE_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        dash = app.dashboard
        table = dash.query_one("#goals", DataTable)
        table.focus()
        for _ in range(3):
            await pilot.press("down")
        dash.on_goals_scanned(GoalsScanned(dash.goals))
        await pilot.pause()
        assert table.cursor_row == 3 and dash.goal_id == SAMPLE_GOAL_ID


async def test_the_goal_asked_for_with_goal_stays_selected(repo):
    """`dashboard --goal`: the list's first row is highlighted as the table fills, before the cursor is put on
    the goal asked for; that first highlight must not select the newest goal a moment later."""
    from datetime import timedelta

    from tests.support.sample_goal import SAMPLE_T0

    newer = "goal-20261122-110000-000-00000002"
    write_minimal_goal(repo, newer, SAMPLE_T0 + timedelta(minutes=5), goal_text="A newer goal")
    app = OmkApp(repo, goal_id=SAMPLE_GOAL_ID, now=lambda: SAMPLE_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.pause(0.5)  # longer than SELECT_DELAY_SECS
        dash = app.dashboard
        assert dash.goal_id == SAMPLE_GOAL_ID and dash.view.goal_id == SAMPLE_GOAL_ID
        assert dash.query_one("#goals", DataTable).cursor_row == 1


WRITER = r'''
import sys, time
from omk_tui.models.events import make_event
from omk_tui.state.eventlog import EventLog
log = EventLog(sys.argv[1])
gid = sys.argv[2]
for i in range(30):
    log.append(make_event(gid, "agent_message_chunk", {"slice_id": "s3", "text": f"attached line {i}\n\n"}))
    time.sleep(0.01)
log.append(make_event(gid, "slice_state", {"slice_id": "s3", "state": "committed", "attempt": 1,
                                            "changed_files": ["README.md"], "insertions": 2, "deletions": 0}))
log.close()
'''


async def test_attach_shows_a_run_from_another_process(repo):
    app = OmkApp(repo, now=lambda: SAMPLE_NOW)
    events = repo / ".omk" / "goals" / SAMPLE_GOAL_ID / "events.jsonl"
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, 0.5)
        flushes = app.dashboard.flushes
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(events), SAMPLE_GOAL_ID])
        assert proc.wait(timeout=30) == 0
        for _ in range(100):
            await pilot.pause(0.05)
            if app.dashboard.view.slices["s3"].state == "committed":
                break
        await pilot.pause(0.1)
        assert app.dashboard.view.slices["s3"].state == "committed"
        wt = {r[0]: r for r in rows(app, "worktrees")}
        assert wt["s3"][1] == "committed" and wt["s3"][4] == "+2 −0"
        text = "\n".join(app.dashboard.query_one(AgentStreamView).plain_lines())
        assert "attached line 29" in text
        # batched: far fewer redraws than events
        assert 1 <= app.dashboard.flushes - flushes < 31


async def test_usable_at_80x24(repo):
    app = OmkApp(repo, now=lambda: SAMPLE_NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        assert app.dashboard.has_class("-narrow") and app.dashboard.has_class("-short")
        for pane in ("#goals", "#tasks", "#worktrees", "#agent-pane", "#gates"):
            region = app.dashboard.query_one(pane).region
            assert region.width >= 60 and region.height >= 3
        await pilot.press("tab", "tab", "tab", "tab")
        assert app.focused.id == "gates"


@pytest.mark.parametrize("size", [(80, 24), SIZE])
async def test_the_agent_pane_shows_the_end_of_a_long_stream_and_follows_it(repo, size):
    app = OmkApp(repo, now=lambda: SAMPLE_NOW)
    async with app.run_test(size=size) as pilot:
        await loaded(pilot)
        pane = app.dashboard.query_one(AgentStreamView)
        for scope in ("s1", "s3"):
            for i in range(60):  # longer than the pane at either size
                app.dashboard.view.stream(scope).add_text("message", f"{scope} line {i}\n\n")
            app.dashboard.set_scope(scope)
            await pilot.pause(0.1)
            assert pane.max_scroll_y > 0, scope  # longer than the pane: the end is what it must show
            assert pane.scroll_y == pane.max_scroll_y, scope
        pane.scroll_home(animate=False, immediate=True)  # the reader scrolls up: new output does not pull them down
        await pilot.pause()
        app.dashboard.view.stream("s3").add_text("message", "\n\nmore output\n")
        app.dashboard.refresh_panes()
        await pilot.pause()
        assert pane.scroll_y == 0
        pane.scroll_end(animate=False, immediate=True)  # back at the end: following again
        await pilot.pause()
        app.dashboard.view.stream("s3").add_text("message", "\n\neven more\n")
        app.dashboard.refresh_panes()
        await pilot.pause()
        assert pane.scroll_y == pane.max_scroll_y and pane.plain_lines()[-1].startswith("even more")


def ui_classes_with_bindings():
    import importlib
    import inspect
    import pkgutil

    import omk_tui.ui

    for info in pkgutil.walk_packages(omk_tui.ui.__path__, "omk_tui.ui."):
        module = importlib.import_module(info.name)
        for cls in vars(module).values():
            if inspect.isclass(cls) and cls.__module__ == module.__name__ and ("BINDINGS" in vars(cls) or any(
                    name.startswith("action_") for name in vars(cls))):
                yield cls


def test_every_binding_has_a_description_and_every_action_a_binding():
    classes = list(ui_classes_with_bindings())
    assert {"OmkApp", "DashboardScreen", "GateLogScreen", "DiffScreen", "PermissionModal"} <= {
        c.__name__ for c in classes}
    for cls in classes:
        bindings = vars(cls).get("BINDINGS", [])
        assert all(b.description for b in bindings), cls.__name__
        bound = {b.action.split("(")[0] for b in bindings}
        actions = {name[len("action_"):] for name in vars(cls) if name.startswith("action_")}
        assert actions <= bound, (cls.__name__, actions - bound)  # so the palette (built from bindings) has it


def test_help_lists_every_binding_of_every_screen():
    from textual.screen import Screen

    from omk_tui.ui.screens.help import binding_tables

    listed = {id(b) for _, bindings in binding_tables() for b in bindings}
    screens = [c for c in ui_classes_with_bindings() if issubclass(c, Screen) or c is OmkApp]
    assert len(screens) >= 9
    for cls in screens:
        missing = [b.key for b in vars(cls).get("BINDINGS", []) if id(b) not in listed]
        assert not missing, (cls.__name__, missing)


async def test_the_palette_offers_every_enabled_binding_of_the_dashboard(repo):
    from omk_tui.ui.commands import ActionsProvider

    app = OmkApp(repo, now=lambda: SAMPLE_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        entries = list(ActionsProvider(app.screen)._actions())
        offered = {name: keys for name, keys, _ in entries}
        assert len(offered) == len(entries)  # every entry says what it does, no two alike ("Pane" twice was)
        for name in ("Pause the selected goal", "Resume the selected goal", "The selected slice's diff",
                     "Switch between the dark and the light theme", "Next pane", "Previous pane"):
            assert name in offered, (name, offered)
        quit_entry = next(name for name in offered if name.startswith("Quit"))
        assert offered[quit_entry] == "key q, ctrl+q"  # the app's own key first
        active = {a.binding.action for a in app.screen.active_bindings.values()
                  if a.enabled and a.binding.action != "command_palette" and a.binding.description}
        assert active == {run.args[0] for _, _, run in entries}  # every enabled action, once
        from omk_tui.ui.app import OmkApp as App_

        assert App_.COMMANDS == {ActionsProvider}  # not Textual's quit/theme/screenshot a second time


@pytest.mark.parametrize("size", [(120, 36), (80, 24)])
async def test_the_footers_last_column_is_the_palette_key_not_a_key_under_it(repo, size):
    """Keys that do not fit run under the palette key; Textual docked it a column short of the edge, so the last
    character of the key under it showed ("^p paletteo")."""
    app = OmkApp(repo, now=lambda: SAMPLE_NOW)
    async with app.run_test(size=size) as pilot:
        await loaded(pilot)
        widget, _ = app.screen.get_widget_at(size[0] - 1, size[1] - 1)
        assert widget.has_class("-command-palette")


async def test_a_permission_request_whose_id_holds_control_characters_is_answered_by_its_exact_id(repo):
    """The id is the agent's text, so it is escaped like the rest of the view: the answer named the escaped id,
    which no request has, and a live request did not pop up at all."""
    from omk_tui.models.events import make_event
    from omk_tui.state.eventlog import EventLog
    from omk_tui.ui.screens.dashboard import PERMISSION_ARM_SECS

    rid = "perm-\x1b[2J-2"
    app = OmkApp(repo, now=lambda: SAMPLE_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        with EventLog(repo / ".omk" / "goals" / SAMPLE_GOAL_ID / "events.jsonl") as log:
            log.append(make_event(SAMPLE_GOAL_ID, "permission_asked", {
                "slice_id": "s3", "request_id": rid, "tool": "execute", "command": "rm -rf build",
                "paths": [], "scope": ["README.md"], "options": ["approve", "reject"]}, actor="agent"))
        await wait_for(pilot, lambda: isinstance(app.screen, PermissionModal), 10, "the request to pop up")
        assert "rm -rf build" in " ".join(str(w.render()) for w in app.screen.query("Static"))
        await pilot.pause(PERMISSION_ARM_SECS + 0.2)  # keys count once the pop-up is armed
        await pilot.press("n")
        await wait_for(pilot, lambda: not isinstance(app.screen, PermissionModal), 5, "the answer")
    assert [(r.action, r.args) for r in requests_in(repo)] == [("permission", {"request_id": rid, "decision": "reject"})]

    app = OmkApp(repo, now=lambda: SAMPLE_NOW)  # the same request found by the fold of the log
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        [shown] = [k for k in app.dashboard.view.permissions if k != "perm-s3-1"]
        assert "\x1b" not in shown
        app.dashboard.action_answer_permission(shown)
        await wait_for(pilot, lambda: isinstance(app.screen, PermissionModal), 5, "the dialog")
        await pilot.press("y")
        await wait_for(pilot, lambda: not isinstance(app.screen, PermissionModal), 5, "the answer")
    assert [(r.action, r.args) for r in requests_in(repo)][-1] == ("permission", {"request_id": rid,
                                                                                  "decision": "approve"})


async def test_a_popped_up_permission_request_answered_elsewhere_closes_and_q_still_quits(repo):
    """QA F6: the attached TUI popped up a request the approval policy answered a moment later; the dialog stayed
    over the finished goal, and `q` (not a key of the dialog) did nothing for good."""
    from omk_tui.models.events import make_event
    from omk_tui.state.eventlog import EventLog

    log_path = repo / ".omk" / "goals" / SAMPLE_GOAL_ID / "events.jsonl"

    def emit(kind: str, payload: dict) -> None:
        with EventLog(log_path) as log:
            log.append(make_event(SAMPLE_GOAL_ID, kind, {"slice_id": "s3", "request_id": "perm-s3-2", **payload},
                                  actor="agent"))

    app = OmkApp(repo, now=lambda: SAMPLE_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        emit("permission_asked", {"tool": "execute", "command": "true", "paths": [], "scope": [],
                                  "options": ["approve", "reject"]})
        await wait_for(pilot, lambda: isinstance(app.screen, PermissionModal), 10, "the request to pop up")
        emit("permission_decided", {"decision": "approve", "by": "policy"})
        await wait_for(pilot, lambda: not isinstance(app.screen, PermissionModal), 10, "the dialog to close")
        assert app.screen is app.dashboard
        await wait_for(pilot, lambda: any("no longer waits" in str(n.message) for n in app._notifications), 5,
                       "the notification saying why")
        # a request still waiting keeps its dialog; `q` there quits as on the dashboard
        await pilot.press("a")
        assert isinstance(app.screen, PermissionModal)
        await pilot.pause(PermissionModal.WAITING_CHECK_SECS * 3)
        assert isinstance(app.screen, PermissionModal)
        await pilot.press("q")
        await wait_for(pilot, lambda: not app.is_running, 10, "the app to quit")
    assert requests_in(repo) == []  # quitting answered nothing


async def test_a_dashboard_under_a_dialog_does_not_redraw_the_screen_while_nothing_happens(repo):
    """QA F6: after the dashboard changed under a dialog (help, a permission request), Textual repainted it, and the
    dialog over it, in full on every idle for as long as the dialog stayed (25 KB/s to the terminal)."""
    from omk_tui.models.events import make_event
    from omk_tui.state.eventlog import EventLog

    app = OmkApp(repo, now=lambda: SAMPLE_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        applied = app.dashboard.view.events_applied
        with EventLog(repo / ".omk" / "goals" / SAMPLE_GOAL_ID / "events.jsonl") as log:
            log.append(make_event(SAMPLE_GOAL_ID, "narrative", {"step": "review", "summary": "under the help"}))
        await wait_for(pilot, lambda: app.dashboard.view.events_applied > applied, 10, "the event to be folded")
        await pilot.pause(0.5)  # the change reaches the screen
        frames = []
        display = app._display
        app._display = lambda screen, update: (frames.append(screen), display(screen, update))[1]
        await pilot.pause(1.5)  # 30 flush ticks of the dashboard under the dialog; the goals rescan
        assert frames == [], f"{len(frames)} frames drawn while nothing changed"
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert app.screen is app.dashboard and frames  # back on top, the dashboard is drawn again
