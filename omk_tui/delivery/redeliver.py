"""`omk-tui deliver GOAL`: run (again) the GitHub delivery of a goal whose work is ready, e.g. after adding the
missing remote or logging in to `gh`; or, with a dry run, only say which pushes and `gh` calls it would make."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from omk_tui.delivery.github import DeliveryOutcome, deliver_sync, record_outcome
from omk_tui.delivery.local import DeliveryRefused, load, resolve
from omk_tui.models.events import make_event
from omk_tui.models.goal import GoalFailure, GoalPhase, GoalState, GoalStatus
from omk_tui.models.proof import Proof
from omk_tui.state import store
from omk_tui.state.eventlog import EventLog

PR_POLICIES = ("draft-pr", "auto-pr")
MERGE_POLICIES = ("disabled", "manual", "gated")
# Delivery statuses a blocked goal has only once its work passed every readiness check.
_ATTEMPTED = ("blocked", "pr_opened")


def check_deliverable(state: GoalState, proof: Proof | None) -> None:
    gid = state.goal_id
    if proof is None:
        raise DeliveryRefused(f"goal {gid} has no proof.json yet: it has not finished; `omk-tui show {gid}` says where it is")
    status = proof.delivery.status
    if status == "accepted":
        raise DeliveryRefused(f"goal {gid} was already accepted into the base branch (merge commit {proof.delivery.merge_commit})")
    if status == "rejected":
        raise DeliveryRefused(f"goal {gid} was rejected ({proof.delivery.detail}); nothing to deliver")
    if status == "merged":
        raise DeliveryRefused(f"goal {gid} is already delivered: merged {', '.join(proof.delivery.pr_urls)}")
    if state.status is GoalStatus.ready:
        return
    if state.status in (GoalStatus.blocked_on_human, GoalStatus.blocked_on_external) and status in _ATTEMPTED:
        return
    reason = f": {state.failure.reason}" if state.failure else ""
    raise DeliveryRefused(f"goal {gid} is {state.status.value}{reason}; only a goal whose work is ready can be "
                          f"delivered (`omk-tui resume {gid}` carries on a stopped one)")


def apply_overrides(state: GoalState, policy: str | None, merge_policy: str | None) -> None:
    if policy:
        state.options.delivery_policy = policy
    if merge_policy:
        state.options.merge_policy = merge_policy
    if policy == "local":
        return  # switched to local delivery: the goal waits for `omk-tui accept`
    if state.options.delivery_policy not in PR_POLICIES:
        raise DeliveryRefused(
            f"goal {state.goal_id} uses {state.options.delivery_policy!r} delivery; pass --policy draft-pr or "
            f"--policy auto-pr to open a pull request, or merge it locally with `omk-tui accept {state.goal_id}`")


def local_outcome(state: GoalState, *, dry_run: bool = False) -> DeliveryOutcome:
    """Delivery switched to local (`--policy local`, e.g. where `gh` is missing): nothing is pushed; the goal's
    verified integration branch waits for `omk-tui accept` or `reject`."""
    gid = state.goal_id
    action = f"switch {gid} to local delivery: nothing pushed; the integration branch waits for `omk-tui accept {gid}`"
    return DeliveryOutcome(status="ready", detail=f"local delivery: review and run `omk-tui accept {gid}`",
                           delivery_status="pending", actions=[action], dry_run=dry_run)


def _apply_outcome(paths: store.GoalPaths, state: GoalState, proof: Proof, outcome: DeliveryOutcome) -> None:
    from omk_tui.control import execution

    gid = state.goal_id
    policy = state.options.delivery_policy
    proof.delivery = outcome.to_delivery(policy)
    if outcome.blocker:
        state.status = GoalStatus.blocked_on_human if outcome.human_decision else GoalStatus.blocked_on_external
        state.failure = GoalFailure(kind=state.status.value, reason=outcome.blocker,
                                    next_action=f"fix it, then `omk-tui deliver {gid}`")
        proof.readiness, proof.blocker = "blocked", outcome.blocker
        proof.summary = f"{state.status.value}: {outcome.blocker}"
        proof.human_decisions_required = [outcome.human_decision] if outcome.human_decision else []
    else:
        state.status, state.phase, state.failure = GoalStatus.ready, GoalPhase.done, None
        state.completed_at = datetime.now(timezone.utc)
        proof.readiness, proof.blocker, proof.human_decisions_required = "ready", None, []
        proof.summary = (f"ready: {len(proof.commits)} slice commit(s) integrated, every required gate passes; "
                         f"{outcome.detail}")
        if policy == "local":
            proof.human_decisions_required = [
                f"accept the integration branch {state.integration_branch}: `omk-tui accept {gid}` "
                f"(or reject it: `omk-tui reject {gid} --reason ...`)"]
    proof.status = state.status
    # the controller rebuilds the proof from execution.json on a resume: keep it in step; a blocked delivery is
    # not "delivered", so a resume tries it again
    exe = execution.load_execution(paths)
    exe.delivered, exe.delivery = outcome.blocker is None, proof.delivery.model_dump(mode="json")
    execution.save_execution(paths, exe)
    store.save_proof(paths, proof)
    store.save_goal(paths, state)
    record_outcome(paths, policy, outcome)
    log = EventLog(paths.events)
    try:
        log.append(make_event(gid, "delivery", {"policy": policy, "status": outcome.status, "detail": outcome.detail,
                                                "pr_urls": list(outcome.pr_urls)}, actor="user"))
        log.append(make_event(gid, "status_changed", {"status": state.status.value, "reason": outcome.blocker or ""},
                              actor="user"), durable=True)
    finally:
        log.close()


def redeliver(repo: Path, goal_ref: str, *, policy: str | None = None, merge_policy: str | None = None,
              dry_run: bool = False, gh: str = "gh", config=None, poll_secs: float = 10.0,
              no_checks_grace_secs: float = 30.0) -> DeliveryOutcome:
    """Deliver a ready goal through GitHub; with `dry_run` nothing is pushed, opened or written."""
    from omk_tui.delivery.guard import goal_write_lock, refuse_if_running

    repo = Path(repo)
    paths = resolve(repo, goal_ref)
    kw = dict(config=config, gh=gh, poll_secs=poll_secs, no_checks_grace_secs=no_checks_grace_secs)

    def outcome_of(state: GoalState, proof: Proof) -> DeliveryOutcome:
        check_deliverable(state, proof)
        apply_overrides(state, policy, merge_policy)  # on a dry run, on the loaded copy only
        if policy == "local":
            return local_outcome(state, dry_run=dry_run)
        return deliver_sync(paths, state, proof, store.load_task_graph(paths), dry_run=dry_run, **kw)

    if dry_run:
        refuse_if_running(paths, "deliver")
        return outcome_of(*load(paths))
    with goal_write_lock(paths, "deliver"):
        state, proof = load(paths)
        outcome = outcome_of(state, proof)
        _apply_outcome(paths, state, proof, outcome)
        return outcome
