"""Small formatting helpers shared by the panes (rich only)."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

STATUS_STYLE = {
    "running": "bold $accent", "ready": "bold green", "not_ready": "bold yellow", "blocked_on_human": "bold red",
    "blocked_on_external": "bold red", "needs_more_budget": "bold yellow", "failed_infra": "bold red",
    "paused": "bold yellow", "cancelled": "dim", "interrupted": "bold yellow",
}
# rich styles (no CSS variables) for Text objects
STATUS_RICH = {
    "running": "bold cyan", "ready": "bold green", "not_ready": "bold yellow", "blocked_on_human": "bold red",
    "blocked_on_external": "bold red", "needs_more_budget": "bold yellow", "failed_infra": "bold red",
    "paused": "bold yellow", "cancelled": "dim", "interrupted": "bold yellow",
}
TASK_ICON = {
    "proposed": ("◌", "dim"), "pending": ("○", ""), "running": ("◐", "cyan"), "done": ("●", "green"),
    "blocked": ("⊘", "red"), "failed": ("✗", "red"), "rejected": ("⊗", "dim red"),
}
SLICE_STYLE = {
    "planned": "dim", "pending": "", "running": "cyan", "gates": "magenta", "committed": "green",
    "merged": "bold green", "blocked": "red", "failed": "red",
}
GATE_ICON = {
    "running": ("◐", "cyan"), "passed": ("✓", "green"), "failed": ("✗", "bold red"), "timeout": ("⧗", "red"),
    "skipped": ("–", "dim"), "failed (optional)": ("!", "yellow"), "as baseline": ("≈", "yellow"),
}


def status_badge(status: str) -> Text:
    label = status.replace("_", " ")
    return Text(f" {label} ", style=f"reverse {STATUS_RICH.get(status, '')}".strip())


def age(then: datetime | None, now: datetime) -> str:
    if then is None:
        return "-"
    secs = max(0, int((now - then).total_seconds()))
    if secs < 60:
        return f"{secs}s"
    if secs < 3600:
        return f"{secs // 60}m"
    if secs < 86400:
        return f"{secs // 3600}h"
    return f"{secs // 86400}d"


def duration(secs: float | None) -> str:
    if secs is None:
        return "-"
    secs = int(secs)
    if secs < 60:
        return f"{secs}s"
    if secs < 3600:
        return f"{secs // 60}m{secs % 60:02d}s"
    return f"{secs // 3600}h{(secs % 3600) // 60:02d}m"


def tokens(n: float | None) -> str:
    if n is None:
        return "∞"
    n = float(n)
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n >= 1000:
        return f"{n / 1000:.1f}k"
    return f"{int(n)}"
