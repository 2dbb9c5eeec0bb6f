"""The screens of the snapshot tests and of `scripts/screenshots.py`: fixed data, fixed clock, fixed paths.

The sample goal is written to a fixed folder (paths appear on screen), and the dashboard's clock is pinned to
`SAMPLE_NOW`, so the same scenario draws the same screen every time.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from omk_tui.replay import Recording, ReplayClock
from omk_tui.ui.app import OmkApp
from omk_tui.ui.screens.diff import DiffScreen
from omk_tui.ui.screens.gate_log import GateLogScreen
from tests.support.sample_goal import SAMPLE_NOW, write_sample_goal

SIZE = (120, 36)
FIXED_ROOT = Path(tempfile.gettempdir()) / "omk-tui-screens"


def sample_repo(stage: str = "mid") -> Path:
    repo = FIXED_ROOT / stage / "slugger"
    if repo.exists():
        shutil.rmtree(repo.parent)
    write_sample_goal(repo, stage=stage)
    return repo


def dashboard_app(stage: str = "mid") -> OmkApp:
    return OmkApp(sample_repo(stage), now=lambda: SAMPLE_NOW)


def replay_app() -> OmkApp:
    repo = sample_repo("done")
    goal = next((repo / ".omk" / "goals").iterdir())
    clock = ReplayClock(Recording.load(goal / "events.jsonl"), speed=1.0)
    return OmkApp(repo, clock=clock, now=lambda: SAMPLE_NOW)


async def settle(pilot: Pilot, secs: float = 0.3) -> None:
    """Let thread workers (scan, fold, diff, log index) finish and the screen redraw (the follower never ends)."""
    for _ in range(100):
        busy = [w for w in pilot.app.workers if w.is_running and w.group in ("scan", "fold", "diff", "log-index")]
        if not busy:
            break
        await pilot.pause(0.02)
    await pilot.pause(secs)


def _no_blink(app: OmkApp) -> None:
    for w in app.screen.query(TextArea):
        w.cursor_blink = False
    for w in app.screen.query(Input):
        w.cursor_blink = False


async def show_dashboard(pilot: Pilot) -> None:
    await settle(pilot)
    pilot.app.dashboard.query_one("#worktrees").focus()
    await pilot.pause(0.1)
    pilot.app.dashboard.set_scope("s3")
    await settle(pilot, 0.2)


async def show_gate_log(pilot: Pilot) -> None:
    await settle(pilot)
    view = pilot.app.dashboard.view
    await pilot.app.push_screen(GateLogScreen(view.gates[("baseline", "pytest")]))
    await settle(pilot)
    await pilot.press("f")
    await settle(pilot, 0.2)


async def show_diff(pilot: Pilot) -> None:
    await settle(pilot)
    dash = pilot.app.dashboard
    view = dash.view
    from omk_tui.state.store import load_goal

    base = load_goal(dash.goal_paths()).base_commit
    await pilot.app.push_screen(DiffScreen(dash.repo, view.slices["s2"], base, view.goal_id))
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
    pilot.app.screen.query_one(TextArea).insert("Add a --version flag that prints the package version")
    await settle(pilot, 0.2)


async def show_replay(pilot: Pilot) -> None:
    await settle(pilot, 0.1)
    dash = pilot.app.dashboard
    dash.clock.playing = False
    dash._replay_seek(round(dash.clock.total * 0.62))
    await settle(pilot, 0.2)


SCENARIOS = {
    "dashboard": (dashboard_app, show_dashboard),
    "gate-log": (dashboard_app, show_gate_log),
    "diff": (dashboard_app, show_diff),
    "permission": (dashboard_app, show_permission),
    "new-goal": (dashboard_app, show_new_goal),
    "replay": (replay_app, show_replay),
}
