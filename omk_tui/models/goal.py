"""Goal state: status, phase, budget, options. Pure data, no I/O."""

from __future__ import annotations

from datetime import datetime, timezone
from enum import Enum
from typing import Literal

from pydantic import BaseModel, Field


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class GoalStatus(str, Enum):
    running = "running"
    ready = "ready"
    not_ready = "not_ready"
    blocked_on_human = "blocked_on_human"
    blocked_on_external = "blocked_on_external"
    needs_more_budget = "needs_more_budget"
    failed_infra = "failed_infra"
    paused = "paused"
    cancelled = "cancelled"

    @property
    def is_terminal(self) -> bool:
        """Terminal for a controller run: the controller stops here (some are resumable)."""
        return self is not GoalStatus.running


class GoalPhase(str, Enum):
    intake = "intake"
    planning = "planning"
    baseline = "baseline"
    execution = "execution"
    integration = "integration"
    review = "review"
    proof = "proof"
    delivery = "delivery"
    done = "done"


DeliveryPolicy = Literal["local", "draft-pr", "auto-pr"]
MergePolicy = Literal["disabled", "manual", "gated"]


class Budget(BaseModel):
    """Limits (None = unlimited) and what has been spent."""

    time_secs: float | None = None
    tokens: int | None = None
    usd: float | None = None
    spent_time_secs: float = 0.0
    spent_tokens: int = 0
    spent_usd: float = 0.0

    def exhausted(self) -> list[str]:
        """Names of the limits that are used up."""
        out: list[str] = []
        if self.time_secs is not None and self.spent_time_secs >= self.time_secs:
            out.append("time")
        if self.tokens is not None and self.spent_tokens >= self.tokens:
            out.append("tokens")
        if self.usd is not None and self.spent_usd >= self.usd:
            out.append("usd")
        return out

    def remaining_time(self) -> float | None:
        if self.time_secs is None:
            return None
        return max(0.0, self.time_secs - self.spent_time_secs)


class GoalOptions(BaseModel):
    agent: str = "kimi"
    max_agents: int = Field(default=2, ge=1, le=64)
    approval: str = "yolo"
    delivery_policy: DeliveryPolicy = "local"
    merge_policy: MergePolicy = "disabled"
    allow_dirty: bool = False
    max_attempts: int = 3
    max_execute_passes: int = 8
    lease_secs: float = 300.0


class GoalFailure(BaseModel):
    kind: str
    reason: str
    next_action: str = ""


class GoalState(BaseModel):
    """The goal's snapshot (`goal.json`)."""

    version: int = 1
    goal_id: str
    original_goal: str
    normalized_goal: str
    status: GoalStatus = GoalStatus.running
    phase: GoalPhase = GoalPhase.intake
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    completed_at: datetime | None = None
    repo: str
    base_ref: str | None = None
    base_commit: str | None = None
    integration_branch: str | None = None
    options: GoalOptions = Field(default_factory=GoalOptions)
    budget: Budget = Field(default_factory=Budget)
    failure: GoalFailure | None = None
    execute_passes: int = 0

    @property
    def rejected(self) -> bool:
        """A person rejected the goal's result (`omk-tui reject`): the decision stands."""
        return self.failure is not None and self.failure.kind == "rejected"

    @property
    def settled(self) -> str | None:
        """'ready', 'cancelled' or 'rejected' for a goal whose outcome is settled (nothing left to cancel or to
        continue), else None."""
        if self.rejected:
            return "rejected"
        return self.status.value if self.status in (GoalStatus.ready, GoalStatus.cancelled) else None
