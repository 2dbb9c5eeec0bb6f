"""Opening the dashboard from a command, optionally with a new goal that starts running in it at once."""

from __future__ import annotations

from pathlib import Path


def run_dashboard(repo: Path, *, new_goal=None, goal_id: str | None = None, light: bool = False) -> int:
    """`new_goal` = (goal text, GoalOptions, Budget): created now, run by this window's controller worker."""
    from omk_tui.ui.app import OmkApp
    from omk_tui.ui.themes import DARK, LIGHT

    autostart = None
    if new_goal is not None:
        from omk_tui.control.controller import GoalController

        text, options, budget = new_goal
        ctl = GoalController.create(repo, text, options, budget)
        autostart = goal_id = ctl.state.goal_id
        ctl.close()
    app = OmkApp(repo, goal_id=goal_id, theme=LIGHT.name if light else DARK.name, autostart=autostart)
    app.run()
    return 0
