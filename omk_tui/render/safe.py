"""Text from agents, gates and people made safe to print on a terminal.

A task title is the planner agent's text: printed raw, an ESC or OSC sequence could recolour, retitle or clear
the terminal, and a CR or LF could forge whole output lines. Every control character (C0, DEL, C1) and the
bidirectional overrides are shown escaped instead (`\\x1b`, `\\r`, `\\n`, `\\u202e`). JSON output needs none of
this: json escapes them itself.
"""

from __future__ import annotations

import re

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str, *, newlines: bool = False) -> str:
    """`text` with its control characters escaped; `newlines`: a line feed stays one (a multi-line text)."""

    def escape(m: re.Match) -> str:
        c = m.group()
        if newlines and c == "\n":
            return c
        return _NAMED.get(c) or (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")

    return _UNSAFE.sub(escape, text)


def printable_data(value):
    """Every string in `value` (dicts, lists and tuples, as JSON data is) through `printable`."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {printable_data(k): printable_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(printable_data(v) for v in value)
    return value
