"""The envelope decoder every reader of the log tries first (`omk_tui.state.envelope`, msgspec) against `Event`
(pydantic): a line the decoder takes is a line Event takes, with the same values; a line it refuses is Event's to
decide; and a log decoded a block at a time reads as it does line by line."""

from __future__ import annotations

import json
from datetime import timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from omk_tui.models.events import Event
from omk_tui.projection import load_view
from omk_tui.state import envelope, eventlog
from omk_tui.state.envelope import Envelope, decode_envelope
from omk_tui.state.eventlog import parse_line, read_record
from tests.test_eventlog_fast import GOAL, assert_same, fields, validated_view, write_realistic


def canonical(seq, **changes) -> bytes:
    obj = {"id": "a" * 32, "seq": seq, "ts": "2026-11-22T12:00:00.123456Z", "goal_id": GOAL, "kind": "usage",
           "actor": "controller", "schema_version": 1, "payload": {"input_tokens": 1}}
    obj.update(changes)
    return json.dumps({k: v for k, v in obj.items() if v is not ...}, separators=(",", ":")).encode()


def refused(raw: bytes) -> bool:
    try:
        decode_envelope(raw)
    except envelope.REFUSED:
        return True
    return False


def test_a_canonical_line_decodes_to_the_values_event_validates():
    raw = canonical(9, kind="agent_message_chunk", payload={"slice_id": "s1", "text": "héllo\n", "n": [1, 2.5, None]})
    env = decode_envelope(raw)
    event = Event.model_validate_json(raw)
    assert fields(env) == event.model_dump()
    assert env.ts.utcoffset() == event.ts.utcoffset() == timezone.utc.utcoffset(None)
    assert parse_line(raw) == event and type(read_record(raw)) is Envelope


def test_lines_the_decoder_refuses_are_events_decide():
    """Coercion, defaults and other forms are Event's: the decoder refuses them, and parse_line gives Event's
    verdict."""
    lines = {
        canonical("7"): 7,  # a seq as a string: Event coerces it
        canonical(7.0): 7,
        canonical(8, ts="2026-11-22"): 8,  # a date alone
        canonical(9, ts=1_700_000_000): 9,  # a Unix time
        canonical(10, actor=...): 10,  # a default
        canonical(11, payload=...): 11,
        canonical(True): 1,  # Event coerces even a bool
        canonical(12, payload=[1]): None,
        canonical(13, ts="2026-02-30T12:00:00Z"): None,
        b"\xff garbage": None,
    }
    for raw, seq in lines.items():
        assert refused(raw), raw
        event = parse_line(raw)
        assert (event.seq if event is not None else None) == seq, raw
        if event is not None:
            assert event == Event.model_validate_json(raw)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
times = st.datetimes(timezones=st.none() | st.timezones()).map(lambda t: t.isoformat())


@st.composite
def envelope_like(draw):
    obj = json.loads(canonical(draw(st.integers(-5, 10 ** 20))))
    obj["ts"] = draw(times)
    obj["payload"] = draw(st.dictionaries(st.text(max_size=5), json_values, max_size=4))
    for key in draw(st.sets(st.sampled_from(sorted(obj)), max_size=2)):
        obj[key] = draw(json_values | times)
    return json.dumps(obj, separators=(",", ":")).encode()


@settings(max_examples=300, deadline=None)
@given(raw=envelope_like())
def test_whatever_the_decoder_takes_event_takes_with_the_same_values(raw):
    try:
        env = decode_envelope(raw)
    except envelope.REFUSED:
        return
    event = Event.model_validate_json(raw)
    assert fields(env) == event.model_dump()
    assert repr(env.payload) == repr(event.payload)  # -0.0 and 0.0 are ==, not the same value
    assert env.ts.replace(tzinfo=None) == event.ts.replace(tzinfo=None)
    assert env.ts.utcoffset() == event.ts.utcoffset()


def test_the_two_documented_differences_read_the_same_on_every_path(tmp_path):
    """More than six fractional digits (rounded, where pydantic truncates) and nesting deeper than pydantic's limit
    (read, where pydantic refuses the line): the writer writes neither, and every reader decides them alike."""
    path = tmp_path / GOAL / "events.jsonl"
    write_realistic(path, repeat=1)
    deep = {"a": json.loads("[" * 300 + "]" * 300)}
    with open(path, "ab") as fh:
        fh.write(canonical(100, ts="2026-11-22T12:00:00.1234567Z") + b"\n")
        fh.write(canonical(101, kind="agent_message_chunk", payload={"text": "x", "deep": deep}) + b"\n")
    first, second = (parse_line(raw) for raw in path.read_bytes().splitlines()[-2:])
    assert first.ts.microsecond == 123457 and second.payload["deep"] == deep
    view = assert_same(path)
    assert view.last_seq == 101 and view.gaps == 0


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


def test_a_log_that_grows_while_it_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(envelope, "READ_CHUNK", 997)
    path = tmp_path / GOAL / "events.jsonl"
    write_realistic(path, repeat=4)
    blocks = eventlog.iter_record_blocks(path, 0, eventlog.ReadResult())
    first = next(blocks)
    write_realistic(path, repeat=2)  # appended while the read is under way: read too
    rest = [r for block in blocks for r in block]
    assert len(first) + len(rest) == len(eventlog.read_events(path).events) > 0
    assert load_view(path) == validated_view(path)


def test_first_and_last_times_with_blank_lines_and_gaps_at_the_edges_of_blocks(tmp_path, monkeypatch):
    """Blocks that begin and end with blank lines and gaps (decided line by line): the fold still finds the first
    and last event's time, and every handler that reads an event's time has it."""
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
    view = load_view(path)
    assert view == validated_view(path)
    assert (view.first_ts.minute, view.last_ts.minute) == (1, 59)
    assert [t.minute for t, _, _ in view.narrative] == list(range(7, 60, 7))
    assert view.gaps == 1 + 9 + 1  # the payload [1] at the start, at every sixth event, and at the end
