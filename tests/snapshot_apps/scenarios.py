"""The screens of the snapshot tests and of `scripts/screenshots.py`: fixed data, fixed clock, fixed paths.

Every screen shows the recorded `omk-tui demo` goal (tests/snapshot_apps/demo_goal.py), written to a fixed
folder (paths appear on screen) and cut at a fixed event, with the dashboard's clock pinned just after it, so the
same scenario draws the same screen every time.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from omk_tui.replay import Recording, ReplayClock
from omk_tui.ui.app import OmkApp
from omk_tui.ui.screens.diff import DiffScreen
from omk_tui.ui.screens.gate_log import GateLogScreen
from omk_tui.ui.widgets.agent_stream import AgentStreamView
from tests.snapshot_apps import demo_goal

SIZE = (120, 36)
SMALL = (80, 24)
FIXED_ROOT = Path(tempfile.gettempdir()) / "omk-tui-screens"


def demo_app(cut: int | None = demo_goal.MID_RUN) -> OmkApp:
    """The recorded demo goal, cut after `cut` events (mid-run by default), clock pinned after its last event."""
    repo, gid, now = demo_goal.materialize(FIXED_ROOT / "demo", cut)
    return OmkApp(repo, goal_id=gid, now=lambda: now)


def permission_app() -> OmkApp:
    return demo_app(demo_goal.PERMISSION_PENDING)


def replay_app() -> OmkApp:
    repo, gid, now = demo_goal.materialize(FIXED_ROOT / "demo", None)
    clock = ReplayClock(Recording.load(repo / ".omk" / "goals" / gid / "events.jsonl"), speed=1.0)
    return OmkApp(repo, clock=clock, now=lambda: now)


async def settle(pilot: Pilot, secs: float = 0.3) -> None:
    """Let thread workers (scan, fold, diff, log index) finish and the screen redraw (the follower never ends)."""
    for _ in range(500):  # up to 10 s: a busy CI machine can be that slow
        busy = [w for w in pilot.app.workers if w.is_running and w.group in ("scan", "fold", "diff", "log-index")]
        if not busy:
            break
        await pilot.pause(0.02)
    await pilot.pause(secs)
    # The agent pane's scrollbar thumb can lag its (right) scroll position by a layout when a longer stream arrived
    # just before (see AgentStreamView._place_thumb): place it, so a slow machine draws the same frame.
    for pane in pilot.app.screen.query(AgentStreamView):
        pane._place_thumb()
    await pilot.pause(0.05)


def _no_blink(app: OmkApp) -> None:
    for w in app.screen.query(TextArea):
        w.cursor_blink = False
    for w in app.screen.query(Input):
        w.cursor_blink = False


async def show_dashboard(pilot: Pilot) -> None:
    await settle(pilot)
    pilot.app.dashboard.query_one("#worktrees").focus()
    await pilot.pause(0.1)
    pilot.app.dashboard.set_scope("add-stats")
    # past the agent pane's throttled re-layout (AgentStream.LAYOUT_SECS), so a slow machine draws the same frame
    await settle(pilot, 0.8)


async def show_gate_log(pilot: Pilot) -> None:
    await settle(pilot)
    view = pilot.app.dashboard.view
    gate = next(g for (scope, _), g in sorted(view.gates.items()) if scope == "add-stats")  # attempt 1 failed
    await pilot.app.push_screen(GateLogScreen(gate))
    await settle(pilot)
    await pilot.press("f")
    await settle(pilot, 0.2)


async def show_diff(pilot: Pilot) -> None:
    await settle(pilot)
    dash = pilot.app.dashboard
    view = dash.view
    from omk_tui.state.store import load_goal

    base = load_goal(dash.goal_paths()).base_commit
    await pilot.app.push_screen(DiffScreen(dash.repo, view.slices["fix-divide"], base, view.goal_id))
    await settle(pilot, 0.5)


async def show_permission(pilot: Pilot) -> None:
    await show_dashboard(pilot)
    await pilot.press("a")
    await settle(pilot, 0.2)


async def show_new_goal(pilot: Pilot) -> None:
    await settle(pilot)
    await pilot.press("n")
    await settle(pilot, 0.2)
    _no_blink(pilot.app)
    pilot.app.screen.query_one(TextArea).insert("Add power(a, b) to calc.ops, with tests for negative exponents")
    await settle(pilot, 0.2)


async def show_replay(pilot: Pilot) -> None:
    await settle(pilot, 0.1)
    dash = pilot.app.dashboard
    dash.clock.playing = False
    dash._replay_seek(round(dash.clock.total * 0.55))
    await settle(pilot, 0.8)  # past the agent pane's throttled re-layout, as in show_dashboard


# name → (app factory, preparation, terminal size)
SCENARIOS = {
    "dashboard": (demo_app, show_dashboard, SIZE),
    "dashboard-80x24": (demo_app, show_dashboard, SMALL),
    "gate-log": (demo_app, show_gate_log, SIZE),
    "diff": (demo_app, show_diff, SIZE),
    "permission": (permission_app, show_permission, SIZE),
    "new-goal": (demo_app, show_new_goal, SIZE),
    "replay": (replay_app, show_replay, SIZE),
}
