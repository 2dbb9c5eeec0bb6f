"""omk-tui's dark and light themes."""

from __future__ import annotations

from textual.theme import Theme

DARK = Theme(
    name="omk-dark", primary="#5FAFD7", secondary="#AF87D7", accent="#FFAF5F", warning="#FFD75F",
    error="#FF5F5F", success="#87D787", foreground="#D0D0D0", background="#141820", surface="#1C222C",
    panel="#262E3A", dark=True,
)
LIGHT = Theme(
    name="omk-light", primary="#005F87", secondary="#5F3F8F", accent="#AF5F00", warning="#8F6F00",
    error="#AF0000", success="#2F7F2F", foreground="#1C1C1C", background="#F6F6F2", surface="#ECECE6",
    panel="#DCDCD4", dark=False,
)
THEMES = (DARK, LIGHT)
