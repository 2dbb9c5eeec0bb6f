"""A gate log drawn straight from its file: only visible lines are read and rendered (the toolong way).

The line index grows in a thread worker (`LogFile.index_more` in chunks), posting `LogIndexed` progress
messages that replace each other; while the gate runs, a timer notices the file growing and indexes the new
bytes, and the view sticks to the end if it was there.

The diff screen draws its patch with the same view (`DiffView`): a text in memory (`TextLines`) instead of a file,
each drawn line coloured as a diff, no line numbers.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import work
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from omk_tui.ui.log_file import LogFile
from omk_tui.ui.messages import LogIndexed
from omk_tui.ui.text_lines import TextLines

GUTTER_STYLE = Style(dim=True)
CURRENT_STYLE = Style(bgcolor="grey23")
MATCH_STYLE = Style(bgcolor="dark_goldenrod", color="black")


class LogView(ScrollView, can_focus=True):
    BINDINGS = [
        Binding("up,k", "scroll_up", "Up", show=False),
        Binding("down,j", "scroll_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown,space", "page_down", "Page down", show=False),
        Binding("home", "scroll_home", "Top", show=False),
        Binding("end", "scroll_end", "Bottom", show=False),
    ]

    current_line: reactive[int | None] = reactive(None)
    search_text: reactive[str] = reactive("")

    numbers = True  # a gutter with line numbers
    line_style = Style()  # under every drawn line, to the pane's right edge

    def __init__(self, log: LogFile | TextLines, *, follow: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.log_file = log
        self.follow = follow
        self._cache: LRUCache[int, Strip] = LRUCache(2000)
        self._max_width = 0
        self._indexed_once = False

    def show_lines(self, lines: LogFile | TextLines) -> None:
        """Draw `lines` instead, from the top."""
        self.log_file = lines
        self._cache.clear()
        self._max_width = 0
        self.current_line = None
        self._set_virtual_size()
        self.scroll_home(animate=False, immediate=True)
        self._index()
        self.refresh()

    def on_mount(self) -> None:
        self._index()
        self.set_interval(0.25, self._check_growth)

    # ------------------------------------------------------------ indexing
    @work(thread=True, exclusive=True, group="log-index", exit_on_error=False)
    def _index(self) -> None:
        while True:
            done = self.log_file.index_more()
            self.post_message(LogIndexed(self.log_file.line_count, done))
            if done:
                return

    def on_log_indexed(self, message: LogIndexed) -> None:
        # not stopped: the screen's status line counts the lines too
        at_end = self.is_vertical_scroll_end or not self._indexed_once
        self._set_virtual_size()
        self._indexed_once = True
        # a partial last line may have grown since it was drawn; the gutter width may have changed too
        self._cache.clear()
        if self.follow and at_end:
            # the new virtual size takes effect on the next layout; scroll after it
            self.call_after_refresh(self.scroll_end, animate=False, immediate=True)
        self.refresh()

    def index_rest(self) -> None:
        """Index whatever the file has beyond the index now (the gate has finished writing it)."""
        self._index()

    def _check_growth(self) -> None:
        if self.follow and self.log_file.size > self.log_file.indexed_bytes:
            self._index()

    def _set_virtual_size(self) -> None:
        width = max(self._max_width, self.size.width)
        self.virtual_size = Size(width, self.log_file.line_count)

    # ------------------------------------------------------------ drawing
    @property
    def number_width(self) -> int:
        return len(str(max(self.log_file.line_count, 1))) + 1 if self.numbers else 0

    def line_text(self, index: int) -> Text:
        """Line `index` as drawn (before the gutter and search highlights): a log's ANSI colours."""
        return Text.from_ansi(self.log_file.line(index), no_wrap=True, end="")

    def _render_strip(self, index: int) -> Strip:
        cached = self._cache.get(index)
        if cached is not None:
            return cached
        text = self.line_text(index)
        if self.search_text:
            text.highlight_words([self.search_text], MATCH_STYLE, case_sensitive=False)
        if self.numbers:
            number = Text(f"{index + 1:>{self.number_width - 1}} ", style=GUTTER_STYLE, end="")
            line = Text.assemble(number, text, end="")
        else:
            line = text
        segments = list(line.render(self.app.console))
        strip = Strip(segments, line.cell_len)
        if strip.cell_length > self._max_width:
            # the widest line drawn so far sets the horizontal scroll range: apply it now, not at the next index
            # message (which may never come once the file is indexed)
            self._max_width = strip.cell_length
            self.call_later(self._set_virtual_size)
        self._cache[index] = strip
        return strip

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.size.width
        style = self.rich_style
        if index >= self.log_file.line_count:
            return Strip.blank(width, style)
        strip = self._render_strip(index)
        if index == self.current_line:
            strip = Strip([Segment(s.text, (s.style or Style()) + CURRENT_STYLE, s.control) for s in strip],
                          strip.cell_length)
            strip = strip.crop_extend(scroll_x, scroll_x + width, style + CURRENT_STYLE)
        else:
            # the pane's background under the text too, not only in the padding
            style += self.line_style
            strip = strip.crop_extend(scroll_x, scroll_x + width, style).apply_style(style)
        return strip.apply_offsets(scroll_x, index)

    def watch_current_line(self, old: int | None, new: int | None) -> None:
        self.refresh()

    def watch_search_text(self) -> None:
        self._cache.clear()
        self.refresh()

    def go_to_line(self, index: int) -> None:
        self.current_line = index
        top = max(0, index - self.size.height // 3)
        self.scroll_to(y=top, animate=False, immediate=True)
        self.refresh()
