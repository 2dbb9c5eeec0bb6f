"""Planning: the path policy for task scopes and the slice plan of a task graph (seeds 003 and 004)."""

from omk_tui.planning.path_policy import (
    OUTSIDE_ROOTS,
    PathRefusal,
    check_path,
    check_task_paths,
    normalize_scope_path,
    task_path_refusals,
)
from omk_tui.planning.slices import (
    OverlapSerialization,
    Slice,
    SlicePlan,
    SlicePlanError,
    plan_slices,
    planning_problems,
)

__all__ = [
    "OUTSIDE_ROOTS", "OverlapSerialization", "PathRefusal", "Slice", "SlicePlan", "SlicePlanError", "check_path",
    "check_task_paths", "normalize_scope_path", "plan_slices", "planning_problems", "task_path_refusals",
]
