"""Property-based fuzzing: event-log lines, control requests and task-graph JSON never crash a reader."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from omk_tui.control.requests import ControlRequest, send_request, take_requests
from omk_tui.models.events import make_event
from omk_tui.models.tasks import TaskGraph, TaskGraphError
from omk_tui.projection import fold, load_view
from omk_tui.state.eventlog import EventLog, dump_line, read_events

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
GOAL = "goal-20261122-120000-000-abcdef01"

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
json_values = st.recursive(json_scalars, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c,
                                                                                             max_size=4), max_leaves=12)
kinds = st.sampled_from(["goal_created", "slice_planned", "slice_state", "agent_tool_call", "gate_finished",
                         "usage", "permission_asked", "permission_decided", "overlap_serialized", "task_proposed",
                         "lease_claimed", "budget_checkpoint", "narrative", "unknown_kind"])


def good_line(seq: int) -> bytes:
    e = make_event(GOAL, "narrative", {"step": str(seq), "summary": "ok"})
    e.seq = seq
    return dump_line(e)


envelope_like = st.fixed_dictionaries(
    {"goal_id": st.text(max_size=10) | json_values, "kind": kinds | json_values},
    optional={"seq": st.integers() | json_values,
              "ts": st.sampled_from(["2026-11-22T10:00:00Z", "yesterday", "2026-11-22"]) | json_values,
              "payload": st.dictionaries(st.sampled_from(["slice_id", "task_id", "scope", "result", "text",
                                                          "request_id", "tool_call_id", "input_tokens", "task",
                                                          "budget", "name"]),
                                         json_values, max_size=6) | json_values,
              "id": st.text(max_size=5) | json_values},
).map(lambda d: json.dumps(d).encode())

line = st.binary(max_size=80) | envelope_like | st.sampled_from([b"{", b"[]", b"null", b"\xff\xfe", b"[" * 5000,
                                                                   b'{"seq": 1e999}', b"NaN"])


@FUZZ
@given(st.lists(line, max_size=12), st.booleans())
def test_read_events_never_raises_and_counts_gaps(lines, torn_tail):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.jsonl"
        body = b"".join(good_line(1) + ln.replace(b"\n", b" ") + b"\n" for ln in lines)
        if torn_tail:
            body += b'{"id": "x", "se'
        path.write_bytes(body)
        res = read_events(path)
        complete = [ln for ln in body.split(b"\n")[:-1] if ln.strip()]
        assert len(res.events) + res.gaps == len(complete)
        assert len(res.events) >= len(lines)  # every good line survives its garbage neighbour
        view = fold(GOAL, res.events, res.gaps)  # the fold never raises either
        assert view.events_applied == len(res.events)
        streamed = load_view(path, GOAL)
        assert (streamed.events_applied, streamed.gaps) == (len(res.events), res.gaps)
        with EventLog(path) as log:  # a writer repairs the tail and continues after the last seq
            expected = (res.events[-1].seq if res.events else 0) + 1
            assert log.append(make_event(GOAL, "narrative", {"step": "s", "summary": "t"})).seq == expected
        assert not path.read_bytes().endswith(b'"se')


@FUZZ
@given(st.lists(st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode())
                | st.fixed_dictionaries({"action": st.sampled_from(["pause", "resume", "cancel", "fly"]) | json_values},
                                        optional={"args": json_values, "ts": json_values, "by": json_values}
                                        ).map(lambda d: json.dumps(d).encode()), max_size=6))
def test_take_requests_never_raises_and_reports_problems(files):
    with tempfile.TemporaryDirectory() as tmp:
        control = Path(tmp) / "control"
        control.mkdir()
        for i, data in enumerate(files):
            (control / f"{i:04d}-fuzz.json").write_bytes(data)
        (control / "9999-folder.json").mkdir()  # a folder with a request's name is reported, not fatal
        sent = send_request(control, "pause")
        requests, problems = take_requests(control)
        assert len(requests) + len(problems) == len(files) + 2
        assert requests and requests[-1].action == "pause"
        assert all(isinstance(r, ControlRequest) for r in requests)
        assert all(p.startswith("ignored control request ") for p in problems)
        assert not sent.exists()
        assert sorted(p.name for p in control.iterdir()) == ["9999-folder.json"]


task_like = st.fixed_dictionaries(
    {"id": st.sampled_from(["a", "b", "c", "", " "]) | json_values,
     "title": st.sampled_from(["T", ""]) | json_values},
    optional={"dependencies": st.lists(st.sampled_from(["a", "b", "c", "ghost", ""]), max_size=3) | json_values,
              "write_set": json_values, "budget_secs": json_values, "status": json_values, "risk": json_values},
)
graph_doc = st.fixed_dictionaries({}, optional={"tasks": st.lists(task_like, max_size=5) | json_values,
                                                "version": json_values, "goal_id": json_values})


@FUZZ
@given(graph_doc | json_values)
def test_task_graph_validation_raises_only_clear_errors(doc):
    raw = json.dumps(doc)
    try:
        TaskGraph.model_validate_json(raw).validate_graph()
    except TaskGraphError as exc:
        assert exc.problems and all(isinstance(p, str) and p for p in exc.problems)
        assert any(("'" in p) or p.startswith("dependency cycle") for p in exc.problems)
    except ValidationError as exc:
        assert exc.errors() and str(exc)
