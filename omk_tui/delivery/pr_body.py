"""Pull-request bodies: the goal, the slices, the gates table and the review wall table (seed 002)."""

from __future__ import annotations

from dataclasses import dataclass, field

from omk_tui.models.gates import GateResult
from omk_tui.models.proof import ReviewResult


@dataclass
class SliceInfo:
    slice_id: str
    branch: str
    owner: str = ""
    write_scope: list[str] = field(default_factory=list)
    commit: str | None = None
    dependencies: list[str] = field(default_factory=list)
    title: str = ""


def cell(text: object) -> str:
    """Markdown-table-safe: no pipes or newlines, bounded length."""
    s = str(text if text is not None else "").replace("|", "\\|").replace("\r", " ").replace("\n", " ").strip()
    return s if len(s) <= 300 else s[:297] + "..."


def slices_table(slices: list[SliceInfo]) -> list[str]:
    lines = ["| Slice | Owner | Write scope | Commit | Dependencies |", "|---|---|---|---|---|"]
    for s in slices:
        lines.append(f"| {cell(s.slice_id)} | {cell(s.owner or '-')} | {cell(', '.join(s.write_scope) or '-')} | "
                     f"{cell((s.commit or '-')[:12])} | {cell(', '.join(s.dependencies) or '-')} |")
    return lines


def gates_table(gates: list[GateResult]) -> list[str]:
    if not gates:
        return ["No gate results."]
    lines = ["| Gate | Status | Duration | Command |", "|---|---|---|---|"]
    for g in gates:
        status = "skipped" if g.skipped else ("passed" if g.passed else ("failed" if g.required else "failed (optional)"))
        lines.append(f"| {cell(g.name)} | {status} | {g.duration_ms / 1000:.1f}s | `{cell(g.command_line)}` |")
    return lines


def review_table(reviews: list[ReviewResult]) -> list[str]:
    if not reviews:
        return ["No review results."]
    lines = ["| Pass | Status | Severity | Feedback |", "|---|---|---|---|"]
    for r in reviews:
        lines.append(f"| {cell(r.kind)} | {'passed' if r.passed else 'failed'} | {cell(r.severity)} | {cell(r.feedback)} |")
    return lines


def render_pr_body(*, goal_id: str, goal: str, slices: list[SliceInfo], gates: list[GateResult],
                   reviews: list[ReviewResult], heading: str | None = None) -> str:
    lines = [heading or f"Goal `{goal_id}`.", "", "## Goal", "", goal.strip() or "(no goal text)", "",
             "## Slices", "", *slices_table(slices), "", "## Gates", "", *gates_table(gates), "",
             "## Review Wall", "", *review_table(reviews), "",
             f"_Opened by omk-tui; the full proof is in `.omk/goals/{goal_id}/proof.json`._", ""]
    return "\n".join(lines)
