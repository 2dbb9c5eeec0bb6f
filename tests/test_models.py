"""Domain model: task graph validation names the task ids; snapshots round-trip through JSON."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from omk_tui.models.gates import GateResult, gates_passed
from omk_tui.models.goal import Budget, GoalFailure, GoalOptions, GoalPhase, GoalState, GoalStatus
from omk_tui.models.proof import Delivery, Proof, ReviewResult, SliceOutcome
from omk_tui.models.tasks import Task, TaskGraph, TaskGraphError, find_cycle


def graph(*specs) -> TaskGraph:
    return TaskGraph(tasks=[Task(id=i, title=t, dependencies=list(d)) for i, t, d in specs])


def test_valid_graph_has_no_problems():
    g = graph(("a", "A", []), ("b", "B", ["a"]), ("c", "C", ["a", "b"]))
    assert g.problems() == []
    assert g.validate_graph() is g


def test_duplicate_ids_are_named():
    with pytest.raises(TaskGraphError) as err:
        graph(("a", "A", []), ("a", "again", []), ("b", "B", [])).validate_graph()
    assert err.value.problems == ["duplicate task id 'a'"]
    assert "'a'" in str(err.value)


def test_missing_and_self_dependencies_are_named():
    g = graph(("a", "A", ["a"]), ("b", "B", ["ghost"]))
    assert g.problems() == ["task 'a' depends on itself", "task 'b' depends on unknown task 'ghost'"]


def test_empty_required_fields_are_named():
    g = graph(("", "untitled id", []), ("b", "   ", []), ("c", "C", [""]))
    problems = g.problems()
    assert "a task has an empty id (title 'untitled id')" in problems
    assert "task 'b' has an empty title" in problems
    assert "task 'c' has an empty dependency id" in problems


def test_cycle_names_every_task_on_it():
    g = graph(("a", "A", ["c"]), ("b", "B", ["a"]), ("c", "C", ["b"]), ("d", "D", []))
    with pytest.raises(TaskGraphError) as err:
        g.validate_graph()
    (problem,) = err.value.problems
    assert problem.startswith("dependency cycle: ")
    ids = problem.removeprefix("dependency cycle: ").split(" -> ")
    assert ids[0] == ids[-1] and set(ids) == {"a", "b", "c"}


def test_find_cycle_handles_long_chains_without_recursion():
    tasks = [Task(id=f"t{i}", title="x", dependencies=[f"t{i - 1}"] if i else []) for i in range(5000)]
    assert find_cycle(tasks) is None
    tasks[0] = Task(id="t0", title="x", dependencies=["t4999"])
    assert len(find_cycle(tasks)) == 5001


def test_missing_required_field_is_a_validation_error_naming_the_field():
    with pytest.raises(ValidationError) as err:
        TaskGraph.model_validate({"tasks": [{"id": "a"}]})
    assert "title" in str(err.value)


def test_budget_exhausted_and_remaining():
    b = Budget(time_secs=60, tokens=1000, usd=None, spent_time_secs=10, spent_tokens=1000)
    assert b.exhausted() == ["tokens"]
    assert b.remaining_time() == 50
    assert Budget().exhausted() == [] and Budget().remaining_time() is None
    assert Budget(time_secs=5, spent_time_secs=9).remaining_time() == 0.0
    assert Budget(usd=1.0, spent_usd=1.5).exhausted() == ["usd"]


def test_goal_state_round_trips():
    s = GoalState(goal_id="goal-20261122-101010-123-0badf00d", original_goal="Do it", normalized_goal="do it",
                  repo="/r", status=GoalStatus.needs_more_budget, phase=GoalPhase.execution,
                  options=GoalOptions(max_agents=4, delivery_policy="draft-pr"),
                  budget=Budget(tokens=5, spent_tokens=7),
                  failure=GoalFailure(kind="budget", reason="tokens exhausted", next_action="budget-add"))
    back = GoalState.model_validate_json(s.model_dump_json())
    assert back == s
    assert back.budget.exhausted() == ["tokens"]
    assert s.model_dump(mode="json")["status"] == "needs_more_budget"


def test_every_goal_status_is_listed():
    assert {s.value for s in GoalStatus} == {
        "running", "ready", "not_ready", "blocked_on_human", "blocked_on_external", "needs_more_budget",
        "failed_infra", "paused", "cancelled"}


def test_gate_result_and_proof_round_trip():
    g = GateResult(name="pytest", command_line="pytest -q", passed=False, exit_code=1, duration_ms=1234,
                   timeout_secs=60, log_path="artifacts/gates/run/01-pytest.log", summary=["FAILED test_x"])
    assert GateResult.model_validate_json(g.model_dump_json()) == g
    assert g.blocking and not gates_passed([g])
    assert gates_passed([g.model_copy(update={"required": False})])
    p = Proof(goal_id="g", status=GoalStatus.ready, readiness="ready", summary="all green", final_gates=[g],
              slices=[SliceOutcome(slice_id="s1", task_id="t1", branch="omk/s1", status="merged", gates=[g])],
              review_results=[ReviewResult(kind="code", passed=True)], known_gaps=["none"],
              delivery=Delivery(policy="draft-pr", pr_urls=["https://example.invalid/pr/1"]))
    assert Proof.model_validate_json(p.model_dump_json()) == p


REGEN = "`python -m omk_tui.state.schema_doc` prints the lists"


def test_state_files_doc_lists_every_event_kind_and_field():
    from pathlib import Path

    from omk_tui.models.events import PAYLOAD_MODELS

    doc = (Path(__file__).parents[1] / "docs" / "readme" / "state-files.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip().split()[0].strip("`"): line for line in doc.splitlines()
            if line.startswith("| `")}
    for kind, model in PAYLOAD_MODELS.items():
        assert kind in rows, f"docs/readme/state-files.md does not document the event kind {kind!r}"
        for name in model.model_fields:
            assert f"`{name}`" in rows[kind], (
                f"state-files.md: field {name!r} of {kind!r} is not documented ({REGEN})")
    for model in (GoalState, TaskGraph, Task, Proof, GateResult):
        line = next(ln for ln in doc.splitlines() if ln.startswith(f"- **{model.__name__}**"))
        for name in model.model_fields:
            assert f"`{name}`" in line, (
                f"state-files.md: field {name!r} of {model.__name__} is not documented ({REGEN})")
