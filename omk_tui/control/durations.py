"""Parsing budgets given on the command line: `30m`, `2h`, `1d`, `90s`, `1h30m`, or plain seconds."""

from __future__ import annotations

import math
import re

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")


def parse_duration(text: str) -> float:
    """Seconds, more than 0 and finite; ValueError saying what is wrong (`-5m` and `0m` are durations, too short)."""
    t = text.strip().lower().replace(" ", "")
    if not t:
        raise ValueError("empty duration")
    negative = t.startswith("-")
    value = _seconds(t[1:] if negative else t, text)
    if negative or not math.isfinite(value) or value <= 0:
        raise ValueError(f"duration must be finite and more than 0: {text!r}")
    return value


def _seconds(t: str, text: str) -> float:
    try:
        return float(t)
    except ValueError:
        pass
    pos, total = 0, 0.0
    for m in _PART.finditer(t):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if not t or pos != len(t):
        raise ValueError(f"not a duration: {text!r} (use e.g. 90s, 30m, 2h, 1d, 1h30m)")
    return total
