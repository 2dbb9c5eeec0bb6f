"""Modal dialogs: new goal, add budget, confirm, permission request, quit while running."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.validation import Function, Number
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from omk_tui.projection import PermissionView


def _optional_number(value: str) -> bool:
    """Empty, or a finite number ≥ 0 (`inf`, `nan` and `1e999` are not amounts)."""
    if not value.strip():
        return True
    try:
        number = float(value)
    except ValueError:
        return False
    return math.isfinite(number) and number >= 0


def _optional_whole(value: str) -> bool:
    """Empty, or a whole number ≥ 0 (tokens are counted, not cut: `1.5` is refused rather than read as 1)."""
    return _optional_number(value) and (not value.strip() or float(value).is_integer())


def _valid_agent(value: str) -> bool:
    from omk_tui.agents.spec import AgentSpecError, parse_spec

    try:
        parse_spec(value.strip())
    except AgentSpecError:
        return False
    return True


@dataclass
class NewGoalRequest:
    goal: str
    agent: str
    max_agents: int
    time_secs: float | None
    tokens: int | None
    usd: float | None
    approval: str
    delivery_policy: str


def _num(value: str, kind=float):
    value = value.strip()
    return kind(float(value)) if value else None


class NewGoalModal(ModalScreen[NewGoalRequest | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Close"), Binding("ctrl+s", "submit", "Start goal")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]  # compact below 30 rows (styles/screens.tcss)

    APPROVALS = ("ask", "safe", "yolo", "never")

    def __init__(self, agent: str = "kimi", approval: str = "ask") -> None:
        """`agent` and `approval`: what the dialog starts with (the project's `[agent]` settings in
        .omk/config.toml); any other policy (`pattern:…`) is offered along with the usual ones."""
        super().__init__()
        self.agents = list(dict.fromkeys([agent, "kimi", "wire", "script:"]))
        self.approval = approval

    def compose(self) -> ComposeResult:
        number = Function(_optional_number, "a number ≥ 0, or empty for no limit")
        whole = Function(_optional_whole, "a whole number ≥ 0, or empty for no limit")
        with VerticalScroll(id="dialog", classes="dialog wide"):
            yield Label("New goal", classes="dialog-title")
            yield TextArea(id="goal-text", soft_wrap=True, show_line_numbers=False)
            with Grid(id="goal-options"):
                yield Label("Agent")
                # any agent spec (kimi, wire, acp:"<command>", script:PATH) is typed, with the usual ones suggested
                yield Input(self.agents[0], id="agent", suggester=SuggestFromList(self.agents, case_sensitive=False),
                            validators=[Function(_valid_agent, "kimi, wire, acp:\"<command>\" or script:PATH")])
                yield Label("Max agents")
                yield Input("2", id="max-agents", validators=[Number(minimum=1, maximum=64)], type="integer")
                yield Label("Time (min)")
                yield Input("30", id="time", validators=[number], placeholder="no limit")
                yield Label("Tokens")
                yield Input("", id="tokens", validators=[whole], placeholder="no limit")
                yield Label("USD")
                yield Input("", id="usd", validators=[number], placeholder="no limit")
                yield Label("Approval")
                approvals = list(dict.fromkeys([*self.APPROVALS, self.approval]))
                yield Select([(p, p) for p in approvals], value=self.approval, allow_blank=False, id="approval")
                yield Label("Delivery")
                yield Select([(p, p) for p in ("local", "draft-pr", "auto-pr")], value="local", allow_blank=False,
                             id="delivery")
            yield Static("", id="new-goal-error", classes="error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Start  ctrl+s", variant="primary", id="start")
                yield Button("Cancel  esc", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#goal-text", TextArea).border_title = "What should be done? (a testable goal)"
        self.query_one("#goal-text").focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "start":
            self.action_submit()
        else:
            self.dismiss(None)

    def action_submit(self) -> None:
        text = self.query_one("#goal-text", TextArea).text.strip()
        error = self.query_one("#new-goal-error", Static)
        if len(text.split()) < 3:
            error.update("Describe the goal in at least three words, with something testable.")
            return
        for field_id in ("agent", "max-agents", "time", "tokens", "usd"):
            field = self.query_one(f"#{field_id}", Input)
            result = field.validate(field.value)
            if result is not None and not result.is_valid:
                error.update(f"{field_id.replace('-', ' ')}: {'; '.join(result.failure_descriptions)}")
                field.focus()
                return
        time_min = _num(self.query_one("#time", Input).value)
        self.dismiss(NewGoalRequest(
            goal=text,
            agent=self.query_one("#agent", Input).value.strip(),
            max_agents=int(self.query_one("#max-agents", Input).value or 2),
            time_secs=time_min * 60 if time_min is not None else None,
            tokens=_num(self.query_one("#tokens", Input).value, int),
            usd=_num(self.query_one("#usd", Input).value),
            approval=str(self.query_one("#approval", Select).value),
            delivery_policy=str(self.query_one("#delivery", Select).value),
        ))


@dataclass
class BudgetRequest:
    time_secs: float | None
    tokens: int | None
    usd: float | None


class BudgetModal(ModalScreen[BudgetRequest | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Close"), Binding("ctrl+s", "submit", "Add")]

    def compose(self) -> ComposeResult:
        number = Function(_optional_number, "a number ≥ 0")
        whole = Function(_optional_whole, "a whole number ≥ 0")
        with Vertical(classes="dialog"):
            yield Label("Add budget", classes="dialog-title")
            with Grid(id="budget-grid"):
                yield Label("Time (min)")
                yield Input("", id="time", validators=[number], placeholder="0")
                yield Label("Tokens")
                yield Input("", id="tokens", validators=[whole], placeholder="0")
                yield Label("USD")
                yield Input("", id="usd", validators=[number], placeholder="0")
            yield Static("", id="budget-error", classes="error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Add  ctrl+s", variant="primary", id="add")
                yield Button("Cancel  esc", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#time").focus()

    def on_input_submitted(self) -> None:
        self.action_submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_submit() if event.button.id == "add" else self.dismiss(None)

    def action_submit(self) -> None:
        values = {}
        for fid in ("time", "tokens", "usd"):
            field = self.query_one(f"#{fid}", Input)
            if not (_optional_whole if fid == "tokens" else _optional_number)(field.value):
                kind = "a whole number" if fid == "tokens" else "a number"
                self.query_one("#budget-error", Static).update(f"{fid}: {kind} ≥ 0")
                field.focus()
                return
            values[fid] = field.value
        req = BudgetRequest(time_secs=(_num(values["time"]) or 0) * 60 or None,
                            tokens=_num(values["tokens"], int) or None, usd=_num(values["usd"]) or None)
        if req.time_secs is None and req.tokens is None and req.usd is None:
            self.query_one("#budget-error", Static).update("Enter at least one amount to add.")
            return
        self.dismiss(req)


class ConfirmModal(ModalScreen[bool]):
    BINDINGS = [Binding("y", "dismiss(True)", "Yes"), Binding("n,escape", "dismiss(False)", "No")]

    def __init__(self, question: str, detail: str = "") -> None:
        super().__init__()
        self.question = question
        self.detail = detail

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.question, classes="dialog-title", markup=False)
            if self.detail:
                yield Static(self.detail, markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Yes  y", variant="error", id="yes")
                yield Button("No  n", id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class PermissionModal(ModalScreen[str | None]):
    """A pending permission request: `y`/`a` approve, `s` approve for the session, `n`/`x` reject.

    One that opens by itself (`arm_secs` > 0) takes no answer for its first moment, so a key typed just as it
    appears, meant for the dashboard, is not taken as the answer. With `waiting`, it closes by itself once the
    request no longer waits (answered by the approval policy or in another window, or its goal stopped): left
    open, it kept the dashboard's keys from it (`q` too) for good. `q` quits from here as from the dashboard."""

    BINDINGS = [
        Binding("y,a", "answer('approve')", "Approve"),
        Binding("s", "answer('approve_for_session')", "Approve for session"),
        Binding("n,x", "answer('reject')", "Reject"),
        Binding("escape", "dismiss(None)", "Later"),
        Binding("q", "app.quit", "Quit", tooltip="Quit (the request stays pending)"),
    ]
    WAITING_CHECK_SECS = 0.2

    def __init__(self, request: PermissionView, *, arm_secs: float = 0.0,
                 waiting: Callable[[], bool] | None = None) -> None:
        super().__init__()
        self.request = request
        self._armed_at = time.monotonic() + arm_secs
        self._waiting = waiting

    def on_mount(self) -> None:
        if self._waiting is not None:
            self.set_interval(self.WAITING_CHECK_SECS, self._check_waiting)

    def _check_waiting(self) -> None:
        if self._waiting is None or self._waiting() or self.app.screen is not self:
            return  # (under another screen, it closes once back on top)
        self._waiting = None
        self.app.notify(f"the permission request of {self.request.slice_id or 'the goal'} "
                        f"({self.request.tool}) no longer waits: answered elsewhere", timeout=6)
        self.dismiss(None)

    def compose(self) -> ComposeResult:
        r = self.request
        with Vertical(classes="dialog wide", id="permission"):
            yield Label(f"Permission requested · {r.slice_id or 'goal'}", classes="dialog-title", markup=False)
            yield Static(Text.assemble(("tool   ", "dim"), (r.tool, "bold")))
            if r.command:
                yield Static(Text.assemble(("command ", "dim"), (r.command, "bold yellow")))
            if r.paths:
                yield Static(Text.assemble(("paths  ", "dim"), ", ".join(r.paths)))
            yield Static(Text.assemble(("scope  ", "dim"), ", ".join(r.scope) or "(no write scope)"))
            if r.diff:
                with VerticalScroll(id="permission-diff"):
                    yield Static(Syntax(r.diff, "diff", theme="ansi_dark", word_wrap=True))
            with Horizontal(classes="buttons"):
                yield Button("Approve  y", variant="success", id="approve")
                yield Button("Session  s", id="approve_for_session")
                yield Button("Reject  n", variant="error", id="reject")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_answer(event.button.id)

    def action_answer(self, decision: str) -> None:
        if time.monotonic() < self._armed_at:
            self.app.bell()
            return
        self.dismiss(decision)


class QuitModal(ModalScreen[str | None]):
    """Quitting while a goal runs in this process: pause and quit (default), or leave it running detached."""

    BINDINGS = [
        Binding("p,enter", "dismiss('pause')", "Pause and quit"),
        Binding("b", "dismiss('background')", "Keep running in background"),
        Binding("escape", "dismiss(None)", "Stay"),
    ]

    def __init__(self, goals: list[str]) -> None:
        super().__init__()
        self.goals = goals

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("A goal is running in this window", classes="dialog-title")
            yield Static("\n".join(self.goals), markup=False)
            yield Static("Pause it and quit (resume later with r or `omk-tui resume`), or keep it running in the "
                         "background as a headless controller.", classes="dim")
            with Horizontal(classes="buttons"):
                yield Button("Pause and quit  p", variant="primary", id="pause")
                yield Button("Background  b", id="background")
                yield Button("Stay  esc", id="stay")

    def on_mount(self) -> None:
        self.query_one("#pause", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None if event.button.id == "stay" else event.button.id)
