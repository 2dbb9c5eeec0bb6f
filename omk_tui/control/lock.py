"""The controller lock: one controller per goal, and a way to tell whether it is alive.

Mutual exclusion is an `flock` on `controller.lock` (released by the kernel when the process dies, even on
kill -9); the file's JSON (pid, host, started, heartbeat) tells a person who holds it.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

HEARTBEAT_SECS = 2.0


class LockHeld(RuntimeError):
    pass


@dataclass
class LockInfo:
    pid: int
    host: str
    started: float
    heartbeat: float
    alive: bool
    offline: bool = False  # held by a short command changing the record (cancel, budget-add, accept…), no controller


def read_lock(lock_path: Path) -> LockInfo | None:
    """Who holds (or last held) the lock, and whether that controller is alive now."""
    lock_path = Path(lock_path)
    try:
        raw = lock_path.read_text(encoding="utf-8")
        data = json.loads(raw) if raw.strip() else {}
    except (OSError, ValueError):
        data = {}
    if not lock_path.exists():
        return None
    alive = is_locked(lock_path)
    return LockInfo(
        pid=int(data.get("pid", 0) or 0),
        host=str(data.get("host", "")),
        started=float(data.get("started", 0) or 0),
        heartbeat=float(data.get("heartbeat", 0) or 0),
        alive=alive,
        offline=bool(data.get("offline", False)),
    )


def is_locked(lock_path: Path) -> bool:
    try:
        fd = os.open(lock_path, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


INTERRUPTED = "interrupted"
STARTING_GRACE_SECS = 15.0  # from goal.json written to its controller's lock taken: well under a second normally


def shown_status(status: str, lock_path: Path) -> str:
    """A goal's recorded `status` as a person should read it: a goal recorded as running whose lock a controller took
    but no controller holds now was interrupted (its controller was killed or crashed, or the machine restarted);
    `omk-tui resume` goes on. A goal with no lock file yet is starting — its controller is about to take the lock —
    unless its goal.json is older than STARTING_GRACE_SECS: then the run was killed before its controller began.
    Only what is shown changes: the record stays as it is until a controller resumes the goal."""
    if status != "running":
        return status
    lock_path = Path(lock_path)
    if not lock_path.exists():
        try:
            age = time.time() - (lock_path.parent / "goal.json").stat().st_mtime
        except OSError:
            return status
        return INTERRUPTED if age > STARTING_GRACE_SECS else status
    return INTERRUPTED if not is_locked(lock_path) else status


# `is_locked` takes the lock for an instant to test it: an acquire that meets such a probe tries again this long.
PROBE_RETRY_SECS = 0.25


class ControllerLock:
    """`offline`: held by a short command that changes the goal's record while no controller runs it (recorded in
    the file, so that others can tell it is not a controller)."""

    def __init__(self, lock_path: Path, *, offline: bool = False):
        self.path = Path(lock_path)
        self.offline = offline
        self._fd: int | None = None
        self.started = time.time()

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + PROBE_RETRY_SECS
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() < deadline:
                    time.sleep(0.01)
                    continue
                os.close(fd)
                raise LockHeld(_held_message(read_lock(self.path))) from None
        self._fd = fd
        self.heartbeat()

    def heartbeat(self) -> None:
        if self._fd is None:
            return
        data = json.dumps(
            {"pid": os.getpid(), "host": socket.gethostname(), "started": self.started, "heartbeat": time.time()}
            | ({"offline": True} if self.offline else {})
        ).encode()
        try:
            os.ftruncate(self._fd, 0)
            os.pwrite(self._fd, data, 0)
        except OSError:
            pass

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            os.close(self._fd)
            self._fd = None


def _held_message(info: LockInfo | None) -> str:
    if info is not None and info.offline and info.pid:
        return (f"another omk-tui command (pid {info.pid} on {info.host}) is changing this goal's record right now; "
                "run the command again in a moment")
    who = f" (pid {info.pid} on {info.host})" if info and info.pid else " (it is starting)"
    return f"another controller is running this goal{who}; pause or cancel it first, or attach to it with `omk-tui`"
