"""What the ACP and the Wire session share: the agent is one child process, started in a working directory,
whose stderr is kept for error messages and streamed, capped, as updates of the running turn. Its environment
carries the session's mark (procs.new_mark): ending the agent also ends every process it started, also one that
left its process group.
"""

from __future__ import annotations

import abc
import asyncio
import collections
from pathlib import Path
from typing import Self

from omk_tui.agents.base import AgentError, AgentUpdate, SessionConfig, UpdateSink, make_private_tmp
from omk_tui.agents.policy import PolicyError, parse_policy
from omk_tui.proc_records import forget, record_started
from omk_tui.procs import end_run, marked_processes, new_mark

STDERR_KEEP = 40  # the last stderr lines, kept for the message that says why the agent failed
STDERR_UPDATES_PER_TURN = 1000
STDERR_LINE_MAX = 2000


class ProcessSession(abc.ABC):
    """The lifecycle both sessions share; a subclass starts the process in `start` and ends it in `close`."""

    def __init__(self, config: SessionConfig) -> None:
        self.config = config
        self.private_tmp: Path | None = None  # a confined agent's TMPDIR (spec.confinement), removed on close
        self.name: str | None = None  # the agent's program, for messages (its argv may start with the launcher)
        self.sink_errors: list[BaseException] = []
        self._proc: asyncio.subprocess.Process | None = None
        self._sink: UpdateSink | None = None  # the running turn's `on_update`
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=STDERR_KEEP)
        self._stderr_count = 0  # stderr lines of the running turn
        self._closed = False
        self.mark = new_mark()  # in the agent's environment (`_marked`), so in every process it starts
        self._record: Path | None = None  # the running controller's durable record of the agent (proc_records)

    def _marked(self, env: dict[str, str]) -> dict[str, str]:
        return {**env, self.mark: "1"}

    def _started(self) -> None:
        """The agent process was just started: a running controller records it durably (kimi wipes its
        environment marks by retitling itself, so after a kill -9 of the controller only the record finds it)."""
        if self._proc is not None:
            self._record = record_started(self._proc.pid, f"agent {self.program()}")

    def program(self) -> str:
        """The agent's program, for messages: `name` when set (the argv may start with the confining launcher),
        else the executable's file name."""
        argv = getattr(self, "argv", None) or ["?"]
        return self.name or Path(argv[0]).name

    async def _end_process(self, grace: float) -> None:
        """End the agent's process group and every process that carries the session's mark."""
        if self._proc is not None:
            await end_run(self._proc, self.mark, grace)
            forget(self._record)
            self._record = None

    @abc.abstractmethod
    async def start(self) -> None:
        """Start the agent process (and its protocol's handshake)."""

    @abc.abstractmethod
    async def close(self) -> None:
        """End the agent's whole process group and remove its private TMPDIR."""

    def running_command(self) -> str | None:
        """A command omk-tui itself runs for the session and that has not exited (a client terminal), or None.
        Such a command is a sign of life for the agent's lease: the agent waits for it, silently."""
        return None

    def agent_children_alive(self) -> bool:
        """Whether a process the agent started (one carrying the session's mark, the agent itself excepted) still
        runs: a command of its own tool call, say. Scans /proc, so ask it rarely."""
        me = self.pid
        return any(pid != me for pid, _ in marked_processes([self.mark]))

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _prepare_start(self, cwd: Path) -> None:
        """Refuse a bad approval policy or a missing working directory, and make the private TMPDIR."""
        try:
            parse_policy(self.config.approval)
        except PolicyError as exc:
            raise AgentError(str(exc)) from None
        if not cwd.is_dir():
            raise AgentError(f"the agent's working directory {cwd} does not exist")
        make_private_tmp(self)

    def _emit(self, update: AgentUpdate) -> None:
        sink = self._sink
        if sink is None:
            return
        try:
            sink(update)
        except Exception as exc:  # a failing sink must not break the protocol
            self.sink_errors.append(exc)

    async def _read_stderr(self) -> None:
        stream = self._proc.stderr if self._proc is not None else None
        if stream is None:
            return
        while True:
            try:
                raw = await stream.readline()
            except (ValueError, asyncio.LimitOverrunError):
                continue
            if not raw:
                return
            line = raw.decode("utf-8", errors="replace").rstrip()[:STDERR_LINE_MAX]
            if not line:
                continue
            self._stderr_tail.append(line)
            if self._sink is not None:
                self._stderr_count += 1
                if self._stderr_count <= STDERR_UPDATES_PER_TURN:
                    self._emit(AgentUpdate(kind="stderr", text=line))
                elif self._stderr_count == STDERR_UPDATES_PER_TURN + 1:
                    self._emit(AgentUpdate(kind="stderr", text="(omk-tui: further stderr lines of this turn dropped)"))
