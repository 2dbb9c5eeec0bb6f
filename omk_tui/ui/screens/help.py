"""Every key binding, per screen, generated from the BINDINGS themselves (so it cannot go stale)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


def binding_tables() -> list[tuple[str, list[Binding]]]:
    from omk_tui.ui.app import OmkApp
    from omk_tui.ui.screens.dashboard import DashboardScreen
    from omk_tui.ui.screens.diff import DiffScreen
    from omk_tui.ui.screens.gate_log import GateLogScreen
    from omk_tui.ui.screens.modals import BudgetModal, ConfirmModal, NewGoalModal, PermissionModal, QuitModal

    def only(bindings) -> list[Binding]:
        return [b for b in bindings if isinstance(b, Binding)]

    return [
        ("Everywhere", only(OmkApp.BINDINGS) + [Binding("ctrl+p", "command_palette", "Command palette: every action")]),
        ("Dashboard", only(DashboardScreen.BINDINGS) + [Binding("enter", "open", "Open: gate → log, slice → diff")]),
        ("Gate log", only(GateLogScreen.BINDINGS)),
        ("Diff", only(DiffScreen.BINDINGS)),
        ("New goal", only(NewGoalModal.BINDINGS)),
        ("Add budget", only(BudgetModal.BINDINGS)),
        ("Confirm (cancel a goal)", only(ConfirmModal.BINDINGS)),
        ("Permission request", only(PermissionModal.BINDINGS)),
        ("Quit while running", only(QuitModal.BINDINGS)),
        ("Help", only(HelpScreen.BINDINGS)),
    ]


def _key_label(key: str, display: str | None) -> str:
    names = {"slash": "/", "question_mark": "?", "equals_sign": "=", "plus": "+", "minus": "-", "space": "space"}
    return display or ", ".join(names.get(k, k) for k in key.split(","))


def help_lines() -> list[str]:
    """The help screen as plain text (one `section: key  description` per binding)."""
    return [f"{title}: {_key_label(b.key, b.key_display)}  {b.description or b.action}"
            for title, bindings in binding_tables() for b in bindings]


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog wide", id="help"):
            yield Static(Text("Keys", style="bold"), classes="dialog-title")
            for title, bindings in binding_tables():
                table = Table(title=title, title_justify="left", show_header=False, box=None, expand=True,
                              title_style="bold")
                table.add_column("key", style="bold cyan", width=16)
                table.add_column("action")
                for b in bindings:
                    table.add_row(_key_label(b.key, b.key_display), b.description or b.action)
                yield Static(table)
            yield Static(Text("Replay keys (space, +, -, →, ←, home, end) work in `omk-tui replay`; live keys "
                              "(n, p, r, c, b, g) on the dashboard.", style="dim"))
