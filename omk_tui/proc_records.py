"""Durable records of the processes a controller started: what a kill -9 of the controller leaves behind can be
found again even when the environment mark cannot.

The environment marks (procs.new_mark, control.orphans) find a process by reading /proc/PID/environ. A program
that rewrites its own process title (kimi's setproctitle: it names itself `Kimi Code`) overwrites that memory,
so its marks are gone. So the controller also writes one small file per process it starts — each agent, each
client terminal (an agent's shell command over ACP) and each gate — in the goal's `procs/` folder:
`<pid>-<start time>.json`, the start time being field 22 of /proc/PID/stat (clock ticks after boot). The file is
written atomically (state.atomic) as the process starts and removed when it ends normally. Orphan reaping (a
run's start, `omk-tui resume`, `omk-tui clean`) SIGKILLs the process group of every recorded process whose pid
*and* start time still match — a pid the system gave to another program since is never touched — and removes
the records. Every process is started with `start_new_session`, so its pid is its process group's id.

Which folder records go to is a context variable (`RECORDS`): the controller sets it for its run, so every agent
session, terminal and gate started inside that run records itself without more plumbing; elsewhere (`omk-tui
prompt`, `omk-tui gates`) nothing is recorded.
"""

from __future__ import annotations

import contextvars
import json
import os
import signal
from dataclasses import dataclass
from pathlib import Path

from omk_tui.state.atomic import atomic_write_bytes


def start_time(pid: int) -> int | None:
    """The process's start time (field 22 of /proc/PID/stat, clock ticks after boot); None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return None
    fields = stat[stat.rfind(b")") + 2 :].split()  # after the command name, which may hold spaces or ')'
    try:
        if fields[0] in (b"Z", b"X"):  # ended, not yet reaped: nothing to end
            return None
        return int(fields[19])
    except (IndexError, ValueError):
        return None


@dataclass(frozen=True)
class ProcessRecords:
    """The `procs/` folder of one goal."""

    folder: Path

    def add(self, pid: int, what: str) -> Path | None:
        """Record a process just started (its own process group); the record's path, or None when the process has
        already ended or the record could not be written (the environment marks still find most processes)."""
        started = start_time(pid)
        if started is None:
            return None
        me = os.getpid()
        data = {"pid": pid, "start": started, "what": what, "controller": me, "controller_start": start_time(me)}
        path = self.folder / f"{pid}-{started}.json"
        try:
            atomic_write_bytes(path, json.dumps(data).encode() + b"\n")
        except OSError:
            return None
        return path

    def reap(self) -> list[int]:
        """SIGKILL the process group of every recorded process still running (same pid and start time) that no
        live controller of ours started; remove those records and the stale ones. The pids ended."""
        try:
            entries = sorted(self.folder.glob("*.json"))
        except OSError:
            return []
        ended = []
        for path in entries:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                pid, started = int(data["pid"]), int(data["start"])
                ctl, ctl_start = int(data.get("controller") or 0), data.get("controller_start")
            except (OSError, ValueError, KeyError, TypeError):
                forget(path)  # half a record cannot be (a rename is atomic); a foreign file is not ours to keep
                continue
            if ctl and ctl_start is not None and start_time(ctl) == ctl_start:
                # its controller runs (this very process, say, between two runs of the goal): not an orphan
                if start_time(pid) != started:
                    forget(path)
                continue
            if start_time(pid) == started:
                try:
                    os.killpg(pid, signal.SIGKILL)
                    ended.append(pid)
                except ProcessLookupError:
                    pass
                except PermissionError:
                    continue  # not ours after all: keep the record for a person to look at
            forget(path)
        return ended


RECORDS: contextvars.ContextVar[ProcessRecords | None] = contextvars.ContextVar("omk_process_records", default=None)


def record_started(pid: int, what: str) -> Path | None:
    """Record a process the running controller (if any, see RECORDS) just started; see ProcessRecords.add."""
    records = RECORDS.get()
    return records.add(pid, what) if records is not None else None


def forget(path: Path | None) -> None:
    """Remove a process's record once it has ended (no fsync: a record left behind is checked, found stale and
    removed by the next reaping)."""
    if path is not None:
        try:
            os.unlink(path)
        except OSError:
            pass
