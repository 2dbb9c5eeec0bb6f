"""The six passes of the review wall, each a ReviewResult built from deterministic findings."""

from __future__ import annotations

import re

from omk_tui.models.gates import GateResult
from omk_tui.models.proof import ReviewResult
from omk_tui.review.change import Change
from omk_tui.review.evidence import (
    SEVERITIES,
    Finding,
    architect_findings,
    code_findings,
    security_findings,
    severity_rank,
    test_findings,
)
from omk_tui.review.slop import slop_findings

PASS_KINDS = ("architect", "code", "test", "security", "performance", "anti_slop")
FAIL_AT = severity_rank("high")  # a pass fails on a finding of this severity or worse
_PERF_PATH = re.compile(r"(?i)(?:^|[/_.-])(?:bench(?:es|mark|marks)?|perf|performance|profil\w*|hot[_-]?path)(?:$|[/_.-])")
_PERF_GATE = re.compile(r"(?i)bench|perf")
FEEDBACK_ITEMS = 5


def worst(findings: list[Finding]) -> str:
    return SEVERITIES[max((severity_rank(f.severity) for f in findings), default=0)]


def _result(kind: str, scope: str, findings: list[Finding], ok_text: str) -> ReviewResult:
    failing = [f for f in findings if severity_rank(f.severity) >= FAIL_AT]
    shown = sorted(findings, key=lambda f: -severity_rank(f.severity))[:FEEDBACK_ITEMS]
    feedback = "; ".join(f.describe() for f in shown) if findings else ok_text
    if len(findings) > FEEDBACK_ITEMS:
        feedback += f"; and {len(findings) - FEEDBACK_ITEMS} more"
    return ReviewResult(kind=kind, scope=scope, passed=not failing, severity=worst(findings), feedback=feedback,
                        findings=[f.describe() for f in findings])


def performance_result(scope: str, change: Change, gates: list[GateResult]) -> tuple[ReviewResult, list[Finding]]:
    """Never blocks for want of a perf gate (omk's did, forever): only a failing perf/bench gate fails it."""
    touched = sorted(p for p in change.paths if _PERF_PATH.search(p))
    perf_gates = [g for g in gates if _PERF_GATE.search(g.name) or _PERF_GATE.search(g.command_line)]
    failed = [g for g in perf_gates if not g.passed and not g.skipped]
    if failed:
        names = ", ".join(g.name for g in failed)
        finding = Finding("performance", "perf-gate-failed", "high", f"performance gate(s) failed: {names}")
        return ReviewResult(kind="performance", scope=scope, passed=False, severity="high",
                            feedback=finding.describe(), findings=[finding.describe()]), [finding]
    if perf_gates:
        names = ", ".join(g.name for g in perf_gates)
        return ReviewResult(kind="performance", scope=scope, passed=True, severity="info",
                            feedback=f"performance gate(s) passed: {names}"), []
    if touched:
        finding = Finding("performance", "no-perf-gate", "low",
                          f"performance-sensitive path(s) touched ({', '.join(touched[:3])}) and no perf/bench gate is configured; "
                          "add one to .omk/gates.toml to measure it")
        return ReviewResult(kind="performance", scope=scope, passed=True, severity="low",
                            feedback=finding.message, findings=[finding.describe()]), [finding]
    return ReviewResult(kind="performance", scope=scope, passed=True, severity="info",
                        feedback="no performance-sensitive path touched"), []


def run_passes(
    change: Change,
    scope: str,
    *,
    write_set: list[str] | None,
    gates: list[GateResult],
    scope_violations: str = "block",
) -> tuple[list[ReviewResult], list[Finding]]:
    """Every pass except anti_slop's verdict (which needs the confidence, see wall.py), and all findings."""
    by_kind = {
        "architect": architect_findings(change, write_set, scope_violations),
        "code": code_findings(change),
        "test": test_findings(change),
        "security": security_findings(change),
        "anti_slop": slop_findings(change),
    }
    results = [
        _result("architect", scope, by_kind["architect"], "changes stay inside the declared scope; no new dependency"),
        _result("code", scope, by_kind["code"], "changed files parse; no conflict markers"),
        _result("test", scope, by_kind["test"], "no test removed, skipped or marked expected to fail"),
        _result("security", scope, by_kind["security"], "no secret or oversized file added"),
    ]
    perf, perf_findings = performance_result(scope, change, gates)
    results.append(perf)
    findings = [f for kind in ("architect", "code", "test", "security") for f in by_kind[kind]]
    findings += perf_findings + by_kind["anti_slop"]
    return results, findings


def anti_slop_result(scope: str, findings: list[Finding], score: float, threshold: float) -> ReviewResult:
    slop = [f for f in findings if f.kind == "anti_slop"]
    blocked = score > threshold
    base = _result("anti_slop", scope, slop, "no leftovers found")
    severity = "high" if blocked else base.severity
    feedback = f"confidence {score:.2f} (threshold {threshold:.2f})" + (f": {base.feedback}" if slop else "")
    return ReviewResult(kind="anti_slop", scope=scope, passed=not blocked, severity=severity, feedback=feedback,
                        findings=base.findings)
