"""A DataTable that is rebuilt from a list of keyed rows, keeping the cursor on the same key."""

from __future__ import annotations

from collections.abc import Sequence

from textual.widgets import DataTable


class RowTable(DataTable):
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
        """Replace the rows (no-op when `signature` is unchanged). Returns True when the table changed."""
        sig = signature if signature is not None else tuple((k, tuple(str(c) for c in cells)) for k, cells in rows)
        if sig == self._signature:
            return False
        self._signature = sig
        keep = self.selected_key
        self.clear()
        self.row_keys = [k for k, _ in rows]
        for key, cells in rows:
            self.add_row(*cells, key=key)
        if keep in self.row_keys:
            self.move_cursor(row=self.row_keys.index(keep), animate=False, scroll=True)
        return True

    def select_key(self, key: str) -> None:
        if key in self.row_keys:
            self.move_cursor(row=self.row_keys.index(key), animate=False, scroll=True)
