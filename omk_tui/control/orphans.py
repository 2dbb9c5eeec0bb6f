"""Orphans of a dead controller: agent and gate processes that outlived a kill -9.

Every child a controller starts (agents, gates, and their own children) carries two environment markers:
`OMK_GOAL_ID` and `OMK_CONTROLLER_PID`. A controller that starts on a goal ends the process groups of every
process marked with that goal whose controller is no longer alive — before it starts anything itself.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from omk_tui.state.store import pid_alive

GOAL_MARK = "OMK_GOAL_ID"
CONTROLLER_MARK = "OMK_CONTROLLER_PID"


def markers(goal_id: str) -> dict[str, str]:
    return {GOAL_MARK: goal_id, CONTROLLER_MARK: str(os.getpid())}


def _environ(pid: int) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    out = {}
    for item in raw.split(b"\0"):
        if b"=" in item:
            k, _, v = item.partition(b"=")
            if k in (GOAL_MARK.encode(), CONTROLLER_MARK.encode()):
                out[k.decode()] = v.decode(errors="replace")
    return out


def _alive(pid: int) -> bool:
    """Alive and not a zombie (a reaped-late child must not count as a process left behind)."""
    if not pid_alive(pid):
        return False
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def marked_processes(goal_id: str) -> list[tuple[int, int]]:
    """(pid, controller pid) of every live process marked with this goal (Linux /proc; empty elsewhere)."""
    out = []
    proc = Path("/proc")
    if not proc.is_dir():
        return out
    me = os.getpid()
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        if pid == me:
            continue
        env = _environ(pid)
        if env.get(GOAL_MARK) == goal_id and _alive(pid):
            try:
                out.append((pid, int(env.get(CONTROLLER_MARK, "0"))))
            except ValueError:
                out.append((pid, 0))
    return out


def reap_orphans(goal_id: str) -> list[int]:
    """Kill the process groups of this goal's processes whose controller is dead; return every marked pid ended."""
    targets = []
    for pid, ctl in marked_processes(goal_id):
        if ctl == os.getpid() or (ctl and _alive(ctl)):
            continue
        try:
            targets.append((pid, os.getpgid(pid)))
        except ProcessLookupError:
            continue
    own_group = os.getpgid(0)
    killed: set[int] = set()
    ended = []
    for pid, pgid in targets:
        try:
            if pgid == own_group:
                os.kill(pid, signal.SIGKILL)
            elif pgid not in killed:
                os.killpg(pgid, signal.SIGKILL)
                killed.add(pgid)
        except (ProcessLookupError, PermissionError):
            continue
        ended.append(pid)
    return ended
