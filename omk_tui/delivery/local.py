"""Local delivery: the person accepts a ready goal (its integration branch is merged into the base branch and the
main working tree) or rejects it (the decision and a rollback plan are recorded; nothing in the tree changes)."""

from __future__ import annotations

import asyncio
import shlex
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from omk_tui.delivery import gitcli
from omk_tui.models.events import make_event
from omk_tui.models.gates import GateResult
from omk_tui.models.goal import GoalFailure, GoalPhase, GoalState, GoalStatus
from omk_tui.models.proof import Delivery, Proof
from omk_tui.state import store
from omk_tui.state.eventlog import EventLog

ACCEPTABLE = (GoalStatus.ready, GoalStatus.blocked_on_human)


class DeliveryRefused(Exception):
    """Accept/reject cannot go ahead; the message says why and what to do. `files` lists files involved."""

    def __init__(self, message: str, files: list[str] | None = None):
        super().__init__(message)
        self.files = list(files or [])


@dataclass
class DecisionOutcome:
    goal_id: str
    status: str  # accepted | rejected
    detail: str
    merge_commit: str | None = None
    fast_forward: bool = False
    gates: list[GateResult] = field(default_factory=list)
    artifacts: list[str] = field(default_factory=list)


def policy_dir(paths: store.GoalPaths) -> Path:
    d = paths.artifacts / "policy"
    d.mkdir(parents=True, exist_ok=True)
    return d


def resolve(repo: Path, goal_ref: str) -> store.GoalPaths:
    try:
        return store.resolve_goal(repo, goal_ref)
    except store.GoalNotFound as exc:
        raise DeliveryRefused(str(exc)) from exc


def load(paths: store.GoalPaths) -> tuple[GoalState, Proof | None]:
    try:
        return store.load_goal(paths), store.load_proof(paths)
    except (store.GoalNotFound, store.StateFileError) as exc:
        raise DeliveryRefused(str(exc)) from exc


def integration_branch_of(state: GoalState, proof: Proof | None) -> str:
    from omk_tui.git import naming

    return state.integration_branch or (proof.integration_branch if proof else None) or naming.integration_branch(state.goal_id)


def base_branch_of(repo: Path, state: GoalState) -> str | None:
    from omk_tui.config import load_config

    base = gitcli.normalise_branch(state.base_ref)
    if base and gitcli.branch_exists(repo, base):
        return base
    configured = load_config(repo).delivery.base_branch
    if configured:
        return configured
    if base:
        return None  # the goal's base branch is gone: never merge into whatever happens to be checked out
    return gitcli.current_branch(repo)  # a goal started on a detached HEAD: the branch checked out now


def _record_event(paths: store.GoalPaths, goal_id: str, payload: dict) -> None:
    log = EventLog(paths.events)
    try:
        log.append(make_event(goal_id, "delivery", payload, actor="user"), durable=True)
    finally:
        log.close()


def _copy_worktree_files(repo: Path, dest: Path) -> None:
    """Files the gates need but git does not track (config `worktrees.copy_files`, e.g. a `.env`)."""
    from omk_tui.config import load_config

    for rel in load_config(repo).worktrees.copy_files:
        src = repo / rel
        if src.is_dir():
            shutil.copytree(src, dest / rel, dirs_exist_ok=True)
        elif src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


async def recheck_gates(repo: Path, paths: store.GoalPaths, commit: str) -> tuple[list[GateResult], str]:
    """Run the repository's gates on `commit` in a throwaway checkout; returns the results and a note."""
    from omk_tui.gates import GateConfigError, resolve_gates, run_gates

    try:
        plan = resolve_gates(repo)
    except GateConfigError as exc:
        raise DeliveryRefused(f"cannot re-check the gates: {exc}") from exc
    specs = [s for s in plan.specs if not s.skip]
    if not specs:
        return [], "no gates are configured or detected, so there was nothing to re-check"
    run_id = f"accept-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}"
    with gitcli.temporary_checkout(repo, commit) as checkout:
        _copy_worktree_files(repo, checkout)
        results = await run_gates(plan.specs, checkout, paths.gate_logs, scope="accept", run_id=run_id)
    failing = [r for r in results if r.blocking]
    if failing:
        names = ", ".join(r.name for r in failing)
        raise DeliveryRefused(
            f"the integration branch no longer passes the gates: {names} failed "
            f"(logs in {paths.gate_logs / run_id}); fix it, or reject the goal with `omk-tui reject`")
    passed = [r.name for r in results if r.passed and not r.skipped]
    allowed = [r.name for r in results if not r.passed and not r.skipped]  # failing, but optional (not blocking)
    skipped = [r.name for r in results if r.skipped]
    note = f"gates re-checked on {commit[:12]}: {', '.join(passed) or 'none'} passed"
    if allowed:
        note += f"; {', '.join(allowed)} failed (optional)"
    if skipped:
        note += f"; {', '.join(skipped)} skipped"
    return results, note


async def accept_goal_async(repo: Path, goal_ref: str, summary: str | None = None, *,
                            check_gates: bool = True) -> DecisionOutcome:
    from omk_tui.delivery.guard import goal_write_lock

    repo = Path(repo)
    paths = resolve(repo, goal_ref)
    with goal_write_lock(paths, "accept"):
        return await _accept_locked(repo, paths, summary, check_gates)


async def _accept_locked(repo: Path, paths: store.GoalPaths, summary: str | None, check_gates: bool) -> DecisionOutcome:
    state, proof = load(paths)
    gid = state.goal_id
    if proof is None:
        raise DeliveryRefused(f"goal {gid} has no proof.json yet: it has not finished; `omk-tui show {gid}` says where it is")
    if proof.delivery.status == "accepted":
        raise DeliveryRefused(f"goal {gid} was already accepted (merge commit {proof.delivery.merge_commit})")
    if proof.delivery.status == "merged":
        raise DeliveryRefused(
            f"goal {gid} was already delivered: its pull request(s) were merged on GitHub "
            f"({', '.join(proof.delivery.pr_urls)}); `git pull` brings the change into your branch")
    if state.status not in ACCEPTABLE:
        reason = f": {state.failure.reason}" if state.failure else ""
        raise DeliveryRefused(f"goal {gid} is {state.status.value}{reason}; only a ready goal can be accepted")
    branch = integration_branch_of(state, proof)
    commit = gitcli.rev(repo, f"refs/heads/{branch}")
    if commit is None:
        raise DeliveryRefused(f"the integration branch {branch} does not exist any more; nothing to accept")
    base = base_branch_of(repo, state)
    current = gitcli.current_branch(repo)
    if base is None:
        recorded = gitcli.normalise_branch(state.base_ref)
        raise DeliveryRefused(
            (f"the goal's base branch {recorded} no longer exists" if recorded else
             "the goal was started on a detached HEAD and no branch is checked out now")
            + "; check out (or create) the branch to merge into, or set it as `base_branch` under [delivery] in "
              ".omk/config.toml, then accept again")
    if current != base:
        raise DeliveryRefused(
            f"the main working tree is on {current or 'a detached HEAD'}, not on the base branch {base}; "
            f"run `git switch {shlex.quote(base)}` and accept again")
    dirty = gitcli.dirty_files(repo)
    if dirty:
        raise DeliveryRefused(
            f"the main working tree has uncommitted changes; commit or stash them, then accept again: "
            f"{', '.join(dirty[:20])}" + (f" (and {len(dirty) - 20} more)" if len(dirty) > 20 else ""), files=dirty)
    gates: list[GateResult] = []
    note = "gates not re-checked (--no-gates)"
    if check_gates:
        gates, note = await recheck_gates(repo, paths, commit)
    head = gitcli.rev(repo, "HEAD")
    fast_forward = head is not None and gitcli.is_ancestor(repo, head, commit)
    message = f"omk-tui: accept goal {gid}\n\n{summary or state.normalized_goal}\n\nOmk-Goal: {gid}\n"
    if fast_forward:
        out = gitcli.git(repo, "merge", "--ff-only", "--quiet", commit)
    else:
        out = gitcli.git(repo, "merge", "--no-ff", "--no-edit", "--quiet", "-m", message, commit)
    if not out.ok:
        conflicted = gitcli.git(repo, "diff", "--name-only", "--diff-filter=U").stdout.split()
        gitcli.git(repo, "merge", "--abort")
        detail = f"conflicts in {', '.join(conflicted)}" if conflicted else out.message
        refusal = (
            f"merging {branch} into {base} failed ({detail}); the main tree is unchanged. {base} moved on since the "
            f"goal started: merge it by hand (`git merge {shlex.quote(branch)}`, resolve, commit), or start a new goal "
            "from the current tree with `omk-tui run`")
        # Recorded, so `show`, `proof` and the TUI say why the goal still waits instead of recommending `accept`
        # again.
        proof.delivery.detail = f"accept refused: {refusal}"
        proof.human_decisions_required = [
            d for d in proof.human_decisions_required
            if not d.startswith(("accept the integration branch", "accept refused:"))
        ] + [f"{proof.delivery.detail} (or reject it: `omk-tui reject {gid} --reason ...`)"]
        store.save_proof(paths, proof)
        _record_event(paths, gid, {"policy": "local", "status": "conflict", "detail": proof.delivery.detail})
        raise DeliveryRefused(refusal, files=conflicted)
    merge_commit = gitcli.rev(repo, "HEAD")
    how = "fast-forward" if fast_forward else "merge commit"
    detail = f"accepted: {branch} merged into {base} ({how} {merge_commit[:12]}); {note}"
    if summary:
        detail += f"; summary: {summary}"
    _record_acceptance(paths, state, proof, detail, merge_commit)
    record = {"decision": "accepted", "by": "user", "at": datetime.now(timezone.utc).isoformat(), "summary": summary,
              "branch": branch, "base": base, "merge_commit": merge_commit, "fast_forward": fast_forward,
              "gates": [g.model_dump(mode="json") for g in gates]}
    artifact = policy_dir(paths) / "acceptance.json"
    store.write_json_artifact(artifact, record)
    _record_event(paths, gid, {"policy": "local", "status": "accepted", "detail": detail})
    return DecisionOutcome(gid, "accepted", detail, merge_commit, fast_forward, gates, [str(artifact)])


def _record_acceptance(paths: store.GoalPaths, state: GoalState, proof: Proof, detail: str, merge_commit: str) -> None:
    proof.delivery = Delivery(policy=state.options.delivery_policy, status="accepted", detail=detail,
                              pr_urls=list(proof.delivery.pr_urls), merge_commit=merge_commit)
    proof.status = GoalStatus.ready
    proof.readiness = "ready"
    proof.blocker = None
    proof.human_decisions_required = []
    store.save_proof(paths, proof)
    state.status = GoalStatus.ready
    state.phase = GoalPhase.done
    state.failure = None
    state.completed_at = state.completed_at or datetime.now(timezone.utc)
    store.save_goal(paths, state)


def accept_goal(repo: Path, goal_ref: str, summary: str | None = None, *, check_gates: bool = True) -> DecisionOutcome:
    """Re-check the gates on the integration branch, merge it into the base branch and the main working tree
    (fast-forward when possible, else a merge commit; never over uncommitted changes), record the delivery."""
    return asyncio.run(accept_goal_async(repo, goal_ref, summary, check_gates=check_gates))


# ---------------------------------------------------------------------- reject
def _goal_worktrees(repo: Path, goal_id: str) -> list[dict]:
    from omk_tui.git import naming

    out = gitcli.git(repo, "worktree", "list", "--porcelain")
    prefix = "refs/heads/" + naming.goal_prefix(goal_id)
    entries, current = [], {}
    for line in out.stdout.splitlines() + [""]:
        if not line:
            if current.get("branch", "").startswith(prefix) or naming.worktree_name_prefix(goal_id) in current.get("worktree", ""):
                entries.append(current)
            current = {}
            continue
        key, _, value = line.partition(" ")
        current[key] = value
    return [{"path": e["worktree"], "branch": e.get("branch", "").removeprefix("refs/heads/")} for e in entries]


def _goal_branches(repo: Path, goal_id: str) -> list[str]:
    from omk_tui.git import naming

    out = gitcli.git(repo, "for-each-ref", "--format=%(refname:short)", f"refs/heads/{naming.goal_prefix(goal_id)}")
    return sorted(b for b in out.stdout.split() if b)


def undo_command(gid: str, base_commit: str | None, tip: str | None, merge_commit: str | None = None) -> str:
    """The command that takes a goal's whole change back out of the branch it was merged into.

    A merge commit of the accept: `git revert -m 1` of it. A fast-forward (the branch moved to the integration
    tip, which holds one merge per slice): `git revert` of the tip would undo only the last slice, so the goal's
    whole diff is applied in reverse on top of the branch, keeping whatever was committed after it."""
    if merge_commit and merge_commit != tip:
        return f"git revert -m 1 {merge_commit}"
    message = shlex.quote(f"Revert omk goal {gid}")
    return f"git diff --binary {base_commit} {tip} | git apply -R --index && git commit -m {message}"


def rollback_plan(repo: Path, state: GoalState, proof: Proof | None, reason: str) -> dict:
    gid = state.goal_id
    branch = integration_branch_of(state, proof)
    base = base_branch_of(repo, state)
    integ = gitcli.rev(repo, f"refs/heads/{branch}")
    base_sha = gitcli.rev(repo, f"refs/heads/{base}") if base else None
    base_commit = state.base_commit or (proof.base_commit if proof else None)
    contains = bool(integ and base_sha and integ != base_commit and gitcli.is_ancestor(repo, integ, base_sha))
    worktrees = _goal_worktrees(repo, gid)
    branches = _goal_branches(repo, gid)
    commands = [f"omk-tui clean {gid}    # removes the goal's clean worktrees and merged branches"]
    commands += [f"git worktree remove {shlex.quote(w['path'])}" for w in worktrees]
    commands += [f"git branch -D {shlex.quote(b)}" for b in branches]
    open_prs = list(proof.delivery.pr_urls) if proof is not None and proof.delivery.status in ("pr_opened", "blocked") else []
    commands += [f"gh pr close {u} --delete-branch    # and the branch pushed for it" for u in open_prs]
    return {
        "goal_id": gid, "decision": "rejected", "reason": reason, "at": datetime.now(timezone.utc).isoformat(),
        "base_branch": base, "base_commit": base_sha,
        "main_tree_changed": contains,
        "main_tree": (f"the base branch {base} already contains the goal's work; take it back out with "
                      f"`{undo_command(gid, base_commit, integ)}`" if contains else
                      f"unchanged: the base branch {base} does not contain the goal's work"),
        "integration_branch": branch, "integration_commit": integ,
        "delete_worktrees": worktrees, "delete_branches": branches, "close_prs": open_prs, "commands": commands,
    }


def _plan_markdown(plan: dict) -> str:
    lines = [f"# Rollback plan for {plan['goal_id']}", "", f"Rejected: {plan['reason']}", "",
             f"- Main working tree: {plan['main_tree']}",
             f"- Integration branch: `{plan['integration_branch']}` ({(plan['integration_commit'] or 'missing')[:12]})", "",
             "## Worktrees to delete", ""]
    lines += [f"- `{w['path']}` (branch `{w['branch']}`)" for w in plan["delete_worktrees"]] or ["- none"]
    lines += ["", "## Branches to delete", ""]
    lines += [f"- `{b}`" for b in plan["delete_branches"]] or ["- none"]
    if plan["close_prs"]:
        lines += ["", "## Pull requests to close", ""]
        lines += [f"- {u}" for u in plan["close_prs"]]
    lines += ["", "## Commands", "", "```sh", *plan["commands"], "```", ""]
    return "\n".join(lines)


def reject_goal(repo: Path, goal_ref: str, reason: str) -> DecisionOutcome:
    """Record a person's rejection (goal not_ready) and write a rollback plan; the main tree is not touched."""
    repo = Path(repo)
    from omk_tui.delivery.guard import goal_write_lock

    if not reason or not reason.strip():
        raise DeliveryRefused("a rejection needs a reason (--reason TEXT)")
    paths = resolve(repo, goal_ref)
    with goal_write_lock(paths, "reject"):
        return _reject_locked(repo, paths, reason)


def _reject_locked(repo: Path, paths: store.GoalPaths, reason: str) -> DecisionOutcome:
    state, proof = load(paths)
    gid = state.goal_id
    if proof is not None and proof.delivery.status == "accepted":
        undo = undo_command(gid, proof.base_commit, proof.integration_commit, proof.delivery.merge_commit)
        raise DeliveryRefused(
            f"goal {gid} was already accepted into the base branch (commit {proof.delivery.merge_commit}); "
            f"undo it with `{undo}`")
    if proof is not None and proof.delivery.status == "merged":
        raise DeliveryRefused(
            f"goal {gid} was already delivered: its pull request(s) were merged on GitHub "
            f"({', '.join(proof.delivery.pr_urls)}); to take the change back, revert the merge on the base branch "
            "(`git revert` of the squash commit, then push)")
    if state.rejected:
        raise DeliveryRefused(f"goal {gid} was already rejected ({state.failure.reason}); "
                              f"its rollback plan is {policy_dir(paths) / 'rollback-plan.md'}")
    if state.status is GoalStatus.cancelled:
        raise DeliveryRefused(f"goal {gid} was cancelled, so there is no result to reject; "
                              f"`omk-tui clean {gid}` removes its worktrees and merged branches")
    plan = rollback_plan(repo, state, proof, reason)
    pdir = policy_dir(paths)
    store.write_json_artifact(pdir / "rollback-plan.json", plan)
    from omk_tui.state.atomic import atomic_write_text

    atomic_write_text(pdir / "rollback-plan.md", _plan_markdown(plan))
    if proof is None:
        proof = Proof(goal_id=gid, status=GoalStatus.not_ready, readiness="not_ready", summary=state.normalized_goal)
    detail = f"rejected by a person: {reason}"
    proof.delivery = Delivery(policy=state.options.delivery_policy, status="rejected", detail=detail,
                              pr_urls=list(proof.delivery.pr_urls))
    proof.status = GoalStatus.not_ready
    proof.readiness = "not_ready"
    proof.blocker = detail
    proof.summary = f"not_ready: {detail}"  # no longer the "ready: …" it had before the decision
    if detail not in proof.known_gaps:
        proof.known_gaps.append(detail)
    proof.human_decisions_required = []
    store.save_proof(paths, proof)
    state.status = GoalStatus.not_ready
    state.failure = GoalFailure(kind="rejected", reason=reason, next_action=f"see {pdir / 'rollback-plan.md'}; `omk-tui clean {gid}`")
    store.save_goal(paths, state)
    _record_event(paths, gid, {"policy": state.options.delivery_policy, "status": "rejected", "detail": detail})
    return DecisionOutcome(gid, "rejected", detail + f"; rollback plan: {pdir / 'rollback-plan.md'}",
                           artifacts=[str(pdir / "rollback-plan.json"), str(pdir / "rollback-plan.md")])
