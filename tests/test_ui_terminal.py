"""The TUI in a real terminal (a pty): what happens to the goal it runs when the terminal goes away."""

from __future__ import annotations

import json
import os
import pty
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from omk_tui.control.orphans import marked_processes

pytestmark = [pytest.mark.timeout(180), pytest.mark.slow]


def _status(repo: Path) -> tuple[str | None, str | None]:
    for path in (repo / ".omk" / "goals").glob("*/goal.json"):
        try:
            return path.parent.name, json.loads(path.read_text())["status"]
        except (OSError, ValueError, KeyError):
            pass
    return None, None


def _wait_exit(pid: int, secs: float) -> int | None:
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.1)
    return None


@pytest.mark.parametrize("how", ["close the terminal", "SIGTERM"])
def test_a_goal_running_in_the_tui_is_paused_when_the_terminal_closes_or_it_is_told_to_end(tmp_path, how):
    """It died with the terminal: the goal stayed recorded as running (shown as interrupted), agent temp folders
    were left behind."""
    repo = tmp_path / "calc"
    env = {**os.environ, "OMK_WORKTREES_DIR": str(tmp_path / "worktrees"), "TERM": "xterm-256color",
           "COLUMNS": "120", "LINES": "36"}
    env.pop("OMK_DEBUG", None)
    pid, master = pty.fork()
    if pid == 0:  # the child: session leader, the pty its controlling terminal
        os.execve(sys.executable, [sys.executable, "-m", "omk_tui", "demo", "--dir", str(repo), "--pace", "1"], env)

    def drain() -> None:  # the terminal's reader: the app must never block on a full pty
        try:
            while os.read(master, 65536):
                pass
        except OSError:
            pass

    threading.Thread(target=drain, daemon=True).start()
    closed, ended = False, None
    try:
        deadline = time.monotonic() + 90
        gid, status = _status(repo)
        while status != "running" and time.monotonic() < deadline:
            time.sleep(0.2)
            gid, status = _status(repo)
        assert status == "running", "the demo goal did not start"
        time.sleep(1.5)  # agents at work
        if how == "SIGTERM":
            os.kill(pid, signal.SIGTERM)
        else:
            os.close(master)  # the kernel hangs up the session: SIGHUP
            closed = True
        ended = _wait_exit(pid, 60)
        assert ended is not None, "the TUI did not end"
    finally:
        if ended is None:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        if not closed:
            os.close(master)
    assert _status(repo) == (gid, "paused")
    assert marked_processes(gid) == []
