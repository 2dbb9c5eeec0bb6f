"""A process that writes a goal's state in a tight loop through the real APIs, until it is killed.

    python tests/support/state_writer.py GOAL_DIR [--fork-server]

Appends events (durable with group commit) and rewrites goal.json, task-graph.json and proof.json atomically,
as fast as it can; prints "ready" once the first round is on disk so a test knows the files exist.

With `--fork-server` it imports everything once, then forks a fresh writer process for every line read on stdin,
printing `pid N` for it, and `dead N` once that writer has been killed (a test pays Python's start-up time once,
not once per crash).
"""

from __future__ import annotations

import sys
from pathlib import Path

from omk_tui.models.events import make_event
from omk_tui.models.gates import GateResult
from omk_tui.models.goal import GoalState
from omk_tui.models.proof import Proof
from omk_tui.models.tasks import Task, TaskGraph
from omk_tui.state.eventlog import EventLog
from omk_tui.state.store import GoalPaths, save_goal, save_proof, save_task_graph


def main(goal_dir: str) -> None:
    paths = GoalPaths(Path(goal_dir)).ensure()
    goal_id = paths.goal_id
    log = EventLog(paths.events, sync_interval=0.01)
    state = GoalState(goal_id=goal_id, original_goal="crash test goal", normalized_goal="crash test goal",
                      repo=str(paths.root))
    i = 0
    while True:
        i += 1
        for j in range(20):
            log.append(make_event(goal_id, "agent_message_chunk", {"slice_id": "s1", "text": f"chunk {i}.{j} " * 8}))
        log.append(make_event(goal_id, "slice_state", {"slice_id": "s1", "state": "running", "attempt": i}))
        state.execute_passes = i
        save_goal(paths, state)
        tasks = [Task(id=f"t{k}", title=f"task {k} of round {i}", dependencies=[f"t{k - 1}"] if k else [],
                      write_set=[f"src/m{k}.py"], description="x" * (i % 500)) for k in range(1 + i % 12)]
        save_task_graph(paths, TaskGraph(goal_id=goal_id, tasks=tasks))
        gates = [GateResult(name=f"g{k}", command_line="pytest -q", passed=bool(k % 2), summary=["line"] * (i % 30))
                 for k in range(3)]
        save_proof(paths, Proof(goal_id=goal_id, status="running", readiness="not_ready", summary=f"round {i}",
                                final_gates=gates))
        if i == 1:
            print("ready", flush=True)


def fork_server(goal_dir: str) -> None:
    import os

    while sys.stdin.readline():
        pid = os.fork()
        if pid == 0:
            try:
                main(goal_dir)
            finally:
                os._exit(1)
        print(f"pid {pid}", flush=True)
        os.waitpid(pid, 0)
        print(f"dead {pid}", flush=True)


if __name__ == "__main__":
    if "--fork-server" in sys.argv[2:]:
        fork_server(sys.argv[1])
    else:
        main(sys.argv[1])
