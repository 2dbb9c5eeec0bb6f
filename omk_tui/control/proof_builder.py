"""Building `proof.json` from the controller's snapshots: ready only with evidence."""

from __future__ import annotations

from omk_tui.models.goal import GoalStatus
from omk_tui.models.proof import Delivery, Proof, SliceOutcome


def build_proof(ctl, blocker: str | None) -> Proof:
    st, exe = ctl.state, ctl.exec
    slices: list[SliceOutcome] = []
    changed: list[str] = []
    commits: list[str] = []
    wm = None
    try:
        wm = ctl._worktrees()
    except Exception:
        pass
    for sid in exe.order:
        rec = exe.slices[sid]
        slices.append(SliceOutcome(
            slice_id=sid, task_id=rec.task_id, branch=wm.branch_for(sid) if wm else f"omk/{st.goal_id}/{sid}",
            worktree=str(wm.path_for(sid)) if wm else None, status=rec.state, reason=rec.reason,
            attempts=rec.attempts,
            commit=rec.commit, changed_files=rec.changed_files, gates=rec.gates,
        ))
        if rec.state in ("committed", "merged"):
            changed += [f for f in rec.changed_files if f not in changed]
            if rec.commit:
                commits.append(rec.commit)
    reviews = [r for rec in exe.slices.values() for r in rec.reviews] + list(exe.goal_reviews or [])
    gaps: list[str] = []
    if exe.review_gap:
        gaps.append(exe.review_gap)
    elif exe.goal_reviews is None:
        gaps.append("review wall not run")
    if exe.final is None:
        gaps.append("post-integration gates not run")
    gaps += [f"task {r['task_id']!r} rejected at intake: {r['reason']}" for r in exe.rejected_tasks]
    unreadable = ctl.view_gaps()
    if unreadable:
        gaps.append(f"{unreadable} unreadable event-log line(s)")
    humans: list[str] = []
    if st.status is GoalStatus.ready and st.options.delivery_policy == "local":
        humans.append(f"accept the integration branch {st.integration_branch}: `omk-tui accept {st.goal_id}` "
                      f"(or reject it: `omk-tui reject {st.goal_id} --reason ...`)")
    if blocker and st.status is GoalStatus.blocked_on_human:
        humans.append(blocker)
    if st.status is GoalStatus.paused:
        humans.append(f"resume it when you are ready: `omk-tui resume {st.goal_id}`")
    ready = st.status is GoalStatus.ready and blocker is None
    if ready:
        readiness, summary = "ready", f"ready: {len(commits)} slice commit(s) integrated, every required gate passes"
    elif st.status in (GoalStatus.running,):
        readiness, summary = "not_ready", "in progress"
    else:
        readiness = "blocked" if st.status in (GoalStatus.blocked_on_human, GoalStatus.blocked_on_external) else "not_ready"
        why = blocker or (st.failure.reason if st.failure else "")
        # `paused by the user`, not `paused: paused by the user`
        summary = why if why.startswith(st.status.value) else f"{st.status.value}: {why}"
    return Proof(
        goal_id=st.goal_id, status=st.status, readiness=readiness, summary=summary, base_commit=st.base_commit,
        integration_branch=st.integration_branch, integration_commit=exe.integration_commit,
        baseline_gates=exe.baseline or [], final_gates=exe.final or [], post_mutation_gates_ran=exe.final is not None,
        changed_files=changed, commits=commits, slices=slices, review_results=reviews, known_gaps=gaps,
        human_decisions_required=humans, blocker=None if ready else (blocker or (st.failure.reason if st.failure else None)),
        delivery=Delivery.model_validate(exe.delivery) if exe.delivery else Delivery(
            policy=st.options.delivery_policy, status="pending" if ready else "not_delivered"),
        budget=st.budget.model_dump(mode="json"),
    )
