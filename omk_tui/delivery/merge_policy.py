"""What happens once the PR(s) exist: `disabled` (ready), `manual` (the person merges; we give the exact
command) or `gated` (wait, bounded, for the PR's checks, then merge). Each is reachable, unlike omk's."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from omk_tui.delivery.gh_client import GhClient, GhError, merge_command

MERGE_METHOD = "squash"


@dataclass
class MergeOutcome:
    status: str  # goal status: ready | blocked_on_human | blocked_on_external
    delivery_status: str  # pr_opened | merged | blocked
    detail: str
    blocker: str | None = None
    human_decision: str | None = None
    merged: list[str] = field(default_factory=list)


def wait_for_checks(client: GhClient, url: str, *, timeout: float, poll_secs: float, no_checks_grace_secs: float,
                    sleep: Callable[[float], bool | None] = time.sleep, clock: Callable[[], float] = time.monotonic
                    ) -> tuple[str, list[str]]:
    """('passed'|'none'|'failed'|'pending'|'stopped', names): polls until every check settles or `timeout`
    passes; 'stopped' when `sleep` returns true (it is a stop event's `wait`: someone paused or cancelled)."""
    start = clock()
    while True:
        checks = client.checks(url)
        elapsed = clock() - start
        if checks is None:
            if elapsed >= min(no_checks_grace_secs, timeout):
                return "none", []
        else:
            failed = [c.name for c in checks if c.failed]
            if failed:
                return "failed", failed
            pending = [c.name for c in checks if c.pending]
            if not pending:
                return "passed", [c.name for c in checks]
            if elapsed >= timeout:
                return "pending", pending
        if elapsed >= timeout:
            return "none", []
        if sleep(max(0.0, min(poll_secs, timeout - elapsed))):
            return "stopped", []


def apply_merge_policy(client: GhClient, merge_policy: str, delivery_policy: str, urls: list[str], *,
                       timeout: float, poll_secs: float = 10.0, no_checks_grace_secs: float = 30.0,
                       stop: threading.Event | None = None) -> MergeOutcome:
    """Follow the merge policy on the PR(s) at `urls`. Under `gated`, a set `stop` ends the wait for checks:
    status ``stopped``, nothing more merged."""
    listed = ", ".join(urls)
    if merge_policy == "disabled":
        return MergeOutcome("ready", "pr_opened", f"PR(s) open: {listed}; merging is left to GitHub's own rules")
    commands = [merge_command(u, MERGE_METHOD) for u in urls]
    if merge_policy == "manual":
        decision = "merge the PR(s) when you are satisfied: " + " ; ".join(commands)
        return MergeOutcome("blocked_on_human", "pr_opened", f"PR(s) open: {listed}; waiting for a person to merge",
                            blocker=decision, human_decision=decision)
    if merge_policy != "gated":
        raise ValueError(f"unknown merge policy {merge_policy!r} (disabled | manual | gated)")
    if delivery_policy == "draft-pr":
        cmds = " ; ".join(f"gh pr ready {u} && {merge_command(u, MERGE_METHOD)}" for u in urls)
        decision = f"the PR(s) are drafts, which are never merged automatically; when ready: {cmds}"
        return MergeOutcome("blocked_on_human", "pr_opened", f"draft PR(s) open: {listed}", blocker=decision,
                            human_decision=decision)
    merged: list[str] = []
    for url in urls:
        verdict, names = wait_for_checks(client, url, timeout=timeout, poll_secs=poll_secs,
                                         no_checks_grace_secs=no_checks_grace_secs,
                                         sleep=stop.wait if stop is not None else time.sleep)
        if verdict == "stopped" or (stop is not None and stop.is_set()):
            return MergeOutcome("stopped", "pr_opened", "stopped while waiting for the checks of " + url,
                                merged=merged)
        if verdict == "failed":
            decision = (f"checks failed on {url}: {', '.join(names)}; fix them and push, then merge with "
                        f"`{merge_command(url, MERGE_METHOD)}`")
            return MergeOutcome("blocked_on_human", "blocked", decision, blocker=decision, human_decision=decision,
                                merged=merged)
        if verdict == "pending":
            reason = (f"checks still pending on {url} after {timeout:.0f}s: {', '.join(names)}; merge later with "
                      f"`{merge_command(url, MERGE_METHOD)}` or raise delivery.checks_timeout_secs")
            return MergeOutcome("blocked_on_external", "blocked", reason, blocker=reason, merged=merged)
        try:
            client.merge(url, MERGE_METHOD)
        except GhError as exc:
            reason = f"merging {url} failed: {exc}"
            return MergeOutcome("blocked_on_external", "blocked", reason, blocker=reason, merged=merged)
        merged.append(url)
    return MergeOutcome("ready", "merged", f"merged after checks: {listed}", merged=merged)
