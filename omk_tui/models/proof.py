"""The proof (`proof.json`): the evidence a goal is ready, or why it is not."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from omk_tui.models.gates import GateResult
from omk_tui.models.goal import GoalStatus, utcnow


class ReviewResult(BaseModel):
    kind: str  # architect | code | test | security | performance | anti_slop
    scope: str = "goal"  # "goal" or a slice id
    passed: bool
    severity: str = "low"
    feedback: str = ""
    findings: list[str] = Field(default_factory=list)
    source: str = "deterministic"


class SliceOutcome(BaseModel):
    slice_id: str
    task_id: str
    branch: str
    worktree: str | None = None
    status: str
    reason: str = ""  # why it is blocked (or what happened last)
    attempts: int = 0
    commit: str | None = None
    changed_files: list[str] = Field(default_factory=list)
    gates: list[GateResult] = Field(default_factory=list)


class Delivery(BaseModel):
    policy: str = "local"
    status: str = "pending"  # pending | accepted | rejected | pr_opened | merged | blocked
    detail: str = ""
    pr_urls: list[str] = Field(default_factory=list)
    merge_commit: str | None = None


class Proof(BaseModel):
    version: int = 1
    goal_id: str
    status: GoalStatus
    readiness: str  # "ready" | "not_ready" | "blocked"
    summary: str
    generated_at: datetime = Field(default_factory=utcnow)
    base_commit: str | None = None
    integration_branch: str | None = None
    integration_commit: str | None = None
    baseline_gates: list[GateResult] = Field(default_factory=list)
    final_gates: list[GateResult] = Field(default_factory=list)
    post_mutation_gates_ran: bool = False
    changed_files: list[str] = Field(default_factory=list)
    commits: list[str] = Field(default_factory=list)
    slices: list[SliceOutcome] = Field(default_factory=list)
    review_results: list[ReviewResult] = Field(default_factory=list)
    known_gaps: list[str] = Field(default_factory=list)
    human_decisions_required: list[str] = Field(default_factory=list)
    blocker: str | None = None
    delivery: Delivery = Field(default_factory=Delivery)
    budget: dict = Field(default_factory=dict)
