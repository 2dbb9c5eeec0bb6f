"""The field reference of the state files, generated from the pydantic models (for the README).

    python -m omk_tui.state.schema_doc
prints the Markdown lists used in docs/readme/state-files.md ("Payload fields per event kind", "Snapshot shapes").
"""

from __future__ import annotations

from pydantic import BaseModel

from omk_tui.control.requests import ControlRequest
from omk_tui.models.events import EPHEMERAL_KINDS, PAYLOAD_MODELS, Event
from omk_tui.models.gates import GateResult
from omk_tui.models.goal import Budget, GoalFailure, GoalOptions, GoalState
from omk_tui.models.proof import Delivery, Proof, ReviewResult, SliceOutcome
from omk_tui.models.tasks import Evidence, Task, TaskGraph

SNAPSHOT_MODELS = (GoalState, GoalOptions, Budget, GoalFailure, TaskGraph, Task, Evidence, Proof, GateResult,
                   SliceOutcome, ReviewResult, Delivery, Event, ControlRequest)


def _type_name(annotation) -> str:
    s = annotation.__name__ if isinstance(annotation, type) else repr(annotation)
    s = s.replace("typing.", "").replace("datetime.datetime", "datetime")
    for prefix in ("omk_tui.models.goal.", "omk_tui.models.tasks.", "omk_tui.models.proof.",
                   "omk_tui.models.events.", "omk_tui.models.gates."):
        s = s.replace(prefix, "")
    return s.replace(" | None", " or None")  # a "|" would split a Markdown table cell


def _default(field) -> str:
    if field.is_required():
        return "required"
    if field.default_factory is not None:
        value = field.default_factory()
        if hasattr(value, "isoformat"):
            return "now (UTC)"
        if isinstance(value, float):
            return "now as Unix seconds"
        text = repr(value)
        return text if len(text) <= 20 else "generated"
    value = field.default
    return repr(getattr(value, "value", value))


def describe(model: type[BaseModel]) -> str:
    return ", ".join(f"`{name}` ({_type_name(f.annotation)}, {_default(f)})" for name, f in model.model_fields.items())


def field_reference_markdown() -> str:
    out = ["| kind | payload fields |", "|---|---|"]
    for kind, model in PAYLOAD_MODELS.items():
        note = " (not written to the log)" if kind in EPHEMERAL_KINDS else ""
        out.append(f"| `{kind}`{note} | {describe(model)} |")
    out.append("")
    out.extend(f"- **{m.__name__}**: {describe(m)}" for m in SNAPSHOT_MODELS)
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(field_reference_markdown(), end="")
