"""GitHub delivery (`draft-pr` / `auto-pr`): push the branch(es), open or update the PR(s) with `gh`, then follow
the merge policy. Every failure is a precise blocker; nothing is lost (branches stay, the main tree is untouched).
"""

from __future__ import annotations

import asyncio
import shlex
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

from omk_tui.delivery import gitcli
from omk_tui.delivery.gh_client import GhClient, GhError, create_args, edit_args, merge_command
from omk_tui.delivery.merge_policy import MERGE_METHOD, apply_merge_policy
from omk_tui.delivery.pr_body import SliceInfo, render_pr_body
from omk_tui.models.goal import GoalState
from omk_tui.models.proof import Delivery, Proof
from omk_tui.state import store


@dataclass
class DeliveryOutcome:
    status: str  # goal status to set: ready | blocked_on_human | blocked_on_external
    detail: str
    pr_urls: list[str] = field(default_factory=list)
    blocker: str | None = None
    human_decision: str | None = None
    delivery_status: str = "pending"  # Proof.delivery.status: pr_opened | merged | blocked | dry_run
    actions: list[str] = field(default_factory=list)  # what was done (or, in a dry run, would be done)
    dry_run: bool = False

    def to_delivery(self, policy: str) -> Delivery:
        return Delivery(policy=policy, status=self.delivery_status, detail=self.blocker or self.detail,
                        pr_urls=list(self.pr_urls))


@dataclass
class PrRequest:
    head: str
    title: str
    body: str


def _slices(proof: Proof, plan) -> list[SliceInfo]:
    tasks = {t.id: t for t in (getattr(plan, "tasks", None) or plan or [])} if plan is not None else {}
    out = []
    for s in proof.slices:
        t = tasks.get(s.task_id)
        out.append(SliceInfo(slice_id=s.slice_id, branch=s.branch, commit=s.commit,
                             owner=(t.owner_role if t and t.owner_role else "agent"),
                             write_scope=list(t.write_set) if t else list(s.changed_files),
                             dependencies=list(t.dependencies) if t else [], title=t.title if t else ""))
    return out


def pr_requests(state: GoalState, proof: Proof, plan, pr_per: str) -> list[PrRequest]:
    slices = _slices(proof, plan)
    goal = state.normalized_goal or state.original_goal
    if pr_per == "slice":
        out = []
        for s in slices:
            if not s.commit:
                continue
            gates = next((x.gates for x in proof.slices if x.slice_id == s.slice_id), [])
            reviews = [r for r in proof.review_results if r.scope == s.slice_id]
            body = render_pr_body(goal_id=state.goal_id, goal=goal, slices=[s], gates=gates, reviews=reviews,
                                  heading=f"Slice `{s.slice_id}` of goal `{state.goal_id}`.")
            out.append(PrRequest(s.branch, f"[slice] {s.slice_id}: {s.title or goal}"[:120], body))
        return out
    branch = proof.integration_branch or state.integration_branch
    reviews = [r for r in proof.review_results if r.scope == "goal"] or list(proof.review_results)
    body = render_pr_body(goal_id=state.goal_id, goal=goal, slices=slices, gates=proof.final_gates, reviews=reviews)
    return [PrRequest(branch, f"omk: {goal}"[:120], body)] if branch else []


def _blocked(kind: str, reason: str, actions: list[str], *, human: bool, dry_run: bool = False) -> DeliveryOutcome:
    return DeliveryOutcome(status="blocked_on_human" if human else "blocked_on_external", detail=reason,
                           blocker=reason, human_decision=reason if human else None, delivery_status="blocked",
                           actions=actions, dry_run=dry_run)


def merge_plan(merge: str, policy: str, urls: list[str], timeout: float) -> list[str]:
    """What the merge policy would do after the PR(s) exist (dry run)."""
    if merge == "disabled":
        return ["merge policy 'disabled': nothing more; the goal would be ready once the PR(s) exist"]
    if merge == "manual":
        return [f"merge policy 'manual': blocked_on_human until a person runs `{merge_command(u, MERGE_METHOD)}`"
                for u in urls]
    if policy == "draft-pr":
        return [f"merge policy 'gated' on a draft: blocked_on_human until a person runs `gh pr ready {u} && "
                f"{merge_command(u, MERGE_METHOD)}`" for u in urls]
    out = []
    for u in urls:
        out.append(f"would run: gh pr checks {u} --json name,state,bucket  (polled for up to {timeout:.0f}s)")
        out.append(f"would run: {merge_command(u, MERGE_METHOD)}  (once every check passes)")
    return out


def deliver_sync(paths: store.GoalPaths, state: GoalState, proof: Proof, plan=None, *, config=None,
                 dry_run: bool = False, gh: str = "gh", poll_secs: float = 10.0,
                 no_checks_grace_secs: float = 30.0, stop: threading.Event | None = None) -> DeliveryOutcome:
    """Deliver through GitHub. `stop` (set from another thread: a pause, a cancel) ends the wait for checks
    early with status ``stopped``: nothing is merged then and nothing is recorded; delivering again goes on
    with the same PR(s)."""
    from omk_tui.config import load_config

    repo = Path(state.repo)
    config = config or load_config(repo)
    policy = state.options.delivery_policy
    actions: list[str] = []
    if policy == "local":
        return DeliveryOutcome("ready", f"local delivery: `omk-tui accept {state.goal_id}` merges the integration branch",
                               delivery_status="pending")
    remote = config.delivery.remote
    base = config.delivery.base_branch or gitcli.normalise_branch(state.base_ref) or gitcli.current_branch(repo)
    requests = pr_requests(state, proof, plan, config.delivery.pr_per)
    if not requests:
        return _blocked("nothing", "nothing to deliver: no integration branch or committed slice", actions,
                        human=True, dry_run=dry_run)
    if base is None:
        return _blocked("base", "cannot tell the base branch for the PR; set delivery.base_branch in .omk/config.toml",
                        actions, human=True, dry_run=dry_run)
    client = GhClient(repo, gh=gh)
    try:
        client.require_auth()
    except GhError as exc:
        return _blocked("gh", str(exc), actions, human=exc.logged_out, dry_run=dry_run)
    if gitcli.remote_url(repo, remote) is None:
        return _blocked("remote", f"the repository has no git remote {remote!r}; add one with "
                        f"`git remote add {remote} URL` (or set delivery.remote) and deliver again", actions,
                        human=True, dry_run=dry_run)
    for req in requests:
        if not gitcli.branch_exists(repo, req.head):
            return _blocked("branch", f"branch {req.head} does not exist any more; nothing was pushed", actions,
                            human=True, dry_run=dry_run)
    draft = policy == "draft-pr"
    urls: list[str] = []  # every PR of the goal
    open_urls: list[str] = []  # those the merge policy still has to follow
    for req in requests:
        try:
            existing = client.pr_for_head(req.head)
        except GhError as exc:
            return _blocked("gh", str(exc), actions, human=exc.logged_out, dry_run=dry_run)
        if existing and existing.get("state") == "MERGED" and existing.get("headRefOid") == gitcli.rev(repo, req.head):
            # merged already (a person followed the manual merge policy's advice): nothing to push or open
            actions.append(f"PR {existing['url']} of {req.head} is already merged")
            urls.append(existing["url"])
            continue
        if existing and existing.get("state") != "OPEN":
            existing = None  # merged from an older tip of the branch: the new work needs a PR of its own
        push = ["git", "push", "--porcelain", remote, f"refs/heads/{req.head}:refs/heads/{req.head}"]
        if dry_run:
            actions.append(f"would run: {shlex.join(push)}")
        else:
            out = gitcli.git(repo, *push[1:])
            if not out.ok:
                return _blocked("push", f"`git push {remote} {req.head}` was rejected: {out.message}; the branch is "
                                "intact locally, fix the remote and deliver again", actions, human=False)
            actions.append(f"pushed {req.head} to {remote}")
        try:
            if existing:
                url = existing["url"]
                if dry_run:
                    actions.append(f"would run: {shlex.join(['gh', *edit_args(url, req.title)])}"
                                   f"  (body: {len(req.body.splitlines())} lines on stdin)")
                else:
                    client.edit_pr(url, title=req.title, body=req.body)
                    actions.append(f"updated PR {url}")
                if existing.get("isDraft") and not draft:  # auto-pr now: a draft would never be merged
                    if dry_run:
                        actions.append(f"would run: gh pr ready {url}")
                    else:
                        client.mark_ready(url)
                        actions.append(f"marked PR {url} ready for review")
                urls.append(url)
                open_urls.append(url)
            elif dry_run:
                args = create_args(title=req.title, head=req.head, base=base, draft=draft)
                actions.append(f"would run: {shlex.join(['gh', *args])}  (body: {len(req.body.splitlines())} lines on stdin)")
                open_urls.append(f"<PR of {req.head}>")
            else:
                url = client.create_pr(title=req.title, body=req.body, head=req.head, base=base, draft=draft)
                actions.append(f"opened {'draft ' if draft else ''}PR {url}")
                urls.append(url)
                open_urls.append(url)
        except GhError as exc:
            return _blocked("gh", str(exc), actions, human=exc.logged_out, dry_run=dry_run)
    merge = state.options.merge_policy
    merged_before = [u for u in urls if u not in open_urls]
    if dry_run:
        if open_urls:
            actions += merge_plan(merge, policy, open_urls, config.delivery.checks_timeout_secs)
        return DeliveryOutcome("ready", "dry run: " + "; ".join(actions), pr_urls=urls, delivery_status="dry_run",
                               actions=actions, dry_run=True)
    if not open_urls:
        return DeliveryOutcome("ready", f"PR(s) merged: {', '.join(urls)}", pr_urls=urls, delivery_status="merged",
                               actions=actions)
    result = apply_merge_policy(client, merge, policy, open_urls, timeout=config.delivery.checks_timeout_secs,
                                poll_secs=poll_secs, no_checks_grace_secs=no_checks_grace_secs, stop=stop)
    actions += [f"merged {u}" for u in result.merged]
    if result.status == "stopped":
        return DeliveryOutcome("stopped", result.detail, pr_urls=urls, delivery_status="pr_opened", actions=actions)
    detail = result.detail + (f" (already merged: {', '.join(merged_before)})" if merged_before else "")
    return DeliveryOutcome(result.status, detail, pr_urls=urls, blocker=result.blocker,
                           human_decision=result.human_decision, delivery_status=result.delivery_status,
                           actions=actions)


def record_outcome(paths: store.GoalPaths, policy: str, outcome: DeliveryOutcome) -> None:
    """`artifacts/policy/delivery.json`; a dry run writes nothing."""
    if outcome.dry_run:
        return
    d = paths.artifacts / "policy"
    d.mkdir(parents=True, exist_ok=True)
    store.write_json_artifact(d / "delivery.json", {"policy": policy, **asdict(outcome)})


async def deliver(target, *args, dry_run: bool = False, config=None, gh: str = "gh", poll_secs: float = 10.0,
                  no_checks_grace_secs: float = 30.0, stop: threading.Event | None = None) -> DeliveryOutcome:
    """`deliver(goal_paths, state, proof, plan)` or, from the controller, `deliver(controller, proof)`.

    Sets `proof.delivery` (not saved: the caller writes the proof) and writes `artifacts/policy/delivery.json`;
    a dry run changes nothing and only reports what it would do in `outcome.actions`, and a delivery `stop` cut
    short (status ``stopped``) records nothing either.
    """
    if hasattr(target, "paths") and hasattr(target, "state"):
        paths, state, proof, plan = target.paths, target.state, args[0], getattr(target, "graph", None)
        config = config or getattr(target, "config", None)
    else:
        paths, state, proof = target, args[0], args[1]
        plan = args[2] if len(args) > 2 else None
    outcome = await asyncio.to_thread(deliver_sync, paths, state, proof, plan, config=config, dry_run=dry_run, gh=gh,
                                      poll_secs=poll_secs, no_checks_grace_secs=no_checks_grace_secs, stop=stop)
    if outcome.status == "stopped":
        return outcome
    if not dry_run:
        proof.delivery = outcome.to_delivery(state.options.delivery_policy)
    record_outcome(paths, state.options.delivery_policy, outcome)
    return outcome
