"""Checking an agent's proposed tasks (seed 004): each one is accepted or rejected with a reason."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import ValidationError

from omk_tui.models.tasks import GOAL_EXECUTE_TASK_ID, PROJECT_FILES, Task, TaskStatus, find_cycle

OUTSIDE_ROOTS = "outside the allowed goal policy roots"
OVER_BUDGET = "would exceed goal time budget"


@dataclass
class Verdict:
    raw: dict
    task: Task | None
    accepted: bool
    reason: str = ""
    budget_snapshot: dict = field(default_factory=dict)


def _path_problems(task: Task) -> list[str]:
    from omk_tui.planning.path_policy import check_task_paths

    return check_task_paths(task)


def _name_problem(task_id: str) -> str | None:
    """Why a task id cannot be accepted: it names the slice's git branch and worktree folder."""
    from omk_tui.planning.slices import NAME_RULE, is_safe_name

    if is_safe_name(task_id):
        return None
    return f"malformed task (id {task_id!r} cannot name a git branch or folder; {NAME_RULE})"


def review_proposals(
    proposals: list, *, existing_ids: set[str] | None = None, time_left_secs: float | None = None
) -> list[Verdict]:
    """Accept or reject each proposal: shape, id, duplicate id, path policy, time budget, unknown deps, cycles.

    Whatever is accepted (with the `existing_ids` tasks) forms a graph that `plan_slices` can plan."""
    existing_ids = set(existing_ids or ())
    verdicts: list[Verdict] = []
    seen: set[str] = set()
    for raw in proposals:
        raw = raw if isinstance(raw, dict) else {"value": raw}
        try:
            task = Task.model_validate({k: v for k, v in raw.items() if k in Task.model_fields})
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(x) for x in first["loc"])
            verdicts.append(Verdict(raw, None, False, f"malformed task ({where}: {first['msg']})"))
            continue
        task.status = TaskStatus.pending
        if not task.owner_role and task.write_set:
            task.owner_role = "implementer"
        if not task.id.strip() or not task.title.strip():
            verdicts.append(Verdict(raw, task, False, "malformed task (empty id or title)"))
            continue
        if (problem := _name_problem(task.id)) is not None:
            verdicts.append(Verdict(raw, task, False, problem))
            continue
        if task.id in seen or task.id in existing_ids:
            verdicts.append(Verdict(raw, task, False, f"duplicate task id {task.id!r}"))
            continue
        seen.add(task.id)
        problems = _path_problems(task)
        if problems:
            verdicts.append(Verdict(raw, task, False, f"{OUTSIDE_ROOTS}: {problems[0]}"))
            continue
        if task.budget_secs is not None and task.budget_secs <= 0:
            verdicts.append(Verdict(raw, task, False, "malformed task (budget_secs must be positive)"))
            continue
        if time_left_secs is not None and task.budget_secs is not None and task.budget_secs > time_left_secs:
            verdicts.append(Verdict(
                raw, task, False,
                f"{OVER_BUDGET} (task needs {task.budget_secs:.0f}s, the goal has {time_left_secs:.0f}s left)",
            ))
            continue
        verdicts.append(Verdict(raw, task, True, budget_snapshot={
            "task_budget_secs": task.budget_secs, "goal_time_left_secs": time_left_secs,
        }))

    # Dependencies: unknown or rejected ones reject the dependent task, repeatedly, then cycles.
    changed = True
    while changed:
        changed = False
        ok_ids = {v.task.id for v in verdicts if v.accepted and v.task} | existing_ids
        for v in verdicts:
            if not v.accepted or v.task is None:
                continue
            for dep in v.task.dependencies:
                if dep == v.task.id:
                    v.accepted, v.reason = False, f"task {v.task.id!r} depends on itself"
                elif dep not in ok_ids:
                    known = any(x.task and x.task.id == dep for x in verdicts)
                    v.accepted = False
                    v.reason = f"depends on rejected task {dep!r}" if known else f"unknown dependency {dep!r}"
                if not v.accepted:
                    changed = True
                    break
    accepted_tasks = [v.task for v in verdicts if v.accepted and v.task]
    cycle = find_cycle(accepted_tasks)
    while cycle:
        on_cycle = set(cycle)
        for v in verdicts:
            if v.accepted and v.task and v.task.id in on_cycle:
                v.accepted, v.reason = False, "dependency cycle: " + " -> ".join(cycle)
        accepted_tasks = [v.task for v in verdicts if v.accepted and v.task]
        cycle = find_cycle(accepted_tasks)
    # tasks depending on tasks rejected for a cycle
    changed = True
    while changed:
        changed = False
        ok_ids = {v.task.id for v in verdicts if v.accepted and v.task} | existing_ids
        for v in verdicts:
            if v.accepted and v.task and any(d not in ok_ids for d in v.task.dependencies):
                bad = next(d for d in v.task.dependencies if d not in ok_ids)
                v.accepted, v.reason, changed = False, f"depends on rejected task {bad!r}", True
    return verdicts


def fallback_task(goal: str) -> Task:
    """No usable plan: one task that may write the whole project."""
    return Task(
        id=GOAL_EXECUTE_TASK_ID,
        title="Implement the goal",
        description=goal,
        write_set=[PROJECT_FILES],
        owner_role="implementer",
        acceptance=["the verification gates pass"],
    )
