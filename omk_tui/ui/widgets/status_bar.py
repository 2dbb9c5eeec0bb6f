"""One line: goal status and phase, elapsed time, budget used against each limit, agents busy."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from omk_tui.control.lock import INTERRUPTED
from omk_tui.projection import GoalView
from omk_tui.ui.format import duration, status_badge, tokens


def _used(spent: float, limit: float | None, fmt) -> Text:
    style = ""
    if limit:
        ratio = spent / limit
        style = "bold red" if ratio >= 1 else ("yellow" if ratio >= 0.8 else "")
    return Text(f"{fmt(spent)}/{fmt(limit) if limit is not None else '∞'}", style=style)


def status_text(view: GoalView | None, elapsed: float, *, mode: str = "", status: str = "") -> Text:
    """`status` is what to show for the goal's status (default: the recorded `view.status`)."""
    if view is None:
        return Text(" no goal selected · press n to start one", style="dim")
    b = view.budget or {}
    spent = view.spent()
    spent_tokens, spent_usd = spent["spent_tokens"], spent["spent_usd"]
    parts = [
        status_badge(status or view.status), Text(f" {view.phase} ", style="bold"),
        Text("· "), Text(duration(elapsed)), Text("  time "),
        _used(elapsed, b.get("time_secs"), duration),
        Text("  tokens "), _used(spent_tokens, b.get("tokens"), tokens),
        Text("  $"), _used(spent_usd, b.get("usd"), lambda v: "∞" if v is None else f"{v:.2f}"),
        Text(f"  agents {0 if status == INTERRUPTED else len(view.running_turns)} busy"),
    ]
    if view.permissions:
        parts.append(Text(f"  ⚑ {len(view.permissions)} permission{'s' if len(view.permissions) > 1 else ''} "
                          "waiting (a)", style="bold yellow"))
    if view.blocker and view.status != "running":
        parts.append(Text(f"  {view.blocker}", style="red"))
    if mode:
        parts.insert(0, Text(f" {mode} ", style="reverse magenta"))
        parts.insert(1, Text(" "))
    return Text.assemble(*parts, no_wrap=True, overflow="ellipsis")


class StatusBar(Static):
    pass
