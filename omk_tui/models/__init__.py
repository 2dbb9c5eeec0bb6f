"""The domain model (pydantic, no I/O)."""

from omk_tui.models.gates import GateResult, GateSpec, gates_passed
from omk_tui.models.goal import (
    Budget,
    GoalFailure,
    GoalOptions,
    GoalPhase,
    GoalState,
    GoalStatus,
)
from omk_tui.models.proof import Delivery, Proof, ReviewResult, SliceOutcome
from omk_tui.models.tasks import (
    GOAL_EXECUTE_TASK_ID,
    PROJECT_FILES,
    Task,
    TaskGraph,
    TaskGraphError,
    TaskStatus,
)

__all__ = [
    "Budget", "Delivery", "GOAL_EXECUTE_TASK_ID", "GateResult", "GateSpec", "GoalFailure", "GoalOptions",
    "GoalPhase", "GoalState", "GoalStatus", "PROJECT_FILES", "Proof", "ReviewResult", "SliceOutcome", "Task",
    "TaskGraph", "TaskGraphError", "TaskStatus", "gates_passed",
]
