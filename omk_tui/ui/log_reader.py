"""Reading a goal's whole event log in a thread worker without starving the UI.

The engine's `iter_events` (same parse, same gaps), but every few hundred events the thread sleeps for an
instant so the UI's event loop gets the interpreter lock: keys stay responsive while a 100,000-event goal loads.
"""

from __future__ import annotations

import time
from pathlib import Path

from omk_tui.state.eventlog import ReadResult, iter_events

YIELD_EVERY = 500


def read_events_yielding(path: Path, offset: int = 0, *, pause_secs: float = 0.0005) -> ReadResult:
    result = ReadResult(offset=offset)
    events = result.events
    for event in iter_events(path, offset, result):  # counts gaps and the offset into `result`
        events.append(event)
        if len(events) % YIELD_EVERY == 0:
            time.sleep(pause_secs)
    return result
