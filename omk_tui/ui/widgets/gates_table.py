"""The latest result of every gate: baseline, per slice, and final (post-integration)."""

from __future__ import annotations

from rich.text import Text

from omk_tui.projection import GateView, GoalView
from omk_tui.ui.format import GATE_ICON
from omk_tui.ui.widgets.row_table import RowTable


def gate_key(scope: str, name: str) -> str:
    return f"{scope}\x1f{name}"


def split_gate_key(key: str) -> tuple[str, str]:
    scope, _, name = key.partition("\x1f")
    return scope, name


def scope_order(scope: str) -> tuple[int, str]:
    return (0, "") if scope == "baseline" else ((2, "") if scope == "final" else (1, scope))


def ordered_gates(view: GoalView) -> list[GateView]:
    return [view.gates[k] for k in sorted(view.gates, key=lambda k: (scope_order(k[0]), k[1]))]


class GatesTable(RowTable):
    COLUMNS = (("scope", "scope"), ("name", "gate"), ("status", "status"), ("exit", "exit"), ("time", "time"),
               ("lines", "lines"))

    def show_view(self, view: GoalView) -> None:
        rows = []
        for g in ordered_gates(view):
            icon, style = GATE_ICON.get(g.status, ("·", ""))
            r = g.result
            exit_code = "-" if r is None or r.exit_code is None else str(r.exit_code)
            secs = "-" if r is None else f"{r.duration_ms / 1000:.1f}s"
            lines = Text(f"{g.line_count}…" if g.running else str(g.line_count), style="cyan" if g.running else "")
            rows.append((gate_key(g.scope, g.name), [
                g.scope, g.name, Text(f"{icon} {g.status}", style=style), exit_code, secs, lines]))
        self.set_rows(rows)
