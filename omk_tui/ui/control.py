"""Intents from the keys to a goal's controller: in process (method calls) or in another process (request files).

Uses the lead's `omk_tui.control.client` when it is installed; otherwise writes the very same control request
files with `omk_tui.control.requests.send_request`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Protocol

from omk_tui.control.requests import send_request
from omk_tui.state.store import GoalPaths, pid_alive


class Intents(Protocol):
    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def cancel(self) -> None: ...
    def add_budget(self, *, time_secs: float | None = None, tokens: int | None = None,
                   usd: float | None = None) -> None: ...
    def answer_permission(self, request_id: str, decision: str) -> None: ...
    def run_gates(self) -> None: ...


class RequestFileIntents:
    """A controller in another process: one request file per intent in `control/`."""

    def __init__(self, paths: GoalPaths) -> None:
        self.paths = paths

    def _send(self, action: str, **args: Any) -> Path:
        return send_request(self.paths.control, action, **args)  # type: ignore[arg-type]

    def pause(self) -> None:
        self._send("pause")

    def resume(self) -> None:
        self._send("resume")

    def cancel(self) -> None:
        self._send("cancel")

    def add_budget(self, *, time_secs=None, tokens=None, usd=None) -> None:
        self._send("budget_add", **{k: v for k, v in (("time_secs", time_secs), ("tokens", tokens), ("usd", usd))
                                   if v is not None})

    def answer_permission(self, request_id: str, decision: str) -> None:
        self._send("permission", request_id=request_id, decision=decision)

    def run_gates(self) -> None:
        self._send("run_gates")


class InProcessIntents:
    """A controller running in this process (in a worker): thread-safe method calls."""

    def __init__(self, controller) -> None:
        self.controller = controller

    def pause(self) -> None:
        self.controller.pause()

    def resume(self) -> None:  # a running controller is not paused; the dashboard restarts a stopped one
        pass

    def cancel(self) -> None:
        self.controller.cancel()

    def add_budget(self, *, time_secs=None, tokens=None, usd=None) -> None:
        self.controller.add_budget(time_secs=time_secs, tokens=tokens, usd=usd)

    def answer_permission(self, request_id: str, decision: str) -> None:
        self.controller.answer_permission(request_id, decision)

    def run_gates(self) -> None:
        self.controller.run_gates_now()


def file_intents(paths: GoalPaths) -> Intents:
    try:
        from omk_tui.control.client import FileControl  # the lead's client (resume starts a dead controller)
    except ImportError:
        return RequestFileIntents(paths)
    client = FileControl(paths)
    if not hasattr(client, "run_gates") and hasattr(client, "run_gates_now"):
        client.run_gates = client.run_gates_now  # type: ignore[attr-defined]
    return client


def controller_alive(paths: GoalPaths) -> bool:
    """Whether another process runs this goal's controller (it holds the lock)."""
    try:
        from omk_tui.control.lock import read_lock
    except ImportError:
        read_lock = None
    if read_lock is not None:
        info = read_lock(paths.lock)
        return bool(info and info.alive)
    try:
        data = json.loads(paths.lock.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    pid = data.get("pid") if isinstance(data, dict) else None
    return isinstance(pid, int) and pid != os.getpid() and pid_alive(pid)


def start_detached_resume(repo: Path, goal_id: str) -> None:
    """`omk-tui resume GOAL --headless` in its own session, so it outlives this terminal UI."""
    try:
        from omk_tui.control.client import spawn_detached_resume
    except ImportError:
        spawn_detached_resume = None
    if spawn_detached_resume is not None:
        spawn_detached_resume(repo, goal_id)
        return
    subprocess.Popen(
        [sys.executable, "-m", "omk_tui", "resume", goal_id, "--headless", "--repo", str(repo)],
        cwd=str(repo), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
