"""Intents applied to a goal whose controller is not running (under the lock, so none starts meanwhile)."""

from __future__ import annotations

import time

from pathlib import Path

from omk_tui.control.lock import ControllerLock, LockHeld
from omk_tui.models.events import make_event
from omk_tui.models.goal import GoalFailure, GoalState, GoalStatus
from omk_tui.state import store
from omk_tui.state.eventlog import EventLog


def budget_add_offline(paths: store.GoalPaths, time_secs, tokens, usd) -> GoalState:
    """Raise a goal's limits in its record (no controller runs it); returns the goal as saved."""
    from omk_tui.control.controller import apply_budget_add

    lock = ControllerLock(paths.lock, offline=True)
    lock.acquire()
    try:
        state = store.load_goal(paths)
        added = apply_budget_add(state.budget, time_secs, tokens, usd)
        log = EventLog(paths.events)
        log.append(make_event(state.goal_id, "budget_extended",
                              {"budget": state.budget.model_dump(mode="json"), "added": added}), durable=True)
        log.close()
        store.save_goal(paths, state)
        return state
    finally:
        lock.release()


def budget_summary(state: GoalState, time_secs, tokens, usd, *, resume: str | None = None) -> str:
    """What a budget request left: each asked limit as it is now, naming the unlimited ones (nothing is added to
    an unlimited limit), and what happens next (`resume`: how to continue, by default the command)."""
    b = state.budget
    shown = ", ".join(f"{name} {'unlimited' if limit is None else value}" for name, limit, value in (
        ("time", b.time_secs, f"{(b.time_secs or 0) / 60:g} min"), ("tokens", b.tokens, f"{b.tokens or 0:,}"),
        ("USD", b.usd, f"{b.usd or 0:.2f}")))
    note = unlimited_note(state, time_secs, tokens, usd)
    resume = resume or f"`omk-tui resume {state.goal_id}` continues"
    then = resume if state.settled is None else f"the goal is {state.settled}"
    return f"budget now: {shown}{note}; {then}"


def unlimited_note(state: GoalState, time_secs, tokens, usd) -> str:
    """` (time unlimited: nothing added there)` when a request asks to raise limits the goal does not have."""
    from omk_tui.control.controller import unlimited_asked

    unlimited = unlimited_asked(state.budget, time_secs, tokens, usd)
    return f" ({', '.join(unlimited)} unlimited: nothing added there)" if unlimited else ""


def cancel_offline(repo: Path, paths: store.GoalPaths) -> GoalState:
    """Cancel a goal in its record (no controller runs it); returns the goal as saved."""
    lock = ControllerLock(paths.lock, offline=True)
    lock.acquire()
    try:
        state = store.load_goal(paths)
        if state.settled is not None:  # settled meanwhile (a controller ran it to its end): nothing to cancel
            return state
        state.status = GoalStatus.cancelled
        state.failure = GoalFailure(kind="cancelled", reason="cancelled by the user; worktrees are kept for inspection",
                                    next_action=f"omk-tui clean {state.goal_id}")
        log = EventLog(paths.events)
        log.append(make_event(state.goal_id, "goal_cancelled", {"by": "user"}))
        log.append(make_event(state.goal_id, "status_changed", {"status": "cancelled", "reason": state.failure.reason}),
                   durable=True)
        log.close()
        store.save_goal(paths, state)
        return state
    finally:
        lock.release()


def offline_or_request(fc, offline, request, *, wait: float = 5.0):
    """`offline()` under the goal's lock (no controller runs the goal); if the lock is taken meanwhile — a
    controller starting (resume in another terminal), or another offline command for a moment — the ask goes to
    the controller once it runs (`request()`), or `offline` is tried again once the other command is done.
    Returns what `offline` returned, or None when the request was sent."""
    deadline = time.monotonic() + wait
    while True:
        try:
            return offline()
        except LockHeld:
            if fc.controller_alive() or time.monotonic() >= deadline:  # a controller (not another command) has it
                request()
                return None
            time.sleep(0.05)
