"""The append-only event log (`events.jsonl`).

One event per line, `seq` strictly increasing. Appends are flushed at once and fsynced in groups (at most
`sync_interval` seconds apart, and always on `sync()`/`close()`), so a crash loses at most the last moments
and never corrupts what came before. A torn last line (a crash mid-write) is repaired when a writer reopens
the log; readers skip unreadable lines and count them as known gaps.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from omk_tui.models.events import EPHEMERAL_KINDS, Event
from omk_tui.state.atomic import StateWriteError

Subscriber = Callable[[Event], None]


def _repair_tail(path: Path) -> int:
    """Truncate a torn last line; return the byte size after repair."""
    size = path.stat().st_size
    if size == 0:
        return 0
    with open(path, "rb+") as fh:
        fh.seek(-1, os.SEEK_END)
        if fh.read(1) == b"\n":
            return size
        # find the last newline, scanning backwards in blocks
        pos = size
        block = 65536
        cut = 0
        while pos > 0:
            start = max(0, pos - block)
            fh.seek(start)
            chunk = fh.read(pos - start)
            idx = chunk.rfind(b"\n")
            if idx >= 0:
                cut = start + idx + 1
                break
            pos = start
        fh.truncate(cut)
        fh.flush()
        os.fsync(fh.fileno())
        return cut


def _last_seq(path: Path) -> int:
    """The seq of the last readable event (scans backwards; 0 for an empty log)."""
    size = path.stat().st_size
    if size == 0:
        return 0
    with open(path, "rb") as fh:
        pos = size
        tail = b""
        while pos > 0:
            start = max(0, pos - 65536)
            fh.seek(start)
            tail = fh.read(pos - start) + tail
            lines = tail.split(b"\n")
            # the first element may be partial unless we reached the file start
            candidates = lines if start == 0 else lines[1:]
            for raw in reversed(candidates):
                if not raw.strip():
                    continue
                try:
                    return int(json.loads(raw)["seq"])
                except (ValueError, KeyError, TypeError):
                    continue
            tail = lines[0] if start > 0 else b""
            pos = start
    return 0


class EventLog:
    """Writer of one goal's event log; also fans events out to in-process subscribers."""

    def __init__(self, path: Path, *, sync_interval: float = 0.05):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.touch(exist_ok=True)
        _repair_tail(self.path)
        self._seq = _last_seq(self.path)
        self._fh = open(self.path, "ab", buffering=0)
        self._lock = threading.Lock()
        self._sync_interval = sync_interval
        self._last_sync = time.monotonic()
        self._dirty = False
        self._subscribers: list[Subscriber] = []
        self.closed = False

    @property
    def seq(self) -> int:
        return self._seq

    def subscribe(self, fn: Subscriber) -> Callable[[], None]:
        self._subscribers.append(fn)
        return lambda: self._subscribers.remove(fn) if fn in self._subscribers else None

    def append(self, event: Event, *, durable: bool = False) -> Event:
        """Give the event its seq, write it (unless ephemeral) and tell subscribers."""
        with self._lock:
            if event.kind in EPHEMERAL_KINDS:
                event.seq = self._seq
            else:
                self._seq += 1
                event.seq = self._seq
                line = event.model_dump_json().encode("utf-8") + b"\n"
                try:
                    os.write(self._fh.fileno(), line)
                except OSError as exc:
                    self._seq -= 1
                    raise StateWriteError(exc.errno, f"could not append to {self.path}: {exc.strerror}") from exc
                self._dirty = True
                now = time.monotonic()
                if durable or now - self._last_sync >= self._sync_interval:
                    self._sync_locked(now)
        for fn in list(self._subscribers):
            try:
                fn(event)
            except Exception:  # a broken subscriber must not break the engine
                pass
        return event

    def _sync_locked(self, now: float | None = None) -> None:
        if self._dirty:
            os.fsync(self._fh.fileno())
            self._dirty = False
        self._last_sync = now if now is not None else time.monotonic()

    def sync(self) -> None:
        with self._lock:
            if not self.closed:
                self._sync_locked()

    def close(self) -> None:
        with self._lock:
            if self.closed:
                return
            self._sync_locked()
            self._fh.close()
            self.closed = True


@dataclass
class ReadResult:
    events: list[Event] = field(default_factory=list)
    gaps: int = 0
    offset: int = 0  # byte offset after the last complete line read


def parse_line(raw: bytes) -> Event | None:
    try:
        return Event.model_validate_json(raw)
    except (ValidationError, ValueError):
        return None


def iter_lines(path: Path, offset: int = 0) -> Iterator[tuple[bytes, int]]:
    """Complete lines from `offset`, with the offset after each. A final partial line is not yielded."""
    with open(path, "rb") as fh:
        fh.seek(offset)
        pos = offset
        buf = b""
        while True:
            chunk = fh.read(1 << 20)
            if not chunk:
                break
            buf += chunk
            start = 0
            while True:
                nl = buf.find(b"\n", start)
                if nl < 0:
                    break
                line = buf[start:nl]
                pos += nl - start + 1
                start = nl + 1
                yield line, pos
            buf = buf[start:]


def read_events(path: Path, offset: int = 0) -> ReadResult:
    """Every readable event from `offset`; unreadable complete lines are counted in `gaps`."""
    result = ReadResult(offset=offset)
    path = Path(path)
    if not path.exists():
        return result
    for raw, pos in iter_lines(path, offset):
        result.offset = pos
        if not raw.strip():
            continue
        event = parse_line(raw)
        if event is None:
            result.gaps += 1
        else:
            result.events.append(event)
    return result


async def follow(
    path: Path, offset: int = 0, *, debounce_ms: int = 50, stop: asyncio.Event | None = None
) -> AsyncIterator[ReadResult]:
    """Yield batches of new events as they are appended to the log (watchfiles, low debounce)."""
    from watchfiles import awatch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    first = read_events(path, offset)
    offset = first.offset
    if first.events or first.gaps:
        yield first
    async for _changes in awatch(
        path.parent, debounce=debounce_ms, step=20, stop_event=stop, watch_filter=None, recursive=False
    ):
        batch = read_events(path, offset)
        offset = batch.offset
        if batch.events or batch.gaps:
            yield batch
