"""The append-only event log (`events.jsonl`).

One event per line, `seq` strictly increasing. Every append reaches the kernel at once (a killed process loses
nothing it appended); fsyncs are grouped: a background flusher syncs at most `sync_interval` seconds after an
append, `append(..., durable=True)`, `sync()` and `close()` sync at once. A torn last line (power loss
mid-write) is repaired when a writer reopens the log; readers skip unreadable lines and count them as known gaps.
A failed append (disk full, file too large) truncates its partial bytes away and raises `StateWriteError`.
"""

from __future__ import annotations

import asyncio
import os
import re
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from omk_tui.models.events import EPHEMERAL_KINDS, Event
from omk_tui.state.atomic import StateWriteError, write_fix
from omk_tui.state.envelope import REFUSED, Envelope, byte_blocks, decode_envelope, decode_envelopes, line_blocks

Subscriber = Callable[[Event], None]

_BLOCK = 1 << 16


def _prev_newline(fh, end: int) -> int:
    """Offset of the last b"\\n" before `end`, or -1. Scans backwards in blocks without keeping them."""
    pos = end
    while pos > 0:
        start = max(0, pos - _BLOCK)
        fh.seek(start)
        idx = fh.read(pos - start).rfind(b"\n")
        if idx >= 0:
            return start + idx
        pos = start
    return -1


def _repair_tail(path: Path) -> int:
    """Truncate a torn last line (bytes after the last newline); return the byte size after repair."""
    size = path.stat().st_size
    if size == 0:
        return 0
    with open(path, "rb+") as fh:
        fh.seek(size - 1)
        if fh.read(1) == b"\n":
            return size
        cut = _prev_newline(fh, size) + 1
        fh.truncate(cut)
        fh.flush()
        os.fsync(fh.fileno())
        return cut


def _last_seq(path: Path) -> int:
    """The seq of the last readable event (scans backwards line by line; 0 when there is none)."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        end = size
        while end > 0:
            nl = _prev_newline(fh, end)
            fh.seek(nl + 1)
            raw = fh.read(end - nl - 1)
            end = max(nl, 0)
            if raw.strip():
                event = parse_line(raw)
                if event is not None:
                    return event.seq
    return 0


class EventLog:
    """Writer of one goal's event log; also fans events out to in-process subscribers."""

    def __init__(self, path: Path, *, sync_interval: float = 0.05):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.touch(exist_ok=True)
            _repair_tail(self.path)
            self._seq = _last_seq(self.path)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        except OSError as exc:
            reason = exc.strerror or exc
            raise StateWriteError(exc.errno, f"could not open the event log {self.path}: {reason}") from exc
        self._lock = threading.Lock()
        self._sync_interval = sync_interval
        self._dirty = False
        self._torn = False
        self._sync_error: OSError | None = None
        self._wake = threading.Event()
        self._stopping = False
        self._flusher: threading.Thread | None = None
        self._subscribers: list[Subscriber] = []
        self.closed = False

    @property
    def seq(self) -> int:
        return self._seq

    def resync(self) -> None:
        """Take up the log as it is on disk: another writer appended to it while this one was not writing (the
        goal's lock decides who writes; see `GoalController.run`)."""
        with self._lock:
            self._raise_sync_error()
            self._seq = _last_seq(self.path)

    def subscribe(self, fn: Subscriber) -> Callable[[], None]:
        self._subscribers.append(fn)
        return lambda: self._subscribers.remove(fn) if fn in self._subscribers else None

    def append(self, event: Event, *, durable: bool = False) -> Event:
        """Give the event its seq, write it (unless ephemeral) and tell subscribers."""
        with self._lock:
            if self.closed:
                raise StateWriteError(0, f"the event log {self.path} is closed")
            if event.kind in EPHEMERAL_KINDS:
                event.seq = self._seq
            else:
                self._raise_sync_error()
                event.seq = self._seq + 1
                try:
                    line = event.model_dump_json().encode("utf-8") + b"\n"
                except Exception:
                    event.seq = 0
                    raise
                try:
                    self._write_line(line)
                except StateWriteError:
                    event.seq = 0
                    raise
                self._seq = event.seq
                self._dirty = True
                if durable or self._sync_interval <= 0:
                    self._fsync_locked()
                else:
                    self._schedule_sync()
        for fn in list(self._subscribers):
            try:
                fn(event)
            except Exception:  # a broken subscriber must not break the engine
                pass
        return event

    def _write_line(self, line: bytes) -> None:
        """Write all of `line` or nothing: a short or failed write leaves no partial line behind.

        The only raw newline of a line is its last byte (JSON escapes the others), so whatever a failed write
        left is exactly the bytes after the file's last newline, which `_repair_tail` cuts away.
        """
        view = memoryview(line)
        written = 0
        try:
            if self._torn:
                _repair_tail(self.path)
                self._torn = False
            while written < len(line):
                n = os.write(self._fd, view[written:])
                if n <= 0:
                    raise OSError(28, "no space left on device")
                written += n
        except OSError as exc:
            if written or self._torn:
                try:
                    _repair_tail(self.path)
                    self._torn = False
                except OSError:
                    self._torn = True  # retried before the next append; a new writer's repair also fixes it
            raise StateWriteError(
                exc.errno,
                f"could not append to the event log {self.path}: {exc.strerror or exc}; "
                f"the events before it are intact ({write_fix(exc.errno)}, then resume)",
            ) from exc

    def _raise_sync_error(self) -> None:
        if self._sync_error is not None:
            exc, self._sync_error = self._sync_error, None
            raise StateWriteError(exc.errno, f"could not sync the event log {self.path}: {exc.strerror or exc}")

    def _fsync_locked(self) -> None:
        if self._dirty:
            try:
                os.fsync(self._fd)
            except OSError as exc:
                raise StateWriteError(exc.errno, f"could not sync the event log {self.path}: {exc.strerror}") from exc
            self._dirty = False

    def _schedule_sync(self) -> None:
        if self._flusher is None:
            self._flusher = threading.Thread(target=self._flush_loop, name=f"eventlog-sync:{self.path.parent.name}",
                                             daemon=True)
            self._flusher.start()
        self._wake.set()

    def _flush_loop(self) -> None:
        # Group commit: appends within one interval share one fsync, done off the appending thread.
        while True:
            self._wake.wait()
            if self._stopping:
                return
            time.sleep(self._sync_interval)
            with self._lock:
                if self._stopping or self.closed:
                    return
                self._wake.clear()
                if not self._dirty:
                    continue
                self._dirty = False
                fd = self._fd
            try:
                os.fsync(fd)  # outside the lock: appends go on while the disk syncs
            except OSError as exc:
                self._sync_error = exc

    def sync(self) -> None:
        with self._lock:
            if not self.closed:
                self._raise_sync_error()
                self._dirty = True
                self._fsync_locked()

    def close(self) -> None:
        with self._lock:
            if self.closed:
                return
            self._stopping = True
            self._wake.set()
        if self._flusher is not None and self._flusher is not threading.current_thread():
            self._flusher.join()
        with self._lock:
            try:
                self._dirty = True
                self._fsync_locked()
            finally:
                os.close(self._fd)
                self.closed = True

    def __enter__(self) -> "EventLog":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# ---------------------------------------------------------------- reading
@dataclass
class ReadResult:
    events: list[Event] = field(default_factory=list)
    gaps: int = 0
    offset: int = 0  # byte offset after the last complete line read


def parse_line(raw: bytes) -> Event | None:
    """The event on one line, or None for a line that is not a valid event.

    A canonical line is decoded as an `Envelope` (the fast decoder every reader tries first); any other line is
    validated by `Event`, which fills in defaults and coerces."""
    try:
        return as_event(decode_envelope(raw))
    except REFUSED:
        return _validated(raw)


def _validated(raw: bytes) -> Event | None:
    """A line the envelope decoder refused, as `Event` validates it (None if it does not)."""
    try:
        return Event.model_validate_json(raw)
    except REFUSED:  # pydantic's ValidationError is a ValueError
        return None


def as_event(env: Envelope) -> Event:
    """The Event of a decoded envelope (its values are already validated)."""
    return Event.model_construct(id=env.id, seq=env.seq, ts=env.ts, goal_id=env.goal_id, kind=env.kind,
                                 actor=env.actor, schema_version=env.schema_version, payload=env.payload)


def iter_lines(path: Path, offset: int = 0) -> Iterator[tuple[bytes, int]]:
    """Complete lines from `offset`, with the offset after each. A final partial line is not yielded."""
    for lines, end in line_blocks(path, offset):
        pos = end - sum(len(line) + 1 for line in lines)
        for line in lines:
            pos += len(line) + 1
            yield line, pos


def read_events(path: Path, offset: int = 0) -> ReadResult:
    """Every readable event from `offset`; unreadable complete lines are counted in `gaps`."""
    result = ReadResult(offset=offset)
    result.events = list(iter_events(path, offset, result))
    return result


def iter_events(path: Path, offset: int = 0, counter: ReadResult | None = None) -> Iterator[Event]:
    """Like :func:`read_events` but lazy (constant memory for a log of any size).

    Gaps and the offset are counted into `counter` (its `events` list is left empty) as the iteration goes.
    """
    counter = counter if counter is not None else ReadResult(offset=offset)
    counter.offset = offset
    try:
        for raw, pos in iter_lines(Path(path), offset):
            counter.offset = pos
            if not raw or raw.isspace():
                continue
            event = parse_line(raw)
            if event is None:
                counter.gaps += 1
            else:
                yield event
    except FileNotFoundError:
        return


# ---------------------------------------------------------------- fast reading (the fold's path)
def read_record(raw: bytes) -> Envelope | Event | None:
    """One line as the fold reads it: the Envelope of a canonical line, else the Event `parse_line` makes of it;
    None for a blank line or a line that is no event."""
    try:
        return decode_envelope(raw)
    except REFUSED:
        if not raw or raw.isspace():
            return None
        return _validated(raw)


def _records(lines: list[bytes], counter: ReadResult) -> list:
    """The records of a block's lines, one line at a time (a block the block decoder refused); gaps counted."""
    out = []
    for raw in lines:
        record = read_record(raw)
        if record is not None:
            out.append(record)
        elif raw and not raw.isspace():
            counter.gaps += 1
    return out


# Two JSON objects on one line: a `}` and a `{` with only spaces, tabs or CRs between them. (It also finds the two
# characters inside a string now and then: that block is then decided line by line, which is slower, not different.)
_SAME_LINE = re.compile(rb"\}[ \t\r]*\{")


def _decode_block(buf: bytes) -> list[Envelope] | None:
    """The Envelopes of a block of complete lines in one decoder call, when each line is one canonical line; None
    when the block must be decided line by line.

    `decode_envelopes` reads JSON values separated by any whitespace, newlines included: two objects on one line
    would be two events and an object over several lines one, where a reader of lines sees gaps. So the block is
    taken whole only when no two objects share a line and there are as many objects as lines. Then every line
    holds exactly one: the objects are separated by at least one newline each and the block ends with one, so N
    objects take N newlines; a newline inside an object, or a blank line, would be one more than there are objects.
    """
    try:
        block = decode_envelopes(buf)
    except REFUSED:
        return None
    lines = len(buf) - len(buf.replace(b"\n", b""))  # a count: replace finds a byte faster than count does
    if len(block) != lines or _SAME_LINE.search(buf) is not None:
        return None
    return block


def iter_record_blocks(path: Path, offset: int = 0, counter: ReadResult | None = None) -> Iterator[list]:
    """The log's events from `offset` in blocks (lists), for folding a large log fast.

    Each item is an :class:`Envelope` (a canonical line: msgspec decodes a whole block of them in one call) or,
    for a line that is not canonical, the :class:`Event` `parse_line` makes of it; both have the envelope's
    fields as attributes. Accepts and gaps are exactly those of :func:`iter_events`; gaps and the offset are
    counted into `counter`.
    """
    counter = counter if counter is not None else ReadResult(offset=offset)
    counter.offset = offset
    try:
        for buf, pos in byte_blocks(Path(path), offset):
            block = _decode_block(buf)
            if block is None:
                block = _records(buf[:-1].split(b"\n"), counter)
            counter.offset = pos
            yield block
    except FileNotFoundError:
        return


# ---------------------------------------------------------------- following
async def follow(
    path: Path, offset: int = 0, *, debounce_ms: int = 50, stop: asyncio.Event | None = None,
    poll_ms: int = 500,
) -> AsyncIterator[ReadResult]:
    """Yield batches of new events as they are appended to the log (watchfiles, low debounce).

    Also re-reads every `poll_ms` while idle, so an append that lands before the watcher is ready, or on a
    filesystem without change notification, is still seen.
    """
    from watchfiles import awatch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    first = await asyncio.to_thread(read_events, path, offset)
    offset = first.offset
    if first.events or first.gaps:
        yield first
    async for _changes in awatch(
        path.parent, debounce=debounce_ms, step=20, stop_event=stop, watch_filter=None, recursive=False,
        rust_timeout=poll_ms, yield_on_timeout=True,
    ):
        try:
            if path.stat().st_size <= offset:
                continue
        except FileNotFoundError:
            continue
        batch = await asyncio.to_thread(read_events, path, offset)
        offset = batch.offset
        if batch.events or batch.gaps:
            yield batch


def last_seq(path: Path) -> int:
    """The seq of the last readable event of a log (0 when empty or missing)."""
    try:
        return _last_seq(Path(path))
    except FileNotFoundError:
        return 0


def dump_line(event: Event) -> bytes:
    """The exact bytes the log stores for an event (tests and tools that write logs by hand)."""
    return event.model_dump_json().encode("utf-8") + b"\n"


__all__ = [
    "EventLog", "ReadResult", "as_event", "dump_line", "follow", "iter_events", "iter_lines", "iter_record_blocks",
    "last_seq", "parse_line", "read_events", "read_record",
]
