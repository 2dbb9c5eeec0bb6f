"""The lines of a gate's output a person (or an agent) needs first, and a bounded excerpt for an agent."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator

SUMMARY_LINE_CHARS = 240
SUMMARY_MAX_LINES = 40
PASSED_SUMMARY_LINES = 5
MIN_TAIL_LINES = 12
GAP = "⋯"

# Each alternative is a kind of line that says why a gate failed. `^` inside the group only matches when the
# lazy prefix is empty (re.M), which anchors those alternatives at the start of the line.
_INTERESTING = re.compile(
    r"^.*?(?:"
    r"^_{3,} .+ _{3,}\s*$"  # pytest failure header: ____ test_x ____
    r"|^E {2,}\S"  # pytest assertion detail
    r"|^(?:FAILED|ERROR|FAIL)\b"  # pytest short summary, go test
    r"|^--- FAIL"  # go test
    r"|\b(?:error|Error|ERROR)(?:\[\w+\])?:"  # error: / Error: / error[E0308]:
    r"|Error\b"  # ValueError, AssertionError, Error
    r"|^\w[\w.]*(?:Exception|Interrupt|Exit)\b"  # the last line of a Python traceback
    r"|panicked"  # Rust
    r"|npm ERR!"
    r"|^\S+:\d+:\d+: "  # file:line:col: message (ruff, go vet, compilers)
    r"|_test\.go:\d+:"
    r").*$",
    re.MULTILINE,
)

# Every alternative above contains one of these. Scanning a batch for them runs at C speed; the full regex then
# only checks the lines they occur in, so a flood of ordinary lines costs little.
_CANDIDATE = re.compile(
    r"E(?:RROR|xception|xit|  )|FAIL|Interrupt|_(?:__|test\.go:)|npm ERR|panicked|rror|RROR|:\d+:\d+: "
)


def is_interesting(line: str) -> bool:
    return _INTERESTING.match(line) is not None


def find_interesting(lines: list[str]) -> Iterator[tuple[int, str]]:
    """(index, line) of the interesting lines of a batch, in order."""
    text = "\n".join(lines)
    index = 0
    counted_to = 0
    line_end = -1
    for m in _CANDIDATE.finditer(text):
        if m.start() <= line_end:
            continue  # another candidate on a line already checked
        line_start = text.rfind("\n", 0, m.start()) + 1
        line_end = text.find("\n", m.end())
        if line_end < 0:
            line_end = len(text)
        line = text[line_start:line_end]
        if _INTERESTING.match(line):
            index += text.count("\n", counted_to, line_start)
            counted_to = line_start
            yield index, line


def build_summary(
    interesting: Iterable[str],
    tail: Iterable[str],
    *,
    passed: bool,
    notes: Iterable[str] = (),
    max_lines: int = SUMMARY_MAX_LINES,
) -> list[str]:
    """Notes first, then (for a failure) the interesting lines, then the last lines; capped and de-duplicated."""
    tail_lines = [line for line in tail if line.strip()]
    head = [n[:SUMMARY_LINE_CHARS] for n in notes]
    if passed:
        return (head + tail_lines[-PASSED_SUMMARY_LINES:])[:max_lines]
    keep = min(MIN_TAIL_LINES, len(tail_lines))
    earlier, last = tail_lines[: len(tail_lines) - keep], tail_lines[len(tail_lines) - keep :]
    room = max(0, max_lines - len(head) - len(last) - 1)
    seen = set(last)
    key: list[str] = []
    for line in interesting:
        if len(key) >= room:
            break
        if line not in seen:
            seen.add(line)
            key.append(line)
    # Earlier tail lines fill whatever the key lines left free, so a short output is shown whole.
    spare = max_lines - len(head) - len(key) - (1 if key else 0) - len(last)
    if spare > 0:
        last = [line for line in earlier if line not in seen][-spare:] + last
    body = key + ([GAP] if key and last else []) + last
    return (head + body)[:max_lines]


def trim_for_agent(result, max_chars: int = 6000) -> str:
    """A gate's failure as text for an agent: what ran, the key lines, then the end of its log, within max_chars."""
    if result.timed_out:
        status = f"timed out after {result.timeout_secs:g} s"
    elif result.cancelled:
        status = "was cancelled"
    elif result.passed:
        status = "passed"
    else:
        status = f"failed (exit code {result.exit_code})"
    header = f"Gate `{result.name}` {status}: `{result.command_line}`\n"
    parts = [header]
    if result.summary:
        parts.append("Key lines:\n" + "\n".join(result.summary) + "\n")
    text = "".join(parts)
    if len(text) >= max_chars:
        return text[: max(0, max_chars - 1)] + "…"
    if GAP not in result.summary and 0 < result.line_count <= len(result.summary):
        return text  # the summary already holds the whole output
    room = max_chars - len(text) - len("End of the log:\n")
    tail = _log_tail(result.log_path, room) if result.log_path and room > 200 else ""
    if tail:
        text += "End of the log:\n" + tail
    return text[:max_chars]


def _log_tail(path: str | os.PathLike, max_chars: int) -> str:
    """The last whole lines of a log that fit in max_chars (reads at most a few times that many bytes)."""
    try:
        with open(path, "rb") as fh:
            size = fh.seek(0, os.SEEK_END)
            start = max(0, size - max_chars * 4)
            fh.seek(start)
            data = fh.read()
    except OSError:
        return ""
    text = data.decode("utf-8", errors="replace")
    lines = text.splitlines()
    if start > 0 and lines:
        lines = lines[1:]  # the first line was cut by the seek
    out: list[str] = []
    used = 0
    for line in reversed(lines):
        line = line[:SUMMARY_LINE_CHARS * 2]
        if used + len(line) + 1 > max_chars:
            break
        out.append(line)
        used += len(line) + 1
    return "\n".join(reversed(out)) + ("\n" if out else "")
