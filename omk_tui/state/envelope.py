"""The event envelope as the log stores it, and the decoder every reader of the log tries first.

The writer stores every event as one canonical line: the envelope's eight fields with their exact JSON types.
msgspec decodes such a line into an `Envelope` strictly (every field present, no coercion), about three times as
fast as pydantic validates it into an `Event`, and a whole block of lines in one call (when the block holds one
object per line: `eventlog._decode_block`). A line it refuses goes
through `Event` itself (`eventlog.parse_line`), which fills in defaults and coerces. An Envelope has the fields of
an Event as attributes, so a fold reads both alike.

Where both take a line they give the same values, with two differences, both only for lines the writer never
writes: a time with more than six fractional digits is rounded to the microsecond (pydantic truncates it), and
nesting deeper than pydantic's limit of about 200 levels is read (pydantic refuses the line). Every reader tries
this decoder first, so every reader of a log sees the same events.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

# Lines are read, decoded and folded a block at a time. A block this size keeps one block's decoded events in the
# CPU caches (4 MiB blocks made the fold of a 1,000,000-event log about 25 % slower).
READ_CHUNK = 1 << 16

# What a decoder raises for a line it does not take (msgspec's DecodeError and pydantic's ValidationError are
# ValueErrors, as is the UnicodeDecodeError of invalid UTF-8; deep nesting may recurse).
REFUSED = (ValueError, RecursionError)


class Envelope(msgspec.Struct, gc=False):
    """A canonical line: the eight fields of `Event`, each present with its exact JSON type. (gc=False: an
    envelope never takes part in a reference cycle, so the cyclic GC need not track a million of them.)"""

    id: str
    seq: int
    ts: datetime
    goal_id: str
    kind: str
    actor: str
    schema_version: int
    payload: dict[str, Any]


_decoder = msgspec.json.Decoder(Envelope)
# One canonical line -> Envelope; raises one of REFUSED for any other line.
decode_envelope = _decoder.decode
# A buffer -> the Envelope of each JSON value in it; raises one of REFUSED if any value is not canonical. Values are
# separated by any whitespace, newlines included, so one value per line is the caller's to check
# (`eventlog._decode_block`).
decode_envelopes = _decoder.decode_lines


def byte_blocks(path: Path, offset: int = 0, end: int | None = None,
                chunk: int | None = None) -> Iterator[tuple[bytes, int]]:
    """Complete lines from `offset` (up to `end`), a block at a time: the block's bytes up to and including its last
    newline, with the offset after it.

    A final partial line (a writer mid-append) is not yielded. Blocks depend only on the bytes read and the
    `chunk` size (default `READ_CHUNK`).
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
            if cut:
                rest = buf[cut:]
                pos += cut
                yield buf[:cut], pos
            else:
                rest = buf


def line_blocks(path: Path, offset: int = 0, end: int | None = None,
                chunk: int | None = None) -> Iterator[tuple[list[bytes], int]]:
    """Like `byte_blocks`, with each block split into its lines (without their newlines)."""
    for buf, pos in byte_blocks(path, offset, end, chunk):
        yield buf[:-1].split(b"\n"), pos
