"""`omk-tui cancel GOAL`."""

from omk_tui.commands._control_cmd import register_intent


def register(sub) -> None:
    register_intent(sub, "cancel", "cancel a goal (agents and gates are killed; worktrees are kept for inspection)")
