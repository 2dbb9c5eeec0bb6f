"""A goal's one-line summary, read from its small snapshots (`goal.json`, `task-graph.json`), never its event log.

The goals list of the TUI and `omk-tui goals` both use it, so listing 200 goals costs 400 small reads however
long their logs are. Tolerant: a missing or damaged snapshot gives a summary with a `problem`, never an error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from omk_tui.control.lock import shown_status
from omk_tui.models.goal import GoalStatus
from omk_tui.state.store import goal_paths, list_goal_ids

DONE_TASKS = ("done",)
_STATUSES = {s.value for s in GoalStatus}


@dataclass
class GoalSummary:
    """One row of a goals list. Progress is tasks done / tasks not rejected, from `task-graph.json`."""

    goal_id: str
    goal: str
    status: str
    phase: str
    created_at: datetime | None
    done: int = 0
    total: int = 0
    problem: str = ""


def _parse_ts(value) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


def summarize(repo: Path, goal_id: str) -> GoalSummary:
    paths = goal_paths(repo, goal_id)
    try:
        data = json.loads(paths.goal_json.read_bytes())
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
    except FileNotFoundError:
        return GoalSummary(goal_id, "", "running", "intake", None, problem="starting…")
    except (OSError, ValueError) as exc:
        return GoalSummary(goal_id, "", "unknown", "-", None,
                           problem=f"unreadable goal.json: {exc}; `omk-tui show {goal_id}` reads its event log")
    done = total = 0
    problem = ""
    status = str(data.get("status", "running"))
    if status not in _STATUSES or not isinstance(data.get("goal_id"), str):
        problem = (f"goal.json is not a valid goal (status {status!r}); `omk-tui show {goal_id}` says what is wrong")
        status = "unknown"
    try:
        graph = json.loads(paths.task_graph_json.read_bytes())
        tasks = [t for t in graph.get("tasks", []) if t.get("status") != "rejected"]
        total = len(tasks)
        done = sum(1 for t in tasks if t.get("status") in DONE_TASKS)
    except FileNotFoundError:
        pass  # not planned yet
    except (OSError, ValueError, AttributeError) as exc:
        problem = problem or f"unreadable task-graph.json: {exc}"
    return GoalSummary(
        goal_id=goal_id,
        goal=str(data.get("original_goal") or data.get("normalized_goal") or ""),
        status=shown_status(status, paths.lock),
        phase=str(data.get("phase", "intake")),
        created_at=_parse_ts(data.get("created_at")),
        done=done,
        total=total,
        problem=problem,
    )


def scan_goals(repo: Path) -> list[GoalSummary]:
    """Every goal of the repository, newest first."""
    return [summarize(repo, gid) for gid in list_goal_ids(repo)]
