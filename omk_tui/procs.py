"""Child processes in their own process group, ended as a group: no orphans."""

from __future__ import annotations

import asyncio
import os
import signal


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


def kill_group_now(pid: int) -> None:
    """SIGKILL a process group synchronously (for atexit/finalisers)."""
    _signal_group(pid, signal.SIGKILL)


def group_alive(pgid: int) -> bool:
    """Whether a process group still has a live (non-zombie) member."""
    return _group_alive(pgid)


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
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
            return True
    return False


async def _reap(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        try:
            await asyncio.wait_for(proc.wait(), timeout=5)
        except asyncio.TimeoutError:
            pass
