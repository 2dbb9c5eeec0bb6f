"""The fast read path (`iter_record_blocks`, used by `load_view`: a block of lines decoded in one call) against the
line-by-line path (`parse_line` per line and `apply` per event): the same events, the same gaps, the same GoalView,
on realistic, damaged and generated logs.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omk_tui.models.events import Event, make_event
from omk_tui.models.gates import GateResult
from omk_tui.projection import fold, load_view
from omk_tui.state import envelope
from omk_tui.state.envelope import Envelope
from omk_tui.state.eventlog import EventLog, ReadResult, dump_line, iter_events, iter_record_blocks, read_events

GOAL = "goal-20261122-120000-000-abcdef01"
T0 = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)


def validated_view(path):
    counter = ReadResult()
    view = fold(path.parent.name, iter_events(path, 0, counter))
    view.gaps = counter.gaps
    return view


def fields(record) -> dict:
    """The envelope's fields of an Envelope or an Event."""
    return {name: getattr(record, name) for name in Envelope.__struct_fields__}


def assert_same(path):
    """Both paths agree event for event and view for view."""
    fast_counter = ReadResult()
    fast = [item for block in iter_record_blocks(path, 0, fast_counter) for item in block]
    slow = read_events(path)
    assert fast_counter.gaps == slow.gaps and fast_counter.offset == slow.offset
    # repr: a NaN in a payload is not equal to itself
    assert repr([fields(x) for x in fast]) == repr([fields(e) for e in slow.events])
    view = load_view(path)
    assert view == validated_view(path)
    assert view.gaps == slow.gaps and view.events_applied == len(slow.events)
    return view


def gate(name, passed):
    return GateResult(name=name, command_line=f"run {name}", passed=passed).model_dump(mode="json")


REALISTIC = [
    ("goal_created", {"goal": "Add a --json flag", "repo": "/repo", "budget": {"time_secs": 600}}),
    ("run_started", {"pid": 4242}),
    ("narrative", {"step": "plan", "summary": "two tasks"}),
    ("task_proposed", {"task": {"id": "t1", "title": "core", "write_set": ["src/a.py"]}}),
    ("task_accepted", {"task_id": "t1"}),
    ("slice_planned", {"slice_id": "s1", "task_id": "t1", "branch": "omk/t1", "write_set": ["src/a.py"]}),
    ("slice_state", {"slice_id": "s1", "state": "running", "attempt": 1}),
    ("lease_claimed", {"slice_id": "s1", "expires_at": "2026-11-22T12:05:00Z", "pid": 1}),
    ("agent_turn_started", {"slice_id": "s1", "role": "implementer", "agent": "scripted"}),
    ("agent_message_chunk", {"slice_id": "s1", "text": "Reading \"the\" code\n\n"}),
    ("agent_message_chunk", {"slice_id": "s1", "text": "é ✓ \u2028 done"}),
    ("agent_thought_chunk", {"slice_id": "s1", "text": "hmm"}),
    ("agent_tool_call", {"slice_id": "s1", "tool_call_id": "c1", "title": "Edit", "paths": ["src/a.py"],
                         "status": "pending"}),
    ("agent_tool_call", {"slice_id": "s1", "tool_call_id": "c1", "status": "completed"}),
    ("permission_asked", {"slice_id": "s1", "request_id": "r1", "tool": "shell", "command": "rm -rf build"}),
    ("permission_decided", {"slice_id": "s1", "request_id": "r1", "decision": "reject"}),
    ("usage", {"slice_id": "s1", "input_tokens": 100, "output_tokens": 20, "usd": 0.01}),
    ("gate_started", {"scope": "s1", "name": "pytest", "command_line": "pytest -q"}),
    ("gate_finished", {"scope": "s1", "result": gate("pytest", True)}),
    ("agent_turn_finished", {"slice_id": "s1", "stop_reason": "end_turn"}),
    ("slice_state", {"slice_id": "s1", "state": "committed", "commit": "abc", "changed_files": ["src/a.py"]}),
    ("integration_merged", {"slice_id": "s1", "commit": "def"}),
    ("budget_checkpoint", {"budget": {"time_secs": 600, "spent_time_secs": 12.5}}),
    ("proof_written", {"status": "ready", "readiness": "ready", "path": "/p/proof.json"}),
    ("run_finished", {"status": "ready", "readiness": "ready"}),
]


def write_realistic(path, repeat=3):
    with EventLog(path, sync_interval=0) as log:
        for _ in range(repeat):
            for kind, payload in REALISTIC:
                log.append(make_event(GOAL, kind, payload))


def test_a_log_written_by_the_writer_gives_the_same_view(tmp_path):
    path = tmp_path / GOAL / "events.jsonl"
    write_realistic(path)
    view = assert_same(path)
    assert view.gaps == 0 and view.events_applied == 3 * len(REALISTIC)
    assert view.status == "ready" and view.tokens_in == 300 and view.first_ts <= view.last_ts
    assert view.created_at.tzinfo is not None and view.gates[("s1", "pytest")].started_at is not None


def line(**fields) -> bytes:
    base = {"id": "a" * 32, "seq": 1, "ts": "2026-11-22T12:00:00.123456Z", "goal_id": GOAL, "kind": "usage",
            "actor": "controller", "schema_version": 1, "payload": {"input_tokens": 1}}
    base.update(fields)
    return json.dumps({k: v for k, v in base.items() if v is not ...}).encode()


# Lines the validated path takes with coercion, defaults or other forms, and lines it rejects: the fast path must
# hand every one of them to the validated path. (A line without `id` or `ts` is valid too, but gets a random id /
# the current time, so two reads of it differ: it is left out of the comparisons.)
ODD_LINES = [
    line(seq="7"), line(seq=7.0), line(seq=True), line(seq=2 ** 70), line(seq=None), line(seq=...),
    line(ts="2026-11-22T12:00:00Z"), line(ts="2026-11-22T12:00:00.123456+02:00"), line(ts=1_700_000_000),
    line(ts="2026-02-30T12:00:00.000000Z"), line(ts="2026-11-22T24:00:00.000000Z"), line(ts="not a time"),
    line(actor=...), line(schema_version=...), line(payload=...), line(payload=[1]),
    line(payload=None), line(kind=5), line(goal_id=None), line(extra="ignored"), line(actor=1),
    b'{"id":"x","seq":3,"ts":"2026-11-22T12:00:00.5Z","kind":"usage","kind":"phase_changed","goal_id":"g",'
    b'"payload":{"phase":"x"}}',
    line(payload={"x": float("nan")}), b"[1, 2]", b"42", b'"text"', b"null", b"{", b"}{",
    b'{"seq": 1}', b"\xff\xfe garbage", b"\x00\x00\x00", "{\"ts\": \"\u00e9\"}".encode(),
    line(ts="2026-11-22T12:00:00.12345\u0661Z"), line(payload={"text": "\ud800"}).replace(b"\\ud800", b"\\ud8"),
    b"   ", b"\t",
    # one line is one event: two objects on a line, and one object over several lines, are gaps for every reader
    line(seq=50) + line(seq=51), line(seq=52) + b"  " + line(seq=53),
    json.dumps(json.loads(line(seq=54)), indent=1).encode(),
    line(seq=55).replace(b',"payload"', b',\n"payload"'),
    # ... also when the two cancel out in a count of lines: three objects on three lines
    line(seq=56) + line(seq=57) + b"\n" + line(seq=58).replace(b',"payload"', b',\n"payload"'),
    line(seq=59) + b"\r", b" " + line(seq=60),
]


@pytest.mark.parametrize("chunk", [None, 300])  # 300 bytes: about a line a block, so a block holds one odd line
def test_odd_garbage_and_torn_lines_are_decided_exactly_as_the_validated_path(tmp_path, monkeypatch, chunk):
    if chunk:
        monkeypatch.setattr(envelope, "READ_CHUNK", chunk)
    path = tmp_path / GOAL / "events.jsonl"
    write_realistic(path, repeat=1)
    good = path.read_bytes().splitlines(keepends=True)
    with open(path, "wb") as fh:
        for i, odd in enumerate(ODD_LINES):
            fh.write(good[i % len(good)])
            fh.write(odd + b"\n")
        fh.write(good[3][: len(good[3]) // 2] + b"\n")  # a torn line in the middle
        fh.write(good[4][:40])  # a torn tail (no newline): neither path reads it
    view = assert_same(path)
    assert view.gaps > 10 and view.events_applied > len(ODD_LINES)


def test_a_log_larger_than_one_read_block_and_offsets(tmp_path, monkeypatch):
    monkeypatch.setattr(envelope, "READ_CHUNK", 997)  # lines straddle blocks
    path = tmp_path / GOAL / "events.jsonl"
    write_realistic(path, repeat=5)
    with open(path, "ab") as fh:
        fh.write(b"garbage\n\n")
    view = assert_same(path)
    assert view.gaps == 1
    assert list(iter_record_blocks(tmp_path / "missing.jsonl")) == []


def dumped(kind, payload, seq, ts) -> bytes:
    e = make_event(GOAL, kind, payload)
    e.seq, e.ts = seq, ts
    return dump_line(e).rstrip(b"\n")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


@st.composite
def log_lines(draw):
    kind, payload = draw(st.sampled_from(REALISTIC))
    seq = draw(st.integers(0, 10 ** 6))
    ts = T0 + timedelta(microseconds=draw(st.integers(0, 10 ** 12)))
    good = dumped(kind, payload, seq, ts)
    choice = draw(st.integers(0, 7))
    if choice <= 1:
        return good
    if choice == 2:  # one envelope field replaced by an arbitrary JSON value (or dropped)
        obj = json.loads(good)
        key = draw(st.sampled_from(sorted(obj)))
        if draw(st.booleans()) and key not in ("id", "ts"):
            del obj[key]
        else:
            obj[key] = draw(json_values)
        return json.dumps(obj).encode()
    if choice == 3:  # a payload field replaced: handlers must skip and count the same way on both paths
        obj = json.loads(good)
        obj["payload"][draw(st.text(max_size=6))] = draw(json_values)
        return json.dumps(obj).encode()
    if choice == 4:  # torn
        return good[: draw(st.integers(0, len(good)))]
    if choice == 6:  # two events on one line
        return good + draw(st.sampled_from([b"", b" ", b"\t"])) + dumped(kind, payload, seq + 1, ts)
    if choice == 7:  # one event over several lines
        return json.dumps(json.loads(good), indent=draw(st.integers(0, 2))).encode()
    return draw(st.binary(max_size=40)).replace(b"\n", b" ")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(log_lines(), max_size=40))
def test_generated_mixes_give_the_same_view_and_gaps(tmp_path_factory, lines):
    path = tmp_path_factory.mktemp("log") / "events.jsonl"
    path.write_bytes(b"".join(x + b"\n" for x in lines))
    assert_same(path)


def test_a_fast_record_equals_the_validated_event(tmp_path):
    path = tmp_path / GOAL / "events.jsonl"
    write_realistic(path, repeat=1)
    records = [r for block in iter_record_blocks(path) for r in block]
    assert all(type(r) is Envelope for r in records)  # the writer's lines all take the fast path
    events = [Event.model_validate_json(x) for x in path.read_bytes().splitlines()]
    assert [fields(r) for r in records] == [e.model_dump() for e in events]
    assert [r.ts.utcoffset() for r in records] == [e.ts.utcoffset() for e in events]
