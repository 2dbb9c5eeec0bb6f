"""The review wall: six passes over a change (per slice and for the integrated goal), deterministic evidence
first, optionally combined with an agent reviewer per pass, and the anti-slop confidence that decides whether
the change goes back to the agent for a cleanup attempt.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from pathlib import Path

from omk_tui.models.gates import GateResult
from omk_tui.models.proof import ReviewResult
from omk_tui.models.tasks import Task
from omk_tui.review import anti_slop
from omk_tui.review.agent_review import AgentReviewer, AgentVerdict, combine
from omk_tui.review.change import Change, collect_change
from omk_tui.review.evidence import Finding, severity_rank
from omk_tui.review.passes import PASS_KINDS, anti_slop_result, run_passes
from omk_tui.state.store import write_json_artifact

MAX_PROMPT_FINDINGS = 40


@dataclass
class ReviewWallResult:
    scope: str
    base: str
    head: str | None
    results: list[ReviewResult]
    findings: list[Finding]
    anti_slop_confidence: float
    threshold: float
    agent_verdicts: list[dict] = field(default_factory=list)
    artifact: Path | None = None

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def failed(self) -> list[ReviewResult]:
        return [r for r in self.results if not r.passed]

    @property
    def blocking(self) -> bool:
        """The change must not go on as it is: a pass failed, or the anti-slop confidence is above the threshold."""
        return not self.passed or self.anti_slop_confidence > self.threshold

    def result(self, kind: str) -> ReviewResult:
        return next(r for r in self.results if r.kind == kind)

    def summary(self) -> str:
        failed = ", ".join(r.kind for r in self.failed) or "none"
        return (f"review wall ({self.scope}): failed passes: {failed}; anti-slop confidence "
                f"{self.anti_slop_confidence:.2f} (threshold {self.threshold:.2f})")

    def cleanup_prompt(self) -> str:
        """The findings to send back to the agent for a cleanup attempt (first line: a one-line summary)."""
        lines = [self.summary(), "", "Fix these findings in your change, then stop:"]
        for r in self.failed:
            lines.append(f"- the {r.kind} pass failed ({r.severity})")
        shown = sorted(self.findings, key=lambda f: -severity_rank(f.severity))
        for f in shown[:MAX_PROMPT_FINDINGS]:
            if severity_rank(f.severity) >= severity_rank("low"):
                lines.append(f"- {f.kind}: {f.describe()}")
        if len(shown) > MAX_PROMPT_FINDINGS:
            lines.append(f"- ... and {len(shown) - MAX_PROMPT_FINDINGS} more")
        lines.append("")
        lines.append("Do not disable tests or widen the change beyond the task's write scope to get there.")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "scope": self.scope, "base": self.base, "head": self.head, "passed": self.passed,
            "blocking": self.blocking, "anti_slop_confidence": self.anti_slop_confidence,
            "threshold": self.threshold, "results": [r.model_dump(mode="json") for r in self.results],
            "findings": [f.to_dict() for f in self.findings], "agent_verdicts": self.agent_verdicts,
        }


def artifact_name(scope: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", scope).strip("-.") or "review"


def write_set_of(tasks: list[Task]) -> list[str] | None:
    """The declared write scope of the task(s); None (no scope check) when no task is given."""
    if not tasks:
        return None
    out: list[str] = []
    for t in tasks:
        out.extend(p for p in t.write_set if p not in out)
    return out


def deterministic_wall(change: Change, *, scope: str, tasks: list[Task], gates: list[GateResult],
                       threshold: float, scope_violations: str = "block") -> ReviewWallResult:
    results, findings = run_passes(change, scope, write_set=write_set_of(tasks), gates=gates,
                                   scope_violations=scope_violations)
    return _finish(change, scope, results, findings, threshold)


def _finish(change: Change, scope: str, results: list[ReviewResult], findings: list[Finding], threshold: float,
            agent_slop: AgentVerdict | None = None, verdicts: list[dict] | None = None) -> ReviewWallResult:
    failed = [r.kind for r in results if not r.passed]
    score = anti_slop.confidence(change, findings, failed)
    slop = anti_slop_result(scope, findings, score, threshold)
    if agent_slop is not None:
        slop = combine(slop, agent_slop)
    ordered = {r.kind: r for r in [*results, slop]}
    return ReviewWallResult(scope=scope, base=change.base, head=change.head,
                            results=[ordered[k] for k in PASS_KINDS], findings=findings,
                            anti_slop_confidence=score, threshold=threshold, agent_verdicts=verdicts or [])


async def review_change(
    repo: Path,
    base: str,
    head: str | None = None,
    *,
    scope: str = "goal",
    tasks: list[Task] | None = None,
    gates: list[GateResult] | None = None,
    goal: str = "",
    threshold: float = anti_slop.DEFAULT_THRESHOLD,
    reviews_dir: Path | None = None,
    reviewer: AgentReviewer | None = None,
    exclude: list[str] | None = None,
    scope_violations: str = "block",
) -> ReviewWallResult:
    """Review the change from `base` to `head` (or to the working tree of `repo` when head is None).

    Writes `<reviews_dir>/<scope>.json` when reviews_dir is given (GoalPaths.reviews). `scope_violations`
    ("block" | "warn", config `review.scope_violations`) decides whether out-of-scope writes fail the architect pass.
    """
    tasks = list(tasks or [])
    gates = list(gates or [])
    change = await asyncio.to_thread(collect_change, Path(repo), base, head, exclude=exclude)
    results, findings = run_passes(change, scope, write_set=write_set_of(tasks), gates=gates,
                                   scope_violations=scope_violations)
    agent_slop = None
    verdicts: list[dict] = []
    if reviewer is not None:
        combined = []
        for r in results:
            if r.kind in reviewer.kinds and r.kind != "anti_slop":
                verdict = await reviewer.review(r.kind, scope, goal, tasks, change.patch, findings)
                verdicts.append(verdict.to_dict())
                r = combine(r, verdict)
            combined.append(r)
        results = combined
        if "anti_slop" in reviewer.kinds:
            verdict = await reviewer.review("anti_slop", scope, goal, tasks, change.patch, findings)
            verdicts.append(verdict.to_dict())
            agent_slop = verdict
    wall = _finish(change, scope, results, findings, threshold, agent_slop, verdicts)
    if reviews_dir is not None:
        wall.artifact = Path(reviews_dir) / f"{artifact_name(scope)}.json"
        write_json_artifact(wall.artifact, wall.to_dict())
    return wall


# ---------------------------------------------------------------------- controller adapters
def _reviewer_for(ctrl, cwd: Path, slice_id: str | None, task_id: str | None) -> AgentReviewer | None:
    from omk_tui.review.agent_review import agent_reviewers_enabled

    if not agent_reviewers_enabled(ctrl.config.review.agent_reviewers, ctrl.state.options.agent, ctrl.repo):
        return None

    async def ask(kind: str, prompt: str) -> str:
        result = await ctrl._agent_turn(prompt, cwd=cwd, scope=[], slice_id=slice_id, task_id=task_id,
                                        role="reviewer", attempt=1, read_only=True)
        if not result.ok:
            raise RuntimeError(result.error or result.stop_reason)
        return result.text

    return AgentReviewer(ask=ask)


async def review_slice(ctrl, rec, task: Task, worktree: Path) -> ReviewWallResult:
    """The wall on a slice's uncommitted work in its worktree (the controller reviews before committing)."""
    return await review_change(
        Path(worktree), "HEAD", None, scope=rec.slice_id, tasks=[task], gates=list(rec.gates),
        goal=ctrl.state.normalized_goal, threshold=ctrl.config.review.anti_slop_threshold,
        reviews_dir=ctrl.paths.reviews, reviewer=_reviewer_for(ctrl, Path(worktree), rec.slice_id, task.id),
        exclude=list(ctrl.config.worktrees.copy_files), scope_violations=ctrl.config.review.scope_violations,
    )


async def review_goal(ctrl) -> ReviewWallResult:
    """The wall on the integrated result: base commit to the integration commit."""
    tasks = list(ctrl.graph.tasks) if ctrl.graph else []
    head = ctrl.exec.integration_commit or ctrl.state.integration_branch
    return await review_change(
        Path(ctrl.repo), ctrl.state.base_commit, head, scope="goal", tasks=tasks, gates=list(ctrl.exec.final or []),
        goal=ctrl.state.normalized_goal, threshold=ctrl.config.review.anti_slop_threshold,
        reviews_dir=ctrl.paths.reviews, reviewer=_reviewer_for(ctrl, Path(ctrl.repo), None, None),
        scope_violations=ctrl.config.review.scope_violations,
    )
