"""`omk-tui pause GOAL`."""

from omk_tui.commands._control_cmd import register_intent


def register(sub) -> None:
    register_intent(sub, "pause", "pause a running goal (agents stop, partial work is kept; resume continues)")
