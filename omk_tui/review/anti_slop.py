"""The anti-slop confidence: how likely a change is unfinished or careless, from 0 to 1.

Per changed code file, a score from its findings (each rule counted once per file), averaged over the changed
files; then a weight per failed review pass; capped at 1. Above the threshold (0.5 by default) the slice is sent
back to the agent for a cleanup attempt.
"""

from __future__ import annotations

from omk_tui.review.change import Change
from omk_tui.review.evidence import Finding

RULE_WEIGHTS = {
    "long-file": 0.15,
    "panic": 0.20,
    "todo": 0.10,
    "debug-print": 0.10,
    "breakpoint": 0.20,
    "swallowed-exception": 0.20,
    "commented-out-code": 0.10,
    "long-function": 0.10,
}
FAILED_PASS_WEIGHTS = {
    "security": 0.25,
    "test": 0.20,
    "code": 0.20,
    "architect": 0.15,
    "performance": 0.15,
}
DEFAULT_THRESHOLD = 0.5


def file_scores(change: Change, findings: list[Finding]) -> dict[str, float]:
    """Score of every changed (not deleted) file."""
    rules: dict[str, set[str]] = {f.path: set() for f in change.files if not f.deleted}
    for finding in findings:
        if finding.kind == "anti_slop" and finding.path in rules:
            rules[finding.path].add(finding.rule)
    return {path: min(1.0, sum(RULE_WEIGHTS.get(r, 0.05) for r in found)) for path, found in rules.items()}


def confidence(change: Change, findings: list[Finding], failed_passes: list[str]) -> float:
    scores = file_scores(change, findings)
    average = sum(scores.values()) / len(scores) if scores else 0.0
    penalty = sum(FAILED_PASS_WEIGHTS.get(kind, 0.15) for kind in set(failed_passes) if kind != "anti_slop")
    return round(min(1.0, average + penalty), 4)
