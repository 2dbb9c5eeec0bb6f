"""Waiting in a `run_test` for something the app does (a message handled, a worker's write), not a fixed sleep a
loaded machine can outlast."""

from __future__ import annotations

import time


async def wait_for(pilot, cond, timeout: float = 60.0, what: str = "") -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what or cond}")
