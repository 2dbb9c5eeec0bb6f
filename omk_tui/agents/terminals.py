"""Client-side ACP terminals: the agent's shell commands run here, in the worktree, each in its own process group.

Output (stdout and stderr together) is kept in a bounded buffer: past `output_byte_limit` bytes the oldest
output is dropped at a character boundary and the terminal reports `truncated`.

A command has exited when its process exits, as a gate: what it left in the background gets `DRAIN_SECS` to
finish its output, then is ended — its process group and every process carrying the terminal's environment mark
(also one that left the group with `setsid`). Killing or releasing a terminal ends the same.
"""

from __future__ import annotations

import asyncio
import itertools
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from omk_tui.agents.confine import launcher
from omk_tui.proc_records import forget, record_started
from omk_tui.procs import end_command, end_run, exited, new_mark

DEFAULT_OUTPUT_LIMIT = 1_000_000


@dataclass
class ClientTerminal:
    terminal_id: str
    command: str
    proc: asyncio.subprocess.Process
    limit: int
    mark: str  # the environment mark of its processes (procs.new_mark)
    buffer: bytearray = field(default_factory=bytearray)
    truncated: bool = False
    reader: asyncio.Task | None = None
    ended: asyncio.Task | None = None  # done once the command exited and what it left behind was ended
    record: Path | None = None  # the running controller's durable record of its process (proc_records)

    def append(self, data: bytes) -> None:
        self.buffer += data
        overflow = len(self.buffer) - self.limit
        if overflow > 0:
            del self.buffer[:overflow]
            # drop UTF-8 continuation bytes so the kept output starts on a character boundary
            while self.buffer and (self.buffer[0] & 0xC0) == 0x80:
                del self.buffer[0]
            self.truncated = True

    @property
    def output(self) -> str:
        return self.buffer.decode("utf-8", errors="replace")

    def exit_status(self) -> tuple[int | None, str | None] | None:
        code = self.proc.returncode
        if code is None:
            return None
        if code < 0:
            import signal

            try:
                return None, signal.Signals(-code).name
            except ValueError:
                return None, str(-code)
        return code, None

    async def wait(self) -> tuple[int | None, str | None]:
        assert self.ended is not None
        await asyncio.wait({self.ended})  # not the pipe's end: a background grandchild may hold it open
        status = self.exit_status()
        assert status is not None
        return status


class TerminalManager:
    def __init__(self, env: dict[str, str]):
        self.env = env
        self.allowed: list[str] | None = None  # set for a confined agent: its terminals write only beneath these
        self.terminals: dict[str, ClientTerminal] = {}
        self._ids = itertools.count(1)

    async def create(
        self,
        command: str,
        args: list[str] | None,
        cwd: Path,
        env: dict[str, str] | None = None,
        output_byte_limit: int | None = None,
    ) -> ClientTerminal:
        mark = new_mark()
        full_env = {**self.env, **(env or {}), mark: "1"}
        common = dict(
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            cwd=str(cwd),
            env=full_env,
            start_new_session=True,
        )
        # a bare command line (what kimi's Shell tool sends) runs through the shell, as in a terminal
        argv = [command, *args] if args else ["/bin/sh", "-c", command]
        shown = shlex.join(argv) if args else command
        if self.allowed is not None:
            argv = launcher(argv, self.allowed)
        proc = await asyncio.create_subprocess_exec(*argv, **common)
        limit = output_byte_limit if output_byte_limit and output_byte_limit > 0 else DEFAULT_OUTPUT_LIMIT
        term = ClientTerminal(f"term-{next(self._ids)}", shown, proc, limit, mark,
                              record=record_started(proc.pid, f"terminal {shown[:200]}"))
        term.reader = asyncio.ensure_future(self._pump(term))
        term.ended = asyncio.ensure_future(self._end(term))
        self.terminals[term.terminal_id] = term
        return term

    async def _pump(self, term: ClientTerminal) -> None:
        assert term.proc.stdout is not None
        while True:
            chunk = await term.proc.stdout.read(65536)
            if not chunk:
                return
            term.append(chunk)

    @staticmethod
    async def _end(term: ClientTerminal) -> None:
        await exited(term.proc)
        assert term.reader is not None
        await end_command(term.proc, term.reader, term.mark)
        forget(term.record)

    def running(self) -> ClientTerminal | None:
        """A terminal whose command has not exited (what it left in the background being ended counts as exited)."""
        for term in self.terminals.values():
            if term.proc.returncode is None:
                return term
        return None

    def get(self, terminal_id: str) -> ClientTerminal | None:
        return self.terminals.get(terminal_id)

    async def kill(self, terminal_id: str) -> None:
        term = self.terminals.get(terminal_id)
        if term is not None:
            await end_run(term.proc, term.mark, grace=1.0)
            forget(term.record)

    async def release(self, terminal_id: str) -> None:
        term = self.terminals.pop(terminal_id, None)
        if term is not None:
            await end_run(term.proc, term.mark, grace=1.0)
            forget(term.record)
            for task in (term.reader, term.ended):
                if task is not None:
                    task.cancel()

    async def close_all(self) -> None:
        for terminal_id in list(self.terminals):
            await self.release(terminal_id)
