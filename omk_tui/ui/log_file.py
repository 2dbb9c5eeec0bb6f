"""A gate log as lines read straight from the file (no textual import; the model behind `LogView`).

Only the byte offset of every line start is kept (an `array('Q')`), built incrementally with mmap in chunks,
so a 500 MB log is browsable as soon as its first chunk is indexed and a growing log (a gate still running)
is followed by indexing only the new bytes. Lines are read on demand, through one file handle kept open while the
log is shown: a log deleted meanwhile (`omk-tui clean` in another terminal) stays readable to the end, and a log
that does not exist yet reads as empty until it appears.
"""

from __future__ import annotations

import bisect
import mmap
import os
import re
import threading
from array import array
from collections.abc import Callable
from pathlib import Path

ANSI_RE = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]")
_PREFIX = rb"(?:\x1b\[[0-9;]*m)*"
# pytest failure headers (`____ test_x ____`), assertion lines (`E   ...`), unittest headers (`FAIL: test_x`,
# `ERROR: test_x`), tracebacks, compiler/linter errors, FAILED summaries and Rust panics.
FAILURE_RE = re.compile(
    rb"^" + _PREFIX + rb"(?:E {2,}\S|_{3,} .+ _{3,}|Traceback \(most recent call last\)|FAILED\b|FAIL:|ERROR\b)"
    rb"|\berror(?:\[\w+\])?:|\bpanicked at\b|\bFAILED\b",
    re.MULTILINE,
)
CHUNK = 8 << 20
# A search reads the file in windows of whole lines about this large, and can be stopped between them.
SCAN_WINDOW = 4 << 20


class LogFile:
    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._starts = array("Q", [0])  # byte offset of each line start; a trailing partial line counts
        self._indexed = 0  # bytes scanned for newlines
        self._lock = threading.Lock()
        self._fh = None  # opened on first use, kept until close()
        self._closed = False

    # ------------------------------------------------------------ file
    def _file(self):
        """The open log, or None while it cannot be opened (not written yet, unreadable)."""
        if self._fh is None and not self._closed:
            with self._lock:
                if self._fh is None and not self._closed:  # a worker still indexing after close() opens nothing
                    try:
                        self._fh = open(self.path, "rb")  # noqa: SIM115 - kept open until close()
                    except OSError:
                        return None
        return self._fh

    def close(self) -> None:
        with self._lock:
            fh, self._fh, self._closed = self._fh, None, True
        if fh is not None:
            fh.close()

    @property
    def exists(self) -> bool:
        """Whether the log could be opened (it may have been deleted since: it is still read)."""
        return self._file() is not None

    # ------------------------------------------------------------ index
    @property
    def size(self) -> int:
        fh = self._file()
        if fh is None:
            return 0
        try:
            return os.fstat(fh.fileno()).st_size
        except (OSError, ValueError):  # ValueError: closed meanwhile
            return 0

    @property
    def indexed_bytes(self) -> int:
        return self._indexed

    def index_more(self, max_bytes: int = CHUNK) -> bool:
        """Scan up to `max_bytes` new bytes for newlines. Returns True when the file end was reached."""
        size = self.size
        if size <= self._indexed:
            return True
        end = min(size, self._indexed + max_bytes)
        fh = self._file()
        if fh is None:
            return True
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            found = array("Q")
            find = mm.find
            pos = find(b"\n", self._indexed, end)
            while pos >= 0:
                found.append(pos + 1)
                pos = find(b"\n", pos + 1, end)
        with self._lock:
            self._starts.extend(found)
            self._indexed = end
        return end >= size

    def index_all(self) -> None:
        while not self.index_more():
            pass

    @property
    def line_count(self) -> int:
        """Complete lines plus a trailing partial line (if any bytes follow the last newline)."""
        with self._lock:
            n = len(self._starts) - 1
            if self._indexed > self._starts[-1]:
                n += 1
            return n

    def _span(self, index: int) -> tuple[int, int]:
        with self._lock:
            start = self._starts[index]
            end = self._starts[index + 1] if index + 1 < len(self._starts) else self._indexed
        return start, end

    def line_bytes(self, index: int) -> bytes:
        if index < 0 or index >= self.line_count:
            return b""
        start, end = self._span(index)
        fh = self._file()
        if fh is None:
            return b""
        try:
            raw = os.pread(fh.fileno(), end - start, start)
        except (OSError, ValueError):
            return b""
        return raw.rstrip(b"\r\n")

    def line(self, index: int) -> str:
        return self.line_bytes(index).decode("utf-8", "replace").expandtabs(4)

    def line_of_offset(self, offset: int) -> int:
        with self._lock:
            return max(0, bisect.bisect_right(self._starts, offset) - 1)

    def offset_of_line(self, index: int) -> int:
        with self._lock:
            return self._starts[min(max(index, 0), len(self._starts) - 1)]

    # ------------------------------------------------------------ search
    def _line_start_after(self, offset: int) -> int | None:
        with self._lock:
            i = bisect.bisect_right(self._starts, offset)
            return self._starts[i] if i < len(self._starts) else None

    def _scan(self, pattern: re.Pattern[bytes], start_line: int, backwards: bool,
              stopped: Callable[[], bool] | None) -> int | None:
        """The first line after (or the last before) `start_line` where `pattern` matches. The file is read in
        windows of whole lines (`SCAN_WINDOW` bytes), and `stopped` is asked between them: a scan of a huge log
        can be stopped (it then returns None)."""
        fh = self._file()
        if self._indexed == 0 or fh is None:
            return None
        if os.fstat(fh.fileno()).st_size == 0:
            return None
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            limit = min(self._indexed, len(mm))
            if not backwards:
                lo = self.offset_of_line(start_line + 1) if start_line + 1 < self.line_count else limit
                while lo < limit:
                    if stopped is not None and stopped():
                        return None
                    hi = limit if lo + SCAN_WINDOW >= limit else (self._line_start_after(lo + SCAN_WINDOW) or limit)
                    m = pattern.search(mm, lo, hi)
                    if m:
                        return self.line_of_offset(m.start())
                    lo = hi
                return None
            hi = self.offset_of_line(start_line)
            while hi > 0:
                if stopped is not None and stopped():
                    return None
                lo = self.offset_of_line(self.line_of_offset(max(0, hi - SCAN_WINDOW)))
                last = None
                for m in pattern.finditer(mm, lo, hi):
                    last = m.start()
                if last is not None:
                    return self.line_of_offset(last)
                hi = lo
            return None

    def find(self, text: str, start_line: int, *, backwards: bool = False,
             stopped: Callable[[], bool] | None = None) -> int | None:
        """The next (or previous) line after `start_line` containing `text` (case-insensitive)."""
        if not text:
            return None
        pattern = re.compile(re.escape(text.encode("utf-8")), re.IGNORECASE)
        return self._scan(pattern, start_line, backwards, stopped)

    def next_failure(self, start_line: int, *, backwards: bool = False,
                     stopped: Callable[[], bool] | None = None) -> int | None:
        return self._scan(FAILURE_RE, start_line, backwards, stopped)
