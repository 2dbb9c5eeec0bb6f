"""The event envelope and the typed payload of every event kind.

Everything the engine does is an event. The envelope is stored one per line in `events.jsonl`; the payload
is kept as a plain dict in the envelope (cheap to fold a million of them) and validated against its typed
model with :func:`typed_payload` where a reader wants the type.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from omk_tui.models.gates import GateResult
from omk_tui.models.goal import utcnow

SCHEMA_VERSION = 1


class Event(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    seq: int = 0
    ts: datetime = Field(default_factory=utcnow)
    goal_id: str
    kind: str
    actor: str = "controller"
    schema_version: int = SCHEMA_VERSION
    payload: dict[str, Any] = Field(default_factory=dict)


# ---------------------------------------------------------------- payloads
class _P(BaseModel):
    model_config = ConfigDict(extra="allow")


class GoalCreated(_P):
    goal: str
    repo: str
    options: dict = Field(default_factory=dict)
    budget: dict = Field(default_factory=dict)


class RunStarted(_P):
    pid: int
    resumed: bool = False


class RunFinished(_P):
    status: str
    readiness: str = ""
    reason: str = ""
    budget: dict = Field(default_factory=dict)  # the goal's budget as the run ended (with the time it took)


class RunFailed(_P):
    error: str


class PhaseChanged(_P):
    phase: str


class StatusChanged(_P):
    status: str
    reason: str = ""


class Narrative(_P):
    step: str
    summary: str


class TaskProposed(_P):
    task: dict


class TaskAccepted(_P):
    task_id: str
    budget_snapshot: dict = Field(default_factory=dict)


class TaskRejected(_P):
    task_id: str
    reason: str


class TaskGraphMutated(_P):
    added: list[str] = Field(default_factory=list)
    reason: str = ""


class TaskStatusChanged(_P):
    task_id: str
    status: str
    reason: str = ""


class SlicePlanned(_P):
    slice_id: str
    task_id: str
    title: str = ""
    dependencies: list[str] = Field(default_factory=list)
    branch: str
    worktree: str | None = None
    gates: list[str] = Field(default_factory=list)
    review_needs: list[str] = Field(default_factory=list)
    read_set: list[str] = Field(default_factory=list)
    write_set: list[str] = Field(default_factory=list)


class OverlapSerialized(_P):
    blocked_slice_id: str
    serializes_after: str
    kind: str
    path: str


class SliceState(_P):
    """Slice lifecycle: planned, running, gates, committed, merged, blocked, pending, failed."""

    slice_id: str
    state: str
    attempt: int = 0
    reason: str = ""
    commit: str | None = None
    changed_files: list[str] = Field(default_factory=list)
    insertions: int = 0
    deletions: int = 0


class LeaseEvent(_P):
    slice_id: str
    expires_at: datetime | None = None
    pid: int | None = None


class AgentTurnStarted(_P):
    slice_id: str | None = None
    task_id: str | None = None
    role: str
    attempt: int = 1
    agent: str = ""
    reason: str = ""  # why this turn: "" (first try) | gates | review | conflict


class AgentText(_P):
    """agent_message_chunk / agent_thought_chunk / agent_stderr."""

    slice_id: str | None = None
    text: str


class AgentToolCall(_P):
    slice_id: str | None = None
    tool_call_id: str
    title: str = ""
    kind: str = ""
    status: str = ""
    paths: list[str] = Field(default_factory=list)
    content: str = ""


class AgentPlan(_P):
    slice_id: str | None = None
    entries: list[dict] = Field(default_factory=list)


class PermissionAsked(_P):
    slice_id: str | None = None
    request_id: str
    tool: str
    command: str = ""
    paths: list[str] = Field(default_factory=list)
    diff: str = ""
    scope: list[str] = Field(default_factory=list)
    options: list[str] = Field(default_factory=list)


class PermissionDecided(_P):
    slice_id: str | None = None
    request_id: str
    decision: str  # approve | approve_for_session | reject
    by: str = "policy"
    reason: str = ""


class ScopeRefused(_P):
    slice_id: str | None = None
    path: str
    operation: str
    reason: str


class Usage(_P):
    slice_id: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    usd: float = 0.0


class AgentTurnFinished(_P):
    slice_id: str | None = None
    stop_reason: str
    error: str | None = None
    duration_ms: int = 0
    input_tokens: int = 0
    output_tokens: int = 0


class GateStarted(_P):
    scope: str  # "baseline", "final" or a slice id
    name: str
    command_line: str
    log_path: str | None = None
    run: str = ""


class GateProgress(_P):
    scope: str
    name: str
    line_count: int


class GateFinished(_P):
    scope: str
    result: GateResult
    run: str = ""


class IntegrationMerged(_P):
    slice_id: str
    commit: str


class IntegrationConflict(_P):
    slice_id: str
    other_slice_id: str | None = None
    files: list[str] = Field(default_factory=list)
    detail: str = ""


class ReviewFinished(_P):
    scope: str
    kind: str
    passed: bool
    severity: str = "low"
    feedback: str = ""


class BudgetEvent(_P):
    """budget_checkpoint / budget_exhausted / budget_extended."""

    budget: dict
    exhausted: list[str] = Field(default_factory=list)
    added: dict = Field(default_factory=dict)


class ControlEvent(_P):
    """goal_paused / goal_resumed / goal_cancelled / manual_interrupt."""

    by: str = "user"
    reason: str = ""


class ProofWritten(_P):
    status: str
    readiness: str
    path: str
    blocker: str | None = None


class DeliveryEvent(_P):
    policy: str
    status: str
    detail: str = ""
    pr_urls: list[str] = Field(default_factory=list)


PAYLOAD_MODELS: dict[str, type[BaseModel]] = {
    "goal_created": GoalCreated,
    "run_started": RunStarted,
    "run_finished": RunFinished,
    "run_failed": RunFailed,
    "phase_changed": PhaseChanged,
    "status_changed": StatusChanged,
    "narrative": Narrative,
    "task_proposed": TaskProposed,
    "task_accepted": TaskAccepted,
    "task_rejected": TaskRejected,
    "task_graph_mutated": TaskGraphMutated,
    "task_status": TaskStatusChanged,
    "slice_planned": SlicePlanned,
    "overlap_serialized": OverlapSerialized,
    "slice_state": SliceState,
    "lease_claimed": LeaseEvent,
    "lease_released": LeaseEvent,
    "lease_expired": LeaseEvent,
    "agent_turn_started": AgentTurnStarted,
    "agent_message_chunk": AgentText,
    "agent_thought_chunk": AgentText,
    "agent_stderr": AgentText,
    "agent_tool_call": AgentToolCall,
    "agent_plan": AgentPlan,
    "permission_asked": PermissionAsked,
    "permission_decided": PermissionDecided,
    "scope_refused": ScopeRefused,
    "usage": Usage,
    "agent_turn_finished": AgentTurnFinished,
    "gate_started": GateStarted,
    "gate_progress": GateProgress,
    "gate_finished": GateFinished,
    "integration_merged": IntegrationMerged,
    "integration_conflict": IntegrationConflict,
    "review_finished": ReviewFinished,
    "budget_checkpoint": BudgetEvent,
    "budget_exhausted": BudgetEvent,
    "budget_extended": BudgetEvent,
    "goal_paused": ControlEvent,
    "goal_resumed": ControlEvent,
    "goal_cancelled": ControlEvent,
    "manual_interrupt": ControlEvent,
    "proof_written": ProofWritten,
    "delivery": DeliveryEvent,
}

# Kinds that only matter to a live viewer: sent to in-process subscribers but not written to the log.
EPHEMERAL_KINDS = frozenset({"gate_progress"})


def make_event(goal_id: str, kind: str, payload: BaseModel | dict | None = None, actor: str = "controller") -> Event:
    """Build an event; a typed payload is validated against the kind's model."""
    if isinstance(payload, BaseModel):
        data = payload.model_dump(mode="json")
    else:
        data = dict(payload or {})
        model = PAYLOAD_MODELS.get(kind)
        if model is not None:
            data = model.model_validate(data).model_dump(mode="json")
    return Event(goal_id=goal_id, kind=kind, actor=actor, payload=data)


def typed_payload(event: Event) -> BaseModel | dict:
    model = PAYLOAD_MODELS.get(event.kind)
    return model.model_validate(event.payload) if model else event.payload
