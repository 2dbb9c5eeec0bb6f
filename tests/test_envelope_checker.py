"""The checker process that shares the validation of a large log with `load_view` (`omk_tui.state.envelope`): what
it reports, and that a checker that cannot start, dies, talks nonsense, falls silent or falls out of step changes
nothing but the speed."""

from __future__ import annotations

import io
import json
import sys
import time
from unittest.mock import patch

import pytest

from omk_tui.projection import load_view
from omk_tui.state import envelope, eventlog
from tests.test_eventlog_fast import GOAL, assert_same, validated_view, with_checker, write_realistic


def canonical(seq, **fields) -> bytes:
    obj = {"id": "a" * 32, "seq": seq, "ts": "2026-11-22T12:00:00.123456Z", "goal_id": GOAL, "kind": "usage",
           "actor": "controller", "schema_version": 1, "payload": {"input_tokens": 1}}
    obj.update(fields)
    return json.dumps(obj, separators=(",", ":")).encode()


def test_the_checker_names_the_lines_whose_other_fields_are_not_canonical(tmp_path):
    lines = [
        canonical(1),
        canonical(2, ts="2026-02-30T12:00:00Z"),  # no such day: the validated path rejects the line
        b"",
        canonical(3, id=7),
        b"not json",
        canonical("4"),  # seq is not the checker's field: the folding process decides it
        canonical(5, actor=None),
    ]
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    out = io.BytesIO()
    envelope.check(path, 0, path.stat().st_size, 1 << 16, out)
    assert out.getvalue() == f"{path.stat().st_size} 1 3 4 6\n".encode()


def test_a_line_both_halves_take_is_a_canonical_line_with_the_same_values():
    raw = canonical(9, payload={"slice_id": "s1", "text": "hi"})
    whole = envelope.validate_canonical(raw)
    record = envelope.validate_fold_record(raw)
    assert record == {k: whole[k] for k in ("seq", "kind", "payload")}
    record = envelope.validate_timed_fold_record(raw)
    assert {k: record[k] for k in ("seq", "kind", "payload")} == {k: whole[k] for k in ("seq", "kind", "payload")}
    assert envelope.parse_ts(record["ts"]) == whole["ts"]
    assert type(envelope.parse_ts(record["ts"]).tzinfo) is type(whole["ts"].tzinfo)
    assert envelope.validate_other_fields(raw) == {k: whole[k] for k in ("id", "ts", "goal_id", "actor",
                                                                           "schema_version")}
    assert set(envelope.FOLD_FIELDS) | set(envelope.OTHER_FIELDS) == set(whole)


def big_log(tmp_path, monkeypatch):
    monkeypatch.setattr(envelope, "READ_CHUNK", 997)  # many blocks, so a checker has many verdicts to give
    path = tmp_path / GOAL / "events.jsonl"
    write_realistic(path, repeat=8)
    return path


def test_a_real_checker_answers_every_block(tmp_path, monkeypatch):
    path = big_log(tmp_path, monkeypatch)
    blocks = sum(1 for _ in envelope.line_blocks(path))
    with with_checker() as started:
        view = load_view(path)
    assert started[0].answered == blocks > 10
    assert view == validated_view(path)


@pytest.mark.parametrize("command, why", [
    (["/nonexistent/python"], "cannot start"),
    ([sys.executable, "-c", "pass"], "exits at once"),
    ([sys.executable, "-c", "print('12 nonsense'); print('x y')"], "talks nonsense"),
    ([sys.executable, "-c", "print(10**9, flush=True)"], "out of step"),
    ([sys.executable, "-c", "import time; time.sleep(60)"], "falls silent"),
])
def test_a_broken_checker_changes_nothing_but_the_speed(tmp_path, monkeypatch, command, why):
    path = big_log(tmp_path, monkeypatch)
    monkeypatch.setattr(envelope.Checker, "timeout", 0.3)
    with patch.object(envelope.Checker, "command", staticmethod(lambda *a: command)):
        t = time.monotonic()
        with with_checker() as started:
            view = load_view(path)
        waited = time.monotonic() - t
    assert view == validated_view(path), why
    assert started[0].answered == 0 and not started[0].running
    assert waited < 10  # a silent checker costs one timeout, not one per block


def test_a_log_that_grows_while_it_is_read(tmp_path, monkeypatch):
    """The checker reads up to where the log ended when the read began; the blocks after that are validated by
    the reader itself."""
    path = big_log(tmp_path, monkeypatch)
    size = path.stat().st_size
    with with_checker() as started:
        blocks = eventlog.iter_record_blocks(path, 0, eventlog.ReadResult(), checker=True)
        first = next(blocks)
        write_realistic(path, repeat=2)  # appended after the checker was told where the log ends
        rest = [r for block in blocks for r in block]
    assert len(first) + len(rest) == len(eventlog.read_events(path).events) > 0
    assert started[0].answered >= size // 997 - 2
    assert load_view(path) == validated_view(path)


def test_odd_lines_in_a_log_of_many_blocks(tmp_path, monkeypatch):
    monkeypatch.setattr(envelope, "READ_CHUNK", 500)
    path = tmp_path / GOAL / "events.jsonl"
    write_realistic(path, repeat=2)
    with open(path, "ab") as fh:
        for i in range(40):
            fh.write(canonical(1000 + i, ts="yesterday" if i % 3 == 0 else "2026-11-22T12:00:00Z") + b"\n")
            fh.write(b"\xff garbage\n" if i % 5 == 0 else b"\n")
    view = assert_same(path)
    assert view.gaps == 14 + 8  # "yesterday" 14 times, garbage 8 times


def test_the_fold_reads_the_time_of_exactly_the_timed_kinds():
    """A large log's fold makes a str of ts only for TIMED_KINDS: every handler that reads an event's time must
    be one of them (or a view would lose the time)."""
    import inspect

    from omk_tui import projection

    reads_time = {kind for kind, handler in projection._HANDLERS.items() if "_ts(" in inspect.getsource(handler)}
    assert reads_time == projection.TIMED_KINDS


def test_first_and_last_times_with_blank_lines_and_gaps_at_the_edges_of_blocks(tmp_path, monkeypatch):
    """Blocks that begin and end with blank lines and with gaps the checker does not see (the payload is not its
    field): the fold still finds each block's first and last event's time."""
    monkeypatch.setattr(envelope, "READ_CHUNK", 1000)
    path = tmp_path / GOAL / "events.jsonl"
    path.parent.mkdir()
    gap = canonical(0, payload=[1])
    lines = [b"", gap]
    for seq in range(1, 60):
        lines.append(canonical(seq, ts=f"2026-11-22T12:{seq:02d}:00.000001Z",
                               kind="narrative" if seq % 7 == 0 else "usage",
                               payload={"step": "s", "summary": str(seq)} if seq % 7 == 0 else {"input_tokens": 1}))
        if seq % 3 == 0:
            lines.append(b"   " if seq % 2 else gap)
    lines += [b"", gap, b""]
    path.write_bytes(b"\n".join(lines) + b"\n")
    fold_blocks = []
    real = eventlog._fold_records
    with with_checker() as started, patch.object(eventlog, "_fold_records",
                                                 lambda *a: fold_blocks.append(1) or real(*a)):
        view = load_view(path)
    assert started[0].answered == len(fold_blocks) > 10  # every block read on the fold's fast path
    assert view == validated_view(path)
    assert (view.first_ts.minute, view.last_ts.minute) == (1, 59)
    assert [t.minute for t, _, _ in view.narrative] == list(range(7, 60, 7))
    assert view.gaps == 1 + 9 + 1  # the payload [1] at the start, at every sixth event, and at the end
