"""One small interface for intents, whether the controller runs in this process or another."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Protocol

from omk_tui.control.lock import read_lock
from omk_tui.control.requests import send_request
from omk_tui.state.store import GoalPaths


class ControlClient(Protocol):
    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def cancel(self) -> None: ...
    def add_budget(self, *, time_secs: float | None = None, tokens: int | None = None, usd: float | None = None) -> None: ...
    def answer_permission(self, request_id: str, decision: str) -> None: ...
    def run_gates(self) -> None: ...


class LocalControl:
    """Intents as method calls on a controller running in this process."""

    def __init__(self, controller, resume_fn=None):
        self.controller = controller
        self._resume_fn = resume_fn

    def pause(self) -> None:
        self.controller.pause()

    def resume(self) -> None:
        if self._resume_fn is not None:
            self._resume_fn()

    def cancel(self) -> None:
        self.controller.cancel()

    def add_budget(self, *, time_secs=None, tokens=None, usd=None) -> None:
        self.controller.add_budget(time_secs=time_secs, tokens=tokens, usd=usd)

    def answer_permission(self, request_id: str, decision: str) -> None:
        self.controller.answer_permission(request_id, decision)

    def run_gates(self) -> None:
        self.controller.run_gates_now()


class FileControl:
    """Intents as control request files for a controller in another process."""

    def __init__(self, paths: GoalPaths, repo: Path | None = None):
        self.paths = paths
        self.repo = Path(repo) if repo else paths.root.parents[2]

    def controller_alive(self) -> bool:
        info = read_lock(self.paths.lock)
        return bool(info and info.alive and not info.offline)

    def pause(self) -> None:
        send_request(self.paths.control, "pause")

    def cancel(self) -> None:
        send_request(self.paths.control, "cancel")

    def add_budget(self, *, time_secs=None, tokens=None, usd=None) -> None:
        send_request(self.paths.control, "budget_add", time_secs=time_secs, tokens=tokens, usd=usd)

    def answer_permission(self, request_id: str, decision: str) -> None:
        send_request(self.paths.control, "permission", request_id=request_id, decision=decision)

    def run_gates(self) -> None:
        send_request(self.paths.control, "run_gates")

    def resume(self) -> None:
        """A running controller resumes on request; a dead one is restarted as a detached headless process."""
        if self.controller_alive():
            send_request(self.paths.control, "resume")
            return
        spawn_detached_resume(self.repo, self.paths.goal_id)


def spawn_detached_resume(repo: Path, goal_id: str) -> int:
    log = Path(repo) / ".omk" / "goals" / goal_id / "artifacts" / "controller.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "omk_tui", "resume", goal_id, "--repo", str(repo), "--headless", "--quiet"],
            cwd=str(repo),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            start_new_session=True,
            env=os.environ.copy(),
        )
    return proc.pid
