"""Text from agents, gates and people made safe to print on a terminal.

A task title is the planner agent's text: printed raw, an ESC or OSC sequence could recolour, retitle or clear
the terminal, and a CR or LF could forge whole output lines. Every control character (C0, DEL, C1) and the
bidirectional overrides are shown escaped instead (`\\x1b`, `\\r`, `\\n`, `\\u202e`). JSON output needs none of
this: json escapes them itself.

The terminal UI needs it as much: Textual writes a string's ESC sequences to the terminal as they are (Rich drops
only BEL and CR), so the dashboard passes what it shows through `printable_data(..., newlines=True)`.
"""

from __future__ import annotations

import dataclasses
import re
from collections import deque

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str, *, newlines: bool = False) -> str:
    """`text` with its control characters escaped; `newlines`: line feeds and tabs stay (a multi-line text)."""

    def escape(m: re.Match) -> str:
        c = m.group()
        if newlines and c in "\n\t":
            return c
        return _NAMED.get(c) or (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")

    return _UNSAFE.sub(escape, text)


def printable_data(value, *, newlines: bool = False, _seen: set[int] | None = None):
    """`value` with every string it holds through `printable`: dict keys and values, the items of lists, tuples,
    sets and deques (rebuilt), and the fields of dataclasses and pydantic models (changed in place, so objects
    shared within `value` stay shared). Escaping is idempotent: a value passed twice is unchanged."""
    seen = _seen if _seen is not None else set()

    def again(v):
        return printable_data(v, newlines=newlines, _seen=seen)

    if isinstance(value, str):
        return printable(value, newlines=newlines)
    if isinstance(value, (int, float, bool, type(None))):
        return value
    if isinstance(value, dict):
        return {again(k): again(v) for k, v in value.items()}
    if isinstance(value, deque):
        return deque((again(v) for v in value), maxlen=value.maxlen)
    if isinstance(value, (list, tuple, set, frozenset)):
        return type(value)(again(v) for v in value)
    if id(value) in seen:
        return value
    from pydantic import BaseModel

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        seen.add(id(value))
        for f in dataclasses.fields(value):
            object.__setattr__(value, f.name, again(getattr(value, f.name)))  # frozen ones too
    elif isinstance(value, BaseModel):
        seen.add(id(value))
        for name in type(value).model_fields:
            object.__setattr__(value, name, again(getattr(value, name)))
    return value
