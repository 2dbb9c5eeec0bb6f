"""Slice planning (seed 003): which tasks become slices, their order, overlaps, gates and names."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from omk_tui.models.tasks import GOAL_EXECUTE_TASK_ID, Task, TaskGraph, TaskStatus
from omk_tui.planning.slices import SlicePlan, SlicePlanError, plan_slices


def task(tid: str, *, writes=(), reads=(), deps=(), owner: str | None = "executor", **kw) -> Task:
    return Task(id=tid, title=f"Task {tid}", owner_role=owner, write_set=list(writes), read_set=list(reads),
                dependencies=list(deps), **kw)


def plan(*tasks: Task, **kw) -> SlicePlan:
    return plan_slices(TaskGraph(goal_id="g1", tasks=list(tasks)), **kw)


def overlaps(p: SlicePlan) -> list[tuple[str, str, str, str]]:
    return [(o.blocked_slice_id, o.serializes_after, o.kind, o.path) for o in p.overlap_serializations]


# --- overlap kinds ------------------------------------------------------------------------------------------------

def test_write_write_overlap_serializes_the_later_slice():
    p = plan(task("a", writes=["src/x.py"]), task("b", writes=["src/x.py"]))
    assert overlaps(p) == [("b", "a", "write_write", "src/x.py")]
    assert p.by_id()["b"].dependencies == ["a"]
    assert p.by_id()["a"].dependencies == []


def test_write_read_overlap_is_our_write_against_their_read():
    p = plan(task("a", writes=["docs"], reads=["src/x.py"]), task("b", writes=["src/x.py"]))
    assert overlaps(p) == [("b", "a", "write_read", "src/x.py")]


def test_read_write_overlap_is_our_read_against_their_write():
    p = plan(task("a", writes=["src/x.py"]), task("b", writes=["docs"], reads=["src/x.py"]))
    assert overlaps(p) == [("b", "a", "read_write", "src/x.py")]


def test_reads_alone_never_conflict():
    p = plan(task("a", writes=["a.txt"], reads=["src"]), task("b", writes=["b.txt"], reads=["src"]))
    assert overlaps(p) == []
    assert p.by_id()["b"].dependencies == []


def test_the_first_kind_wins_write_write_then_write_read_then_read_write():
    # b overlaps a three ways: write/write on w, write/read on r, read/write on w2.
    a = task("a", writes=["w", "w2"], reads=["r"])
    b = task("b", writes=["r", "w"], reads=["w2"])
    assert overlaps(plan(a, b)) == [("b", "a", "write_write", "w")]
    # Without the write/write overlap, write/read comes before read/write.
    b = task("b", writes=["r"], reads=["w2"])
    assert overlaps(plan(a, b)) == [("b", "a", "write_read", "r")]


def test_the_reported_path_is_the_first_conflicting_path_in_the_tasks_own_order():
    a = task("a", writes=["y", "x"])
    b = task("b", writes=["z", "x", "y"])
    assert overlaps(plan(a, b)) == [("b", "a", "write_write", "x")]


def test_paths_are_normalised_before_comparing_and_in_the_plan():
    a = task("a", writes=["./src//app.py/"])
    b = task("b", writes=["src/app.py", " src/app.py "], reads=["./docs/"])
    p = plan(a, b)
    assert overlaps(p) == [("b", "a", "write_write", "src/app.py")]
    assert p.by_id()["a"].write_set == ["src/app.py"]
    assert p.by_id()["b"].write_set == ["src/app.py"]
    assert p.by_id()["b"].read_set == ["docs"]


# --- parent/child paths and the wildcard ------------------------------------------------------------------------

def test_a_parent_folder_conflicts_with_a_path_under_it_both_ways():
    p = plan(task("a", writes=["src"]), task("b", writes=["src/app/main.py"]))
    assert overlaps(p) == [("b", "a", "write_write", "src/app/main.py")]
    p = plan(task("a", writes=["src/app/main.py"]), task("b", writes=["src"]))
    assert overlaps(p) == [("b", "a", "write_write", "src")]


def test_a_name_prefix_is_not_a_parent_folder():
    p = plan(task("a", writes=["src"]), task("b", writes=["srcs/x", "src2"], reads=["sr"]))
    assert overlaps(p) == []


def test_the_project_files_wildcard_conflicts_with_everything():
    p = plan(task("a", writes=["project files"]), task("b", writes=["deep/down/file.txt"]))
    assert overlaps(p) == [("b", "a", "write_write", "deep/down/file.txt")]
    p = plan(task("a", writes=["x.txt"]), task("b", writes=["y.txt"], reads=["project files"]))
    assert overlaps(p) == [("b", "a", "read_write", "project files")]
    p = plan(task("a", writes=["x.txt"], reads=["project files"]), task("b", writes=["y.txt"]))
    assert overlaps(p) == [("b", "a", "write_read", "y.txt")]


# --- already-ordered dependencies ---------------------------------------------------------------------------------

def test_a_direct_dependency_is_not_re_serialised():
    p = plan(task("a", writes=["x"]), task("b", writes=["x"], deps=["a"]))
    assert overlaps(p) == []
    assert p.by_id()["b"].dependencies == ["a"]


def test_a_transitive_dependency_is_not_re_serialised():
    p = plan(task("a", writes=["x"]), task("m", writes=["m"], deps=["a"]), task("b", writes=["x"], deps=["m"]))
    assert overlaps(p) == []
    assert p.by_id()["b"].dependencies == ["m"]


def test_ordering_through_a_task_that_is_not_a_slice_counts_as_ordered():
    # omk's semantics: the closure runs over the whole task graph, and a slice depends only on its task's
    # direct dependencies that are slices, so `b` is ordered after `a` only through `m`, which is no slice.
    p = plan(
        task("a", writes=["x"]),
        task("m", owner=None, writes=["notes.md"], deps=["a"]),
        task("b", writes=["x"], deps=["m"]),
    )
    assert p.order == ["a", "b"]
    assert overlaps(p) == []
    assert p.by_id()["b"].dependencies == []


def test_serialization_edges_do_not_order_later_pairs():
    # The closure is the task graph's, before any serialization edge: c waits for a and for b explicitly.
    p = plan(task("a", writes=["x"]), task("b", writes=["x"]), task("c", writes=["x"]))
    assert overlaps(p) == [
        ("b", "a", "write_write", "x"),
        ("c", "a", "write_write", "x"),
        ("c", "b", "write_write", "x"),
    ]
    assert p.by_id()["c"].dependencies == ["a", "b"]


def test_serializations_follow_slice_order_and_merge_with_task_dependencies():
    p = plan(
        task("a", writes=["x"]), task("b", writes=["y"]), task("c", writes=["docs"]),
        task("d", writes=["y", "x"], deps=["c"]),
    )
    assert overlaps(p) == [("d", "a", "write_write", "x"), ("d", "b", "write_write", "y")]
    assert p.by_id()["d"].dependencies == ["a", "b", "c"]


# --- order and cycles ---------------------------------------------------------------------------------------------

def test_ties_are_broken_by_id_and_the_file_order_does_not_matter():
    tasks = [task("z", writes=["z"]), task("a", writes=["a"], deps=["z"]), task("b", writes=["b"]),
             task("m", writes=["m"], deps=["b"])]
    p = plan(*tasks)
    assert p.order == ["b", "m", "z", "a"]
    assert [s.slice_id for s in p.slices] == p.order
    rng = random.Random(3)
    for _ in range(10):
        shuffled = tasks[:]
        rng.shuffle(shuffled)
        assert plan(*shuffled) == p


def test_a_cycle_is_an_error_naming_the_ids_on_it():
    with pytest.raises(SlicePlanError) as err:
        plan(task("a", writes=["x"], deps=["c"]), task("b", writes=["y"], deps=["a"]),
             task("c", writes=["z"], deps=["b"]), task("d", writes=["w"]))
    assert err.value.reasons == ["dependency cycle: a -> c -> b -> a"]


def test_unknown_and_self_dependencies_are_errors():
    with pytest.raises(SlicePlanError) as err:
        plan(task("a", writes=["x"], deps=["ghost"]), task("b", writes=["y"], deps=["b"]))
    assert "task 'a' depends on unknown task 'ghost'" in err.value.reasons
    assert "task 'b' depends on itself" in err.value.reasons


def test_duplicate_ids_are_an_error():
    with pytest.raises(SlicePlanError) as err:
        plan(task("a", writes=["x"]), task("a", writes=["y"]))
    assert "duplicate task id 'a'" in err.value.reasons


# --- which tasks become slices ------------------------------------------------------------------------------------

def test_which_tasks_become_slices():
    p = plan(
        task("done", writes=["x"], status=TaskStatus.done),
        task("no-writes", reads=["x"]),
        task("no-owner", owner=None, writes=["x"]),
        task("no-owner-project", owner=None, writes=[" project files"]),
        task(GOAL_EXECUTE_TASK_ID, owner=None, writes=["src"]),
        task("empty-owner", owner="", writes=["y"]),
        task("failed", writes=["z"], status=TaskStatus.failed),
        task("running", writes=["r"], status=TaskStatus.running),
    )
    assert sorted(p.order) == sorted([GOAL_EXECUTE_TASK_ID, "empty-owner", "failed", "no-owner-project", "running"])
    by_id = p.by_id()
    assert by_id["no-owner-project"].owner_role == "executor"
    assert by_id[GOAL_EXECUTE_TASK_ID].owner_role == "executor"
    assert by_id["empty-owner"].owner_role == ""


def test_a_done_task_still_orders_its_dependents():
    p = plan(task("a", writes=["x"]), task("d", writes=["x"], deps=["a"], status=TaskStatus.done),
             task("b", writes=["x"], deps=["d"]))
    assert p.order == ["a", "b"]
    assert overlaps(p) == [] and p.by_id()["b"].dependencies == []


def test_an_empty_graph_plans_no_slices():
    p = plan()
    assert p.slices == [] and p.order == [] and p.overlap_serializations == []


# --- gates, review needs, names -----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("risk", "security_gate", "architect_and_security_reviews"),
    [("low", False, False), ("medium", False, True), ("high", True, True), ("security-sensitive", True, True),
     ("High", False, True)],
)
def test_gates_and_review_needs_follow_the_risk(risk, security_gate, architect_and_security_reviews):
    s = plan(task("a", writes=["x"], risk=risk)).slices[0]
    expected_gates = ["acceptance_criteria", "local_verification_wall"]
    if security_gate:
        expected_gates.append("security_review_gate")
    assert s.gates == expected_gates
    expected_reviews = {"anti_slop_review", "code_review", "test_engineer_review"}
    if architect_and_security_reviews:
        expected_reviews |= {"architect_review", "security_review"}
    assert s.review_needs == sorted(expected_reviews)


@pytest.mark.parametrize(
    ("writes", "reads", "performance"),
    [(["benches/parse.rs"], [], True), (["src/x"], ["docs/performance.md"], True), (["src/x"], [], False),
     (["Bench/x"], [], False)],
)
def test_a_performance_review_is_needed_when_a_path_mentions_bench_or_performance(writes, reads, performance):
    s = plan(task("a", writes=writes, reads=reads)).slices[0]
    assert ("performance_review" in s.review_needs) is performance


def test_branch_and_worktree_names():
    p = plan(task("api", writes=["x"]))
    s = p.slices[0]
    assert (s.branch, s.worktree, s.worktree_path) == ("omk/g1/api", "g1/api", None)
    root = Path("/data/omk-tui/worktrees/repo-0123abcd")
    s = plan(task("api", writes=["x"]), goal_id="goal-2", worktrees_root=root).slices[0]
    assert s.branch == "omk/goal-2/api"
    assert s.worktree == "goal-2/api"
    assert s.worktree_path == str(root / "goal-2" / "api")
    assert s.slice_id == s.task_id == "api"
    assert plan(task("api", writes=["x"]), goal_id="goal-2").goal_id == "goal-2"


def test_ids_that_cannot_name_a_branch_or_folder_are_refused():
    with pytest.raises(SlicePlanError) as err:
        plan(task("../escape", writes=["x"]), task("has space", writes=["y"]), task("ok", writes=["z"]))
    assert len(err.value.reasons) == 2
    assert "'../escape'" in err.value.reasons[0] and "'has space'" in err.value.reasons[1]
    with pytest.raises(SlicePlanError) as err:
        plan_slices(TaskGraph(tasks=[task("a", writes=["x"])]))
    assert "no goal id" in err.value.reasons[0]
    with pytest.raises(SlicePlanError):
        plan(task("a", writes=["x"]), goal_id="bad/goal")
    # A task that is no slice needs no branch.
    assert plan(task("not a slice", owner=None, writes=["x"])).slices == []


def test_path_policy_refusals_stop_planning_with_every_reason():
    with pytest.raises(SlicePlanError) as err:
        plan(task("a", writes=["/etc/hosts"], reads=["../up"]), task("b", writes=[".github/workflows/ci.yml"]))
    reasons = err.value.reasons
    assert len(reasons) == 3
    assert all(r.startswith("outside the allowed goal policy roots: task ") for r in reasons)
    assert "'../up'" in reasons[0] and "'/etc/hosts'" in reasons[1] and "'.github/workflows/ci.yml'" in reasons[2]
    p = plan(task("b", writes=[".github/workflows/ci.yml"]), allow_git_paths=True)
    assert p.slices[0].write_set == [".github/workflows/ci.yml"]


def test_every_problem_is_reported_at_once():
    with pytest.raises(SlicePlanError) as err:
        plan(task("a", writes=["~/x"], deps=["b"]), task("b", writes=["y"], deps=["a"]))
    assert err.value.reasons[0] == "dependency cycle: a -> b -> a"
    assert "home folder" in err.value.reasons[1]


def test_the_plan_round_trips_through_json():
    p = plan(task("a", writes=["x"], reads=["y"]), task("b", writes=["y"]), worktrees_root=Path("/w"))
    assert SlicePlan.model_validate_json(p.model_dump_json()) == p
