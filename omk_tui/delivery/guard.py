"""A person's decision (accept, reject, deliver) never races a controller: refuse while one runs the goal, and hold
the goal's controller lock while writing so none can start meanwhile."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from omk_tui.state import store


def refuse_if_running(paths: store.GoalPaths, action: str) -> None:
    from omk_tui.control.lock import read_lock
    from omk_tui.delivery.local import DeliveryRefused

    info = read_lock(paths.lock)
    if info is not None and info.alive and not info.offline:
        who = f" (pid {info.pid} on {info.host})" if info.pid else ""
        raise DeliveryRefused(
            f"a controller is running goal {paths.goal_id}{who}; wait until it stops or pause it with "
            f"`omk-tui pause {paths.goal_id}`, then {action} again")


@contextlib.contextmanager
def goal_write_lock(paths: store.GoalPaths, action: str) -> Iterator[None]:
    """Hold the goal's controller lock for the duration of a decision's writes."""
    from omk_tui.control.lock import ControllerLock, LockHeld
    from omk_tui.delivery.local import DeliveryRefused

    refuse_if_running(paths, action)
    lock = ControllerLock(paths.lock, offline=True)
    try:
        lock.acquire()
    except LockHeld as exc:  # a controller started between the check and now
        raise DeliveryRefused(f"{exc}; then {action} again") from exc
    try:
        yield
    finally:
        lock.release()
