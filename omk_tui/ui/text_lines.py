"""A text already in memory (a diff) as the lines `LogView` draws: the same reading interface as `LogFile`.

Splitting into lines is the only pass over the whole text; everything else (styling, rendering) is done by the
view for the lines it draws. No textual import.
"""

from __future__ import annotations


class TextLines:
    def __init__(self, text: str) -> None:
        self._lines = text.splitlines()

    # what `LogView` asks of a `LogFile`: an in-memory text is fully "indexed" from the start and never grows
    exists = True
    size = 0
    indexed_bytes = 0

    def index_more(self) -> bool:
        return True

    @property
    def line_count(self) -> int:
        return len(self._lines)

    def line(self, index: int) -> str:
        if 0 <= index < len(self._lines):
            return self._lines[index].expandtabs(4)
        return ""

    def close(self) -> None:
        pass
