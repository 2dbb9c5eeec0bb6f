"""One interface for every agent backend (ACP, Wire, scripted-over-ACP).

A session is opened in a working directory (a slice's worktree); `prompt()` runs one turn, calling
`on_update` for every normalised update as it arrives, and returns a `TurnResult`. `cancel()` ends the
running turn; `close()` ends the agent's whole process group. Everything is async: the engine never blocks
on an agent.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

UpdateKind = Literal[
    "message",  # text: agent message chunk
    "thought",  # text: agent thought chunk
    "tool_call",  # tool_call_id, title, tool_kind, status, paths, content (args / result text / diff)
    "plan",  # entries: [{content, status, priority}]
    "permission_asked",  # request_id, title, command, paths, diff, options
    "permission_decided",  # request_id, decision, by, reason
    "scope_refused",  # path, operation, reason
    "usage",  # input_tokens, output_tokens
    "stderr",  # text: a line the agent printed on stderr
]


class AgentUpdate(BaseModel):
    kind: UpdateKind
    text: str = ""
    tool_call_id: str = ""
    title: str = ""
    tool_kind: str = ""
    status: str = ""
    paths: list[str] = Field(default_factory=list)
    content: str = ""
    entries: list[dict] = Field(default_factory=list)
    request_id: str = ""
    command: str = ""
    diff: str = ""
    options: list[str] = Field(default_factory=list)
    decision: str = ""
    by: str = ""
    reason: str = ""
    path: str = ""
    operation: str = ""
    input_tokens: int = 0
    output_tokens: int = 0


class TokenUsage(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0

    def add(self, other: "TokenUsage") -> None:
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens


class TurnResult(BaseModel):
    stop_reason: str  # end_turn | cancelled | max_turn_requests | timeout | error | crashed
    usage: TokenUsage = Field(default_factory=TokenUsage)
    usage_reported: bool = False  # False when the backend reports no token usage (ACP)
    duration_ms: int = 0
    error: str | None = None
    text: str = ""  # the agent's whole message text of the turn

    @property
    def ok(self) -> bool:
        return self.stop_reason == "end_turn" and self.error is None


class AgentError(RuntimeError):
    """The agent could not be started or failed in a way the person must act on (message says what to do)."""


@dataclass
class PermissionRequest:
    """What an approval policy or a person decides on."""

    request_id: str
    title: str  # e.g. "WriteFile: src/app.py" or "Shell: pytest -q"
    tool_kind: str  # read | edit | delete | move | search | execute | think | fetch | other
    command: str = ""
    paths: list[str] = field(default_factory=list)
    diff: str = ""
    options: list[str] = field(default_factory=list)  # approve | approve_for_session | reject


Decision = Literal["approve", "approve_for_session", "reject"]
# Asks a person (the TUI) to decide; returns the decision. Used by the `ask` policy.
PermissionAsker = Callable[[PermissionRequest], Awaitable[Decision]]
UpdateSink = Callable[[AgentUpdate], None]


@dataclass
class SessionConfig:
    cwd: Path
    approval: str = "yolo"  # never | safe | yolo | pattern:<regex> | ask
    write_scope: list[str] = field(default_factory=lambda: ["project files"])
    env: dict[str, str] = field(default_factory=dict)
    asker: PermissionAsker | None = None
    ask_timeout_secs: float = 300.0
    ask_fallback: Decision = "reject"
    read_only: bool = False  # planning/review sessions: every mutating tool is rejected
    tmp_root: Path | None = None  # where a confined agent's private TMPDIR is made (default: the system's temp)


class AgentSession(Protocol):
    async def start(self) -> None: ...

    async def prompt(self, text: str, on_update: UpdateSink, *, timeout: float | None = None) -> TurnResult: ...

    async def cancel(self) -> None: ...

    async def close(self) -> None: ...


# ---------------------------------------------------------------- the prompt header
PROMPT_HEADER_PREFIX = "omk-tui:"


def prompt_header(role: str, task_id: str | None = None, attempt: int = 1, **extra: Any) -> str:
    """The machine-readable first line every omk-tui prompt starts with."""
    data = {"role": role, "task": task_id, "attempt": attempt, **extra}
    return PROMPT_HEADER_PREFIX + " " + json.dumps(data, sort_keys=True)


def parse_prompt_header(text: str) -> dict[str, Any] | None:
    first = text.split("\n", 1)[0].strip()
    if not first.startswith(PROMPT_HEADER_PREFIX):
        return None
    try:
        data = json.loads(first[len(PROMPT_HEADER_PREFIX):])
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def make_private_tmp(session: Any) -> None:
    """Make the private TMPDIR a confined agent gets (see spec.confinement), as the session starts."""
    if session.private_tmp is not None:
        try:
            session.private_tmp.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise AgentError(f"cannot make the agent's temporary folder {session.private_tmp}: "
                             f"{exc.strerror or exc}") from None


def remove_private_tmp(session: Any) -> None:
    """Remove the private TMPDIR a confined agent was given (see spec.confinement), once the agent has exited."""
    tmp, session.private_tmp = session.private_tmp, None
    if tmp is not None:
        shutil.rmtree(tmp, ignore_errors=True)
