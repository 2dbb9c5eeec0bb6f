"""`plan_slices` against a straightforward port of omk's planner (seed 003), on thousands of random graphs.

`reference_plan` is the seed, line for line: a repeated scan for the smallest ready id, closures by recursion,
every earlier slice compared path by path. It is deliberately slow and obviously right; the benchmark uses it too.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omk_tui.models.tasks import GOAL_EXECUTE_TASK_ID, Task, TaskGraph, TaskStatus
from omk_tui.planning.slices import (
    OverlapSerialization,
    Slice,
    SlicePlan,
    SlicePlanError,
    plan_slices,
    planning_problems,
)


# --- the port ---------------------------------------------------------------------------------------------------

def _normalize_goal_path(path: str) -> str | None:
    trimmed = path.strip()
    if trimmed == "project files":
        return trimmed
    if trimmed.startswith("/"):
        return None
    parts = []
    for component in trimmed.split("/"):
        if component in ("", "."):
            continue
        if component == "..":
            return None
        parts.append(component)
    return "/".join(parts) if parts else None


def _display_goal_path(path: str) -> str:
    normalized = _normalize_goal_path(path)
    return normalized if normalized is not None else path.strip()


def _is_path_prefix(parent: str, child: str) -> bool:
    return child.startswith(parent) and child[len(parent):].startswith("/")


def _paths_conflict(candidate: str, accepted: str) -> bool:
    c = _normalize_goal_path(candidate)
    a = _normalize_goal_path(accepted)
    if c is None or a is None:
        return False
    return c == "project files" or a == "project files" or c == a or _is_path_prefix(c, a) or _is_path_prefix(a, c)


def _first_conflicting_path(candidate: list[str], accepted: list[str]) -> str | None:
    for candidate_path in candidate:
        for accepted_path in accepted:
            if _paths_conflict(candidate_path, accepted_path):
                return _display_goal_path(candidate_path)
    return None


def _first_access_overlap(task: Task, prior_write: list[str], prior_read: list[str]) -> tuple[str, str] | None:
    path = _first_conflicting_path(task.write_set, prior_write)
    if path is not None:
        return "write_write", path
    path = _first_conflicting_path(task.write_set, prior_read)
    if path is not None:
        return "write_read", path
    path = _first_conflicting_path(task.read_set, prior_write)
    if path is not None:
        return "read_write", path
    return None


def _delivery_task_ids(graph: TaskGraph) -> set[str]:
    def writes_project_files(task: Task) -> bool:
        return task.id == GOAL_EXECUTE_TASK_ID or any(p.strip() == "project files" for p in task.write_set)

    return {
        t.id for t in graph.tasks
        if t.status != TaskStatus.done and t.write_set and (t.owner_role is not None or writes_project_files(t))
    }


def _topological_task_ids(graph: TaskGraph) -> list[str]:
    by_id = graph.by_id()
    remaining = sorted(by_id)
    emitted: set[str] = set()
    ordered = []
    while remaining:
        ready = next((tid for tid in remaining if all(d in emitted for d in by_id[tid].dependencies)), None)
        if ready is None:
            raise SlicePlanError(["task graph contains a dependency cycle"])
        remaining.remove(ready)
        emitted.add(ready)
        ordered.append(ready)
    return ordered


def _dependency_closure(task: Task, by_id: dict[str, Task]) -> set[str]:
    closure: set[str] = set()
    stack = [task]
    while stack:  # the seed recurses; an explicit stack keeps 5,000-long chains within Python's limits
        current = stack.pop()
        for dep in current.dependencies:
            if dep in closure:
                continue
            closure.add(dep)
            if dep in by_id:
                stack.append(by_id[dep])
    return closure


def _gates(task: Task) -> list[str]:
    gates = {"acceptance_criteria", "local_verification_wall"}
    if task.risk == "high" or "security" in task.risk:
        gates.add("security_review_gate")
    return sorted(gates)


def _reviews(task: Task) -> list[str]:
    reviews = {"anti_slop_review", "code_review", "test_engineer_review"}
    if task.risk != "low":
        reviews |= {"architect_review", "security_review"}
    if any("bench" in p or "performance" in p for p in task.write_set + task.read_set):
        reviews.add("performance_review")
    return sorted(reviews)


def reference_plan(graph: TaskGraph, *, goal_id: str | None = None, worktrees_root: Path | None = None) -> SlicePlan:
    goal = graph.goal_id if goal_id is None else goal_id
    problems = planning_problems(graph, goal)
    if problems:
        raise SlicePlanError(problems)
    delivery = _delivery_task_ids(graph)
    by_id = graph.by_id()
    closures = {t.id: _dependency_closure(t, by_id) for t in graph.tasks}
    slices: list[Slice] = []
    raw_scopes: list[tuple[list[str], list[str]]] = []
    serializations: list[OverlapSerialization] = []
    for task_id in _topological_task_ids(graph):
        if task_id not in delivery:
            continue
        task = by_id[task_id]
        dependencies = {d for d in task.dependencies if d in delivery}
        for prior, (prior_write, prior_read) in zip(slices, raw_scopes):
            overlap = _first_access_overlap(task, prior_write, prior_read)
            if overlap is None:
                continue
            if prior.task_id in closures[task.id]:
                continue
            dependencies.add(prior.slice_id)
            serializations.append(OverlapSerialization(
                blocked_slice_id=task.id, serializes_after=prior.slice_id, kind=overlap[0], path=overlap[1],
            ))
        raw_scopes.append((sorted(set(task.write_set)), sorted(set(task.read_set))))
        slices.append(Slice(
            slice_id=task.id,
            task_id=task.id,
            title=task.title,
            owner_role=task.owner_role if task.owner_role is not None else "executor",
            risk=task.risk,
            dependencies=sorted(dependencies),
            read_set=sorted({_normalize_goal_path(p) for p in task.read_set}),
            write_set=sorted({_normalize_goal_path(p) for p in task.write_set}),
            gates=_gates(task),
            review_needs=_reviews(task),
            branch=f"omk/{goal}/{task.id}",
            worktree=f"{goal}/{task.id}",
            worktree_path=str(Path(worktrees_root) / goal / task.id) if worktrees_root is not None else None,
        ))
    return SlicePlan(goal_id=goal, slices=slices, overlap_serializations=serializations,
                     order=[s.slice_id for s in slices])


# --- random graphs ----------------------------------------------------------------------------------------------

# Parents and children, siblings, a name that is a prefix but not a parent (`a` vs `ab`), spellings that
# normalise to the same path, the wildcard, and paths that ask for a performance review.
PATHS = [
    "a", "a/b", "a/b/c", "a/c", "ab", "ab/c", "b", "b/a", "./a//b/", "a/./c", " b ", "project files",
    " project files", "./project files", "bench/x", "a/performance.md",
]
IDS = [f"t{i}" for i in range(10)] + [GOAL_EXECUTE_TASK_ID, "T1", "a-1", "z"]


STATUSES = [TaskStatus.pending, TaskStatus.pending, TaskStatus.pending, TaskStatus.running, TaskStatus.done,
            TaskStatus.failed]
OWNERS = ["executor", "executor", "implementer", None, ""]
RISKS = ["low", "medium", "high", "security-sensitive"]


class _Digits:
    """Reads small choices out of one big integer. Hypothesis shrinks integers towards 0, which decodes to the
    simplest task (pending, no owner, no dependencies, empty scopes), and one draw per task keeps thousands of
    examples fast."""

    def __init__(self, value: int):
        self.value = value

    def take(self, base: int) -> int:
        self.value, digit = divmod(self.value, base)
        return digit


@st.composite
def task_graphs(draw, max_tasks: int = 9) -> TaskGraph:
    ids = draw(st.lists(st.sampled_from(IDS), min_size=0, max_size=max_tasks, unique=True))
    # Dependencies only point backwards in a random permutation, so most graphs are acyclic; an occasional
    # back edge makes a cycle, which both planners must refuse.
    tasks = []
    for i, tid in enumerate(ids):
        d = _Digits(draw(st.integers(0, 2**96)))
        deps = [ids[j] for j in range(i) if d.take(4) == 3]
        read_set = [PATHS[d.take(len(PATHS))] for _ in range(d.take(5))]
        write_set = [PATHS[d.take(len(PATHS))] for _ in range(d.take(5))]
        tasks.append(Task(
            id=tid,
            title=f"task {tid}",
            status=STATUSES[d.take(len(STATUSES))],
            owner_role=OWNERS[d.take(len(OWNERS))],
            dependencies=deps,
            read_set=read_set,
            write_set=write_set,
            risk=RISKS[d.take(4)],
        ))
    if len(tasks) >= 2 and draw(st.integers(0, 39)) == 1:
        tasks[0].dependencies.append(tasks[-1].id)
    return TaskGraph(goal_id="goal-1", tasks=tasks)


def _plan_or_error(planner, graph: TaskGraph, **kwargs):
    try:
        return planner(graph, **kwargs).model_dump()
    except SlicePlanError:
        return "error"


@pytest.mark.timeout(120)
@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(task_graphs())
def test_plan_slices_matches_the_reference_on_random_graphs(graph: TaskGraph):
    assert _plan_or_error(plan_slices, graph) == _plan_or_error(reference_plan, graph)


@pytest.mark.timeout(120)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(task_graphs(max_tasks=14))
def test_plan_slices_matches_the_reference_with_a_worktrees_root(graph: TaskGraph):
    root = Path("/data/omk-tui/worktrees/repo-1234abcd")
    assert _plan_or_error(plan_slices, graph, worktrees_root=root) == _plan_or_error(
        reference_plan, graph, worktrees_root=root
    )


def test_the_reference_agrees_on_a_dense_generated_graph():
    from tests.benchmarks.bench_slices import dense_graph

    graph = dense_graph(120, seed=7)
    ours = plan_slices(graph)
    assert ours.model_dump() == reference_plan(graph).model_dump()
    assert len(ours.overlap_serializations) > 50  # dense enough to exercise every overlap kind
    assert {o.kind for o in ours.overlap_serializations} == {"write_write", "write_read", "read_write"}
