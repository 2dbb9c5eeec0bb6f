"""The agent pane's stream: messages, dimmed thoughts, tool calls updating in place, permission requests.

The projection keeps a bounded list of `StreamEntry`s per slice; this widget wraps each entry once per
(text length, status, width) and builds strips only for the lines it draws, so a stream at hundreds of lines a
second costs one pass over small tuples per batch, and memory stays bounded with the projection's limit.

The projection bounds a stream by entries, not by size: a message sent in a few huge chunks (a 1 MB line, a
50,000-line message) makes entries of any size. An entry longer than the stream's own splitting makes them
(`ENTRY_TEXT_HARD_LIMIT`) is shown as its head and tail with a line saying how much was left out (`shown_text`),
so wrapping it costs the same as a normal entry; the event log keeps the whole text.
"""

from __future__ import annotations

import time
from bisect import bisect_right

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from omk_tui.projection import ENTRY_TEXT_HARD_LIMIT, AgentStream, StreamEntry

FAST_STYLES = {"message": Style(), "thought": Style(dim=True, italic=True), "stderr": Style(color="red", dim=True),
               "turn": Style(bold=True, dim=True)}
TOOL_ICON = {"pending": "○", "in_progress": "◐", "completed": "✓", "failed": "✗"}
SHOWN_LIMIT = ENTRY_TEXT_HARD_LIMIT  # longer entries are shown cut (the stream's own splitting never makes them)
SHOWN_HEAD = 8000  # at most so many characters of a cut entry are shown from its start
SHOWN_TAIL = 4000  # and from its end
SHOWN_HEAD_LINES = 100  # and at most so many lines
SHOWN_TAIL_LINES = 50
LEFT_OUT_STYLE = "dim reverse"


def shown_text(text: str) -> tuple[str, str, str]:
    """(head, note, tail): an entry's text as shown. Up to `SHOWN_LIMIT` characters it is all head; a longer one
    keeps its first and last lines (whole lines where there are line breaks), and the note says how much was left
    out between them. Costs O(shown), whatever the entry's size (bar one `count` of line breaks, in C)."""
    if len(text) <= SHOWN_LIMIT:
        return text, "", ""
    pos, lines = 0, 0
    while lines < SHOWN_HEAD_LINES:
        nl = text.find("\n", pos, SHOWN_HEAD)
        if nl < 0:
            break
        pos, lines = nl + 1, lines + 1
    head_end = pos if lines == SHOWN_HEAD_LINES or pos > SHOWN_HEAD // 2 else SHOWN_HEAD
    n = len(text)
    end, lines = n, 0
    while lines < SHOWN_TAIL_LINES:
        nl = text.rfind("\n", n - SHOWN_TAIL, end)
        if nl < 0:
            break
        end, lines = nl, lines + 1
    tail_start = end + 1 if lines and (lines == SHOWN_TAIL_LINES or n - end > SHOWN_TAIL // 2) else n - SHOWN_TAIL
    left = text.count("\n", head_end, tail_start)
    chars = f"{tail_start - head_end:,} characters"
    what = f"{left:,} lines ({chars})" if left else chars
    head = text[:head_end]
    return head if head.endswith("\n") else head + "\n", f"… {what} left out …\n", text[tail_start:]


def _shown(text: str, style: str = "") -> Text:
    head, note, tail = shown_text(text)
    if not note:
        return Text(head, style=style)
    return Text.assemble((head, style), (note, LEFT_OUT_STYLE), (tail, style))


def entry_text(entry: StreamEntry) -> Text:
    kind = entry.kind
    if kind == "message":
        return _shown(entry.text.rstrip("\n"))
    if kind == "thought":
        return _shown(entry.text.rstrip("\n"), "dim italic")
    if kind == "tool":
        icon = TOOL_ICON.get(entry.status, "·")
        style = "red" if entry.status == "failed" else ("dim" if entry.status == "completed" else "cyan")
        return Text.assemble((f" {icon} ", style), (entry.text[:SHOWN_HEAD], style), no_wrap=True,
                             overflow="ellipsis")
    if kind == "permission":
        decided = entry.status and entry.status != "asked"
        style = "green" if decided and entry.status.startswith("approve") else ("red" if decided else "bold yellow")
        label = entry.status if decided else "waiting for you (a/y approve · x reject)"
        return Text.assemble((" ⚑ ", style), _shown(entry.text, style), ("  " + label, style))
    if kind == "stderr":
        return _shown(entry.text.rstrip("\n"), "red dim")
    if kind == "turn":
        return Text(entry.text[:SHOWN_HEAD], style="bold dim")
    return _shown(entry.text)


class AgentStreamView(ScrollView, can_focus=True):
    """Draws one `AgentStream`. Per entry it keeps (signature, line count, strips); a short one-line entry (most
    streamed lines) is counted without building anything and its strip is made only when it is drawn, so
    switching to a slice with thousands of lines costs a pass over small tuples, not thousands of strips."""

    STREAM_CACHES = 16  # streams whose wrapped entries are kept (switching back and forth is free)
    LAYOUT_SECS = 0.5

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._stream: AgentStream | None = None
        self._version = -1
        self._width = 0
        # (id(stream), width) → entry serial → [sig, line count, strips or None until drawn, entry]
        self._caches: dict[tuple[int, int], dict[int, list]] = {}
        self._blocks: list[list] = []
        self._starts: list[int] = []  # first line of each block
        self._total = 0
        self._laid_out = 0.0
        self._layout_timer = None
        self._at_end = True  # following the end of the stream (until the reader scrolls up)

    @property
    def line_count(self) -> int:
        return self._total

    def show(self, stream: AgentStream | None, *, reset: bool = False) -> None:
        """Show `stream` (redraws only if it changed since the last call)."""
        width = max(10, self.scrollable_content_region.width or self.size.width or 60)
        if reset or stream is not self._stream:
            self._stream = stream
            self._version = -1
            reset = True
        version = stream.version if stream is not None else 0
        if not reset and version == self._version and width == self._width:
            return
        follow = reset or self._at_end or self.is_vertical_scroll_end or self.max_scroll_y == 0
        self._version = version
        self._width = width
        self._rebuild(width)
        self._resize_virtual(Size(width, self._total))
        if follow:
            # forced: the scrollbar a longer stream needs appears only with the next layout, and until then Textual
            # refuses to scroll (the pane would stay at the top, or not, depending on timing)
            self.scroll_end(animate=False, immediate=True, x_axis=False, force=True)
            self.call_after_refresh(self._place_thumb)
        self.refresh()

    def _resize_virtual(self, size: Size) -> None:
        """Setting `virtual_size` re-lays out the whole screen (~20 ms with the dashboard's tables). The new size
        takes effect at once for scrolling and drawing; the layout (the scrollbar's thumb) follows at most every
        `LAYOUT_SECS`, and at once only when the scrollbar appears or disappears."""
        old = self.virtual_size
        if size == old:
            return
        visible = self.scrollable_content_region.height
        if size.width != old.width or (old.height > visible) != (size.height > visible) or \
                time.monotonic() - self._laid_out >= self.LAYOUT_SECS:
            self._laid_out = time.monotonic()
            self.virtual_size = size
            return
        self.set_reactive(AgentStreamView.virtual_size, size)
        if self._layout_timer is None:
            self._layout_timer = self.set_timer(self.LAYOUT_SECS, self._late_layout)

    def _late_layout(self) -> None:
        self._layout_timer = None
        self._laid_out = time.monotonic()
        self.refresh(layout=True)
        self.call_after_refresh(self._place_thumb)

    def _cache(self) -> dict[int, list]:
        key = (id(self._stream), self._width)
        cache = self._caches.pop(key, None)
        if cache is None:
            cache = {}
        self._caches[key] = cache  # most recently used last
        while len(self._caches) > self.STREAM_CACHES:
            del self._caches[next(iter(self._caches))]
        return cache

    def _rebuild(self, width: int) -> None:
        console = self.app.console
        old = self._cache()
        cache: dict[int, list] = {}
        blocks: list[list] = []
        starts: list[int] = []
        total = 0
        entries = self._stream.entries if self._stream is not None else ()
        for entry in entries:
            sig = (len(entry.text), entry.status, entry.text[-16:])
            block = old.get(entry.serial)
            if block is None or block[0] != sig or block[3] is not entry:
                if self._fast_fits(entry, width):
                    block = [sig, 1, None, entry]
                else:
                    strips = self._wrap_strips(entry, width, console)
                    block = [sig, len(strips), strips, entry]
            cache[entry.serial] = block
            blocks.append(block)
            starts.append(total)
            total += block[1]
        self._caches[(id(self._stream), width)] = cache
        self._blocks, self._starts, self._total = blocks, starts, total

    @staticmethod
    def _fast_fits(entry: StreamEntry, width: int) -> bool:
        """A short one-line ASCII message/thought: drawn as one plain segment, without rich's wrapping."""
        if entry.kind not in FAST_STYLES or len(entry.text) > width + 1:
            return False
        text = entry.text.rstrip("\n")
        return len(text) <= width and "\n" not in text and text.isascii() and text.isprintable()

    @staticmethod
    def _wrap_strips(entry: StreamEntry, width: int, console) -> list[Strip]:
        text = entry_text(entry)
        if text.no_wrap:
            text.truncate(width, overflow="ellipsis")
            parts = [text]
        else:
            parts = list(text.wrap(console, width)) or [Text("")]
        return [Strip(list(p.render(console)), p.cell_len) for p in parts]

    def _line(self, index: int) -> Strip:
        b = bisect_right(self._starts, index) - 1
        block = self._blocks[b]
        if block[2] is None:
            text = block[3].text.rstrip("\n")
            block[2] = [Strip([Segment(text, FAST_STYLES[block[3].kind])], len(text))]
        return block[2][index - self._starts[b]]

    def on_resize(self) -> None:
        if self._stream is not None:
            self.show(self._stream)
            if self._at_end:  # a pane that shrank under the reader still shows the end it showed
                self.scroll_end(animate=False, immediate=True, x_axis=False, force=True)
                self.call_after_refresh(self._place_thumb)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._at_end = new_value >= self.max_scroll_y

    def _place_thumb(self) -> None:
        """After the layout that shows the scrollbar: its thumb where the pane is (a forced scroll came first)."""
        if self.show_vertical_scrollbar:
            self.vertical_scrollbar.position = self.scroll_y

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.size.width
        if index >= self._total:
            return Strip.blank(width, self.rich_style)
        style = self.rich_style
        strip = self._line(index).crop_extend(scroll_x, scroll_x + width, style).apply_style(style)
        return strip.apply_offsets(scroll_x, index)

    def plain_lines(self) -> list[str]:
        return ["".join(seg.text for seg in self._line(i)) for i in range(self._total)]


def plan_text(stream: AgentStream | None) -> Text:
    if stream is None or not stream.plan:
        return Text("no plan yet", style="dim")
    marks = {"completed": ("✓", "green"), "in_progress": ("▸", "bold cyan"), "pending": ("○", "dim")}
    out = Text()
    for i, item in enumerate(stream.plan):
        mark, style = marks.get(str(item.get("status", "pending")), ("○", "dim"))
        if i:
            out.append("  ")
        out.append(f"{mark} ", style=style)
        out.append(str(item.get("content", "")), style=Style(dim=item.get("status") == "completed"))
    return out
