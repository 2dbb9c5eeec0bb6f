"""The omk-tui Textual app: the dashboard of a repository's goals, or the replay of one goal."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from textual.app import App
from textual.binding import Binding

from omk_tui.control.client import spawn_detached_resume
from omk_tui.render.safe import printable
from omk_tui.replay import ReplayClock
from omk_tui.ui.commands import ActionsProvider
from omk_tui.ui.screens.dashboard import DashboardScreen
from omk_tui.ui.screens.help import HelpScreen
from omk_tui.ui.screens.modals import NewGoalRequest, QuitModal
from omk_tui.ui.styles import stylesheet_paths
from omk_tui.ui.themes import DARK, LIGHT, THEMES

QUIT_PAUSE_WAIT_SECS = 20.0


class OmkApp(App[None]):
    TITLE = "omk-tui"
    CSS_PATH = stylesheet_paths()
    COMMANDS = {ActionsProvider}
    BINDINGS = [
        Binding("q", "quit", "Quit", tooltip="Quit (a goal running here is paused or kept running: asks first)"),
        Binding("question_mark", "help", "Help", key_display="?", tooltip="Show the keys of every screen"),
        Binding("t", "toggle_theme", "Theme", tooltip="Switch between the dark and the light theme"),
        Binding("f8", "screenshot", "Screenshot", tooltip="Save an SVG screenshot of the screen"),
    ]

    def __init__(self, repo: Path | None = None, *, clock: ReplayClock | None = None, goal_id: str | None = None,
                 now: Callable[[], datetime] | None = None, theme: str = DARK.name,
                 screenshot_dir: Path | None = None, autostart: str | None = None) -> None:
        super().__init__()
        self.autostart = autostart  # a goal id whose controller starts in this window as soon as it opens
        self.repo = Path(repo) if repo is not None else None
        self.clock = clock
        self.initial_goal = goal_id
        self.fixed_now = now
        self.controllers: dict[str, object] = {}  # goal id → GoalController running in this process
        self.screenshot_dir = screenshot_dir
        for t in THEMES:
            self.register_theme(t)
        self.theme = theme

    def on_mount(self) -> None:
        if not self.is_headless:
            # The terminal closed (SIGHUP) or the process is asked to end (SIGTERM): the goals running here are
            # paused, as `run` pauses its goal, instead of dying with them recorded as running.
            import asyncio

            loop = asyncio.get_running_loop()
            loop.add_signal_handler(signal.SIGHUP, self.stop_on_signal, True)
            loop.add_signal_handler(signal.SIGTERM, self.stop_on_signal, False)
        if self.autostart is not None:
            goal_id = self.autostart
            self.call_after_refresh(lambda: self.start_controller(self.dashboard, goal_id=goal_id))

    def notify(self, message: str, *, title: str = "", severity="information", timeout: float | None = None,
               markup: bool = True) -> None:
        """Every notification is shown as plain text: they carry goal text, paths, agent and error messages
        (``[Errno 2] …``, pydantic's ``[type=missing, …]``), which as markup would be mangled or raise."""
        super().notify(printable(message, newlines=True), title=title, severity=severity, timeout=timeout,
                       markup=False)

    def get_default_screen(self) -> DashboardScreen:
        return DashboardScreen(self.repo, clock=self.clock, goal_id=self.initial_goal, now=self.fixed_now)

    @property
    def dashboard(self) -> DashboardScreen:
        for screen in self.screen_stack:
            if isinstance(screen, DashboardScreen):
                return screen
        raise LookupError("no dashboard")

    # ------------------------------------------------------------ app actions
    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_toggle_theme(self) -> None:
        self.theme = LIGHT.name if self.theme == DARK.name else DARK.name

    def action_screenshot(self) -> None:
        folder = self.screenshot_dir or ((self.repo / ".omk" / "screenshots") if self.repo else Path.cwd())
        folder.mkdir(parents=True, exist_ok=True)
        path = self.save_screenshot(path=str(folder))
        self.notify(f"screenshot saved: {path}")

    async def action_quit(self) -> None:
        running = [gid for gid in self.controllers]
        if not running:
            self.exit()
            return

        def chosen(choice: str | None) -> None:
            if choice in ("pause", "background"):
                self.run_worker(self._stop_and_exit(choice == "background"), group="quit", exclusive=True)

        self.push_screen(QuitModal(running), chosen)

    def stop_on_signal(self, hangup: bool) -> None:
        """Pause every goal running here, then exit.

        After a hangup the terminal is gone: what the app still draws goes to /dev/null (a write to the hung-up
        terminal fails or blocks, and Textual's exit, which restores the terminal, would hang on it), and the
        process ends at once when the goals are paused."""
        if hangup:
            null = os.open(os.devnull, os.O_WRONLY)
            for fd in (1, 2):  # Textual draws on stderr
                os.dup2(null, fd)
            os.close(null)
        self.run_worker(self._stop_and_exit(False, hangup=hangup), group="quit", exclusive=True)

    async def _stop_and_exit(self, background: bool, *, hangup: bool = False) -> None:
        goals = list(self.controllers)
        for gid in goals:
            controller = self.controllers.get(gid)
            if controller is not None:
                controller.pause()  # type: ignore[attr-defined]
        self.notify("pausing…")
        deadline = time.monotonic() + QUIT_PAUSE_WAIT_SECS
        while self.controllers and time.monotonic() < deadline:
            await self._sleep(0.05)
        if background and self.repo is not None:
            for gid in goals:
                spawn_detached_resume(self.repo, gid)
        if hangup:
            os._exit(128 + signal.SIGHUP)  # the goals are paused and their records written; no terminal to restore
        self.exit()

    @staticmethod
    async def _sleep(secs: float) -> None:
        import asyncio

        await asyncio.sleep(secs)

    # ------------------------------------------------------------ controllers in this process
    def start_controller(self, dashboard: DashboardScreen, *, request: NewGoalRequest | None = None,
                         goal_id: str | None = None) -> bool:
        """Run a new (request) or existing (goal_id) goal's controller in a worker. False without a repository."""
        if self.repo is None:
            return False
        from omk_tui.control.controller import GoalController

        repo = self.repo
        if request is not None:
            from omk_tui.models.goal import Budget, GoalOptions

            from omk_tui.agents.spec import canonical_spec

            try:  # AgentSpecError is a ValueError; a script's path is stored absolute
                options = GoalOptions(agent=canonical_spec(request.agent), max_agents=request.max_agents,
                                      approval=request.approval,
                                      delivery_policy=request.delivery_policy)  # type: ignore[arg-type]
            except ValueError as exc:
                self.notify(f"invalid options: {exc}", severity="error")
                return True
            budget = Budget(time_secs=request.time_secs, tokens=request.tokens, usd=request.usd)

            def make():
                return GoalController.create(repo, request.goal, options, budget)
        else:
            assert goal_id is not None

            def make():
                return GoalController.open(repo, goal_id)

        dashboard.run_controller(make, resuming=goal_id if request is None else None)
        return True
