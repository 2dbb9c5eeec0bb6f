"""The goals list's data: read each goal's small snapshots, never its whole event log (cheap for 200 goals)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from omk_tui.state.store import goal_paths, list_goal_ids
from omk_tui.ui.messages import GoalSummary

DONE_TASKS = ("done",)


def _parse_ts(value) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def summarize(repo: Path, goal_id: str) -> GoalSummary:
    paths = goal_paths(repo, goal_id)
    try:
        data = json.loads(paths.goal_json.read_bytes())
    except FileNotFoundError:
        return GoalSummary(goal_id, "", "running", "intake", None, problem="starting…")
    except (OSError, ValueError) as exc:
        return GoalSummary(goal_id, "", "failed_infra", "-", None, problem=f"unreadable goal.json: {exc}")
    done = total = 0
    try:
        graph = json.loads(paths.task_graph_json.read_bytes())
        tasks = [t for t in graph.get("tasks", []) if t.get("status") != "rejected"]
        total = len(tasks)
        done = sum(1 for t in tasks if t.get("status") in DONE_TASKS)
    except (OSError, ValueError, AttributeError):
        pass
    return GoalSummary(
        goal_id=goal_id,
        goal=str(data.get("original_goal") or data.get("normalized_goal") or ""),
        status=str(data.get("status", "running")),
        phase=str(data.get("phase", "intake")),
        created_at=_parse_ts(data.get("created_at")),
        done=done,
        total=total,
    )


def scan_goals(repo: Path) -> list[GoalSummary]:
    """Every goal of the repository, newest first."""
    return [summarize(repo, gid) for gid in list_goal_ids(repo)]
