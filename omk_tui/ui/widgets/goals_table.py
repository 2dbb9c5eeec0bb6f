"""Every goal of the repository, newest first (read from goal.json/task-graph.json, never the whole log)."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

from omk_tui.ui.format import age, status_badge
from omk_tui.state.summary import GoalSummary
from omk_tui.ui.widgets.row_table import RowTable


class GoalsTable(RowTable):
    COLUMNS = (("status", "status"), ("age", "age"), ("progress", "tasks"), ("phase", "phase"), ("goal", "goal"))

    def show_goals(self, goals: list[GoalSummary], now: datetime) -> None:
        rows = []
        for g in goals:
            progress = f"{g.done}/{g.total}" if g.total else "-"
            text = Text(g.goal.splitlines()[0] if g.goal else g.goal_id, no_wrap=True, overflow="ellipsis")
            if g.problem:
                text = Text(g.problem, style="red")
            rows.append((g.goal_id, [status_badge(g.status), age(g.created_at, now), progress, g.phase, text]))
        self.set_rows(rows)
