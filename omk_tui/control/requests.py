"""Control intents across processes: request files in the goal's `control/` folder.

Pause, resume, cancel, budget-add and permission answers are intents. In process they are method calls on the
controller; from another process they are small JSON files written atomically into `control/`, which the
running controller watches (watchfiles) and consumes (deletes after applying, in name order).
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from omk_tui.state.atomic import atomic_write_text

Action = Literal["pause", "resume", "cancel", "budget_add", "permission", "run_gates"]


class ControlRequest(BaseModel):
    action: Action
    args: dict[str, Any] = Field(default_factory=dict)
    ts: float = Field(default_factory=time.time)
    by: str = "cli"


def send_request(control_dir: Path, action: Action, **args: Any) -> Path:
    control_dir = Path(control_dir)
    control_dir.mkdir(parents=True, exist_ok=True)
    req = ControlRequest(action=action, args=args)
    name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}-{action}.json"
    path = control_dir / name
    atomic_write_text(path, req.model_dump_json())
    return path


def take_requests(control_dir: Path) -> tuple[list[ControlRequest], list[str]]:
    """Read and delete pending requests, oldest first; returns (requests, problems with unreadable files)."""
    control_dir = Path(control_dir)
    if not control_dir.is_dir():
        return [], []
    out: list[ControlRequest] = []
    problems: list[str] = []
    for path in sorted(control_dir.glob("*.json")):
        if path.name.startswith("."):
            continue
        try:
            out.append(ControlRequest.model_validate_json(path.read_bytes()))
        except ValidationError as exc:
            problems.append(f"ignored control request {path.name}: {_describe(exc)}")
        except (ValueError, OSError, RecursionError) as exc:
            problems.append(f"ignored control request {path.name}: cannot read it ({type(exc).__name__}: "
                            f"{str(exc).splitlines()[0] if str(exc) else 'unreadable'})")
        try:
            path.unlink()
        except OSError:
            pass  # a folder named *.json, or a file another reader took first
    return out, problems


def _describe(exc: ValidationError) -> str:
    errs = exc.errors()
    parts = [f"{'.'.join(str(x) for x in e['loc']) or 'request'}: {e['msg']}" for e in errs[:3]]
    return "; ".join(parts) + (f" (and {len(errs) - 3} more)" if len(errs) > 3 else "")
