"""Child processes in their own process group, ended as a group — and, by an environment mark, also what left
the group (`setsid`, a daemon): no orphans."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from collections.abc import Collection, Iterable

# After a command's own process exits, how long the output of the children it left behind may keep flowing.
DRAIN_SECS = 1.0
MARK_PREFIX = "OMK_MARK_"


def new_mark() -> str:
    """The name of an environment variable unique to one run of a command (a gate, a client terminal, an agent).

    Start the command with `{mark: "1"}` in its environment: every process it starts keeps the variable (unless it
    clears its environment), so `kill_marked` finds them even after they left the process group. Nested runs add
    their own marks, so a process carries the marks of every run it belongs to.
    """
    return MARK_PREFIX + uuid.uuid4().hex[:16].upper()


async def terminate_group(proc: asyncio.subprocess.Process, grace: float = 2.0) -> None:
    """SIGTERM the child's whole process group, then SIGKILL after `grace` seconds.

    The child must have been started with `start_new_session=True` (its pid is its group id).
    Grandchildren that stay in the group are ended too, even after the child itself has exited.
    """
    pgid = proc.pid
    if not _group_alive(pgid):
        await _reap(proc)
        return
    _signal_group(pgid, signal.SIGTERM)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace
    while loop.time() < deadline:
        if proc.returncode is None:
            try:
                await asyncio.wait_for(asyncio.shield(proc.wait()), timeout=0.05)
            except asyncio.TimeoutError:
                pass
        else:
            await asyncio.sleep(0.05)
        if not _group_alive(pgid):
            break
    if _group_alive(pgid):
        _signal_group(pgid, signal.SIGKILL)
    await _reap(proc)


async def end_run(proc: asyncio.subprocess.Process, mark: str, grace: float) -> None:
    """End everything a command started: its process group (terminate_group) and every process still carrying
    its `mark` — those that left the group are SIGKILLed with their own groups (and waited for, a second at most:
    a SIGKILLed process ends when it next runs)."""
    await terminate_group(proc, grace)
    ended = kill_marked(mark)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 1.0
    while any(process_alive(pid) for pid in ended) and loop.time() < deadline:
        await asyncio.sleep(0.02)


async def end_command(proc: asyncio.subprocess.Process, reader: asyncio.Future, mark: str, *,
                      drain: float = DRAIN_SECS, grace: float = 0.5) -> None:
    """Once a command's process exited (or must end now, `drain=0`): let `reader`, the task reading its output,
    take what the children it left behind still print for up to `drain` seconds; then end them all (end_run) and
    give the reader a moment for the rest (the pipe closes once no process holds it)."""
    await asyncio.wait({reader}, timeout=drain)
    await end_run(proc, mark, grace)
    await asyncio.wait({reader}, timeout=1.0)


async def exited(proc: asyncio.subprocess.Process, poll: float = 0.02) -> int:
    """The child's exit code as soon as it exits (within `poll` seconds).

    `Process.wait()` (Python 3.11) also waits for the pipes to close, which a background grandchild holding
    stdout delays until it ends; the return code is set at exit, so poll it.
    """
    while proc.returncode is None:
        await asyncio.sleep(poll)
    return proc.returncode


def kill_group_now(pid: int) -> None:
    """SIGKILL a process group synchronously (for atexit/finalisers)."""
    _signal_group(pid, signal.SIGKILL)


def group_alive(pgid: int) -> bool:
    """Whether a process group still has a live (non-zombie) member."""
    return _group_alive(pgid)


def process_alive(pid: int) -> bool:
    """Whether the process runs (a zombie — ended, not yet reaped — does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    fields = _stat(pid)
    return not fields or fields[0] not in (b"Z", b"X")


def marked_processes(names: Collection[str]) -> list[tuple[int, dict[str, str]]]:
    """(pid, its values of `names`) for each live process, ours excepted, whose environment holds any of `names`.

    Linux /proc (empty elsewhere), and only the processes we may read: our user's. The environment read is the
    one the process started with.
    """
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    wanted = {name.encode() for name in names}
    me = os.getpid()
    out = []
    for entry in entries:
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as fh:
                raw = fh.read()
        except OSError:
            continue
        found = {}
        for item in raw.split(b"\0"):
            key, sep, value = item.partition(b"=")
            if sep and key in wanted:
                found[key.decode()] = value.decode(errors="replace")
        if found and process_alive(int(entry)):
            out.append((int(entry), found))
    return out


def kill_marked(mark: str) -> list[int]:
    """SIGKILL every process carrying `mark` (new_mark) in its environment, with its process group; the pids ended.

    Looks again until it finds no new one: a process forked between a look and the kill is not missed.
    """
    seen: set[int] = set()
    ended: list[int] = []
    for _ in range(5):
        found = [pid for pid, _ in marked_processes([mark]) if pid not in seen]
        if not found:
            break
        seen.update(found)
        ended += kill_groups(found)
    return ended


def kill_groups(pids: Iterable[int]) -> list[int]:
    """SIGKILL the process group of each pid (only the pid, when it is in our own group); the pids ended."""
    targets = []
    for pid in pids:
        try:
            targets.append((pid, os.getpgid(pid)))
        except ProcessLookupError:
            continue
    own_group = os.getpgid(0)
    killed: set[int] = set()
    ended = []
    for pid, pgid in targets:
        try:
            if pgid == own_group:
                os.kill(pid, signal.SIGKILL)
            elif pgid not in killed:
                os.killpg(pgid, signal.SIGKILL)
                killed.add(pgid)
        except (ProcessLookupError, PermissionError):
            continue
        ended.append(pid)
    return ended


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # Where PID 1 does not reap orphans (many containers), ended grandchildren linger as zombies, which
    # killpg still sees; they hold nothing, so only a live member keeps the group "alive".
    return _group_has_live_member(pgid)


def _group_has_live_member(pgid: int) -> bool:
    try:
        entries = os.listdir("/proc")
    except OSError:
        return True  # no procfs: trust killpg
    for entry in entries:
        if not entry.isdigit():
            continue
        fields = _stat(int(entry))
        if fields is not None and len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
            return True
    return False


def _stat(pid: int) -> list[bytes] | None:
    """The fields of /proc/PID/stat after the command name (state, ppid, pgrp, …); None when unreadable."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return None
    return stat[stat.rfind(b")") + 2 :].split()


async def _reap(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        try:
            await asyncio.wait_for(proc.wait(), timeout=5)
        except asyncio.TimeoutError:
            pass
