"""A slice's patch drawn with the gate log's view: only the lines on screen are highlighted and rendered.

Each drawn line is coloured by the same pygments diff lexer and theme rich's `Syntax(patch, "diff")` uses (the
lexer is line-based, so a line alone gets the colours it gets in the whole patch), so an 80,000-line patch costs a
split into lines, not a rich render of the whole text on every layout.
"""

from __future__ import annotations

from rich.style import Style
from rich.syntax import Syntax
from rich.text import Text

from omk_tui.ui.text_lines import TextLines
from omk_tui.ui.widgets.log_view import LogView


class DiffView(LogView):
    numbers = False

    def __init__(self, message: str = "", *, id: str | None = None) -> None:
        super().__init__(TextLines(message), id=id)
        self._syntax: Syntax | None = None  # None: a message (no diff colours)
        self._message_style = Style()

    def show_patch(self, patch: str, theme: str) -> None:
        self._syntax = Syntax("", "diff", theme=theme, word_wrap=False)
        self.line_style = Syntax.get_theme(theme).get_background_style()
        self.show_lines(TextLines(patch))

    def show_message(self, message: str, style: str = "") -> None:
        self._syntax = None
        self._message_style = Style.parse(style) if style else Style()
        self.line_style = Style()
        self.show_lines(TextLines(message))

    def line_text(self, index: int) -> Text:
        line = self.log_file.line(index)
        if self._syntax is None:
            return Text(line, style=self._message_style, no_wrap=True, end="")
        text = self._syntax.highlight(line)
        text.remove_suffix("\n")  # the lexer ends every text with one
        text.end = ""
        return text

    def plain_lines(self) -> list[str]:
        """The lines as drawn, without colours (what a test reads)."""
        return [self.log_file.line(i) for i in range(self.log_file.line_count)]
