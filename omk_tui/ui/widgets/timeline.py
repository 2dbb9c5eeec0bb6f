"""The replay timeline: play state, speed and position; click anywhere on the bar to seek there."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget


class Timeline(Widget):
    position: reactive[int] = reactive(0)
    total: reactive[int] = reactive(0)
    playing: reactive[bool] = reactive(False)
    speed: reactive[float] = reactive(1.0)

    class Seek(Message):
        def __init__(self, fraction: float) -> None:
            super().__init__()
            self.fraction = fraction

    LABEL_WIDTH = 12

    def _tail(self) -> str:
        return f" {self.position}/{self.total} events"

    def render(self) -> Text:
        width = self.size.width
        head = f" {'▶' if self.playing else '❚❚'} {self.speed:g}× ".ljust(self.LABEL_WIDTH)
        tail = self._tail()
        bar_width = max(4, width - len(head) - len(tail) - 1)
        frac = self.position / self.total if self.total else 0.0
        done = round(bar_width * frac)
        return Text.assemble((head, "bold"), ("━" * done, "bold magenta"), ("─" * (bar_width - done), "dim"),
                             (tail, ""), no_wrap=True)

    def on_click(self, event: events.Click) -> None:
        bar_width = max(4, self.size.width - self.LABEL_WIDTH - len(self._tail()) - 1)
        x = event.x - self.LABEL_WIDTH
        if 0 <= x <= bar_width:
            self.post_message(self.Seek(x / bar_width))
