"""The scripted ACP agent: a real ACP agent process that plays a JSON script (demo and tests).

    python -m omk_tui.agents.scripted SCRIPT.json
    python -m omk_tui.agents.scripted --script-json '{"default": [{"say": "hi"}]}'
    OMK_SCRIPT_JSON='{...}' python -m omk_tui.agents.scripted

It reads the header line every omk-tui prompt starts with (role, task id, attempt) and answers:
- planner: the script's `plan` as a fenced ```json block;
- reviewer (header `review`/`kind` names the review): the scripted verdict as a fenced ```json block;
- implementer / fixer: `tasks[<task id>][attempt - 1]` (the last list repeats for later attempts);
- architect: `architect[<task id>]` if scripted;
- anything else: `default`.
Writes and shell commands go the way kimi's do: a tool call, a permission request, then the client's
file system (`fs/write_text_file`) or a client terminal — so the client's policy and write scope apply.
`"unasked": true` on a write or shell action skips the permission request (an agent that does not ask, for
tests: the client refuses its write or command unless the policy is yolo).
Action paths are relative to the session's working directory (the worktree); absolute paths stay absolute.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acp import (
    PROTOCOL_VERSION,
    RequestError,
    run_agent,
    start_tool_call,
    text_block,
    tool_content,
    tool_diff_content,
    tool_terminal_ref,
    update_agent_message_text,
    update_agent_thought_text,
    update_plan,
    update_tool_call,
)
from acp.schema import (
    AgentCapabilities,
    AllowedOutcome,
    Implementation,
    InitializeResponse,
    NewSessionResponse,
    PermissionOption,
    PlanEntry,
    PromptResponse,
    ToolCallLocation,
    ToolCallUpdate,
)

from omk_tui.agents.base import parse_prompt_header

ACTION_KEYS = (
    "say", "think", "write", "append", "delete", "shell", "read", "sleep", "usage", "crash", "hang", "garbage",
    "plan_update", "stderr",
)
USAGE_EXTENSION = "omk/usage"
DEFAULT_ACTIONS = [{"say": "Nothing is scripted for this prompt."}]
DEFAULT_VERDICT = {"passed": True, "severity": "low", "feedback": "scripted review: no findings"}
PERMISSION_OPTIONS = [
    PermissionOption(option_id="approve", name="Approve once", kind="allow_once"),
    PermissionOption(option_id="approve_for_session", name="Approve for this session", kind="allow_always"),
    PermissionOption(option_id="reject", name="Reject", kind="reject_once"),
]


class ScriptError(ValueError):
    pass


def validate_script(script: Any) -> dict[str, Any]:
    """Check the script's shape; raise ScriptError naming the first problem."""
    if not isinstance(script, dict):
        raise ScriptError("the script must be a JSON object")
    unknown = set(script) - {"plan", "tasks", "review", "default", "architect"}
    if unknown:
        raise ScriptError(f"unknown top-level keys: {', '.join(sorted(unknown))}")
    if "plan" in script and not isinstance(script["plan"], dict):
        raise ScriptError("'plan' must be an object like {\"tasks\": [...]}")
    _check_actions(script.get("default", DEFAULT_ACTIONS), "default")
    for group in ("tasks", "architect"):
        entries = script.get(group, {})
        if not isinstance(entries, dict):
            raise ScriptError(f"'{group}' must map task ids to lists of attempts")
        for task_id, attempts in entries.items():
            if group == "architect":
                _check_actions(attempts, f"architect.{task_id}")
                continue
            if not isinstance(attempts, list) or not attempts:
                raise ScriptError(f"tasks.{task_id} must be a non-empty list of attempts (lists of actions)")
            for n, actions in enumerate(attempts, 1):
                _check_actions(actions, f"tasks.{task_id} attempt {n}")
    review = script.get("review", {})
    if not isinstance(review, dict) or not all(isinstance(v, dict) for v in review.values()):
        raise ScriptError("'review' must map review kinds to verdict objects")
    return script


def _check_actions(actions: Any, where: str) -> None:
    if not isinstance(actions, list):
        raise ScriptError(f"{where}: expected a list of actions")
    for i, action in enumerate(actions, 1):
        if not isinstance(action, dict) or not any(k in action for k in ACTION_KEYS):
            raise ScriptError(f"{where} action {i}: {action!r} is not one of: {', '.join(ACTION_KEYS)}")


def actions_for(script: dict[str, Any], header: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The actions of one turn, chosen by the prompt header."""
    default = script.get("default", DEFAULT_ACTIONS)
    if not header:
        return default
    role = header.get("role")
    task = header.get("task")
    attempt = header.get("attempt") or 1
    if role == "planner":
        if "plan" not in script:
            return default
        return [{"say": "Here is the plan.\n\n```json\n" + json.dumps(script["plan"], indent=2) + "\n```\n"}]
    if role == "reviewer" or header.get("review"):
        kind = str(header.get("review") or header.get("kind") or "code")
        reviews = script.get("review", {})
        verdict = {**DEFAULT_VERDICT, **reviews.get(kind, reviews.get("default", {}))}
        return [{"say": f"Review ({kind}):\n\n```json\n" + json.dumps({"kind": kind, **verdict}) + "\n```\n"}]
    if role == "architect":
        return script.get("architect", {}).get(task) or default
    attempts = script.get("tasks", {}).get(task)
    if attempts:
        index = min(max(int(attempt), 1), len(attempts)) - 1
        return attempts[index]
    return default


class _Cancelled(Exception):
    pass


@dataclass
class _SessionState:
    cwd: Path
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)
    approved_for_session: set[str] = field(default_factory=set)
    turn: int = 0


class ScriptedAgent:
    def __init__(self, script: dict[str, Any]):
        self.script = script
        self.conn: Any = None
        self.client_fs_read = False
        self.client_fs_write = False
        self.client_terminal = False
        self.sessions: dict[str, _SessionState] = {}
        self._ids = itertools.count(1)

    def on_connect(self, conn: Any) -> None:
        self.conn = conn

    async def initialize(self, protocol_version: int, client_capabilities: Any = None, client_info: Any = None,
                         **kwargs: Any) -> InitializeResponse:
        if client_capabilities is not None:
            fs = client_capabilities.fs
            self.client_fs_read = bool(fs and fs.read_text_file)
            self.client_fs_write = bool(fs and fs.write_text_file)
            self.client_terminal = bool(client_capabilities.terminal)
        return InitializeResponse(
            protocol_version=PROTOCOL_VERSION,
            agent_capabilities=AgentCapabilities(),
            agent_info=Implementation(name="omk-scripted-agent", title="omk-tui scripted agent", version="1"),
        )

    async def new_session(self, cwd: str, mcp_servers: Any = None, **kwargs: Any) -> NewSessionResponse:
        session_id = f"scripted-{next(self._ids)}"
        self.sessions[session_id] = _SessionState(Path(cwd))
        return NewSessionResponse(session_id=session_id)

    async def authenticate(self, method_id: str, **kwargs: Any) -> None:
        return None

    async def cancel(self, session_id: str, **kwargs: Any) -> None:
        state = self.sessions.get(session_id)
        if state is not None:
            state.cancelled.set()

    async def prompt(self, prompt: list[Any], session_id: str, **kwargs: Any) -> PromptResponse:
        state = self.sessions.get(session_id)
        if state is None:
            raise RequestError.invalid_params({"sessionId": session_id, "details": "unknown session"})
        state.cancelled = asyncio.Event()
        state.turn += 1
        text = "".join(getattr(block, "text", "") or "" for block in prompt)
        actions = actions_for(self.script, parse_prompt_header(text))
        try:
            for n, action in enumerate(actions, 1):
                if state.cancelled.is_set():
                    raise _Cancelled
                await self._run(session_id, state, action, f"{state.turn}/{n}")
        except _Cancelled:
            return PromptResponse(stop_reason="cancelled")
        except ConnectionError:  # the client went away (a pause ends the session): nobody to answer, no traceback
            return PromptResponse(stop_reason="cancelled")
        return PromptResponse(stop_reason="cancelled" if state.cancelled.is_set() else "end_turn")

    # ------------------------------------------------------------------ actions
    async def _update(self, session_id: str, update: Any) -> None:
        await self.conn.session_update(session_id=session_id, update=update)

    async def _run(self, sid: str, state: _SessionState, action: dict[str, Any], call_id: str) -> None:
        if "say" in action:
            for piece in _chunks(str(action["say"])):
                await self._update(sid, update_agent_message_text(piece))
        elif "think" in action:
            for piece in _chunks(str(action["think"])):
                await self._update(sid, update_agent_thought_text(piece))
        elif "plan_update" in action:
            entries = [
                PlanEntry(content=e, priority="medium", status="pending") if isinstance(e, str)
                else PlanEntry(content=e.get("content", ""), priority=e.get("priority", "medium"),
                               status=e.get("status", "pending"))
                for e in action["plan_update"]
            ]
            await self._update(sid, update_plan(entries))
        elif "usage" in action:
            usage = action["usage"] or {}
            await self.conn.ext_notification(USAGE_EXTENSION, {
                "sessionId": sid, "inputTokens": int(usage.get("input", 0)), "outputTokens": int(usage.get("output", 0)),
            })
        elif "sleep" in action:
            try:
                await asyncio.wait_for(state.cancelled.wait(), timeout=float(action["sleep"]))
            except asyncio.TimeoutError:
                return
            raise _Cancelled
        elif "stderr" in action:
            print(action["stderr"], file=sys.stderr, flush=True)
        elif "crash" in action:
            code = int(action["crash"])
            print(f"scripted agent: crashing with exit code {code} as scripted", file=sys.stderr, flush=True)
            os._exit(code)
        elif "hang" in action:
            # ignores session/cancel on purpose: only a kill ends it
            await asyncio.Event().wait()
        elif "garbage" in action:
            os.write(1, (str(action["garbage"]) + "\n").encode())
        elif "write" in action or "append" in action:
            await self._write(sid, state, action, call_id)
        elif "delete" in action:
            path = str(action["delete"])
            await self._shell(sid, state, f"rm -f -- {shlex.quote(path)}", call_id,
                              title=f"Delete: {path}", kind="delete", paths=[path])
        elif "shell" in action:
            await self._shell(sid, state, str(action["shell"]), call_id, unasked=bool(action.get("unasked")))
        elif "read" in action:
            await self._read(sid, state, action, call_id)

    async def _ask(self, sid: str, state: _SessionState, call: ToolCallUpdate, tool: str) -> bool:
        """A permission request, as kimi sends it; remembers approve_for_session per tool name."""
        if tool in state.approved_for_session:
            return True
        response = await self.conn.request_permission(session_id=sid, tool_call=call, options=PERMISSION_OPTIONS)
        outcome = response.outcome
        if state.cancelled.is_set():
            raise _Cancelled
        if isinstance(outcome, AllowedOutcome) and outcome.option_id in ("approve", "approve_for_session"):
            if outcome.option_id == "approve_for_session":
                state.approved_for_session.add(tool)
            return True
        return False

    async def _fail(self, sid: str, call_id: str, message: str) -> None:
        await self._update(sid, update_tool_call(call_id, status="failed", content=[tool_content(text_block(message))]))

    async def _write(self, sid: str, state: _SessionState, action: dict[str, Any], call_id: str) -> None:
        appending = "append" in action and "write" not in action
        path = str(action["append"] if appending else action["write"])
        content = str(action.get("content", ""))
        target = _absolute(state.cwd, path)
        tool = "AppendFile" if appending else "WriteFile"
        title = f"{tool}: {path}"
        location = [ToolCallLocation(path=target)]
        raw = {"path": path, "content": content}
        await self._update(sid, start_tool_call(call_id, title, kind="edit", status="pending",
                                                locations=location, raw_input=raw))
        # append reads through the client (the file may only exist there); write reads only for the diff
        old = await self._read_text(sid, target) if appending else _read_local(target)
        new = (old or "") + content if appending else content
        call = ToolCallUpdate(tool_call_id=call_id, title=title, kind="edit", status="pending", locations=location,
                              raw_input=raw, content=[tool_diff_content(target, new, old)])
        if not action.get("unasked") and not await self._ask(sid, state, call, tool):
            await self._fail(sid, call_id, f"The user rejected {title}.")
            return
        await self._update(sid, update_tool_call(call_id, status="in_progress"))
        try:
            if self.client_fs_write:
                await self.conn.write_text_file(session_id=sid, path=target, content=new)
            else:
                Path(target).write_text(new, encoding="utf-8")
        except RequestError as exc:
            await self._fail(sid, call_id, f"{title} failed: {exc}")
            return
        except OSError as exc:
            await self._fail(sid, call_id, f"{title} failed: {exc}")
            return
        await self._update(sid, update_tool_call(call_id, status="completed",
                                                 content=[tool_diff_content(target, new, old)]))

    async def _read_text(self, sid: str, target: str) -> str | None:
        try:
            if self.client_fs_read:
                return (await self.conn.read_text_file(session_id=sid, path=target)).content
            return Path(target).read_text(encoding="utf-8")
        except (RequestError, OSError):
            return None

    async def _read(self, sid: str, state: _SessionState, action: dict[str, Any], call_id: str) -> None:
        path = str(action["read"])
        target = _absolute(state.cwd, path)
        title = f"ReadFile: {path}"
        location = [ToolCallLocation(path=target)]
        await self._update(sid, start_tool_call(call_id, title, kind="read", status="pending",
                                                locations=location, raw_input={"path": path}))
        if action.get("ask"):
            call = ToolCallUpdate(tool_call_id=call_id, title=title, kind="read", status="pending",
                                  locations=location, raw_input={"path": path})
            if not await self._ask(sid, state, call, "ReadFile"):
                await self._fail(sid, call_id, f"The user rejected {title}.")
                return
        try:
            if self.client_fs_read:
                text = (await self.conn.read_text_file(session_id=sid, path=target)).content
            else:
                text = Path(target).read_text(encoding="utf-8")
        except (RequestError, OSError) as exc:
            await self._fail(sid, call_id, f"{title} failed: {exc}")
            return
        await self._update(sid, update_tool_call(call_id, status="completed", content=[tool_content(text_block(text))]))

    async def _shell(self, sid: str, state: _SessionState, command: str, call_id: str, *, title: str | None = None,
                     kind: str = "execute", paths: list[str] | None = None, unasked: bool = False) -> None:
        title = title or f"Shell: {command}"
        locations = [ToolCallLocation(path=_absolute(state.cwd, p)) for p in paths or []] or None
        raw = {"command": command}
        await self._update(sid, start_tool_call(call_id, title, kind=kind, status="pending",
                                                locations=locations, raw_input=raw))
        call = ToolCallUpdate(tool_call_id=call_id, title=title, kind=kind, status="pending",
                              locations=locations, raw_input=raw)
        if not unasked and not await self._ask(sid, state, call, title.split(":", 1)[0]):
            await self._fail(sid, call_id, f"The user rejected {title}.")
            return
        await self._update(sid, update_tool_call(call_id, status="in_progress"))
        try:
            if self.client_terminal:
                output, code = await self._client_terminal(sid, state, command, call_id)
            else:
                output, code = await _run_locally(command, state.cwd)
        except RequestError as exc:
            await self._fail(sid, call_id, f"{title} failed: {exc}")
            return
        status = "completed" if code == 0 else "failed"
        text = output + ("" if code == 0 else f"\n(exit code {code})")
        await self._update(sid, update_tool_call(call_id, status=status, content=[tool_content(text_block(text))]))

    async def _client_terminal(self, sid: str, state: _SessionState, command: str, call_id: str) -> tuple[str, int]:
        created = await self.conn.create_terminal(session_id=sid, command=command, cwd=str(state.cwd),
                                                  output_byte_limit=100_000)
        terminal_id = created.terminal_id
        await self._update(sid, update_tool_call(call_id, content=[tool_terminal_ref(terminal_id)]))
        try:
            waiting = asyncio.ensure_future(self.conn.wait_for_terminal_exit(session_id=sid, terminal_id=terminal_id))
            cancelled = asyncio.ensure_future(state.cancelled.wait())
            await asyncio.wait({waiting, cancelled}, return_when=asyncio.FIRST_COMPLETED)
            cancelled.cancel()
            if not waiting.done():
                waiting.cancel()
                await self.conn.kill_terminal(session_id=sid, terminal_id=terminal_id)
                raise _Cancelled
            exit_status = waiting.result()
            output = (await self.conn.terminal_output(session_id=sid, terminal_id=terminal_id)).output
        finally:
            try:
                await self.conn.release_terminal(session_id=sid, terminal_id=terminal_id)
            except Exception:
                pass
        code = exit_status.exit_code if exit_status.exit_code is not None else 128
        return output, code


def _absolute(cwd: Path, path: str) -> str:
    p = Path(path)
    return str(p if p.is_absolute() else cwd / p)


def _read_local(target: str) -> str | None:
    try:
        return Path(target).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _chunks(text: str, pieces: int = 3) -> list[str]:
    """Streams text in a few chunks, cut at spaces where possible, like a model would."""
    if len(text) < 8:
        return [text]
    size = max(1, len(text) // pieces)
    out, start = [], 0
    while start < len(text):
        end = min(len(text), start + size)
        space = text.find(" ", end)
        if end < len(text) and 0 <= space - end < 12:
            end = space + 1
        out.append(text[start:end])
        start = end
    return out


async def _run_locally(command: str, cwd: Path) -> tuple[str, int]:
    proc = await asyncio.create_subprocess_shell(
        command, cwd=str(cwd), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    out, _ = await proc.communicate()
    return out.decode("utf-8", errors="replace"), proc.returncode or 0


def load_script(path: str | None, inline: str | None) -> dict[str, Any]:
    if inline is None and path is None:
        inline = os.environ.get("OMK_SCRIPT_JSON")
    if inline is not None:
        source, text = "the inline script", inline
    elif path is not None:
        source = path
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ScriptError(f"cannot read the script {path}: {exc.strerror or exc}") from None
    else:
        raise ScriptError("no script: pass SCRIPT.json, --script-json TEXT or set OMK_SCRIPT_JSON")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ScriptError(f"{source} is not valid JSON: {exc}") from None
    try:
        return validate_script(data)
    except ScriptError as exc:
        raise ScriptError(f"{source}: {exc}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m omk_tui.agents.scripted",
                                     description="A scripted ACP agent on stdio (omk-tui's demo and tests).")
    parser.add_argument("script", nargs="?", help="the script file (JSON)")
    parser.add_argument("--script-json", help="the script itself, as JSON text")
    args = parser.parse_args(argv)
    try:
        script = load_script(args.script, args.script_json)
    except ScriptError as exc:
        print(f"scripted agent: {exc}", file=sys.stderr)
        return 2
    asyncio.run(run_agent(ScriptedAgent(script)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
