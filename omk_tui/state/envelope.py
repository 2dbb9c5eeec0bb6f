"""The canonical event envelope, validated strictly, and a checker process that shares the validation of a large log.

The writer stores every event as one canonical line: the envelope's eight fields with their exact JSON types.
Strict validation (no coercion, every field present) accepts a subset of what `Event` accepts, with the same
values; a line it refuses goes through `Event` itself (`eventlog.parse_line`).

A fold reads only `seq`, `kind` and `payload` of most events. On a large log, `load_view` parses those fields in
its own process while a checker process (``python -m omk_tui.state.envelope PATH START END CHUNK``) validates
the other five on the same lines, so parsing uses two cores. The checker reports, block by block, the lines whose
other fields are not canonical; the folding process decides those lines itself. Both read the log in the same
blocks (`line_blocks`). This module imports only pydantic-core, so the checker starts in about 60 ms.
"""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from pydantic_core import SchemaValidator
from pydantic_core import core_schema as cs

# Lines are read, parsed and folded a block at a time. A block this size keeps one block's parsed events in the
# CPU caches (4 MiB blocks made the fold of a 1,000,000-event log about 25 % slower).
READ_CHUNK = 1 << 16

# The fields a fold reads from every event, and the other fields of the envelope.
FOLD_FIELDS = {
    "seq": cs.int_schema(strict=True),
    "kind": cs.str_schema(strict=True),
    "payload": cs.dict_schema(cs.str_schema(strict=True), cs.any_schema(), strict=True),
}
OTHER_FIELDS = {
    "id": cs.str_schema(strict=True),
    "ts": cs.datetime_schema(strict=True),
    "goal_id": cs.str_schema(strict=True),
    "actor": cs.str_schema(strict=True),
    "schema_version": cs.int_schema(strict=True),
}
_ORDER = ("id", "seq", "ts", "goal_id", "kind", "actor", "schema_version", "payload")

# What a validator raises for a line it does not take (ValidationError is a ValueError; deep nesting may recurse).
REFUSED = (ValueError, RecursionError)


def _validator(fields: dict):
    schema = cs.typed_dict_schema(
        {name: cs.typed_dict_field(fields[name], required=True) for name in _ORDER if name in fields},
        extra_behavior="ignore", strict=True,
    )
    return SchemaValidator(schema).validate_json


# A canonical line as a dict of all eight fields (what ``Event.model_validate_json(line).model_dump()`` gives).
validate_canonical = _validator({**FOLD_FIELDS, **OTHER_FIELDS})
# The other fields only.
validate_other_fields = _validator(OTHER_FIELDS)
# What a fold reads of most lines: seq, kind and payload. A line this and `validate_other_fields` both take is a
# line `validate_canonical` takes, with the same values.
validate_fold_record = _validator(FOLD_FIELDS)
# ... and of a line whose time the fold reads: ts too, as the string it is stored as (`parse_ts` makes it the
# datetime `validate_canonical` gives). Only a few kinds need it: making a str of every line's ts would cost
# about 0.13 s of the fold of a 1,000,000-event log.
validate_timed_fold_record = _validator({**FOLD_FIELDS, "ts": cs.str_schema(strict=True)})
parse_ts = SchemaValidator(cs.datetime_schema(strict=True)).validate_strings


def line_blocks(path: Path, offset: int = 0, end: int | None = None,
                chunk: int | None = None) -> Iterator[tuple[list[bytes], int]]:
    """Complete lines from `offset` (up to `end`), a block at a time, with the offset after the block's last line.

    A final partial line (a writer mid-append) is not yielded. Blocks depend only on the bytes read and the
    `chunk` size (default `READ_CHUNK`), so two readers of the same log see the same blocks up to where the log was
    when the first of them ended.
    """
    chunk_size = chunk or READ_CHUNK
    with open(path, "rb") as fh:
        fh.seek(offset)
        pos = offset
        rest = b""
        while True:
            size = chunk_size if end is None else min(chunk_size, end - pos - len(rest))
            data = fh.read(size) if size > 0 else b""
            if not data:
                return
            buf = rest + data if rest else data
            cut = buf.rfind(b"\n") + 1
            rest = buf[cut:]
            if cut:
                pos += cut
                yield buf[:cut - 1].split(b"\n"), pos


def check(path: Path, start: int, end: int, chunk: int, out) -> None:
    """The checker's work: for each block of [start, end), a line ``END_OFFSET I J ...`` naming the non-blank lines
    of the block (by index) whose other envelope fields are not canonical."""
    validate = validate_other_fields
    for lines, pos in line_blocks(path, start, end, chunk):
        bad = []
        for i, raw in enumerate(lines):
            try:
                validate(raw)
            except REFUSED:
                if raw and not raw.isspace():
                    bad.append(i)
        out.write(" ".join(map(str, (pos, *bad))).encode() + b"\n")
        out.flush()


class Checker:
    """The folding process's side of a checker process for the lines of `path` in [start, end).

    `bad_lines(pos)` waits for the checker's verdict on the block that ends at `pos`. Any trouble (the checker did
    not start, exited, fell silent for `timeout` seconds, or is out of step with the reader) makes it answer
    None from then on, and the caller validates the lines itself: the checker can make a read faster, never
    different.
    """

    timeout = 5.0  # seconds to wait for one verdict

    def __init__(self, path: Path, start: int, end: int):
        self.answered = 0  # verdicts used
        self.pid: int | None = None
        self._buf = b""
        self._proc: subprocess.Popen | None = None
        package_parent = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH")) if p)
        try:
            self._proc = subprocess.Popen(
                self.command(path, start, end), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL, env=env,
            )
        except OSError:
            return
        self.pid = self._proc.pid
        self._sel = selectors.DefaultSelector()
        self._sel.register(self._proc.stdout, selectors.EVENT_READ)

    @staticmethod
    def command(path: Path, start: int, end: int) -> list[str]:
        return [sys.executable, "-m", "omk_tui.state.envelope", str(path), str(start), str(end), str(READ_CHUNK)]

    def bad_lines(self, pos: int) -> list[int] | None:
        if self._proc is None:
            return None
        line = self._read_line()
        try:
            end, *bad = map(int, line.split()) if line is not None else (None,)
        except ValueError:
            end = None
        if end != pos:
            self.close()
            return None
        self.answered += 1
        return bad

    @property
    def running(self) -> bool:
        return self._proc is not None

    def _read_line(self) -> bytes | None:
        fd = self._proc.stdout.fileno()
        while b"\n" not in self._buf:
            if not self._sel.select(self.timeout):
                return None
            data = os.read(fd, 1 << 16)
            if not data:
                return None
            self._buf += data
        line, _, self._buf = self._buf.partition(b"\n")
        return line

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        self._sel.close()
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdout.close()

    def __enter__(self) -> "Checker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def main(argv: list[str]) -> int:
    import gc

    gc.disable()  # the validated dicts hold no cycles
    path, start, end, chunk = Path(argv[0]), int(argv[1]), int(argv[2]), int(argv[3])
    try:
        check(path, start, end, chunk, sys.stdout.buffer)
    except (BrokenPipeError, KeyboardInterrupt):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
