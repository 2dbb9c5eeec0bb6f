"""A gate's log: ANSI colours, drawn from the file, follows while the gate runs, search and jump to failures."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from omk_tui.projection import GateView
from omk_tui.ui.format import GATE_ICON
from omk_tui.ui.log_file import LogFile
from omk_tui.ui.messages import LogIndexed
from omk_tui.ui.widgets.log_view import LogView


class GateLogScreen(Screen):
    BINDINGS = [
        Binding("escape,q", "close", "Back"),
        Binding("slash", "search", "Search"),
        Binding("n", "find_next", "Next match"),
        Binding("N", "find_previous", "Previous match"),
        Binding("f", "next_failure", "Next failure"),
        Binding("F", "previous_failure", "Previous failure"),
        Binding("g", "top", "Top"),
        Binding("G", "bottom", "Bottom"),
    ]

    def __init__(self, gate: GateView, *, follow: bool | None = None) -> None:
        super().__init__()
        self.gate = gate
        self.log_path = Path(gate.log_path or "")
        self.log_file = LogFile(self.log_path)
        self.follow = gate.running if follow is None else follow
        self.last_found: int | None = None

    def compose(self) -> ComposeResult:
        yield Static(self._header(), id="log-header")
        yield LogView(self.log_file, follow=self.follow, id="log-view")
        yield Input(placeholder="search (enter: find, esc: close)", id="log-search", classes="hidden")
        yield Static("", id="log-status", markup=False)
        yield Footer()

    def _header(self) -> Text:
        g = self.gate
        icon, style = GATE_ICON.get(g.status, ("·", ""))
        r = g.result
        extra = "" if r is None else f" · exit {r.exit_code} · {r.duration_ms / 1000:.1f}s"
        return Text.assemble((f" {icon} {g.status} ", f"reverse {style}"), (f" {g.scope} · {g.name}", "bold"),
                             (f"{extra} · {g.command_line}", ""), "\n", (f" {self.log_path}", "dim underline"),
                             no_wrap=True, overflow="ellipsis")

    def on_mount(self) -> None:
        self._status()
        self.query_one(LogView).focus()

    def on_unmount(self) -> None:
        self.log_file.close()

    @property
    def view(self) -> LogView:
        return self.query_one(LogView)

    def on_log_indexed(self, message: LogIndexed) -> None:
        message.stop()
        self._status()

    def _status(self, note: str = "") -> None:
        status = self.query_one("#log-status", Static)
        if not self.log_file.exists:
            waiting = " (yet); it is shown when the gate writes it" if self.follow else ""
            status.update(Text(f" The log {self.log_path} does not exist{waiting}.", style="red"))
            return
        total = self.log_file.line_count
        where = f"line {self.view.current_line + 1}" if self.view.current_line is not None else ""
        text = f" {total} lines{' · following' if self.follow else ''}  {where}  {note}"
        status.update(text)

    def action_close(self) -> None:
        search = self.query_one("#log-search", Input)
        if not search.has_class("hidden"):
            search.add_class("hidden")
            self.view.focus()
            return
        self.dismiss()

    def action_search(self) -> None:
        search = self.query_one("#log-search", Input)
        search.remove_class("hidden")
        search.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.input.add_class("hidden")
        self.view.search_text = event.value
        self.view.focus()
        self.action_find_next(from_top=self.view.current_line is None)

    def _jump(self, line: int | None, what: str) -> None:
        if line is None:
            self._status(f"no {what}")
            self.app.bell()
            return
        self.view.go_to_line(line)
        self._status(what)

    def _start(self) -> int:
        return self.view.current_line if self.view.current_line is not None else -1

    def action_find_next(self, from_top: bool = False) -> None:
        self._jump(self.log_file.find(self.view.search_text, -1 if from_top else self._start()),
                   f"match for {self.view.search_text!r}")

    def action_find_previous(self) -> None:
        start = self.view.current_line if self.view.current_line is not None else self.log_file.line_count
        self._jump(self.log_file.find(self.view.search_text, start, backwards=True),
                   f"match for {self.view.search_text!r}")

    def action_next_failure(self) -> None:
        self._jump(self.log_file.next_failure(self._start()), "failure")

    def action_previous_failure(self) -> None:
        start = self.view.current_line if self.view.current_line is not None else self.log_file.line_count
        self._jump(self.log_file.next_failure(start, backwards=True), "failure")

    def action_top(self) -> None:
        # the current line moves too: searches and failure jumps start from it
        if self.log_file.line_count:
            self.view.current_line = 0
        self.view.scroll_home(animate=False)
        self._status()

    def action_bottom(self) -> None:
        if self.log_file.line_count:
            self.view.current_line = self.log_file.line_count - 1
        self.view.scroll_end(animate=False)
        self._status()
