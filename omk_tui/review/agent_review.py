"""An agent-backed reviewer: per pass, a read-only agent turn given the task and the diff, answering a JSON verdict.

The answer must hold a fenced ```json block `{"passed": bool, "severity": "...", "feedback": "..."}`. A malformed
answer is recorded (with the raw text in the review artifact) and does not pass.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from omk_tui.agents.base import prompt_header
from omk_tui.models.proof import ReviewResult
from omk_tui.models.tasks import Task
from omk_tui.review.evidence import SEVERITIES, Finding, severity_rank

MAX_DIFF_CHARS = 60_000
_FENCE = re.compile(r"```(?:json)?\s*\n(.*?)```", re.S)

PASS_BRIEFS = {
    "architect": "Does the change fit the task's scope and the codebase's structure? Writes outside the write scope, "
                 "new dependencies, misplaced responsibilities.",
    "code": "Is the code correct and clear? Bugs, broken edge cases, dead code, misleading names.",
    "test": "Are the changes tested? Tests removed, skipped or weakened; missing tests for new behaviour.",
    "security": "Secrets, injection, unsafe deserialisation, path traversal, permissions.",
    "performance": "Accidental quadratic work, blocking I/O on hot paths, unbounded memory.",
    "anti_slop": "Leftovers: TODOs, debug prints, swallowed errors, commented-out code, needless complexity.",
}

# Asks an agent one read-only question and returns its whole answer text.
AskAgent = Callable[[str, str], Awaitable[str]]  # (review kind, prompt) -> answer text


@dataclass
class AgentVerdict:
    kind: str
    result: ReviewResult
    raw: str = ""
    error: str | None = None

    def to_dict(self) -> dict:
        return {"kind": self.kind, "passed": self.result.passed, "severity": self.result.severity,
                "feedback": self.result.feedback, "error": self.error, "raw": self.raw[-4000:]}


def reviewer_prompt(kind: str, scope: str, goal: str, tasks: list[Task], diff: str, findings: list[Finding]) -> str:
    task_id = tasks[0].id if len(tasks) == 1 else None
    lines = [prompt_header("reviewer", task_id, 1, review=kind, scope=scope), ""]
    lines.append(f"You are the {kind.replace('_', '-')} reviewer of a change. Read only: do not modify any file.")
    lines.append(PASS_BRIEFS.get(kind, ""))
    lines.append("")
    lines.append(f"Goal: {goal}")
    for t in tasks:
        lines.append(f"Task {t.id}: {t.title}")
        if t.description:
            lines.append(f"  {t.description}")
        lines.append(f"  write scope: {', '.join(t.write_set) or '(none)'}")
        for a in t.acceptance:
            lines.append(f"  acceptance: {a}")
    own = [f for f in findings if f.kind == kind]
    if own:
        lines.append("")
        lines.append("Deterministic findings for this pass:")
        lines.extend(f"- {f.describe()}" for f in own[:20])
    shown = diff if len(diff) <= MAX_DIFF_CHARS else diff[:MAX_DIFF_CHARS] + "\n[... diff truncated ...]"
    lines += ["", "The diff:", "```diff", shown, "```", ""]
    lines.append('Answer with exactly one fenced block: ```json\n{"passed": true, "severity": "info|low|medium|high|critical", '
                 '"feedback": "one or two sentences"}\n```')
    return "\n".join(lines)


def parse_verdict(kind: str, scope: str, text: str) -> AgentVerdict:
    blocks = _FENCE.findall(text or "")
    problem = "no fenced JSON block in the answer"
    for raw in reversed(blocks):
        try:
            data = json.loads(raw)
        except ValueError as exc:
            problem = f"the JSON block does not parse ({exc})"
            continue
        if not isinstance(data, dict) or not isinstance(data.get("passed"), bool):
            problem = 'the verdict needs a boolean "passed"'
            continue
        severity = str(data.get("severity", "low")).lower()
        if severity not in SEVERITIES:
            problem = f"unknown severity {severity!r}"
            continue
        feedback = str(data.get("feedback", "")).strip()
        result = ReviewResult(kind=kind, scope=scope, passed=data["passed"], severity=severity,
                              feedback=feedback, source="agent")
        return AgentVerdict(kind, result, raw=text)
    result = ReviewResult(kind=kind, scope=scope, passed=False, severity="medium",
                          feedback=f"the agent reviewer's answer was malformed: {problem}", source="agent")
    return AgentVerdict(kind, result, raw=text or "", error=problem)


def combine(det: ReviewResult, verdict: AgentVerdict) -> ReviewResult:
    """Fails if either fails; the worse severity; both feedbacks."""
    agent = verdict.result
    severity = det.severity if severity_rank(det.severity) >= severity_rank(agent.severity) else agent.severity
    findings = list(det.findings)
    if not agent.passed or verdict.error:
        findings.append(f"[{agent.severity}] agent reviewer: {agent.feedback}")
    return ReviewResult(kind=det.kind, scope=det.scope, passed=det.passed and agent.passed, severity=severity,
                        feedback=f"{det.feedback} | agent: {agent.feedback or '(no feedback)'}", findings=findings,
                        source="deterministic+agent")


@dataclass
class AgentReviewer:
    ask: AskAgent
    kinds: tuple[str, ...] = ("architect", "code", "test", "security", "performance", "anti_slop")
    verdicts: list[AgentVerdict] = field(default_factory=list)

    async def review(self, kind: str, scope: str, goal: str, tasks: list[Task], diff: str,
                     findings: list[Finding]) -> AgentVerdict:
        prompt = reviewer_prompt(kind, scope, goal, tasks, diff, findings)
        try:
            text = await self.ask(kind, prompt)
        except Exception as exc:  # an agent that cannot answer is recorded as a failed verdict, not a crash
            result = ReviewResult(kind=kind, scope=scope, passed=False, severity="medium",
                                  feedback=f"the agent reviewer failed: {type(exc).__name__}: {exc}", source="agent")
            verdict = AgentVerdict(kind, result, error=str(exc))
        else:
            verdict = parse_verdict(kind, scope, text)
        self.verdicts.append(verdict)
        return verdict


def script_has_reviews(spec: str, repo: Path | None = None) -> bool:
    """A scripted agent (`script:PATH`) reviews only when its script JSON has a "review" entry."""
    path = Path(spec.split(":", 1)[1].strip().strip('"'))
    if not path.is_absolute() and repo is not None and not path.exists():
        path = Path(repo) / path
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and bool(data.get("review"))


def agent_reviewers_enabled(setting: bool | None, agent_spec: str, repo: Path | None = None) -> bool:
    if setting is not None:
        return setting
    if agent_spec.startswith("script:"):
        return script_has_reviews(agent_spec, repo)
    return True


def session_asker(agent_spec: str, cwd: Path, env: dict[str, str] | None = None,
                  timeout: float | None = 600.0) -> AskAgent:
    """An AskAgent that opens one read-only session per question (for use outside the controller)."""
    from omk_tui.agents.base import SessionConfig
    from omk_tui.agents.spec import open_session

    async def ask(kind: str, prompt: str) -> str:
        session = open_session(agent_spec, SessionConfig(cwd=Path(cwd), read_only=True, approval="never", env=env or {}))
        try:
            await session.start()
            result = await session.prompt(prompt, lambda _u: None, timeout=timeout)
        finally:
            await session.close()
        if not result.ok:
            raise RuntimeError(result.error or result.stop_reason)
        return result.text

    return ask
