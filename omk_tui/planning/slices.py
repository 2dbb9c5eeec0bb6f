"""Slice planning (seed 003): which tasks run as slices, in which order, and which must wait for which.

Semantics are omk's, exactly:
- a task becomes a slice when it is not done, has a non-empty write_set, and has an owner role or writes
  `project files` (or is the generic "implement the goal" task);
- slices follow the topological order of all tasks, ties broken by the smallest id;
- a slice depends on its task's direct dependencies that are slices; then, for each earlier slice, the first access
  overlap in the order write/write, write/read (our write vs their read), read/write adds a dependency on it and
  records an overlap serialization, unless the task's dependency closure (over the task graph, before any
  serialization edge) already contains the earlier slice's task;
- gates and review needs follow the task's risk and paths.

omk compares every pair of slices path by path (quadratic in tasks x paths). Here each path maps to bitsets of
the slices that read or write it, its subtree and the wildcard, and closures are bitsets too, so a slice only
pays for the earlier slices it really conflicts with.
"""

from __future__ import annotations

import heapq
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from omk_tui.models.tasks import GOAL_EXECUTE_TASK_ID, PROJECT_FILES, Task, TaskGraph, TaskStatus
from omk_tui.planning.path_policy import OUTSIDE_ROOTS, normalize_scope_path, refused_rule, task_path_refusals
from omk_tui.planning.scope_index import ScopeIndex, bit_positions

OverlapKind = Literal["write_write", "write_read", "read_write"]

BASE_GATES = ("acceptance_criteria", "local_verification_wall")
SECURITY_GATE = "security_review_gate"
BASE_REVIEWS = ("anti_slop_review", "code_review", "test_engineer_review")
DEFAULT_OWNER_ROLE = "executor"

# A slice id and a goal id become a git branch component and a folder name: keep them to plain names.
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*$")
NAME_RULE = "use letters, digits, '.', '_', '-'"


class OverlapSerialization(BaseModel):
    blocked_slice_id: str
    serializes_after: str
    kind: OverlapKind
    path: str


class Slice(BaseModel):
    slice_id: str  # the task id: stable across re-plans, so a resumed goal finds its branch and worktree again
    task_id: str
    title: str
    owner_role: str
    risk: str
    dependencies: list[str] = Field(default_factory=list)  # slice ids, sorted
    read_set: list[str] = Field(default_factory=list)  # normalised, sorted, unique
    write_set: list[str] = Field(default_factory=list)
    gates: list[str] = Field(default_factory=list)
    review_needs: list[str] = Field(default_factory=list)
    branch: str
    worktree: str  # `<goal-id>/<slice-id>`, relative to the worktrees root
    worktree_path: str | None = None  # absolute, when a worktrees root was given


class SlicePlan(BaseModel):
    goal_id: str
    slices: list[Slice] = Field(default_factory=list)
    overlap_serializations: list[OverlapSerialization] = Field(default_factory=list)
    order: list[str] = Field(default_factory=list)  # slice ids in execution (topological) order

    def by_id(self) -> dict[str, Slice]:
        return {s.slice_id: s for s in self.slices}


class SlicePlanError(ValueError):
    """The task graph cannot be planned; `reasons` lists every problem, naming the task ids involved."""

    def __init__(self, reasons: list[str]):
        self.reasons = reasons
        super().__init__("; ".join(reasons))


# --- per-task rules (seed 003) ---------------------------------------------------------------------------------

def is_slice_task(task: Task) -> bool:
    if task.status == TaskStatus.done or not task.write_set:
        return False
    return task.owner_role is not None or writes_project_files(task)


def writes_project_files(task: Task) -> bool:
    return task.id == GOAL_EXECUTE_TASK_ID or any(path.strip() == PROJECT_FILES for path in task.write_set)


def gates_for_task(task: Task) -> list[str]:
    gates = set(BASE_GATES)
    if task.risk == "high" or "security" in task.risk:
        gates.add(SECURITY_GATE)
    return sorted(gates)


def review_needs_for_task(task: Task) -> list[str]:
    reviews = set(BASE_REVIEWS)
    if task.risk != "low":
        reviews.update(("architect_review", "security_review"))
    if any("bench" in path or "performance" in path for path in [*task.write_set, *task.read_set]):
        reviews.add("performance_review")
    return sorted(reviews)


def branch_name(goal_id: str, slice_id: str) -> str:
    return f"omk/{goal_id}/{slice_id}"


def worktree_name(goal_id: str, slice_id: str) -> str:
    return f"{goal_id}/{slice_id}"


# --- validation ------------------------------------------------------------------------------------------------

def planning_problems(graph: TaskGraph, goal_id: str, *, allow_git_paths: bool = False) -> list[str]:
    """Everything that stops `graph` from being planned: graph validation, path policy, unusable names."""
    return graph.problems() + _scope_and_name_problems(graph, goal_id, allow_git_paths=allow_git_paths)


def _scope_and_name_problems(graph: TaskGraph, goal_id: str, *, allow_git_paths: bool) -> list[str]:
    problems = []
    distinct: set[str] = set()
    for task in graph.tasks:
        distinct.update(task.read_set)
        distinct.update(task.write_set)
    if any(refused_rule(path, allow_git_paths) for path in distinct):  # the usual case costs one check per path
        for task in graph.tasks:
            for refusal in task_path_refusals(task, allow_git_paths=allow_git_paths):
                problems.append(f"{OUTSIDE_ROOTS}: {refusal.reason}")
    if not goal_id.strip():
        problems.append(
            "the task graph has no goal id; give one (goal_id, or --goal-id on the command line) "
            "to name branches and worktrees"
        )
    elif not is_safe_name(goal_id):
        problems.append(f"goal id {goal_id!r} cannot name a branch or folder; {NAME_RULE}")
    for task in graph.tasks:
        if is_slice_task(task) and not is_safe_name(task.id):
            problems.append(f"task {task.id!r} would be a slice but its id cannot name a branch or folder; {NAME_RULE}")
    return problems


def is_safe_name(name: str) -> bool:
    """`name` can be a git branch component and a folder name."""
    return bool(_SAFE_NAME.match(name)) and ".." not in name and not name.endswith((".lock", "."))


def topological_order(tasks: list[Task]) -> list[Task] | None:
    """Kahn's algorithm, always taking the smallest ready id: the same order as omk's repeated scan.

    None when some task can never be ordered (a cycle, a duplicate id, an unknown or self dependency).
    """
    by_id = {t.id: t for t in tasks}
    waiting = {t.id: len(set(t.dependencies)) for t in tasks}
    dependents: dict[str, list[str]] = {t.id: [] for t in tasks}
    for t in by_id.values():
        for dep in set(t.dependencies):
            if dep in dependents:
                dependents[dep].append(t.id)
    ready = [tid for tid, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    ordered: list[Task] = []
    while ready:
        tid = heapq.heappop(ready)
        ordered.append(by_id[tid])
        for child in dependents[tid]:
            waiting[child] -= 1
            if waiting[child] == 0:
                heapq.heappush(ready, child)
    return ordered if len(ordered) == len(tasks) else None


# --- planning --------------------------------------------------------------------------------------------------

def plan_slices(
    graph: TaskGraph,
    *,
    goal_id: str | None = None,
    worktrees_root: Path | None = None,
    allow_git_paths: bool = False,
) -> SlicePlan:
    """The slice plan of a task graph; SlicePlanError (with every reason) when the graph cannot be planned."""
    goal = graph.goal_id if goal_id is None else goal_id
    # A graph that orders completely and has ids and titles is valid; only an invalid one pays for the
    # full validation, which names every problem.
    ordered = topological_order(graph.tasks)
    problems = _scope_and_name_problems(graph, goal, allow_git_paths=allow_git_paths)
    if ordered is None or problems or not all(t.id.strip() and t.title.strip() for t in graph.tasks):
        raise SlicePlanError(graph.problems() + problems)

    position = {t.id: i for i, t in enumerate(ordered)}
    # closure[i]: every task (by topological position) that task i depends on, directly or not, before any
    # serialization edge exists: omk asks only whether the task graph already orders two slices.
    closure: list[int] = []
    for task in ordered:
        bits = 0
        for dep in set(task.dependencies):
            p = position[dep]
            bits |= closure[p] | (1 << p)
        closure.append(bits)

    slice_ids = {t.id for t in ordered if is_slice_task(t)}
    normalized: dict[str, str] = {}
    index = ScopeIndex()
    # Plain dicts, validated into models in one call at the end: much cheaper than one model at a time.
    slices: list[dict] = []
    serializations: list[dict] = []

    for number, task in enumerate(ordered):
        if task.id not in slice_ids:
            continue
        writes = _unique_normalized(task.write_set, normalized)
        reads = _unique_normalized(task.read_set, normalized)
        found = _first_overlaps(writes, reads, index, ordered_before=closure[number])
        dependencies = {dep for dep in task.dependencies if dep in slice_ids}
        for prior in sorted(found):
            kind, path = found[prior]
            prior_id = ordered[prior].id
            dependencies.add(prior_id)
            serializations.append({
                "blocked_slice_id": task.id, "serializes_after": prior_id, "kind": kind, "path": path,
            })
        index.add(number, writes, reads)
        slices.append(_make_slice(task, goal, sorted(dependencies), reads, writes, worktrees_root))

    return SlicePlan.model_validate({
        "goal_id": goal,
        "slices": slices,
        "overlap_serializations": serializations,
        "order": [s["slice_id"] for s in slices],
    })


def _unique_normalized(paths: list[str], cache: dict[str, str]) -> list[str]:
    """Normalised paths, first occurrence kept, in the task's own order (the order overlaps are reported in)."""
    out: dict[str, None] = {}
    for path in paths:
        norm = cache.get(path)
        if norm is None:
            norm = cache[path] = normalize_scope_path(path)
        out[norm] = None
    return list(out)


def _first_overlaps(
    writes: list[str], reads: list[str], index: ScopeIndex, *, ordered_before: int,
) -> dict[int, tuple[str, str]]:
    """For each earlier slice not already ordered before this one: its first overlap (kind, path), if any.

    The kinds are tried in omk's order and, within a kind, this task's paths in its own order; a slice claimed
    by an earlier (kind, path) is masked out of the later ones.
    """
    free = ~ordered_before  # the earlier slices still unclaimed, as a mask
    found: dict[int, tuple[str, str]] = {}
    writers, readers = index.writers, index.readers
    for kind, candidates, accessed in (
        ("write_write", writes, writers),
        ("write_read", writes, readers),
        ("read_write", reads, writers),
    ):
        if not accessed.any & free:
            continue
        for path in candidates:
            hit = index.conflicting(path, accessed) & free
            if hit:
                free ^= hit
                claim = (kind, path)
                for prior in bit_positions(hit):
                    found[prior] = claim
    return found


def _make_slice(
    task: Task, goal_id: str, dependencies: list[str], reads: list[str], writes: list[str],
    worktrees_root: Path | None,
) -> dict:
    """The fields of the task's Slice."""
    return {
        "slice_id": task.id,
        "task_id": task.id,
        "title": task.title,
        "owner_role": task.owner_role if task.owner_role is not None else DEFAULT_OWNER_ROLE,
        "risk": task.risk,
        "dependencies": dependencies,
        "read_set": sorted(reads),
        "write_set": sorted(writes),
        "gates": gates_for_task(task),
        "review_needs": review_needs_for_task(task),
        "branch": branch_name(goal_id, task.id),
        "worktree": worktree_name(goal_id, task.id),
        "worktree_path": str(Path(worktrees_root) / goal_id / task.id) if worktrees_root is not None else None,
    }
