"""Kimi Wire events and approval requests turned into omk-tui's normalised `AgentUpdate`s.

Pure bookkeeping, no I/O: `WireTurn` keeps what a turn needs across events (the streamed arguments of each
tool call, the token usage summed over steps and subagents, the message text) so the session only feeds it
`event {type, payload}` notifications. Titles follow kimi's own ACP titles ("WriteFile: hello.txt",
"Shell: pytest -q") so a `pattern:` approval policy matches the same text over ACP and Wire.
"""

from __future__ import annotations

import difflib
import json
import os
from dataclasses import dataclass, field
from typing import Any

from omk_tui.agents.base import AgentUpdate, PermissionRequest, TokenUsage

# kimi-cli 1.51.0's built-in tools, by ACP tool kind (what the approval policies look at).
TOOL_KINDS: dict[str, str] = {
    "ReadFile": "read",
    "ReadMediaFile": "read",
    "Glob": "search",
    "Grep": "search",
    "WriteFile": "edit",
    "StrReplaceFile": "edit",
    "Shell": "execute",
    "TaskStop": "execute",
    "TaskOutput": "read",
    "TaskList": "read",
    "FetchURL": "fetch",
    "SearchWeb": "fetch",
    "SetTodoList": "think",
    "Think": "think",
    "Agent": "other",
}
EDIT_TOOLS = frozenset({"WriteFile", "StrReplaceFile"})
_KEY_ARGUMENT = {
    "Shell": "command", "ReadFile": "path", "ReadMediaFile": "path", "WriteFile": "path",
    "StrReplaceFile": "path", "Glob": "pattern", "Grep": "pattern", "FetchURL": "url", "SearchWeb": "query",
    "Agent": "description", "Think": "thought", "TaskOutput": "task_id", "TaskStop": "task_id",
}
_TODO_STATUS = {"done": "completed", "in_progress": "in_progress", "pending": "pending"}


def tool_kind(name: str) -> str:
    return TOOL_KINDS.get(name, "other")


def parse_args(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw or "{}", strict=False)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _shorten_middle(text: str, width: int = 50) -> str:
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    half = (width - 3) // 2
    return text[:half] + "..." + text[-(width - 3 - half):]


def tool_title(name: str, args: dict[str, Any], cwd: str | None = None) -> str:
    key = _KEY_ARGUMENT.get(name)
    value = args.get(key) if key else None
    if not value:
        return name
    value = str(value)
    if key == "path" and cwd and value.startswith(cwd.rstrip("/") + "/"):
        value = value[len(cwd.rstrip("/")) + 1:]
    return f"{name}: {_shorten_middle(value)}"


def relative_to(cwd: str, path: str) -> str:
    """`path` relative to the work dir when it lies inside it (kimi shows absolute paths)."""
    if not cwd:
        return path
    for root in {cwd.rstrip("/"), os.path.realpath(cwd)}:
        if root and path.startswith(root + "/"):
            return path[len(root) + 1:]
    return path


def display_diff(blocks: list[dict[str, Any]], cwd: str = "") -> str:
    """A unified diff from kimi's `diff` display blocks."""
    parts = []
    for block in blocks:
        if block.get("type") != "diff":
            continue
        path = relative_to(cwd, str(block.get("path", ""))).lstrip("/")
        old = str(block.get("old_text", "")).splitlines(keepends=True)
        new = str(block.get("new_text", "")).splitlines(keepends=True)
        lines = difflib.unified_diff(old, new, fromfile=f"a/{path}", tofile=f"b/{path}", lineterm="")
        parts.append("\n".join(line.rstrip("\n") for line in lines))
    return "\n".join(p for p in parts if p)


def display_paths(blocks: list[dict[str, Any]], cwd: str = "") -> list[str]:
    return [relative_to(cwd, str(b["path"])) for b in blocks if b.get("type") == "diff" and b.get("path")]


def usage_of(token_usage: dict[str, Any]) -> TokenUsage:
    """Kimi's per-step `token_usage`: input is uncached + cache read + cache creation."""
    def num(key: str) -> int:
        try:
            return int(token_usage.get(key) or 0)
        except (TypeError, ValueError):
            return 0

    return TokenUsage(
        input_tokens=num("input_other") + num("input_cache_read") + num("input_cache_creation"),
        output_tokens=num("output"),
    )


@dataclass
class _ToolCall:
    id: str
    name: str
    args: str = ""

    @property
    def parsed(self) -> dict[str, Any]:
        return parse_args(self.args)


@dataclass
class WireTurn:
    """The state of one turn, fed with Wire events; returns the updates each event produces."""

    cwd: str = ""
    usage: TokenUsage = field(default_factory=TokenUsage)
    usage_reported: bool = False
    text_parts: list[str] = field(default_factory=list)
    tools: dict[str, _ToolCall] = field(default_factory=dict)
    _last_tool: _ToolCall | None = None

    @property
    def text(self) -> str:
        return "".join(self.text_parts)

    def feed(self, event_type: str, payload: dict[str, Any]) -> list[AgentUpdate]:
        handler = getattr(self, "_on_" + event_type, None)
        if handler is None:
            return []  # TurnBegin/End, StepBegin, hooks, MCP loading...: nothing to show
        return handler(payload)

    # ------------------------------------------------------------------ content
    def _on_ContentPart(self, p: dict[str, Any]) -> list[AgentUpdate]:  # noqa: N802
        if p.get("type") == "text" and p.get("text"):
            self.text_parts.append(p["text"])
            return [AgentUpdate(kind="message", text=p["text"])]
        if p.get("type") == "think" and p.get("think"):
            return [AgentUpdate(kind="thought", text=p["think"])]
        return []

    # ------------------------------------------------------------------ tools
    def _tool_update(self, call: _ToolCall, status: str, content: str, **extra: Any) -> AgentUpdate:
        args = call.parsed
        paths = [str(args["path"])] if args.get("path") else []
        return AgentUpdate(
            kind="tool_call", tool_call_id=call.id, title=tool_title(call.name, args, self.cwd),
            tool_kind=tool_kind(call.name), status=status, paths=extra.pop("paths", paths),
            content=content, **extra,
        )

    def _on_ToolCall(self, p: dict[str, Any]) -> list[AgentUpdate]:  # noqa: N802
        fn = p.get("function") or {}
        call = _ToolCall(id=str(p.get("id", "")), name=str(fn.get("name", "")), args=fn.get("arguments") or "")
        self.tools[call.id] = call
        self._last_tool = call
        return [self._tool_update(call, "in_progress", call.args)]

    def _on_ToolCallPart(self, p: dict[str, Any]) -> list[AgentUpdate]:  # noqa: N802
        # A part carries no id: it continues the last ToolCall (kimi merges them the same way).
        call = self._last_tool
        if call is None or not p.get("arguments_part"):
            return []
        call.args += p["arguments_part"]
        return [self._tool_update(call, "in_progress", call.args)]

    def _on_ToolResult(self, p: dict[str, Any]) -> list[AgentUpdate]:  # noqa: N802
        call_id = str(p.get("tool_call_id", ""))
        call = self.tools.get(call_id) or _ToolCall(id=call_id, name="")
        value = p.get("return_value") or {}
        output = value.get("output")
        if isinstance(output, list):
            output = "".join(str(part.get("text", "")) for part in output if isinstance(part, dict))
        message = str(value.get("message") or "")
        content = "\n".join(x for x in (message, str(output or "")) if x)
        blocks = [b for b in (value.get("display") or []) if isinstance(b, dict)]
        extra: dict[str, Any] = {"diff": display_diff(blocks, self.cwd)}
        if display_paths(blocks, self.cwd):
            extra["paths"] = display_paths(blocks, self.cwd)
        updates = [self._tool_update(call, "failed" if value.get("is_error") else "completed", content, **extra)]
        todo = [b for b in blocks if b.get("type") == "todo"]
        if todo:
            updates.append(self._plan_from_todo(todo[-1]))
        return updates

    @staticmethod
    def _plan_from_todo(block: dict[str, Any]) -> AgentUpdate:
        entries = [
            {"content": str(item.get("title", "")), "status": _TODO_STATUS.get(str(item.get("status")), "pending"),
             "priority": "medium"}
            for item in block.get("items") or [] if isinstance(item, dict)
        ]
        return AgentUpdate(kind="plan", entries=entries)

    def _on_PlanDisplay(self, p: dict[str, Any]) -> list[AgentUpdate]:  # noqa: N802
        content = str(p.get("content", ""))
        return [AgentUpdate(
            kind="plan", text=content, path=str(p.get("file_path", "")),
            entries=[{"content": content, "status": "pending", "priority": "medium"}],
        )]

    # ------------------------------------------------------------------ usage
    def _on_StatusUpdate(self, p: dict[str, Any]) -> list[AgentUpdate]:  # noqa: N802
        token_usage = p.get("token_usage")
        if not isinstance(token_usage, dict):
            return []
        step = usage_of(token_usage)
        self.usage.add(step)
        self.usage_reported = True
        return [AgentUpdate(kind="usage", input_tokens=step.input_tokens, output_tokens=step.output_tokens)]

    def _on_SubagentEvent(self, p: dict[str, Any]) -> list[AgentUpdate]:  # noqa: N802
        # A subagent's own text and tools stay inside its Agent tool call; its tokens cost the same.
        inner = p.get("event") or {}
        if not isinstance(inner, dict):
            return []
        inner_type, inner_payload = inner.get("type"), inner.get("payload") or {}
        if inner_type == "StatusUpdate":
            return self._on_StatusUpdate(inner_payload)
        if inner_type == "SubagentEvent":
            return self._on_SubagentEvent(inner_payload)
        return []

    # ------------------------------------------------------------------ approvals
    def permission_request(self, payload: dict[str, Any]) -> PermissionRequest:
        """An ApprovalRequest payload as the policy sees it, using the tool call's streamed arguments."""
        sender = str(payload.get("sender", ""))
        call = self.tools.get(str(payload.get("tool_call_id", "")))
        name = call.name if call is not None and call.name else sender
        args = call.parsed if call is not None else {}
        blocks = [b for b in (payload.get("display") or []) if isinstance(b, dict)]
        command = str(args.get("command", ""))
        if not command:
            command = next((str(b.get("command", "")) for b in blocks if b.get("type") == "shell"), "")
        paths: list[str] = []
        candidates = ([str(args["path"])] if args.get("path") else []) + display_paths(blocks, self.cwd)
        for path in candidates:
            path = relative_to(self.cwd, path)
            if path not in paths:
                paths.append(path)
        title = tool_title(name, args, self.cwd) if args else ""
        if not title or title == name:
            title = f"{name}: {payload.get('description', '')}".rstrip(": ")
        return PermissionRequest(
            request_id=str(payload.get("id", "")), title=title, tool_kind=tool_kind(name), command=command,
            paths=paths, diff=display_diff(blocks, self.cwd), options=["approve", "approve_for_session", "reject"],
        )

