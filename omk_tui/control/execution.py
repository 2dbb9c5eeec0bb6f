"""The controller's durable progress (`execution.json`): what each slice reached, gates, merges.

A resume starts from this snapshot plus goal.json and task-graph.json; the event log is the history.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from omk_tui.models.gates import GateResult
from omk_tui.models.proof import ReviewResult
from omk_tui.state.atomic import atomic_write_model
from omk_tui.state.store import GoalPaths

IN_FLIGHT = ("running", "gates", "review")
DONE = ("committed", "merged")


class SliceRecord(BaseModel):
    slice_id: str
    task_id: str
    state: str = "pending"  # pending | running | gates | review | committed | merged | blocked
    attempts: int = 0  # agent turns that produced a change to judge
    failed_gate_rounds: int = 0
    crash_retries: int = 0
    empty_rounds: int = 0  # agent turns after which the slice's worktree held no change at all
    escalated: bool = False
    advice: str = ""
    feedback: str = ""  # trimmed gate output or review findings for the next attempt
    feedback_kind: str = ""  # gates | review | conflict | no_change | baseline
    review_cleanups: int = 0
    baseline_rounds: int = 0  # fix rounds on tests red at baseline that still fail in the slice (at most one)
    baseline_tree: str = ""  # the worktree's tree before that round: a round that changed nothing is not judged
    conflict_reruns: int = 0
    resume_at: str | None = None  # "gates": the last agent turn finished before a crash; judge its work first
    interrupted: str = ""  # why the last agent turn did not finish (paused, resumed, its failure): the re-run says so
    commit: str | None = None
    changed_files: list[str] = Field(default_factory=list)
    insertions: int = 0
    deletions: int = 0
    reason: str = ""
    gates: list[GateResult] = Field(default_factory=list)
    reviews: list[ReviewResult] = Field(default_factory=list)


class ExecutionState(BaseModel):
    version: int = 1
    gate_source: str = ""
    gate_names: list[str] = Field(default_factory=list)
    baseline: list[GateResult] | None = None
    slices: dict[str, SliceRecord] = Field(default_factory=dict)
    order: list[str] = Field(default_factory=list)
    announced_slices: list[str] = Field(default_factory=list)
    announced_overlaps: list[str] = Field(default_factory=list)
    merged: list[str] = Field(default_factory=list)
    integration_commit: str | None = None
    final: list[GateResult] | None = None
    goal_reviews: list[ReviewResult] | None = None
    review_gap: str | None = None
    conflicts: list[dict] = Field(default_factory=list)
    follow_ups: list[dict] = Field(default_factory=list)
    rejected_tasks: list[dict] = Field(default_factory=list)  # {task_id, reason}: what intake rejected; not ready
    fallback_for: list[str] = Field(default_factory=list)  # planned tasks, all rejected, whose goal goal-execute did
    delivered: bool = False
    delivery: dict | None = None  # the proof's Delivery once a PR policy delivered


def execution_path(paths: GoalPaths):
    return paths.root / "execution.json"


def load_execution(paths: GoalPaths) -> ExecutionState:
    from omk_tui.state.store import load_state_file

    return load_state_file(execution_path(paths), ExecutionState) or ExecutionState()


def save_execution(paths: GoalPaths, state: ExecutionState) -> None:
    atomic_write_model(execution_path(paths), state)
