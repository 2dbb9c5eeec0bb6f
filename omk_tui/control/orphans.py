"""Orphans of a dead controller: agent and gate processes that outlived a kill -9.

Every child a controller starts (agents, gates, and their own children) carries two environment markers:
`OMK_GOAL_ID` and `OMK_CONTROLLER_PID`. A controller that starts on a goal ends the process groups of every
process marked with that goal whose controller is no longer alive — before it starts anything itself.
`omk-tui gates` marks its gates the same way with `OMK_GATES_REPO` (the repository) in place of the goal.

A process may wipe its environment (kimi retitles itself with setproctitle, which overwrites /proc/PID/environ):
so a controller also records every agent, terminal and gate it starts in the goal's `procs/` folder
(proc_records), and reaping ends those too.
"""

from __future__ import annotations

import os

from pathlib import Path

from omk_tui.proc_records import ProcessRecords
from omk_tui.procs import kill_groups, marked_processes as _marked, process_alive

GOAL_MARK = "OMK_GOAL_ID"
GATES_MARK = "OMK_GATES_REPO"
CONTROLLER_MARK = "OMK_CONTROLLER_PID"


def markers(owner: str, mark: str = GOAL_MARK) -> dict[str, str]:
    return {mark: owner, CONTROLLER_MARK: str(os.getpid())}


def marked_processes(owner: str, mark: str = GOAL_MARK) -> list[tuple[int, int]]:
    """(pid, controller pid) of every live process marked with this goal (Linux /proc; empty elsewhere)."""
    out = []
    for pid, env in _marked([mark, CONTROLLER_MARK]):
        if env.get(mark) == owner:
            try:
                out.append((pid, int(env.get(CONTROLLER_MARK, "0"))))
            except ValueError:
                out.append((pid, 0))
    return out


def reap_orphans(owner: str, mark: str = GOAL_MARK, records: Path | None = None) -> list[int]:
    """Kill the process groups of this goal's processes whose controller is dead — those recorded in `records` (the
    goal's `procs/` folder) and those carrying its mark; return every pid ended."""
    ended = kill_groups(
        pid for pid, ctl in marked_processes(owner, mark)
        if not (ctl == os.getpid() or (ctl and process_alive(ctl)))
    )
    if records is not None:  # then what the marks could not find (a recorded process already ended is a zombie now)
        ended += [pid for pid in ProcessRecords(Path(records)).reap() if pid not in ended]
    return ended
