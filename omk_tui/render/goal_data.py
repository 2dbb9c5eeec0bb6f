"""Plain dicts of a goal for `--json` output (stable keys, JSON-ready)."""

from __future__ import annotations

from datetime import datetime, timezone

from omk_tui.control.lock import INTERRUPTED
from omk_tui.projection import GoalView, permission_label
from omk_tui.state.reader import GoalBundle
from omk_tui.state.summary import GoalSummary


def _iso(when: datetime | None) -> str | None:
    return when.isoformat().replace("+00:00", "Z") if when else None


def created_at(b: GoalBundle) -> datetime | None:
    if b.state is not None:
        return b.state.created_at
    v = b.view
    return (v.created_at or v.first_ts) if v is not None else None


def goal_row(s: GoalSummary, now: datetime | None = None) -> dict:
    """One line of `omk-tui goals` (from the goal's snapshots, see `state.summary`)."""
    now = now or datetime.now(timezone.utc)
    age = (now - s.created_at).total_seconds() if s.created_at else None
    return {
        "id": s.goal_id,
        "status": s.status,
        "phase": s.phase,
        "goal": s.goal,
        "progress": {"done": s.done, "total": s.total},
        "created_at": _iso(s.created_at),
        "age_secs": round(age, 3) if age is not None else None,
        "problems": [s.problem] if s.problem else [],
    }


def budget_dict(b: GoalBundle) -> dict:
    """Limits, spent and left: the goal.json budget, with the tokens/USD the event log counted when more."""
    v = b.view or GoalView(goal_id=b.goal_id)
    budget = b.state.budget.model_dump() if b.state is not None else dict(v.budget)
    spent = v.spent(budget=budget)  # the tokens/USD the event log counted when more than recorded
    out = {
        "time_secs": budget.get("time_secs"),
        "tokens": budget.get("tokens"),
        "usd": budget.get("usd"),
        "spent_time_secs": float(budget.get("spent_time_secs") or 0.0),
        "spent_tokens": spent["spent_tokens"],
        "spent_usd": round(spent["spent_usd"], 6),
    }
    for limit, spent in (("time_secs", "spent_time_secs"), ("tokens", "spent_tokens"), ("usd", "spent_usd")):
        out[f"left_{limit}"] = None if out[limit] is None else max(0, out[limit] - out[spent])
    out["exhausted"] = [k for k in ("time_secs", "tokens", "usd") if out[k] is not None and out[f"left_{k}"] <= 0]
    return out


def blockers(b: GoalBundle) -> list[str]:
    """Why the goal is not (yet) ready, most specific first, each cause once: the proof's blocker, the goal's
    failure and a blocked slice often say the same thing in other words (`slice s1 is blocked: R`,
    `not_ready: slice s1 is blocked: R`, `slice s1 blocked: R`); a cause already stated is not repeated, only
    its next step added when no line names it yet."""
    out: list[str] = []

    def add(text: str | None, cause: str | None = None, next_action: str | None = None) -> None:
        if not text:
            return
        said = next((i for i, line in enumerate(out) if (cause or text) in line), None)
        then = f" (next: {next_action})" if next_action and not any(next_action in line for line in out) else ""
        if said is None:
            out.append(text + then)
        else:
            out[said] += then

    if b.status == INTERRUPTED:
        add(f"interrupted: no controller is running this goal (it was killed or crashed); "
            f"`omk-tui resume {b.goal_id}` goes on from where it stopped")
    if b.proof is not None and b.status != "running":  # a running goal's proof is from an earlier run
        add(b.proof.blocker)
        for d in b.proof.human_decisions_required:
            add(f"human decision required: {d}")
    if b.state is not None and b.state.failure is not None:
        f = b.state.failure
        add(f"{f.kind}: {f.reason}", f.reason, f.next_action)
    v = b.view
    if v is not None:
        add(v.blocker)
        for s in sorted(v.slices.values(), key=lambda s: s.slice_id):
            if s.state in ("blocked", "failed"):
                add(f"slice {s.slice_id} {s.state}" + (f": {s.reason}" if s.reason else ""), s.reason or None)
        for c in v.conflicts:
            files = ", ".join(c.get("files") or [])
            add(f"merge conflict in slice {c.get('slice_id')}" + (f" ({files})" if files else ""))
        for rid, p in v.permissions.items():
            add(f"permission pending: {permission_label(p.tool, p.command)} [{rid}]")
    return out


def goal_detail(b: GoalBundle) -> dict:
    """Everything `omk-tui show GOAL --json` prints."""
    v = b.view or GoalView(goal_id=b.goal_id)
    graph_tasks = {t.id: t for t in b.graph.tasks} if b.graph is not None else {}
    tasks = []
    for tid in list(graph_tasks) + [t for t in v.tasks if t not in graph_tasks]:
        gt, vt = graph_tasks.get(tid), v.tasks.get(tid)
        tasks.append({
            "id": tid,
            "title": gt.title if gt else (vt.title if vt else ""),
            "status": vt.status if vt else (gt.status.value if gt else ""),
            "dependencies": list(gt.dependencies if gt else (vt.dependencies if vt else [])),
            "write_set": list(gt.write_set if gt else (vt.write_set if vt else [])),
            "read_set": list(gt.read_set if gt else (vt.read_set if vt else [])),
            "risk": gt.risk if gt else (vt.risk if vt else ""),
            "slice": vt.slice_id if vt else None,
            "attempts": vt.attempts if vt else 0,
            "reason": vt.reason if vt else "",
        })
    slices = [
        {"id": s.slice_id, "task": s.task_id, "title": s.title, "state": s.state, "attempt": s.attempt,
         "branch": s.branch, "worktree": s.worktree, "dependencies": list(s.dependencies),
         "write_set": list(s.write_set), "commit": s.commit, "changed_files": list(s.changed_files),
         "insertions": s.insertions, "deletions": s.deletions, "reason": s.reason}
        for s in v.slices.values()
    ]
    gates = []
    for (scope, name), g in v.gates.items():
        r = g.result
        gates.append({"scope": scope, "name": name, "status": g.status, "command_line": g.command_line,
                      "exit_code": r.exit_code if r else None, "duration_ms": r.duration_ms if r else None,
                      "required": r.required if r else None, "log_path": g.log_path,
                      "summary": list(r.summary) if r else []})
    return {
        "id": b.goal_id,
        "goal": b.goal_text,
        "status": b.status,
        "phase": b.phase,
        "readiness": (b.proof.readiness if b.proof else v.readiness) or None,
        "repo": b.state.repo if b.state else v.repo,
        "base_commit": b.state.base_commit if b.state else None,
        "integration_branch": b.state.integration_branch if b.state else None,
        "created_at": _iso(created_at(b)),
        "progress": dict(zip(("done", "total"), v.progress)),
        "tasks": tasks,
        "slices": slices,
        "overlaps": [dict(o) for o in v.overlaps],
        "gates": gates,
        "reviews": [dict(r, scope=scope, kind=kind) for (scope, kind), r in v.reviews.items()],
        "budget": budget_dict(b),
        "blockers": blockers(b),
        "conflicts": [dict(c) for c in v.conflicts],
        "proof": str(b.paths.proof_json) if b.proof is not None else None,
        "events": {"applied": v.events_applied, "last_seq": v.last_seq, "gaps": v.gaps},
        "problems": list(b.problems),
    }
