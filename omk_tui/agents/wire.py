"""The Wire backend: the legacy Python kimi-cli driven as `kimi --wire -w DIR`.

Wire is newline-delimited JSON-RPC 2.0 on stdio (protocol "1.10"). We send `initialize`, then one `prompt
{user_input}` per turn, answered only when the turn ends; meanwhile kimi sends `event` notifications and
`request`s (approvals, questions, hooks) that we answer on the same id. Unlike ACP, Wire reports token usage
(`StatusUpdate`), so token and money budgets work with it.

Kimi writes files itself over Wire, so a write scope cannot be enforced at the file-system level: it is
enforced at approval time instead. An approval for WriteFile/StrReplaceFile whose path leaves the worktree or
the slice's write scope is rejected (and reported as `scope_refused`) whatever the approval policy says.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import json
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from omk_tui.agents.base import (
    AgentError,
    AgentUpdate,
    SessionConfig,
    TurnResult,
    UpdateSink,
    remove_private_tmp,
)
from omk_tui.agents.environment import agent_environment
from omk_tui.agents.kimi import STUB_MESSAGE, is_stub_notice
from omk_tui.agents.policy import PolicyDecision, decide
from omk_tui.agents.process_session import ProcessSession
from omk_tui.agents.scope import WriteScope
from omk_tui.agents.wire_events import EDIT_TOOLS, WireTurn
from omk_tui.procs import exited

WIRE_PROTOCOL_VERSION = "1.10"
DEFAULT_COMMAND = ("kimi", "--wire")
STDIO_LIMIT = 64 * 1024 * 1024  # kimi sends whole files and tool outputs in one line
START_TIMEOUT = 90.0  # kimi 1.51.0 takes ~3 s to answer `initialize`; a cold cache is slower
CLOSE_WAIT = 0.5  # after closing stdin, how long kimi gets to exit on its own before the group is ended

_STOP_REASONS = {"finished": "end_turn", "cancelled": "cancelled", "max_steps_reached": "max_turn_requests"}
_ERROR_HINTS = {
    -32000: "kimi is busy with another turn",
    -32001: "kimi has no model configured (LLM not set): run `kimi login`, or set default_model and a "
            "provider in $KIMI_SHARE_DIR/config.toml",
    -32002: "kimi does not support the configured model",
    -32003: "the model service failed",
    -32004: "kimi's login has expired: run `kimi login`",
}


class _AgentExited(Exception):
    """The kimi process ended (or its stdout closed) while we were waiting for an answer."""


class WireRpcError(Exception):
    def __init__(self, code: int, message: str, data: Any = None):
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.data = code, message, data


def wire_error_message(code: int, message: str) -> str:
    hint = _ERROR_HINTS.get(code)
    if hint is None:
        return f"kimi answered error {code}: {message}"
    return f"{hint} ({code}: {message})" if message else f"{hint} ({code})"


class WireSession(ProcessSession):
    """An `AgentSession` over kimi's Wire protocol.

    `argv` is the program and its arguments (e.g. `kimi --wire`); `-w <cwd>` is added unless it already names
    a work dir, and `--config-file F` when `config_file` is given. `env` is the child's whole environment
    (default: the trimmed `agent_environment(config.env)`). A turn that outlives its timeout is cancelled,
    then the process group is killed `grace_secs` later if kimi has not stopped.
    """

    backend = "wire"

    def __init__(
        self,
        argv: Sequence[str] | str | None,
        config: SessionConfig,
        *,
        env: dict[str, str] | None = None,
        grace_secs: float = 5.0,
        start_timeout: float = START_TIMEOUT,
        config_file: str | Path | None = None,
        kill_grace: float = 2.0,
    ) -> None:
        super().__init__(config)
        if argv is None:
            argv = list(DEFAULT_COMMAND)
        elif isinstance(argv, str):
            argv = shlex.split(argv)
        else:
            argv = list(argv)
        if not argv:
            raise AgentError("the wire agent command is empty; use e.g. wire:\"kimi --wire\"")
        self.cwd = Path(config.cwd)
        if not any(a in ("-w", "--work-dir") or a.startswith("--work-dir=") for a in argv):
            argv += ["-w", str(self.cwd)]
        if config_file is not None:
            argv += ["--config-file", str(config_file)]
        self.argv = argv
        self.env = self._marked(env if env is not None else agent_environment(config.env))
        self.cancel_grace = grace_secs
        self.kill_grace = kill_grace
        self.start_timeout = start_timeout
        self.scope = WriteScope(self.cwd, list(config.write_scope), read_only=config.read_only)
        self.server_info: dict[str, Any] = {}
        self._ids = itertools.count(1)
        self._pending: dict[str, asyncio.Future[Any]] = {}
        self._write_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._reader: asyncio.Task[None] | None = None
        self._exit_watch: asyncio.Task[None] | None = None
        self._stderr_reader: asyncio.Task[None] | None = None
        self._stdout_noise: collections.deque[str] = collections.deque(maxlen=10)
        self._exited = asyncio.Event()
        self._turn: WireTurn | None = None
        self._cancel_event = asyncio.Event()

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        if self._proc is not None:
            return
        if self._closed:
            raise AgentError("this wire session is closed")
        self._prepare_start(self.cwd)
        try:
            self._proc = await asyncio.create_subprocess_exec(
                *self.argv,
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                cwd=str(self.cwd), env=self.env, start_new_session=True, limit=STDIO_LIMIT,
            )
        except FileNotFoundError:
            raise AgentError(
                f"{self.argv[0]!r} was not found: install kimi-cli 1.51.0 (Python 3.13: "
                "`pip install kimi-cli==1.51.0`) or give its path, e.g. wire:\"/path/to/kimi --wire\""
            ) from None
        except OSError as exc:
            raise AgentError(f"could not start {self.argv[0]!r}: {exc}") from None
        self._started()
        self._reader = asyncio.create_task(self._read_stdout())
        self._stderr_reader = asyncio.create_task(self._read_stderr())
        self._exit_watch = asyncio.create_task(self._watch_exit(self._proc, self._reader))
        try:
            result = await asyncio.wait_for(
                self._request("initialize", {
                    "protocol_version": WIRE_PROTOCOL_VERSION,
                    "client": {"name": "omk-tui", "version": _omk_version()},
                    "capabilities": {"supports_question": False, "supports_plan_mode": False},
                }),
                timeout=self.start_timeout,
            )
        except asyncio.TimeoutError:
            await self._kill()
            raise AgentError(
                f"kimi did not answer `initialize` within {self.start_timeout:g} s{self._tail_suffix()}"
            ) from None
        except _AgentExited:
            rc = await self._returncode()
            await self._kill()
            raise AgentError(self._startup_failure(rc)) from None
        except WireRpcError as exc:
            await self._kill()
            raise AgentError(f"kimi refused `initialize`: {wire_error_message(exc.code, exc.message)}") from None
        except asyncio.CancelledError:
            await self._kill()
            raise
        self.server_info = result if isinstance(result, dict) else {}

    async def close(self) -> None:
        self._closed = True
        proc = self._proc
        if proc is None:
            remove_private_tmp(self)
            return
        if proc.returncode is None and proc.stdin is not None and not proc.stdin.is_closing():
            # Closing stdin is kimi's own signal to shut down cleanly.
            with contextlib.suppress(Exception):
                proc.stdin.close()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._exited.wait()), timeout=CLOSE_WAIT)
        await self._kill()
        remove_private_tmp(self)

    async def _kill(self) -> None:
        await self._end_process(grace=self.kill_grace)
        for task in (self._reader, self._stderr_reader, self._exit_watch, *self._tasks):
            if task is not None and not task.done():
                task.cancel()
        for task in (self._reader, self._stderr_reader):
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._fail_pending()

    # ------------------------------------------------------------------ turns
    async def prompt(self, text: str, on_update: UpdateSink, *, timeout: float | None = None) -> TurnResult:
        if self._turn is not None:
            return TurnResult(stop_reason="error", error="a turn is already running in this session")
        await self.start()
        if self._exited.is_set():
            rc = await self._returncode()
            return TurnResult(stop_reason="crashed", error=f"kimi is not running (exit code {rc}){self._tail_suffix()}")
        loop = asyncio.get_running_loop()
        started = loop.time()
        turn = self._turn = WireTurn(cwd=str(self.cwd))
        self._sink = on_update
        self._stderr_count = 0
        self._cancel_event = asyncio.Event()
        future = asyncio.ensure_future(self._request("prompt", {"user_input": text}))
        future.add_done_callback(_swallow)
        cancel_wait = asyncio.ensure_future(self._cancel_event.wait())
        stop_reason, error = "error", None
        try:
            done, _ = await asyncio.wait({future, cancel_wait}, timeout=timeout,
                                         return_when=asyncio.FIRST_COMPLETED)
            override, killed = None, False
            if future not in done:
                override = "cancelled" if cancel_wait in done else "timeout"
                killed = await self._stop_turn(future)
                if killed:
                    stop_reason = override
                    what = (f"the turn ran past its time limit of {timeout:g} s" if override == "timeout"
                            else "the turn was cancelled")
                    error = f"{what}; kimi did not stop within {self.cancel_grace:g} s of the cancel and was killed"
            if not killed and future.done() and not future.cancelled():
                try:
                    stop_reason, error = self._turn_outcome(future.result())
                    if override == "timeout":
                        stop_reason = "timeout"
                        error = f"the turn ran past its time limit of {timeout:g} s and was cancelled"
                except _AgentExited:
                    rc = await self._returncode()
                    stop_reason = "crashed"
                    error = f"kimi exited with code {rc} during the turn{self._tail_suffix()}"
                except WireRpcError as exc:
                    stop_reason, error = "error", wire_error_message(exc.code, exc.message)
        except asyncio.CancelledError:
            # Our caller went away: do not leave kimi working on its own.
            with contextlib.suppress(Exception):
                await self._notify_cancel()
            raise
        finally:
            cancel_wait.cancel()
            if not future.done():
                future.cancel()
            # Approvals still waiting (e.g. for a person) belong to the turn that ended; kimi rejects them itself.
            for task in list(self._tasks):
                task.cancel()
            self._turn = None
            self._sink = None
        return TurnResult(
            stop_reason=stop_reason, usage=turn.usage.model_copy(), usage_reported=turn.usage_reported,
            duration_ms=int((loop.time() - started) * 1000), error=error, text=turn.text,
        )

    def _turn_outcome(self, result: Any) -> tuple[str, str | None]:
        status = result.get("status") if isinstance(result, dict) else None
        reason = _STOP_REASONS.get(str(status))
        if reason is None:
            return "error", f"kimi ended the turn with an unknown status {status!r}"
        return reason, None

    async def _stop_turn(self, future: asyncio.Future[Any]) -> bool:
        """Send `cancel` and wait for the turn's answer; kill the group after the grace period. True if killed."""
        await self._notify_cancel()
        exited = asyncio.ensure_future(self._exited.wait())
        try:
            await asyncio.wait({future, exited}, timeout=self.cancel_grace, return_when=asyncio.FIRST_COMPLETED)
        finally:
            exited.cancel()
        if self._exited.is_set() and not future.done():
            await asyncio.wait({future}, timeout=0.5)  # its failure (the exit) is delivered a tick later
        if future.done():
            return False
        await self._kill()
        return True

    async def cancel(self) -> None:
        """End the running turn: `cancel` to kimi, then a kill if it has not stopped within the grace period."""
        if self._turn is not None:
            self._cancel_event.set()

    async def _notify_cancel(self) -> None:
        if self._proc is None or self._exited.is_set():
            return
        # Do not wait for the answer: the prompt's own answer ("cancelled") is what ends the turn.
        task = asyncio.ensure_future(self._request("cancel", {}))
        task.add_done_callback(_swallow)

    # ------------------------------------------------------------------ JSON-RPC plumbing
    async def _request(self, method: str, params: dict[str, Any]) -> Any:
        if self._exited.is_set():
            raise _AgentExited()
        msg_id = str(next(self._ids))
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = future
        try:
            await self._send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
            return await future
        finally:
            self._pending.pop(msg_id, None)

    async def _send(self, message: dict[str, Any]) -> None:
        proc = self._proc
        if proc is None or proc.stdin is None or proc.stdin.is_closing():
            raise _AgentExited()
        data = json.dumps(message, ensure_ascii=False).encode("utf-8") + b"\n"
        async with self._write_lock:
            try:
                proc.stdin.write(data)
                await proc.stdin.drain()
            except (BrokenPipeError, ConnectionResetError) as exc:
                raise _AgentExited() from exc

    @staticmethod
    async def _watch_exit(proc: asyncio.subprocess.Process, reader: asyncio.Task[None]) -> None:
        """kimi's exit ends the reading of its stdout even while a child it left in the background holds the pipe
        open (the end of the reading is what tells the session kimi exited)."""
        await exited(proc, poll=0.1)
        await asyncio.wait({reader}, timeout=0.5)  # what it wrote before it exited
        reader.cancel()

    async def _read_stdout(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        stdout = self._proc.stdout
        try:
            while True:
                try:
                    raw = await stdout.readline()
                except (ValueError, asyncio.LimitOverrunError):
                    self._stdout_noise.append(f"<a line longer than {STDIO_LIMIT} bytes>")
                    break
                if not raw:
                    break
                line = raw.decode("utf-8", errors="replace").strip()
                if not line:
                    continue
                try:
                    message = json.loads(line)
                except ValueError:
                    message = None
                if not isinstance(message, dict):
                    # Not Wire: a deprecation notice, a stray print. Kept for the error message.
                    self._stdout_noise.append(line[:500])
                    continue
                self._dispatch(message)
        finally:
            self._exited.set()
            self._fail_pending()

    def _fail_pending(self) -> None:
        for future in list(self._pending.values()):
            if not future.done():
                future.set_exception(_AgentExited())
                future.exception()  # mark retrieved: an abandoned request must not log a warning

    def _dispatch(self, message: dict[str, Any]) -> None:
        method = message.get("method")
        if method is None:
            future = self._pending.get(str(message.get("id")))
            if future is None or future.done():
                return
            error = message.get("error")
            if isinstance(error, dict):
                future.set_exception(WireRpcError(int(error.get("code", 0)), str(error.get("message", "")),
                                                  error.get("data")))
            else:
                future.set_result(message.get("result"))
            return
        params = message.get("params") if isinstance(message.get("params"), dict) else {}
        if method == "event":
            self._on_event(str(params.get("type", "")), params.get("payload") or {})
        elif method == "request" and message.get("id") is not None:
            task = asyncio.create_task(self._answer(str(message["id"]), params))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        elif message.get("id") is not None:
            self._spawn_reply({"jsonrpc": "2.0", "id": message["id"],
                               "error": {"code": -32601, "message": f"method {method!r} not supported"}})

    def _spawn_reply(self, message: dict[str, Any]) -> None:
        task = asyncio.create_task(self._send(message))
        task.add_done_callback(_swallow)

    def _on_event(self, event_type: str, payload: Any) -> None:
        if self._turn is None or not isinstance(payload, dict):
            return
        for update in self._turn.feed(event_type, payload):
            self._emit(update)

    # ------------------------------------------------------------------ kimi's requests
    async def _answer(self, msg_id: str, params: dict[str, Any]) -> None:
        kind = params.get("type")
        payload = params.get("payload") if isinstance(params.get("payload"), dict) else {}
        try:
            if kind == "ApprovalRequest":
                result: dict[str, Any] = await self._approve(payload)
            elif kind == "QuestionRequest":
                result = _answer_questions(payload)
            elif kind == "HookRequest":
                result = {"request_id": payload.get("id", msg_id), "action": "allow", "reason": ""}
            else:
                # External tools (ToolCallRequest): we register none.
                await self._send({"jsonrpc": "2.0", "id": msg_id,
                                  "error": {"code": -32601, "message": f"omk-tui does not handle {kind!r}"}})
                return
            await self._send({"jsonrpc": "2.0", "id": msg_id, "result": result})
        except _AgentExited:
            return

    async def _approve(self, payload: dict[str, Any]) -> dict[str, Any]:
        turn = self._turn or WireTurn(cwd=str(self.cwd))
        request = turn.permission_request(payload)
        self._emit(AgentUpdate(
            kind="permission_asked", request_id=request.request_id, title=request.title,
            tool_kind=request.tool_kind, command=request.command, paths=request.paths, diff=request.diff,
            options=request.options,
        ))
        decided = self._scope_decision(payload, request.paths)
        if decided is None:
            decided = await decide(request, self.config)
        self._emit(AgentUpdate(
            kind="permission_decided", request_id=request.request_id, decision=decided.decision,
            by=decided.by, reason=decided.reason, title=request.title,
        ))
        answer: dict[str, Any] = {"request_id": request.request_id, "response": decided.decision}
        if decided.decision == "reject" and decided.reason:
            answer["feedback"] = f"Rejected by omk-tui: {decided.reason}"
        return answer

    def _scope_decision(self, payload: dict[str, Any], paths: list[str]) -> PolicyDecision | None:
        """Writes outside the worktree or the write scope are refused before any policy is asked."""
        call = self._turn.tools.get(str(payload.get("tool_call_id", ""))) if self._turn else None
        name = call.name if call is not None and call.name else str(payload.get("sender", ""))
        if name not in EDIT_TOOLS:
            return None
        if not paths:
            reason = f"{name} named no path, so its write scope cannot be checked"
            self._emit(AgentUpdate(kind="scope_refused", path="", operation="write", reason=reason))
            return PolicyDecision("reject", "scope", reason)
        for path in paths:
            verdict = self.scope.check_write(path)
            if not verdict.allowed:
                self._emit(AgentUpdate(kind="scope_refused", path=path, operation="write", reason=verdict.reason))
                return PolicyDecision("reject", "scope", verdict.reason)
        return None

    # ------------------------------------------------------------------ diagnostics
    async def _returncode(self) -> int | None:
        if self._proc is None:
            return None
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._proc.wait(), timeout=2)
        return self._proc.returncode

    def _tail_suffix(self) -> str:
        lines = list(self._stdout_noise) + list(self._stderr_tail)
        lines = [line for line in lines if line.strip()][-8:]
        return (": " + " | ".join(lines)) if lines else ""

    def _startup_failure(self, rc: int | None) -> str:
        if is_stub_notice(self._stdout_noise, self.program()):
            return "kimi " + STUB_MESSAGE + self._tail_suffix()
        return f"kimi exited with code {rc} before answering `initialize`{self._tail_suffix()}"


def _answer_questions(payload: dict[str, Any]) -> dict[str, Any]:
    """A headless run cannot ask a person: pick each question's first option."""
    answers: dict[str, str] = {}
    for item in payload.get("questions") or []:
        if not isinstance(item, dict):
            continue
        options = [o for o in item.get("options") or [] if isinstance(o, dict)]
        if options:
            answers[str(item.get("question", ""))] = str(options[0].get("label", ""))
    return {"request_id": payload.get("id", ""), "answers": answers}


def _swallow(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


def _omk_version() -> str:
    from omk_tui import __version__

    return str(__version__)
