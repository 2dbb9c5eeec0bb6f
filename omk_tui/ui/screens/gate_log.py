"""A gate's log: ANSI colours, drawn from the file, follows while the gate runs, search and jump to failures.

Searches and failure jumps read the file in a thread worker (a log of hundreds of MB takes seconds): the status
line says so, `esc` stops them, and a search that reaches the end goes on from the other end (wraps). While the
gate runs, its header follows the goal's view (`current`) and shows the result once the gate has finished.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Input, Static
from textual.worker import get_current_worker

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

    def __init__(self, gate: GateView, *, follow: bool | None = None,
                 current: Callable[[], GateView | None] | None = None) -> None:
        """`current` gives the gate as the goal's view has it now (it may finish while its log is shown)."""
        super().__init__()
        self.gate = gate
        self.current = current
        self.log_path = Path(gate.log_path or "")
        self.log_file = LogFile(self.log_path)
        self.follow = gate.running if follow is None else follow
        self.searching = ""  # what a running search looks for ("" when none runs)
        self.pinned = False  # `G`: the current line stays on the last line as more is indexed
        self._shown = self._gate_state(gate)

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

    @staticmethod
    def _gate_state(g: GateView) -> tuple:
        return g.status, g.result

    def on_mount(self) -> None:
        self._status()
        self.query_one(LogView).focus()
        if self.current is not None and self.gate.running:
            self.set_interval(0.5, self._check_gate)

    def _check_gate(self) -> None:
        gate = self.current() if self.current is not None else None
        if gate is None or self._gate_state(gate) == self._shown:
            return
        self.gate, self._shown = gate, self._gate_state(gate)
        self.query_one("#log-header", Static).update(self._header())
        if not gate.running and self.follow:
            self.follow = self.view.follow = False
            self.view.index_rest()  # what the gate wrote last
        self._status()

    def on_unmount(self) -> None:
        self.log_file.close()

    @property
    def view(self) -> LogView:
        return self.query_one(LogView)

    def on_log_indexed(self, message: LogIndexed) -> None:
        message.stop()
        if self.pinned and self.log_file.line_count:
            self.view.current_line = self.log_file.line_count - 1
            if not self.follow:  # a log still being read: to its end, as read (a followed one sticks there itself)
                self.view.call_after_refresh(self.view.scroll_end, animate=False, immediate=True)
                self.pinned = not message.done
        self._status()

    def _status(self, note: str = "") -> None:
        status = self.query_one("#log-status", Static)
        if not self.log_file.exists:
            waiting = " (yet); it is shown when the gate writes it" if self.follow else ""
            status.update(Text(f" The log {self.log_path} does not exist{waiting}.", style="red"))
            return
        total = self.log_file.line_count
        where = f"line {self.view.current_line + 1}" if self.view.current_line is not None else ""
        indexing = "" if self.log_file.indexed_bytes >= self.log_file.size else " (reading…)"
        text = f" {total} lines{indexing}{' · following' if self.follow else ''}  {where}  {note}"
        status.update(text)

    def _stop_search(self) -> bool:
        """Stop a running search or failure jump (its result is dropped). Whether one was running."""
        running, self.searching = bool(self.searching), ""
        self.workers.cancel_group(self, "log-find")
        return running

    def action_close(self) -> None:
        if self._stop_search():
            self._status("search stopped")
            return
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

    def _found(self, worker, line: int | None, what: str, wrapped: bool) -> None:
        if not worker.is_cancelled:  # (cancelled on this thread: a key pressed since, or a newer search)
            self._jump(line, what, wrapped)

    def _jump(self, line: int | None, what: str, wrapped: bool = False) -> None:
        self.searching = ""
        if line is None:
            self._status(f"no {what}")
            self.app.bell()
            return
        self.pinned = False
        self.view.go_to_line(line)
        self._status(what + (" (from the other end: wrapped)" if wrapped else ""))

    def _start(self) -> int:
        return self.view.current_line if self.view.current_line is not None else -1

    def _end(self) -> int:
        return self.view.current_line if self.view.current_line is not None else self.log_file.line_count

    def _find(self, what: str, backwards: bool, start: int) -> None:
        self.searching = what
        self._status(f"looking for the {'previous' if backwards else 'next'} {what}… (esc stops)")
        self._scan_worker(what, backwards, start)

    @work(thread=True, exclusive=True, group="log-find", exit_on_error=False)
    def _scan_worker(self, what: str, backwards: bool, start: int) -> None:
        worker = get_current_worker()
        text = self.view.search_text

        def scan(from_line: int) -> int | None:
            if what == "failure":
                return self.log_file.next_failure(from_line, backwards=backwards, stopped=lambda: worker.is_cancelled)
            return self.log_file.find(text, from_line, backwards=backwards, stopped=lambda: worker.is_cancelled)

        line, wrapped = scan(start), False
        if line is None and not worker.is_cancelled and 0 <= start < self.log_file.line_count:
            line, wrapped = scan(self.log_file.line_count if backwards else -1), True
        if not worker.is_cancelled:
            self.app.call_from_thread(self._found, worker, line, what, wrapped and line is not None)

    def _search_what(self) -> str:
        return f"match for {self.view.search_text!r}"

    def action_find_next(self, from_top: bool = False) -> None:
        self._find(self._search_what(), False, -1 if from_top else self._start())

    def action_find_previous(self) -> None:
        self._find(self._search_what(), True, self._end())

    def action_next_failure(self) -> None:
        self._find("failure", False, self._start())

    def action_previous_failure(self) -> None:
        self._find("failure", True, self._end())

    def action_top(self) -> None:
        # the current line moves too: searches and failure jumps start from it
        self._stop_search()
        self.pinned = False
        if self.log_file.line_count:
            self.view.current_line = 0
        self.view.scroll_home(animate=False)
        self._status()

    def action_bottom(self) -> None:
        self._stop_search()
        self.pinned = True  # a log still being read or written: the last line as it grows
        if self.log_file.line_count:
            self.view.current_line = self.log_file.line_count - 1
        self.view.scroll_end(animate=False)
        self._status()
