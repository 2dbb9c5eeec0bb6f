"""A DataTable that is rebuilt from a list of keyed rows, keeping the cursor on the same key."""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable


class RowTable(DataTable):
    BINDINGS = [Binding("enter", "select_cursor", "Open", tooltip="Open the selected row")]
    COLUMNS: Sequence[tuple[str, str]] = ()  # (key, label)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self._signature: tuple | None = None
        self.row_keys: list[str] = []

    def on_mount(self) -> None:
        for key, label in self.COLUMNS:
            self.add_column(label, key=key)

    @property
    def selected_key(self) -> str | None:
        if not self.row_keys or self.cursor_row < 0 or self.cursor_row >= len(self.row_keys):
            return None
        return self.row_keys[self.cursor_row]

    def set_rows(self, rows: list[tuple[str, Sequence]], *, signature: tuple | None = None) -> bool:
        """Replace the rows (no-op when `signature` is unchanged). Returns True when the table changed.

        A str cell is literal text: DataTable would read it as markup, and titles, paths and reasons come from
        people and agents (``list[int]`` would lose its brackets; ``[/]`` would raise)."""
        sig = signature if signature is not None else tuple((k, tuple(str(c) for c in cells)) for k, cells in rows)
        if sig == self._signature:
            return False
        self._signature = sig
        rows = [(key, [Text(c) if isinstance(c, str) else c for c in cells]) for key, cells in rows]
        keys = [k for k, _ in rows]
        if keys == self.row_keys:
            # same rows: update the cells in place (keeps the cursor and the scroll position)
            column_keys = [k for k, _ in self.COLUMNS]
            for key, cells in rows:
                for column_key, value in zip(column_keys, cells):
                    if self.get_cell(key, column_key) != value:
                        self.update_cell(key, column_key, value, update_width=True)
            return True
        keep = self.selected_key
        self.clear()
        self.row_keys = keys
        for key, cells in rows:
            self.add_row(*cells, key=key)
        self._fit_columns(rows)
        if keep in self.row_keys:
            self.move_cursor(row=self.row_keys.index(keep), animate=False, scroll=True)
        return True

    def _fit_columns(self, rows: list[tuple[str, Sequence]]) -> None:
        """Size auto-width columns to their widest cell now, not on the next idle (which can lag a redraw)."""
        for index, column in enumerate(self.ordered_columns):
            widths = [cell_len(column.label.plain)]
            for _, cells in rows:
                if index < len(cells):
                    cell = cells[index]
                    widths.append(cell.cell_len if isinstance(cell, Text) else cell_len(str(cell)))
            column.content_width = max(widths)
        self.refresh()

    def select_key(self, key: str) -> None:
        if key in self.row_keys:
            self.move_cursor(row=self.row_keys.index(key), animate=False, scroll=True)
