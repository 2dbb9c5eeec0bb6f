"""The fold from events to GoalView over realistic sequences, and its bounds."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from omk_tui.models.events import Event, make_event
from omk_tui.models.gates import GateResult
from omk_tui.projection import (
    ENTRY_TEXT_HARD_LIMIT, ENTRY_TEXT_LIMIT, GOAL_SCOPE, STREAM_LIMIT, GoalView, apply, fold, load_view,
)
from omk_tui.state.eventlog import EventLog

GOAL = "goal-20261122-120000-000-abcdef01"
T0 = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)


def events(*specs) -> list[Event]:
    out = []
    for i, (kind, payload) in enumerate(specs, 1):
        e = make_event(GOAL, kind, payload)
        e.seq = i
        e.ts = T0 + timedelta(seconds=i)
        out.append(e)
    return out


def gate(name, passed, **kw):
    return GateResult(name=name, command_line=f"run {name}", passed=passed, **kw).model_dump(mode="json")


PLAN = [
    ("goal_created", {"goal": "Add a --json flag", "repo": "/repo", "budget": {"time_secs": 600}}),
    ("run_started", {"pid": 4242}),
    ("phase_changed", {"phase": "planning"}),
    ("task_proposed", {"task": {"id": "t1", "title": "core", "write_set": ["src/a.py"]}}),
    ("task_proposed", {"task": {"id": "t2", "title": "cli", "dependencies": ["t1"], "write_set": ["src/a.py"]}}),
    ("task_proposed", {"task": {"id": "bad", "title": "escape", "write_set": ["../etc"]}}),
    ("task_accepted", {"task_id": "t1", "budget_snapshot": {"task_budget_secs": 60}}),
    ("task_accepted", {"task_id": "t2"}),
    ("task_rejected", {"task_id": "bad", "reason": "outside the allowed goal policy roots"}),
    ("slice_planned", {"slice_id": "s1", "task_id": "t1", "branch": "omk/goal/t1-aa", "worktree": "/wt/s1",
                       "write_set": ["src/a.py"]}),
    ("slice_planned", {"slice_id": "s2", "task_id": "t2", "branch": "omk/goal/t2-bb", "dependencies": ["s1"]}),
    ("overlap_serialized", {"blocked_slice_id": "s2", "serializes_after": "s1", "kind": "write/write",
                            "path": "src/a.py"}),
    ("overlap_serialized", {"blocked_slice_id": "s2", "serializes_after": "s1", "kind": "write/write",
                            "path": "src/a.py"}),
    ("phase_changed", {"phase": "execution"}),
]


def test_planning_sequence():
    v = fold(GOAL, events(*PLAN))
    assert (v.goal, v.repo, v.status, v.phase) == ("Add a --json flag", "/repo", "running", "execution")
    assert v.controller_pid == 4242 and v.budget == {"time_secs": 600}
    assert {t: v.tasks[t].status for t in v.tasks} == {"t1": "pending", "t2": "pending", "bad": "rejected"}
    assert v.tasks["bad"].reason == "outside the allowed goal policy roots"
    assert v.tasks["t2"].dependencies == ["t1"] and v.tasks["t1"].slice_id == "s1"
    assert v.slices["s1"].branch == "omk/goal/t1-aa" and v.slices["s1"].worktree == "/wt/s1"
    assert v.overlaps == [{"blocked_slice_id": "s2", "serializes_after": "s1", "kind": "write/write",
                           "path": "src/a.py"}]  # a repeated serialization is shown once
    assert v.progress == (0, 2)
    assert v.created_at == T0 + timedelta(seconds=1) and v.last_seq == len(PLAN)


def test_execution_agent_streams_tools_permissions_gates_usage():
    v = fold(GOAL, events(
        *PLAN,
        ("slice_state", {"slice_id": "s1", "state": "running", "attempt": 1}),
        ("lease_claimed", {"slice_id": "s1", "expires_at": "2026-11-22T12:05:00Z", "pid": 1}),
        ("agent_turn_started", {"slice_id": "s1", "role": "implementer", "agent": "scripted"}),
        ("agent_message_chunk", {"slice_id": "s1", "text": "Reading "}),
        ("agent_message_chunk", {"slice_id": "s1", "text": "the code."}),
        ("agent_thought_chunk", {"slice_id": "s1", "text": "hmm"}),
        ("agent_tool_call", {"slice_id": "s1", "tool_call_id": "c1", "title": "Edit", "paths": ["src/a.py"],
                             "status": "pending"}),
        ("agent_message_chunk", {"slice_id": "s1", "text": "Editing."}),
        ("agent_tool_call", {"slice_id": "s1", "tool_call_id": "c1", "status": "completed"}),
        ("permission_asked", {"slice_id": "s1", "request_id": "r1", "tool": "shell", "command": "rm -rf build"}),
        ("permission_asked", {"slice_id": "s1", "request_id": "r2", "tool": "shell", "command": "ls"}),
        ("permission_decided", {"slice_id": "s1", "request_id": "r1", "decision": "reject", "by": "user"}),
        ("usage", {"slice_id": "s1", "input_tokens": 100, "output_tokens": 20, "usd": 0.01}),
        ("usage", {"slice_id": "s1", "input_tokens": 50, "output_tokens": 5, "usd": 0.02}),
        ("agent_turn_finished", {"slice_id": "s1", "stop_reason": "end_turn"}),
        ("agent_plan", {"entries": [{"content": "plan step", "status": "pending"}]}),
        ("gate_started", {"scope": "s1", "name": "pytest", "command_line": "pytest -q", "log_path": "g.log"}),
        ("gate_progress", {"scope": "s1", "name": "pytest", "line_count": 12}),
    ))
    s1 = v.slices["s1"]
    assert s1.state == "gates" and s1.attempt == 1 and not s1.agent_alive
    assert s1.lease_expires_at == datetime(2026, 11, 22, 12, 5, tzinfo=timezone.utc)
    entries = [(e.kind, e.text, e.status) for e in v.streams["s1"].entries]
    assert entries[1:] == [
        ("message", "Reading the code.", ""),
        ("thought", "hmm", ""),
        ("tool", "Edit (src/a.py)", "completed"),  # the second call updated the first in place
        ("message", "Editing.", ""),
        ("permission", "permission? shell rm -rf build", "reject by user"),
        ("permission", "permission? shell ls", "asked"),
        ("turn", "── turn ended: end_turn", ""),
    ]
    assert list(v.permissions) == ["r2"]
    assert (v.tokens_in, v.tokens_out, round(v.usd, 6)) == (150, 25, 0.03)
    assert v.streams[GOAL_SCOPE].plan == [{"content": "plan step", "status": "pending"}]
    g = v.gates[("s1", "pytest")]
    assert g.status == "running" and g.line_count == 12 and g.log_path == "g.log"
    assert v.tasks["t1"].status == "running"


def test_finish_budget_pause_resume_and_proof():
    v = fold(GOAL, events(
        *PLAN,
        ("slice_state", {"slice_id": "s1", "state": "running", "attempt": 1}),
        ("gate_started", {"scope": "s1", "name": "pytest", "command_line": "pytest -q"}),
        ("gate_finished", {"scope": "s1", "result": gate("pytest", False, exit_code=1, line_count=40)}),
        ("slice_state", {"slice_id": "s1", "state": "running", "attempt": 2}),
        ("gate_finished", {"scope": "s1", "result": gate("pytest", True, exit_code=0)}),
        ("slice_state", {"slice_id": "s1", "state": "committed", "attempt": 2, "commit": "abc",
                         "changed_files": ["src/a.py"], "insertions": 3, "deletions": 1}),
        ("budget_checkpoint", {"budget": {"time_secs": 600, "spent_time_secs": 30}}),
        ("goal_paused", {"by": "user"}),
    ))
    assert v.status == "paused" and v.elapsed_secs == 30
    assert v.gates[("s1", "pytest")].status == "passed" and v.gates[("s1", "pytest")].result.exit_code == 0
    s1 = v.slices["s1"]
    assert (s1.state, s1.commit, s1.changed_files, s1.insertions, s1.deletions) == \
        ("committed", "abc", ["src/a.py"], 3, 1)
    assert v.tasks["t1"].status == "done" and v.tasks["t1"].attempts == 2
    assert v.progress == (1, 2)
    more = events(
        ("goal_resumed", {}),
        ("budget_exhausted", {"budget": {"time_secs": 600, "spent_time_secs": 600}, "exhausted": ["time"]}),
        ("status_changed", {"status": "needs_more_budget", "reason": "time budget exhausted"}),
        ("budget_extended", {"budget": {"time_secs": 1200, "spent_time_secs": 600}, "added": {"time_secs": 600}}),
        ("goal_resumed", {}),
        ("integration_merged", {"slice_id": "s1", "commit": "def"}),
        ("integration_conflict", {"slice_id": "s2", "other_slice_id": "s1", "files": ["src/a.py"]}),
        ("review_finished", {"scope": "goal", "kind": "code", "passed": True}),
        ("proof_written", {"status": "not_ready", "readiness": "blocked", "path": "proof.json",
                           "blocker": "merge conflict in src/a.py"}),
        ("run_finished", {"status": "not_ready", "readiness": "blocked", "reason": "merge conflict in src/a.py"}),
    )
    for e in more:
        apply(v, e)
    assert v.budget == {"time_secs": 1200, "spent_time_secs": 600}
    assert v.slices["s1"].state == "merged" and v.conflicts[0]["files"] == ["src/a.py"]
    assert v.reviews[("goal", "code")]["passed"] is True
    assert (v.status, v.readiness, v.blocker, v.proof_path) == \
        ("not_ready", "blocked", "merge conflict in src/a.py", "proof.json")
    assert v.controller_pid is None and not v.running_turns


def test_the_time_spent_counts_only_the_runs_not_pauses_crashes_or_later_events():
    def at(secs, kind, payload):
        e = make_event(GOAL, kind, payload)
        e.ts = T0 + timedelta(seconds=secs)
        return e

    budget = {"time_secs": 600}
    v = fold(GOAL, [at(0, "goal_created", {"goal": "g", "repo": "/r", "budget": budget}), at(1, "run_started", {"pid": 1})])
    assert v.time_spent() == 0 and v.time_spent(T0 + timedelta(seconds=8)) == 7  # the run goes on
    apply(v, at(11, "budget_checkpoint", {"budget": {**budget, "spent_time_secs": 10}}))
    assert v.time_spent(T0 + timedelta(seconds=15)) == 14
    apply(v, at(13, "goal_paused", {"by": "user"}))
    apply(v, at(13, "run_finished", {"status": "paused", "budget": {**budget, "spent_time_secs": 12}}))
    # paused an hour, then more budget: neither is time spent
    apply(v, at(3600, "budget_extended", {"budget": {"time_secs": 1200, "spent_time_secs": 12}}))
    assert v.elapsed_secs == v.time_spent(T0 + timedelta(seconds=4000)) == 12
    apply(v, at(4000, "run_started", {"pid": 2}))
    apply(v, at(4000, "goal_resumed", {}))
    assert v.time_spent(T0 + timedelta(seconds=4005)) == 17
    # the controller is killed: the view still says running, the dashboard shows it interrupted and asks
    # for the recorded time (no clock)
    assert v.time_spent() == 12


def test_status_blocker_and_cancel():
    v = fold(GOAL, events(("run_started", {"pid": 1}),
                          ("status_changed", {"status": "blocked_on_human", "reason": "goal is too vague"})))
    assert (v.status, v.blocker) == ("blocked_on_human", "goal is too vague")
    apply(v, events(("goal_cancelled", {"by": "user"}))[0])
    assert v.status == "cancelled"
    apply(v, events(("run_failed", {"error": "agent crashed"}))[0])
    assert (v.status, v.blocker) == ("failed_infra", "agent crashed")


def test_a_goal_cancelled_after_its_controller_died_has_no_agent_running():
    # a controller killed with -9 wrote no turn_finished; `cancel` then records only the status
    v = fold(GOAL, events(("run_started", {"pid": 1}),
                          ("slice_planned", {"slice_id": "s1", "task_id": "t1", "branch": "b"}),
                          ("agent_turn_started", {"slice_id": "s1", "role": "implementer", "attempt": 1}),
                          ("agent_turn_started", {"role": "planner"}),
                          ("permission_asked", {"slice_id": "s1", "request_id": "r1", "tool": "WriteFile: a"})))
    assert v.running_turns == {"s1", "goal"} and v.slices["s1"].agent_alive and list(v.permissions) == ["r1"]
    apply(v, events(("status_changed", {"status": "cancelled", "reason": "cancelled by the user"}))[0])
    assert v.status == "cancelled" and v.running_turns == set() and not v.slices["s1"].agent_alive
    assert v.permissions == {}  # nobody is left to answer it (a pause or cancel records no decision)


def test_a_payload_missing_required_fields_is_skipped_and_counted():
    bad = [Event(goal_id=GOAL, kind="slice_planned", payload={"task_id": "t"}),
           Event(goal_id=GOAL, kind="gate_finished", payload={"scope": "s", "result": {"name": 3}}),
           Event(goal_id=GOAL, kind="usage", payload={"input_tokens": "many"}),
           Event(goal_id=GOAL, kind="task_proposed", payload={"task": "not a dict"}),
           Event(goal_id=GOAL, kind="some_future_kind", payload={"x": 1})]
    v = fold(GOAL, bad)
    assert v.payload_errors == 4 and v.events_applied == 5 and not v.slices


def test_streams_stay_bounded_with_100k_chunks():
    v = GoalView(goal_id=GOAL)
    base = make_event(GOAL, "agent_message_chunk", {"slice_id": "s1", "text": "x" * 50})
    for i in range(100_000):
        if i % 1000 == 0:
            apply(v, make_event(GOAL, "agent_turn_started", {"slice_id": "s1", "role": "implementer"}))
        if i % 7 == 0:
            apply(v, make_event(GOAL, "agent_tool_call", {"slice_id": "s1", "tool_call_id": f"c{i}", "title": "t"}))
        apply(v, base)
    st = v.streams["s1"]
    assert len(st.entries) == STREAM_LIMIT
    assert all(len(e.text) <= ENTRY_TEXT_HARD_LIMIT for e in st.entries)
    assert len(st.by_key) <= STREAM_LIMIT * 2
    # an old tool call that scrolled out is re-added at the end, not updated out of sight
    apply(v, make_event(GOAL, "agent_tool_call", {"slice_id": "s1", "tool_call_id": "c0", "status": "completed"}))
    assert st.entries[-1].key == "tool:c0" and st.entries[-1].status == "completed"


def test_a_long_message_continues_in_new_entries_at_line_breaks():
    v = GoalView(goal_id=GOAL)
    for _ in range(300):
        apply(v, make_event(GOAL, "agent_message_chunk", {"text": "y" * 99 + "\n"}))
    entries = list(v.streams[GOAL_SCOPE].entries)
    assert "".join(e.text for e in entries) == ("y" * 99 + "\n") * 300
    assert [e.continued for e in entries] == [False] + [True] * (len(entries) - 1)
    assert all(e.text.endswith("\n") and len(e.text) <= ENTRY_TEXT_LIMIT for e in entries)
    # without any line break the hard limit still splits
    v = GoalView(goal_id=GOAL)
    for _ in range(500):
        apply(v, make_event(GOAL, "agent_message_chunk", {"text": "z" * 100}))
    sizes = [len(e.text) for e in v.streams[GOAL_SCOPE].entries]
    assert sum(sizes) == 50_000 and max(sizes) <= ENTRY_TEXT_HARD_LIMIT and len(sizes) == 4


def test_load_view_streams_a_log_file_and_counts_gaps(tmp_path):
    path = tmp_path / GOAL / "events.jsonl"
    with EventLog(path) as log:
        for e in events(*PLAN):
            log.append(e)
    with open(path, "ab") as fh:
        fh.write(b"not an event\n")
    v = load_view(path)
    assert v.goal_id == GOAL and v.gaps == 1 and v.events_applied == len(PLAN)
    assert fold(GOAL, events(*PLAN)).tasks.keys() == v.tasks.keys()


def test_a_chunk_whose_text_is_not_a_string_is_a_payload_error_not_an_entry():
    v = GoalView(goal_id="g")
    for kind in ("agent_message_chunk", "agent_thought_chunk", "agent_stderr"):
        # as read from a log written by something else (make_event would refuse these payloads)
        apply(v, Event(goal_id="g", kind=kind, payload={"slice_id": "s1", "text": 5}))
        apply(v, Event(goal_id="g", kind=kind, payload={"slice_id": "s1", "text": ["x"]}))
    apply(v, make_event("g", "agent_message_chunk", {"slice_id": "s1", "text": "fine"}))
    assert v.payload_errors == 6
    assert [e.text for e in v.streams["s1"].entries] == ["fine"]


def test_task_progress_counts_accepted_tasks_and_slice_progress_planned_slices():
    v = fold(GOAL, events(
        ("task_proposed", {"task": {"id": "a", "title": "A"}}),
        ("task_proposed", {"task": {"id": "b", "title": "B"}}),
        ("task_proposed", {"task": {"id": "c", "title": "C"}}),
        ("task_proposed", {"task": {"id": "d", "title": "D"}}),  # never accepted
        ("task_accepted", {"task_id": "a"}),
        ("task_accepted", {"task_id": "b"}),
        ("task_rejected", {"task_id": "c", "reason": "outside the policy roots"}),
        ("slice_planned", {"slice_id": "sa", "task_id": "a", "branch": "omk/g/sa"}),
        ("slice_planned", {"slice_id": "sb", "task_id": "b", "branch": "omk/g/sb"}),
        ("slice_state", {"slice_id": "sa", "state": "committed", "attempt": 1}),
        ("task_status", {"task_id": "a", "status": "done"}),
    ))
    assert v.task_progress == (1, 2) and v.progress == (1, 2)
