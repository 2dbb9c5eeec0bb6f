"""A writer SIGKILLed at random moments never leaves a state file that does not parse, nor a duplicate seq."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from omk_tui.models.events import make_event
from omk_tui.models.goal import GoalState
from omk_tui.models.proof import Proof
from omk_tui.models.tasks import TaskGraph
from omk_tui.state.eventlog import EventLog, iter_lines, parse_line
from omk_tui.state.store import GoalPaths

WRITER = Path(__file__).parent / "support" / "state_writer.py"
TRIALS = 25


def check_log(path: Path) -> tuple[list[int], int]:
    """(seqs of the readable events, unreadable complete lines) — and the torn tail is at most one line."""
    seqs, gaps = [], 0
    for raw, _pos in iter_lines(path):
        if not raw.strip():
            continue
        e = parse_line(raw)
        if e is None:
            gaps += 1
        else:
            seqs.append(e.seq)
    return seqs, gaps


class WriterServer:
    """Forks a fresh writer process (real APIs, real files) per trial without paying Python start-up each time."""

    def __init__(self, goal_dir: Path):
        self.proc = subprocess.Popen([sys.executable, str(WRITER), str(goal_dir), "--fork-server"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def start(self) -> int:
        self.proc.stdin.write(b"go\n")
        self.proc.stdin.flush()
        pid, ready = None, False
        while pid is None or not ready:  # "pid N" (parent) and "ready" (child) may come in either order
            line = self.proc.stdout.readline().decode()
            assert line, "the writer server died"
            if line.startswith("pid "):
                pid = int(line.split()[1])
            elif line == "ready\n":
                ready = True
        return pid

    def wait_dead(self, pid: int) -> None:
        assert self.proc.stdout.readline().decode() == f"dead {pid}\n"

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=10)

    def kill(self, pid: int | None) -> None:
        """After a failed assertion: no writer may outlive the test."""
        if pid is not None:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.mark.timeout(120)
def test_sigkilled_writer_leaves_parseable_state_and_unique_seq(tmp_path):
    rng = random.Random(int(os.environ.get("OMK_CRASH_SEED", "0")) or None)
    paths = GoalPaths(tmp_path / ".omk" / "goals" / "goal-20261122-120000-000-c0ffee00")
    previous_last = 0
    server = WriterServer(paths.root)
    pid = None
    try:
        for trial in range(TRIALS):
            pid = server.start()
            time.sleep(rng.uniform(0.02, 0.15))
            os.kill(pid, signal.SIGKILL)
            server.wait_dead(pid)

            # every snapshot parses with its model
            GoalState.model_validate_json(paths.goal_json.read_bytes())
            TaskGraph.model_validate_json(paths.task_graph_json.read_bytes()).validate_graph()
            Proof.model_validate_json(paths.proof_json.read_bytes())

            # the log: strictly increasing seq (so no duplicates), continuing from the previous trial
            seqs, gaps = check_log(paths.events)
            assert seqs == sorted(set(seqs)), f"trial {trial}: seq not strictly increasing"
            assert seqs == list(range(1, len(seqs) + 1)), f"trial {trial}: a hole or a reset in seq"
            assert seqs[-1] > previous_last, f"trial {trial}: the writer appended nothing"
            assert gaps == 0, f"trial {trial}: {gaps} damaged complete line(s)"
            # anything after the last newline is the one torn final line a kill can leave: never read as
            # an event, and repaired by the next writer (checked by the strict seq run of the next trial)
            previous_last = seqs[-1]

        server.close()
        pid = None
    finally:
        server.kill(pid)
    # a reopened log continues without duplicating seq
    with EventLog(paths.events) as log:
        assert log.append(make_event(paths.goal_id, "narrative", {"step": "after", "summary": "crashes"})).seq \
            == previous_last + 1
    seqs, gaps = check_log(paths.events)
    assert seqs == list(range(1, previous_last + 2)) and gaps == 0
    leftovers = [p.name for p in paths.root.iterdir() if p.name.endswith(".tmp")]
    assert len(leftovers) <= TRIALS * 3  # temp files of killed writers only (cleaned after a minute)
