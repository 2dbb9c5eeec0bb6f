"""The agent pane's stream: messages, dimmed thoughts, tool calls updating in place, permission requests.

The projection keeps a bounded list of `StreamEntry`s per slice; this widget wraps each entry once per
(text length, status, width) and draws only the visible lines, so a stream at hundreds of lines a second
costs one cheap rebuild per batch, and memory stays bounded with the projection's limit.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from omk_tui.projection import AgentStream, StreamEntry

FAST_STYLES = {"message": Style(), "thought": Style(dim=True, italic=True), "stderr": Style(color="red", dim=True),
               "turn": Style(bold=True, dim=True)}
TOOL_ICON = {"pending": "○", "in_progress": "◐", "completed": "✓", "failed": "✗"}


def entry_text(entry: StreamEntry) -> Text:
    kind = entry.kind
    if kind == "message":
        return Text(entry.text.rstrip("\n"))
    if kind == "thought":
        return Text(entry.text.rstrip("\n"), style="dim italic")
    if kind == "tool":
        icon = TOOL_ICON.get(entry.status, "·")
        style = "red" if entry.status == "failed" else ("dim" if entry.status == "completed" else "cyan")
        return Text.assemble((f" {icon} ", style), (entry.text, style), no_wrap=True, overflow="ellipsis")
    if kind == "permission":
        decided = entry.status and entry.status != "asked"
        style = "green" if decided and entry.status.startswith("approve") else ("red" if decided else "bold yellow")
        label = entry.status if decided else "waiting for you (a/y approve · x reject)"
        return Text.assemble((" ⚑ ", style), (entry.text, style), ("  " + label, style))
    if kind == "stderr":
        return Text(entry.text.rstrip("\n"), style="red dim")
    if kind == "turn":
        return Text(entry.text, style="bold dim")
    return Text(entry.text)


class AgentStreamView(ScrollView, can_focus=True):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._stream: AgentStream | None = None
        self._version = -1
        self._width = 0
        self._wrapped: dict[int, tuple[tuple, list[Strip]]] = {}
        self._lines: list[Strip] = []

    @property
    def line_count(self) -> int:
        return len(self._lines)

    def show(self, stream: AgentStream | None, *, reset: bool = False) -> None:
        """Show `stream` (redraws only if it changed since the last call)."""
        width = max(10, self.scrollable_content_region.width or self.size.width or 60)
        if reset or stream is not self._stream:
            self._stream = stream
            self._wrapped.clear()
            self._version = -1
            reset = True
        version = stream.version if stream is not None else 0
        if not reset and version == self._version and width == self._width:
            return
        follow = reset or self.is_vertical_scroll_end or self.max_scroll_y == 0
        self._version = version
        self._width = width
        self._rebuild(width)
        self.virtual_size = Size(width, len(self._lines))
        if follow:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        self.refresh()

    def _rebuild(self, width: int) -> None:
        console = self.app.console
        lines: list[Strip] = []
        wrapped: dict[int, tuple[tuple, list[Strip]]] = {}
        entries = list(self._stream.entries) if self._stream is not None else []
        for entry in entries:
            sig = (len(entry.text), entry.status, width, entry.text[-16:])
            key = id(entry)
            cached = self._wrapped.get(key)
            if cached is None or cached[0] != sig:
                cached = (sig, self._fast_strips(entry, width) or self._wrap_strips(entry, width, console))
            wrapped[key] = cached
            lines.extend(cached[1])
        self._wrapped = wrapped
        self._lines = lines

    @staticmethod
    def _fast_strips(entry: StreamEntry, width: int) -> list[Strip] | None:
        """A short one-line message drawn without rich's wrapping (most streamed lines): ~20x cheaper."""
        style = FAST_STYLES.get(entry.kind)
        if style is None:
            return None
        text = entry.text.rstrip("\n")
        if "\n" in text or len(text) > width or not text.isascii() or not text.isprintable():
            return None
        return [Strip([Segment(text, style)], len(text))]

    @staticmethod
    def _wrap_strips(entry: StreamEntry, width: int, console) -> list[Strip]:
        text = entry_text(entry)
        if text.no_wrap:
            text.truncate(width, overflow="ellipsis")
            parts = [text]
        else:
            parts = list(text.wrap(console, width)) or [Text("")]
        return [Strip(list(p.render(console)), p.cell_len) for p in parts]

    def on_resize(self) -> None:
        if self._stream is not None:
            self.show(self._stream)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.size.width
        if index >= len(self._lines):
            return Strip.blank(width, self.rich_style)
        strip = self._lines[index].crop_extend(scroll_x, scroll_x + width, self.rich_style)
        return strip.apply_offsets(scroll_x, index)

    def plain_lines(self) -> list[str]:
        return ["".join(seg.text for seg in strip) for strip in self._lines]


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
