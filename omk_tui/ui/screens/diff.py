"""A slice's change: the files it touches and the syntax-highlighted patch.

The diff is computed (and escaped) in a thread worker; the patch view draws only the lines on screen, so a
slice that adds an 80,000-line file opens as fast as a small one.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from omk_tui.projection import SliceView
from omk_tui.render.safe import printable_data
from omk_tui.ui.diff_source import slice_diff
from omk_tui.ui.messages import DiffReady, SliceDiff
from omk_tui.ui.widgets.diff_view import DiffView

ALL_FILES = "\x00all"


class DiffScreen(Screen):
    BINDINGS = [Binding("escape,q", "close", "Back"), Binding("tab", "app.focus_next", "Next pane")]

    def __init__(self, repo: Path, slice_view: SliceView, base_commit: str | None, goal_id: str = "") -> None:
        super().__init__()
        self.repo = repo
        self.slice_view = slice_view
        self.base_commit = base_commit
        self.goal_id = goal_id
        self.diff: SliceDiff | None = None

    def compose(self) -> ComposeResult:
        s = self.slice_view
        yield Static(Text.assemble((f" diff · {s.slice_id} ", "reverse bold"), f"  {s.title}  ",
                                   (s.branch, "dim"), no_wrap=True, overflow="ellipsis"), id="diff-header")
        with Horizontal(id="diff-body"):
            yield OptionList(id="diff-files")
            yield DiffView("computing the diff…", id="diff-patch")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#diff-files").border_title = "files"
        self._compute()

    @work(thread=True, exclusive=True, group="diff", exit_on_error=False)
    def _compute(self) -> None:
        d = slice_diff(self.repo, self.slice_view, self.base_commit, self.goal_id)
        # file names and contents: an agent's, as they are; escaped here, not on the UI thread (a big patch)
        self.post_message(DiffReady(printable_data(d, newlines=True)))

    @property
    def patch_view(self) -> DiffView:
        return self.query_one("#diff-patch", DiffView)

    def on_diff_ready(self, message: DiffReady) -> None:
        self.diff = d = message.diff
        files = self.query_one("#diff-files", OptionList)
        files.clear_options()
        if d.error:
            self.patch_view.show_message(d.error, "red")
            return
        if not d.files:
            self.patch_view.show_message(f"no changes on {d.source}", "dim")
            return
        total_ins = sum(f.insertions for f in d.files)
        total_del = sum(f.deletions for f in d.files)
        files.add_option(Option(Text.assemble(f"all ({len(d.files)}) ", (f"+{total_ins}", "green"), " ",
                                              (f"−{total_del}", "red")), id=ALL_FILES))
        for f in d.files:
            files.add_option(Option(Text.assemble(f.path, " ", (f"+{f.insertions}", "green"), " ",
                                                  (f"−{f.deletions}", "red")), id=f.path))
        files.highlighted = 0
        self._show(ALL_FILES)

    def _show(self, key: str) -> None:
        if self.diff is None:
            return
        patch = self.diff.patch if key == ALL_FILES else next(
            (f.patch for f in self.diff.files if f.path == key), "")
        theme = "monokai" if self.app.current_theme.dark else "default"
        self.patch_view.show_patch(patch, theme)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id:
            self._show(event.option.id)

    def action_close(self) -> None:
        self.dismiss()
