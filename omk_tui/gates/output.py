"""Turning a gate's raw output into lines, with memory bounded whatever the gate prints.

Bytes are decoded incrementally (invalid UTF-8 becomes U+FFFD, a multi-byte character split across reads is
kept whole). A line with no newline for megabytes is cut at `max_line_chars`; the rest of it is only counted.
"""

from __future__ import annotations

import codecs
from collections import deque

from omk_tui.gates.summary import SUMMARY_LINE_CHARS, find_interesting

MAX_LINE_CHARS = 16_384
TAIL_LINES = 60
MAX_INTERESTING = 120


class LineSplitter:
    def __init__(self, max_line_chars: int = MAX_LINE_CHARS) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._partial = ""
        self._dropped = 0  # characters of the current line beyond max_line_chars
        self._dropped_cr = False  # whether the last dropped character was a CR
        self._max = max_line_chars

    def feed(self, data: bytes) -> list[str]:
        return self._split(self._decoder.decode(data))

    def finish(self) -> list[str]:
        lines = self._split(self._decoder.decode(b"", final=True))
        if self._partial or self._dropped:
            lines.append(self._close(self._partial))
        self._partial = ""
        return lines

    def _split(self, text: str) -> list[str]:
        if not text:
            return []
        cut = text.rfind("\n")
        if cut < 0:
            self._grow(text)
            return []
        head, tail = text[:cut], text[cut + 1 :]
        parts = head.split("\n")
        self._grow(parts[0])
        first = self._close(self._partial)
        self._partial = ""
        parts[0] = first
        # Per-line fix-ups only when the batch needs them: floods of short lines stay at C speed.
        if "\r" in head:
            parts[1:] = [p[:-1] if p.endswith("\r") else p for p in parts[1:]]
        if len(parts) > 1 and max(map(len, parts[1:])) > self._max:
            parts[1:] = [self._cut(p) if len(p) > self._max else p for p in parts[1:]]
        lines = parts
        self._grow(tail)
        return lines

    def _grow(self, text: str) -> None:
        if self._dropped:
            if text:
                self._dropped += len(text)
                self._dropped_cr = text.endswith("\r")
            return
        room = self._max - len(self._partial)
        if len(text) <= room:
            self._partial += text
        else:
            self._partial += text[:room]
            self._dropped = len(text) - room
            self._dropped_cr = text.endswith("\r")

    def _close(self, line: str) -> str:
        dropped, self._dropped = self._dropped, 0
        if dropped:
            dropped -= self._dropped_cr  # a CRLF line end is not part of the line
            return f"{line} …[+{dropped} chars]" if dropped else line
        return line[:-1] if line.endswith("\r") else line

    def _cut(self, line: str) -> str:
        return f"{line[: self._max]} …[+{len(line) - self._max} chars]"


class OutputWindow:
    """What is kept of a gate's output in memory: the last lines and the first interesting ones, both capped."""

    def __init__(self, tail_lines: int = TAIL_LINES, max_interesting: int = MAX_INTERESTING) -> None:
        self.tail: deque[str] = deque(maxlen=tail_lines)
        self.interesting: list[tuple[int, str]] = []  # (line number, text)
        self.max_interesting = max_interesting
        self.line_count = 0
        self.printed_anything = False

    def add(self, lines: list[str]) -> None:
        if not lines:
            return
        base = self.line_count
        self.line_count += len(lines)
        if not self.printed_anything and any(line.strip() for line in lines):
            self.printed_anything = True
        self.tail.extend(line[:SUMMARY_LINE_CHARS] for line in lines[-self.tail.maxlen :])
        if len(self.interesting) < self.max_interesting:
            for offset, line in find_interesting(lines):
                self.interesting.append((base + offset + 1, line[:SUMMARY_LINE_CHARS]))
                if len(self.interesting) >= self.max_interesting:
                    break
