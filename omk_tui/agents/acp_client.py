"""An agent session over ACP (`kimi acp`, the scripted agent, or any ACP agent command).

We spawn the agent ourselves, in its own process group (the SDK's `spawn_agent_process` cannot pass
`start_new_session`), and hand the SDK's `ClientSideConnection` a message transport over the child's stdio.
Owning the transport also lets us notice a non-JSON line on the agent's stdout (the SDK's own stdio
transport logs and skips it) and end the turn with a clear error instead of waiting forever.

The client advertises fs read/write and terminals, so the agent's file access and shell commands come to us:
writes are checked against the worktree and the slice's write scope (scope.py), permission requests go
through the approval policy (policy.py), and shell commands run in client terminals (terminals.py).
"""

from __future__ import annotations

import asyncio
import collections
import difflib
import itertools
import json
import time
import uuid
from pathlib import Path
from typing import Any

from acp import PROTOCOL_VERSION, RequestError, text_block
from acp.core import ClientSideConnection
from acp.schema import (
    AllowedOutcome,
    ClientCapabilities,
    CreateTerminalResponse,
    DeniedOutcome,
    FileSystemCapabilities,
    Implementation,
    KillTerminalResponse,
    ReadTextFileResponse,
    ReleaseTerminalResponse,
    RequestPermissionResponse,
    TerminalExitStatus,
    TerminalOutputResponse,
    WaitForTerminalExitResponse,
    WriteTextFileResponse,
)

from omk_tui import __version__
from omk_tui.agents.base import (
    AgentError,
    AgentUpdate,
    PermissionRequest,
    SessionConfig,
    TokenUsage,
    TurnResult,
    UpdateSink,
    remove_private_tmp,
)
from omk_tui.agents.environment import agent_environment
from omk_tui.agents.kimi import STUB_MESSAGE, is_stub_notice, log_path, log_size, model_failure_hint
from omk_tui.agents.policy import decide, is_mutating, parse_policy
from omk_tui.agents.process_session import ProcessSession
from omk_tui.agents.scope import ScopeDecision, WriteScope
from omk_tui.agents.terminals import TerminalManager
from omk_tui.procs import exited

STREAM_LIMIT = 2**26  # one JSON-RPC line may carry a whole file
USAGE_EXTENSION = "omk/usage"  # ext notification `_omk/usage` {inputTokens, outputTokens} (scripted agent)
AUTH_HINT = "the agent needs a login: run `kimi login` (or the login command of your ACP agent), then retry"
# kimi ends a turn whose model call failed (HTTP 500, garbage, a dropped stream) as `end_turn` with nothing in it;
# only its own log says why.
EMPTY_TURN = ("the agent ended its turn without any output (no text, no thought, no tool call): its model "
              "service probably failed")


def error_text(exc: RequestError) -> str:
    """A JSON-RPC error as a person should read it: the message, the reason agents put in `data` (kimi's
    "Internal error" carries the real cause there: `{"details": ...}` or `{"error": ...}`), and the code."""
    text = str(exc)
    data = getattr(exc, "data", None)
    detail = None
    if isinstance(data, str):
        detail = data
    elif isinstance(data, dict):
        detail = next((v for k in ("details", "error", "message", "reason") if isinstance(v := data.get(k), str)
                       and v.strip()), None)
    if detail and detail.strip() and detail.strip() not in text:
        text += f": {' '.join(detail.split())[:500]}"
    return f"{text} (code {exc.code})"

_OPTION_KIND_TO_DECISION = {
    "allow_once": "approve",
    "allow_always": "approve_for_session",
    "reject_once": "reject",
    "reject_always": "reject",
}
_DECISION_KINDS = {
    "approve": ("allow_once", "allow_always"),
    "approve_for_session": ("allow_always", "allow_once"),
    "reject": ("reject_once", "reject_always"),
}


class _StdioTransport:
    """JSON-RPC messages over the child's stdin/stdout; a non-JSON stdout line ends the connection."""

    def __init__(self, proc: asyncio.subprocess.Process, session: "AcpSession"):
        self._proc = proc
        self._session = session
        self._lock = asyncio.Lock()

    async def send(self, message: dict[str, Any]) -> None:
        stdin = self._proc.stdin
        if stdin is None or stdin.is_closing():
            raise ConnectionError("the agent's stdin is closed")
        data = (json.dumps(message, separators=(",", ":")) + "\n").encode()
        async with self._lock:
            try:
                stdin.write(data)
                await stdin.drain()
            except (BrokenPipeError, ConnectionResetError, RuntimeError) as exc:
                raise ConnectionError(f"the agent's stdin is closed ({exc})") from exc

    async def receive(self) -> dict[str, Any] | None:
        stdout = self._proc.stdout
        assert stdout is not None
        while True:
            try:
                line = await stdout.readline()
            except (ValueError, asyncio.LimitOverrunError):
                self._session._protocol_failure(f"the agent wrote a line longer than {STREAM_LIMIT} bytes")
                return None
            if not line:
                return None
            stripped = line.strip()
            if not stripped:
                continue
            try:
                message = json.loads(stripped)
            except ValueError:
                message = None
            if not isinstance(message, dict):
                shown = stripped[:200].decode("utf-8", errors="replace")
                self._session._stdout_noise.append(shown)
                self._session._protocol_failure(
                    f"the agent wrote something that is not ACP (JSON-RPC) on its stdout: {shown!r}"
                )
                return None
            return message

    async def close(self) -> None:
        stdin = self._proc.stdin
        if stdin is not None and not stdin.is_closing():
            try:
                stdin.close()
            except Exception:
                pass


class _Client:
    """The ACP client side: answers the agent's requests for one AcpSession."""

    def __init__(self, session: "AcpSession"):
        self.s = session

    # -------------------------------------------------------------- session updates
    async def session_update(self, session_id: str, update: Any, **kwargs: Any) -> None:
        self.s._on_session_update(update)

    async def request_permission(self, session_id: str, tool_call: Any, options: list[Any], **kwargs: Any):
        return await self.s._on_permission(tool_call, options)

    # -------------------------------------------------------------- file system
    async def read_text_file(self, session_id: str, path: str, line: int | None = None,
                             limit: int | None = None, **kwargs: Any) -> ReadTextFileResponse:
        decision = self.s.scope.check_read(path)
        if not decision.allowed:
            self.s._refuse(path, "read", decision.reason)
            raise RequestError(-32602, f"read refused by omk-tui: {decision.reason}", {"path": path})
        assert decision.path is not None
        try:
            text = decision.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            raise RequestError.resource_not_found(path) from None
        except OSError as exc:
            raise RequestError(-32603, f"cannot read {path}: {exc}", {"path": path}) from None
        if line is not None or limit is not None:
            lines = text.splitlines(keepends=True)
            start = max(0, (line or 1) - 1)
            end = start + limit if limit is not None else None
            text = "".join(lines[start:end])
        return ReadTextFileResponse(content=text)

    async def write_text_file(self, session_id: str, path: str, content: str, **kwargs: Any):
        decision = self.s.scope.check_write(path)
        if decision.allowed and (unasked := self.s._unapproved("write")) is not None:
            decision = ScopeDecision(False, decision.path, decision.rel, unasked)
        if not decision.allowed:
            self.s._refuse(path, "write", decision.reason)
            raise RequestError(-32602, f"write refused by omk-tui: {decision.reason}", {"path": path})
        assert decision.path is not None
        try:
            data = content.encode("utf-8")  # before the file is opened: a refused text leaves the file as it was
        except UnicodeEncodeError as exc:
            raise RequestError(-32602, f"cannot write {path}: the text is not valid Unicode ({exc.reason} at "
                               f"character {exc.start}); nothing was written", {"path": path}) from None
        try:
            decision.path.parent.mkdir(parents=True, exist_ok=True)
            decision.path.write_bytes(data)
        except OSError as exc:
            raise RequestError(-32603, f"cannot write {path}: {exc}", {"path": path}) from None
        return WriteTextFileResponse()

    # -------------------------------------------------------------- terminals
    async def create_terminal(self, session_id: str, command: str, args: list[str] | None = None,
                              env: list[Any] | None = None, cwd: str | None = None,
                              output_byte_limit: int | None = None, **kwargs: Any) -> CreateTerminalResponse:
        where = self.s.scope.check_cwd(cwd)
        unasked = self.s._unapproved("execute")
        if unasked is not None or not where.allowed or where.path is None or not where.path.is_dir():
            reason = unasked or where.reason or f"{cwd!r} is not a folder in the worktree"
            self.s._refuse(cwd or "", "terminal", reason)
            raise RequestError(-32602, f"terminal refused by omk-tui: {reason}", {"cwd": cwd})
        extra = {item.name: item.value for item in env or []}
        try:
            term = await self.s.terminals.create(command, args, where.path, extra, output_byte_limit)
        except OSError as exc:
            raise RequestError(-32603, f"cannot run {command!r}: {exc}") from None
        return CreateTerminalResponse(terminal_id=term.terminal_id)

    def _terminal(self, terminal_id: str):
        term = self.s.terminals.get(terminal_id)
        if term is None:
            raise RequestError(-32602, f"no terminal {terminal_id!r}", {"terminalId": terminal_id})
        return term

    async def terminal_output(self, session_id: str, terminal_id: str, **kwargs: Any) -> TerminalOutputResponse:
        term = self._terminal(terminal_id)
        status = term.exit_status()
        exit_status = TerminalExitStatus(exit_code=status[0], signal=status[1]) if status else None
        return TerminalOutputResponse(output=term.output, truncated=term.truncated, exit_status=exit_status)

    async def wait_for_terminal_exit(self, session_id: str, terminal_id: str,
                                     **kwargs: Any) -> WaitForTerminalExitResponse:
        code, sig = await self._terminal(terminal_id).wait()
        return WaitForTerminalExitResponse(exit_code=code, signal=sig)

    async def kill_terminal(self, session_id: str, terminal_id: str, **kwargs: Any) -> KillTerminalResponse:
        self._terminal(terminal_id)
        await self.s.terminals.kill(terminal_id)
        return KillTerminalResponse()

    async def release_terminal(self, session_id: str, terminal_id: str, **kwargs: Any) -> ReleaseTerminalResponse:
        await self.s.terminals.release(terminal_id)
        return ReleaseTerminalResponse()

    # -------------------------------------------------------------- extensions
    async def ext_notification(self, method: str, params: dict[str, Any]) -> None:
        if method == USAGE_EXTENSION:
            self.s._on_usage(params)

    async def ext_method(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        raise RequestError.method_not_found(f"_{method}")


class AcpSession(ProcessSession):
    """One ACP agent process, one ACP session in `config.cwd`. See base.AgentSession."""

    backend = "acp"

    def __init__(self, argv: list[str], config: SessionConfig, *, env: dict[str, str] | None = None,
                 grace_secs: float = 5.0, start_timeout: float = 60.0):
        if not argv:
            raise AgentError("no agent command given")
        super().__init__(config)
        self.argv = list(argv)
        self.env = self._marked(env if env is not None else agent_environment(config.env))
        self.grace_secs = grace_secs
        self.start_timeout = start_timeout
        self.scope = WriteScope(config.cwd, config.write_scope, read_only=config.read_only)
        self.terminals = TerminalManager(self.env)
        self.session_id: str | None = None
        self.agent_info: dict[str, Any] = {}
        self._conn: ClientSideConnection | None = None
        self._exit_task: asyncio.Future | None = None
        self._stderr_task: asyncio.Task | None = None
        self._broken = asyncio.Event()
        self._failure: str | None = None
        self._stdout_noise: collections.deque[str] = collections.deque(maxlen=5)  # non-ACP stdout lines
        self._kimi_log_start: int | None = None  # the size of kimi's log as the running turn began
        self._turn_running = False
        self._cancel_requested = asyncio.Event()
        self._turn_cancelled = asyncio.Event()
        self._turn_text: list[str] = []
        self._turn_output = 0
        self._turn_usage = TokenUsage()
        self._usage_seen = False
        self._tool_calls: dict[str, dict[str, Any]] = {}
        self._perm_ids = itertools.count(1)
        # request ids are unique across sessions and processes: an agent's session ids may repeat (each new
        # scripted agent process starts at `scripted-1`), and the controller routes answers by request id
        self._perm_prefix = uuid.uuid4().hex[:8]
        # What the approval policy allowed: an agent's writes and terminals need an approved permission request
        # (unless the policy is yolo). tool_call_id -> "write" | "execute" for approved calls not yet ended, and
        # the kinds a person or policy approved for the whole session.
        self._approved_calls: dict[str, str] = {}
        self._approved_for_session: set[str] = set()

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        cwd = Path(self.config.cwd)
        self._prepare_start(cwd)
        try:
            self._proc = await asyncio.create_subprocess_exec(
                *self.argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                cwd=str(cwd),
                env=self.env,
                start_new_session=True,
                limit=STREAM_LIMIT,
            )
        except FileNotFoundError:
            raise AgentError(f"cannot start the agent: {self.argv[0]!r} was not found on PATH") from None
        except PermissionError:
            raise AgentError(f"cannot start the agent: {self.argv[0]!r} is not executable") from None
        self._started()
        # its exit, not its pipes' end: a child it left in the background may hold its stdout for long
        self._exit_task = asyncio.ensure_future(exited(self._proc, poll=0.1))
        self._stderr_task = asyncio.ensure_future(self._read_stderr())
        self._conn = ClientSideConnection(_Client(self), _StdioTransport(self._proc, self))
        try:
            init = await self._during_start(self._conn.initialize(
                protocol_version=PROTOCOL_VERSION,
                client_capabilities=ClientCapabilities(
                    fs=FileSystemCapabilities(read_text_file=True, write_text_file=True), terminal=True
                ),
                client_info=Implementation(name="omk-tui", title="omk-tui", version=__version__),
            ), "initialize")
            info = getattr(init, "agent_info", None)
            if info is not None:
                self.agent_info = {"name": info.name, "version": info.version}
            new = await self._during_start(
                self._conn.new_session(cwd=str(self.scope.root), mcp_servers=[]), "session/new"
            )
            self.session_id = new.session_id
        except BaseException:
            await self.close()
            raise

    async def _during_start(self, coro, step: str):
        task = _quiet(asyncio.ensure_future(coro))
        outcome = await self._race(task, self.start_timeout)
        if outcome == "done":
            try:
                return task.result()
            except RequestError as exc:
                if exc.code == -32000 or "auth" in str(exc).lower():
                    raise AgentError(f"{self._name()}: {exc} — {AUTH_HINT}") from None
                raise AgentError(f"{self._name()} refused {step}: {error_text(exc)}") from None
            except ConnectionError:
                outcome = "broken" if self._failure else "exited"
        if outcome == "timeout":
            raise AgentError(f"{self._name()} did not answer {step} within {self.start_timeout:g}s")
        if is_stub_notice(self._stdout_noise, self.program()):  # kimi-cli 1.52, as over Wire
            shown = " | ".join(self._stdout_noise)[-300:]
            raise AgentError(f"{self._name()} {STUB_MESSAGE}: {shown!r}")
        if outcome == "broken":
            raise AgentError(f"{self._name()} failed during {step}: {self._failure}")
        await self._drain_stderr()
        raise AgentError(f"{self._name()} exited during {step}{self._exit_detail()}")

    async def _drain_stderr(self) -> None:
        # the connection may notice the closed stdout before the exit status is in: wait a little for both
        if self._exit_task is not None:
            await asyncio.wait({self._exit_task}, timeout=2.0)
        if self._stderr_task is not None:
            await asyncio.wait({self._stderr_task}, timeout=0.5)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self.terminals.close_all()
        if self._conn is not None:
            try:
                await asyncio.wait_for(self._conn.close(), timeout=2)
            except (asyncio.TimeoutError, Exception):
                pass
        if self._proc is not None:
            if self._proc.returncode is None and self._exit_task is not None:
                # stdin is closed now: give a well-behaved agent a moment to exit on its own
                await asyncio.wait({self._exit_task}, timeout=0.2)
            await self._end_process(grace=min(self.grace_secs, 2.0))
        for task in (self._stderr_task, self._exit_task):
            if task is not None and not task.done():
                task.cancel()
        remove_private_tmp(self)

    async def cancel(self) -> None:
        """Ask the running turn to stop (session/cancel; killed if it does not stop within the grace period)."""
        if self._turn_running:
            self._cancel_requested.set()

    # ------------------------------------------------------------------ a turn
    async def prompt(self, text: str, on_update: UpdateSink, *, timeout: float | None = None) -> TurnResult:
        started = time.monotonic()
        if self._conn is None or self.session_id is None:
            return TurnResult(stop_reason="error", error="the session was not started")
        if self._broken.is_set() or self._closed or (self._proc and self._proc.returncode is not None):
            return TurnResult(stop_reason="error", error=self._failure or "the agent is no longer running")
        if self._turn_running:
            return TurnResult(stop_reason="error", error="a turn is already running in this session")
        self._begin_turn(on_update)
        stop_reason, error, usage_from_response = "error", None, None
        prompt_task = _quiet(asyncio.ensure_future(
            self._conn.prompt(session_id=self.session_id, prompt=[text_block(text)])
        ))
        cancel_wait = asyncio.ensure_future(self._cancel_requested.wait())
        try:
            outcome = await self._race(prompt_task, timeout, extra=cancel_wait)
            stop_override = None
            if outcome in ("timeout", "cancel"):
                stop_override = "timeout" if outcome == "timeout" else "cancelled"
                outcome = await self._stop_turn(prompt_task)
                if outcome == "killed":
                    stop_reason = stop_override
                    error = (f"the turn ran past its time limit of {timeout:g}s" if stop_override == "timeout"
                             else "the turn was cancelled")
                    error += f"; the agent did not stop within {self.grace_secs:g}s of the cancel and was killed"
            if outcome == "done":
                try:
                    response = prompt_task.result()
                except RequestError as exc:
                    stop_reason = "error"
                    error = f"the agent failed the turn: {error_text(exc)}"
                    if exc.code == -32000:
                        error += f" — {AUTH_HINT}"
                except ConnectionError:
                    outcome = "broken" if self._failure else "exited"
                else:
                    stop_reason = stop_override or str(response.stop_reason)
                    if stop_override == "timeout":
                        error = f"the turn ran past its time limit of {timeout:g}s and was cancelled"
                    usage_from_response = response.usage
                    if stop_reason == "end_turn" and not self._turn_output and usage_from_response is None \
                            and not self._usage_seen:
                        stop_reason, error = "error", EMPTY_TURN
                        if self._kimi_log_start is not None:
                            error += "; " + model_failure_hint(self.env, self._kimi_log_start, self.session_id)
            if outcome == "broken":
                stop_reason, error = "error", self._failure
                await self._kill()
            elif outcome == "exited":
                await self._drain_stderr()
                stop_reason, error = "crashed", f"the agent exited during the turn{self._exit_detail()}"
        finally:
            cancel_wait.cancel()
            if not prompt_task.done():
                prompt_task.cancel()
            self._turn_running = False
        if usage_from_response is not None and not self._usage_seen:
            self._on_usage({"inputTokens": usage_from_response.input_tokens,
                            "outputTokens": usage_from_response.output_tokens})
        result = TurnResult(
            stop_reason=stop_reason,
            usage=self._turn_usage.model_copy(),
            usage_reported=self._usage_seen,
            duration_ms=int((time.monotonic() - started) * 1000),
            error=error,
            text="".join(self._turn_text),
        )
        self._sink = None
        return result

    def running_command(self) -> str | None:
        term = self.terminals.running()
        return None if term is None else f"{term.terminal_id}: {term.command}"

    def _begin_turn(self, on_update: UpdateSink) -> None:
        self._sink = on_update
        self._turn_running = True
        self._cancel_requested = asyncio.Event()
        self._turn_cancelled = asyncio.Event()
        self._turn_text = []
        self._turn_output = 0  # message, thought, tool call and plan updates of this turn
        self._turn_usage = TokenUsage()
        self._usage_seen = False
        self._stderr_count = 0
        # kimi's log, where it is now: an empty turn quotes the error kimi logged after this (kimi.model_failure_hint)
        self._kimi_log_start = log_size(log_path(self.env)) if "kimi" in self._name() else None

    async def _stop_turn(self, prompt_task: asyncio.Future) -> str:
        """session/cancel, then wait for the agent to end the turn; kill it after the grace period."""
        self._turn_cancelled.set()  # pending permission questions answer `cancelled`
        try:
            await asyncio.wait_for(self._conn.cancel(session_id=self.session_id), timeout=1.0)
        except Exception:
            pass
        outcome = await self._race(prompt_task, self.grace_secs)
        if outcome == "timeout":
            await self._kill()
            self._failure = "the agent was killed after it ignored a cancel"
            self._broken.set()
            return "killed"
        return outcome

    async def _race(self, task: asyncio.Future, timeout: float | None, extra: asyncio.Future | None = None) -> str:
        """Wait for `task`, the agent's exit, a protocol failure, `extra` or the timeout — whichever comes first."""
        broken = asyncio.ensure_future(self._broken.wait())
        waiters = {task, broken, self._exit_task}
        if extra is not None:
            waiters.add(extra)
        try:
            done, _ = await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            broken.cancel()
        if task in done:
            return "done"
        if self._broken.is_set() and self._failure:
            return "broken"
        if self._exit_task in done:
            # the answer may have been sent just before the exit: let the connection deliver it
            await asyncio.wait({task}, timeout=0.5)
            if task.done() and not (task.exception() and isinstance(task.exception(), ConnectionError)):
                return "done"
            return "broken" if self._failure else "exited"
        if extra is not None and extra in done:
            return "cancel"
        return "timeout"

    async def _kill(self) -> None:
        await self.terminals.close_all()
        await self._end_process(grace=1.0)

    # ------------------------------------------------------------------ incoming
    def _refuse(self, path: str, operation: str, reason: str) -> None:
        self._emit(AgentUpdate(kind="scope_refused", path=str(path), operation=operation, reason=reason))

    def _protocol_failure(self, message: str) -> None:
        if self._failure is None:
            self._failure = message
        self._broken.set()

    def _on_usage(self, params: dict[str, Any]) -> None:
        try:
            inp = int(params.get("inputTokens", params.get("input", 0)) or 0)
            out = int(params.get("outputTokens", params.get("output", 0)) or 0)
        except (TypeError, ValueError):
            return
        self._usage_seen = True
        self._turn_usage.add(TokenUsage(input_tokens=inp, output_tokens=out))
        self._emit(AgentUpdate(kind="usage", input_tokens=inp, output_tokens=out))

    def _on_session_update(self, update: Any) -> None:
        kind = getattr(update, "session_update", "")
        if kind in ("agent_message_chunk", "agent_thought_chunk", "tool_call", "tool_call_update", "plan"):
            self._turn_output += 1
        if kind in ("agent_message_chunk", "agent_thought_chunk"):
            text = _block_text(update.content)
            if kind == "agent_message_chunk":
                self._turn_text.append(text)
            self._emit(AgentUpdate(kind="message" if kind == "agent_message_chunk" else "thought", text=text))
        elif kind in ("tool_call", "tool_call_update"):
            if str(update.status or "") in ("completed", "failed"):
                self._approved_calls.pop(update.tool_call_id, None)  # what it was approved for is over
            self._emit(self._tool_update(update))
        elif kind == "plan":
            entries = [
                {"content": e.content, "status": str(e.status), "priority": str(e.priority)}
                for e in update.entries or []
            ]
            self._emit(AgentUpdate(kind="plan", entries=entries))

    def _tool_update(self, update: Any) -> AgentUpdate:
        known = self._tool_calls.setdefault(update.tool_call_id, {"title": "", "kind": "", "paths": []})
        if update.title:
            known["title"] = update.title
        if update.kind:
            known["kind"] = str(update.kind)
        known["kind"] = kind_from_title(known["kind"], known["title"])
        if update.locations:
            known["paths"] = [loc.path for loc in update.locations]
        content, diff = _tool_content(update.content, self.scope.root)
        if not content and not diff and update.raw_input is not None:
            content = _as_text(update.raw_input)
        if not content and update.raw_output is not None:
            content = _as_text(update.raw_output)
        return AgentUpdate(
            kind="tool_call", tool_call_id=update.tool_call_id, title=known["title"], tool_kind=known["kind"],
            status=str(update.status or ""), paths=list(known["paths"]), content=content, diff=diff,
        )

    async def _on_permission(self, tool_call: Any, options: list[Any]) -> RequestPermissionResponse:
        known = self._tool_calls.get(tool_call.tool_call_id, {})
        raw = tool_call.raw_input if isinstance(tool_call.raw_input, dict) else {}
        content, diff = _tool_content(tool_call.content, self.scope.root)
        paths = [loc.path for loc in tool_call.locations or []] or list(known.get("paths", []))
        request = PermissionRequest(
            request_id=f"{self.session_id}/perm-{self._perm_prefix}-{next(self._perm_ids)}",
            title=tool_call.title or known.get("title", "") or tool_call.tool_call_id,
            tool_kind=kind_from_title(str(tool_call.kind or known.get("kind") or ""),
                                      tool_call.title or known.get("title", "")),
            command=str(raw.get("command", "")),
            paths=paths,
            diff=diff,
            options=[_OPTION_KIND_TO_DECISION.get(str(o.kind), o.option_id) for o in options],
        )
        self._emit(AgentUpdate(
            kind="permission_asked", request_id=request.request_id, tool_call_id=tool_call.tool_call_id,
            title=request.title, tool_kind=request.tool_kind, command=request.command, paths=request.paths,
            diff=request.diff, options=request.options, content=content,
        ))
        deciding = asyncio.ensure_future(decide(request, self.config))
        cancelled = asyncio.ensure_future(self._turn_cancelled.wait())
        try:
            await asyncio.wait({deciding, cancelled}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            cancelled.cancel()
        if not deciding.done():
            deciding.cancel()
            self._emit(AgentUpdate(kind="permission_decided", request_id=request.request_id,
                                   decision="reject", by="cancelled", reason="the turn was cancelled"))
            return RequestPermissionResponse(outcome=DeniedOutcome(outcome="cancelled"))
        verdict = deciding.result()
        if verdict.approved and is_mutating(request):
            what = "execute" if request.tool_kind == "execute" else "write"
            if verdict.decision == "approve_for_session":
                self._approved_for_session.add(what)
            else:
                self._approved_calls[tool_call.tool_call_id] = what
        self._emit(AgentUpdate(kind="permission_decided", request_id=request.request_id,
                               tool_call_id=tool_call.tool_call_id, title=request.title,
                               decision=verdict.decision, by=verdict.by, reason=verdict.reason))
        option_id = _pick_option(verdict.decision, options)
        if option_id is None:
            return RequestPermissionResponse(outcome=DeniedOutcome(outcome="cancelled"))
        return RequestPermissionResponse(outcome=AllowedOutcome(outcome="selected", option_id=option_id))

    # ------------------------------------------------------------------ helpers
    def _unapproved(self, what: str) -> str | None:
        """Why the agent may not write a file (`what` = "write") or run a command ("execute") now, or None.

        An ACP agent is expected to ask before it acts; the policy answers those requests. An agent that writes
        or runs without an approved request (one that never asks) would bypass the policy, so that is refused
        under every policy but yolo (which approves everything anyway), and always in a read-only session."""
        policy = parse_policy(self.config.approval)
        if policy.name == "yolo" and not self.config.read_only:
            return None
        if what in self._approved_for_session or what in self._approved_calls.values():
            return None
        act = "runs a command" if what == "execute" else "writes a file"
        why = "this session is read-only" if self.config.read_only else f"approval policy {policy.label}"
        return f"no approved permission request covers it ({why}): an agent must ask before it {act}"

    def _name(self) -> str:
        return f"the agent ({self.program()})"

    def _exit_detail(self) -> str:
        code = self._proc.returncode if self._proc else None
        parts = [f" with exit code {code}" if code is not None else ""]
        tail = [line for line in self._stderr_tail if line.strip()][-5:]
        if tail:
            parts.append("; last stderr lines: " + " | ".join(tail))
        return "".join(parts)


def _pick_option(decision: str, options: list[Any]) -> str | None:
    for option in options:
        if option.option_id == decision:
            return option.option_id
    for kind in _DECISION_KINDS.get(decision, ()):
        for option in options:
            if str(option.kind) == kind:
                return option.option_id
    return None


def _block_text(block: Any) -> str:
    text = getattr(block, "text", None)
    if isinstance(text, str):
        return text
    return f"[{getattr(block, 'type', 'content')}]"


def _tool_content(items: list[Any] | None, root: Path | None = None) -> tuple[str, str]:
    texts: list[str] = []
    diffs: list[str] = []
    for item in items or []:
        kind = getattr(item, "type", "")
        if kind == "content":
            texts.append(_block_text(item.content))
        elif kind == "diff":
            diffs.append(_unified_diff(item.path, item.old_text, item.new_text, root))
        elif kind == "terminal":
            texts.append(f"[terminal {item.terminal_id}]")
    return "\n".join(texts), "\n".join(diffs)


def _unified_diff(path: str, old: str | None, new: str, root: Path | None = None) -> str:
    if root is not None:
        try:
            path = Path(path).relative_to(root).as_posix()
        except ValueError:
            pass
    path = path.lstrip("/")
    lines = difflib.unified_diff(
        (old or "").splitlines(keepends=True), new.splitlines(keepends=True),
        fromfile=f"a/{path}" if old is not None else "/dev/null", tofile=f"b/{path}",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)


def kind_from_title(kind: str, title: str) -> str:
    """kimi's ACP sends no tool kind; its titles start with the tool name ("WriteFile: a.txt"), which tells it,
    so the `safe` policy can tell reads from writes."""
    if kind and kind != "other":
        return kind
    from omk_tui.agents.wire_events import tool_kind

    return tool_kind(title.split(":", 1)[0].strip()) if title else (kind or "other")


def _quiet(task: asyncio.Future) -> asyncio.Future:
    """A request that may still fail after we stopped waiting for it (the agent died): its error is already
    reported through the turn's result, so retrieve it instead of letting asyncio log it as never retrieved."""
    task.add_done_callback(lambda t: t.cancelled() or t.exception())
    return task
