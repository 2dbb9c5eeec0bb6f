"""Per slice: branch, worktree, state, changed files and +/− lines, lease and agent liveness."""

from __future__ import annotations

from datetime import datetime
from rich.text import Text

from omk_tui.projection import GOAL_SCOPE, GoalView
from omk_tui.ui.format import SLICE_STYLE, duration
from omk_tui.ui.widgets.row_table import RowTable


def short_path(path: str | None, width: int = 24) -> str:
    """The tail of a worktree path (its slice folder and parents), trimmed from the left."""
    if not path:
        return "-"
    return path if len(path) <= width else "…" + path[-(width - 1):]


def liveness(view: GoalView, sid: str, now: datetime, live: bool = True) -> Text:
    """Whether the slice's agent runs (or how long its lease has left); `live` is False when no controller runs the
    goal (interrupted): what the log last said of the slice's agent no longer holds."""
    s = view.slices[sid]
    if not live:
        return Text("stopped", style="yellow") if s.agent_alive or s.state in ("running", "gates") \
            else Text("○", style="dim")
    if s.agent_alive:
        return Text("● agent", style="green")
    if s.lease_expires_at is not None and s.state in ("running", "gates"):
        exp = s.lease_expires_at
        if isinstance(exp, str):
            try:
                exp = datetime.fromisoformat(exp)
            except ValueError:
                return Text("lease", style="dim")
        left = (exp - now).total_seconds()
        return Text(f"lease {duration(left)}" if left > 0 else "lease expired", style="yellow" if left > 0 else "red")
    return Text("○", style="dim")


class WorktreesTable(RowTable):
    COLUMNS = (("slice", "slice"), ("state", "state"), ("live", "agent"), ("files", "files"), ("lines", "+/−"),
               ("branch", "branch"), ("worktree", "worktree"))

    def show_view(self, view: GoalView, now: datetime, *, live: bool = True) -> None:
        goal_live = live and GOAL_SCOPE in view.running_turns
        rows = [(GOAL_SCOPE, [
            Text("goal", style="bold"), Text(view.phase, style="dim"),
            Text("● planner" if goal_live else "○", style="green" if goal_live else "dim"), "-", "-",
            Text("planning · reviews", style="dim"), "-"])]
        for sid in sorted(view.slices):
            s = view.slices[sid]
            state = Text(s.state + (f" #{s.attempt}" if s.attempt > 1 else ""), style=SLICE_STYLE.get(s.state, ""))
            files = str(len(s.changed_files)) if s.changed_files else "-"
            lines = Text.assemble((f"+{s.insertions}", "green"), " ", (f"−{s.deletions}", "red")) \
                if s.changed_files else Text("-", style="dim")
            rows.append((sid, [Text(sid, style="bold"), state, liveness(view, sid, now, live), files, lines,
                               Text(s.branch, no_wrap=True, overflow="ellipsis"), short_path(s.worktree)]))
        self.set_rows(rows)
