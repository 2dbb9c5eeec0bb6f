"""Tasks and the task graph, with validation. Pure data, no I/O."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from pydantic import BaseModel, Field

PROJECT_FILES = "project files"
GOAL_EXECUTE_TASK_ID = "goal-execute"


class TaskStatus(str, Enum):
    pending = "pending"
    running = "running"
    blocked = "blocked"
    done = "done"
    failed = "failed"
    rejected = "rejected"


class Evidence(BaseModel):
    kind: str
    path: str = ""
    summary: str = ""


class Task(BaseModel):
    id: str
    title: str
    description: str = ""
    status: TaskStatus = TaskStatus.pending
    owner_role: str | None = None
    dependencies: list[str] = Field(default_factory=list)
    read_set: list[str] = Field(default_factory=list)
    write_set: list[str] = Field(default_factory=list)
    risk: str = "low"
    acceptance: list[str] = Field(default_factory=list)
    budget_secs: float | None = None
    priority: int = 0
    retry_count: int = 0
    max_retries: int = 3
    lease_expires_at: datetime | None = None
    completed_at: datetime | None = None
    evidence: list[Evidence] = Field(default_factory=list)


class TaskGraphError(ValueError):
    """A task graph is invalid; `problems` lists each error, naming the task ids involved."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


class TaskGraph(BaseModel):
    version: int = 1
    goal_id: str = ""
    generated_at: datetime | None = None
    tasks: list[Task] = Field(default_factory=list)

    def by_id(self) -> dict[str, Task]:
        return {t.id: t for t in self.tasks}

    def problems(self) -> list[str]:
        """Every validation problem (empty when valid)."""
        problems: list[str] = []
        seen: set[str] = set()
        for t in self.tasks:
            if not t.id.strip():
                problems.append(f"a task has an empty id (title {t.title!r})")
            if not t.title.strip():
                problems.append(f"task {t.id!r} has an empty title")
            if t.id in seen:
                problems.append(f"duplicate task id {t.id!r}")
            seen.add(t.id)
        ids = {t.id for t in self.tasks}
        for t in self.tasks:
            for dep in t.dependencies:
                if not dep.strip():
                    problems.append(f"task {t.id!r} has an empty dependency id")
                elif dep == t.id:
                    problems.append(f"task {t.id!r} depends on itself")
                elif dep not in ids:
                    problems.append(f"task {t.id!r} depends on unknown task {dep!r}")
        cycle = find_cycle(self.tasks)
        if cycle:
            problems.append("dependency cycle: " + " -> ".join(cycle))
        return problems

    def validate_graph(self) -> "TaskGraph":
        problems = self.problems()
        if problems:
            raise TaskGraphError(problems)
        return self


def find_cycle(tasks: list[Task]) -> list[str] | None:
    """Return the ids on one dependency cycle (first id repeated at the end), or None."""
    deps = {t.id: [d for d in t.dependencies if d != t.id] for t in tasks}
    WHITE, GREY, BLACK = 0, 1, 2
    colour = {tid: WHITE for tid in deps}
    for root in sorted(deps):
        if colour[root] != WHITE:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        path: list[str] = [root]
        colour[root] = GREY
        while stack:
            node, i = stack[-1]
            children = [d for d in deps.get(node, []) if d in deps]
            if i < len(children):
                stack[-1] = (node, i + 1)
                child = children[i]
                if colour[child] == GREY:
                    start = path.index(child)
                    return path[start:] + [child]
                if colour[child] == WHITE:
                    colour[child] = GREY
                    stack.append((child, 0))
                    path.append(child)
            else:
                colour[node] = BLACK
                stack.pop()
                path.pop()
    return None
