"""What another command writes while a controller is about to take a goal: the controller's lock decides, and
nothing written in between is lost (cancel, budget-add from another terminal during a starting `resume`)."""

from __future__ import annotations

import asyncio
import fcntl
import os
import threading

import pytest

from omk_tui.control.client import FileControl
from omk_tui.control.controller import GoalController
from omk_tui.control.lock import ControllerLock, LockHeld, read_lock
from omk_tui.control.offline import budget_add_offline, cancel_offline, offline_or_request
from omk_tui.control.requests import ControlRequest
from omk_tui.models.goal import Budget, GoalOptions
from omk_tui.state.eventlog import read_events
from omk_tui.state.store import load_goal
from tests.support.goal_repo import make_repo, task, write_script

pytestmark = pytest.mark.timeout(120)

ONE = {"plan": {"tasks": [task("t1", ["t1.check"])]}, "tasks": {"t1": [[{"write": "t1.check", "content": "ok\n"}]]}}


@pytest.fixture
def goal(tmp_path, monkeypatch):
    monkeypatch.setenv("OMK_WORKTREES_DIR", str(tmp_path / "worktrees"))
    repo = make_repo(tmp_path / "repo")
    ctl = GoalController.create(repo, "add the t1 check file", GoalOptions(agent=write_script(tmp_path / "s.json", ONE)),
                                Budget(time_secs=3600))
    ctl.close()
    return repo, ctl.paths


def seqs(paths) -> list[int]:
    return [e.seq for e in read_events(paths.events).events]


def test_a_cancel_between_a_controllers_start_and_its_lock_stops_it(goal):
    """The controller read the goal before the offline cancel wrote it, then ran it anyway (and reused a seq)."""
    repo, paths = goal
    ctl = GoalController.open(repo, paths.goal_id)  # resume has read the records ...
    cancel_offline(repo, paths)  # ... a cancel from another terminal lands before it takes the lock
    proof = asyncio.run(ctl.run())
    ctl.close()
    assert proof.status.value == "cancelled"
    assert load_goal(paths).status.value == "cancelled"
    kinds = [e.kind for e in read_events(paths.events).events]
    assert "run_started" not in kinds and "agent_turn_started" not in kinds
    numbers = seqs(paths)
    assert numbers == sorted(set(numbers))


def test_budget_added_between_a_controllers_start_and_its_lock_is_kept(goal):
    repo, paths = goal
    ctl = GoalController.open(repo, paths.goal_id)
    budget_add_offline(paths, 60, None, None)
    proof = asyncio.run(ctl.run())
    ctl.close()
    assert proof.status.value == "ready", proof.blocker
    assert load_goal(paths).budget.time_secs == 3660
    numbers = seqs(paths)
    assert numbers == list(range(1, len(numbers) + 1))  # no seq written twice


def test_an_offline_ask_goes_to_a_controller_that_took_the_goal_meanwhile(goal):
    repo, paths = goal
    lock = ControllerLock(paths.lock)  # a controller's
    lock.acquire()
    try:
        fc = FileControl(paths, repo)
        assert offline_or_request(fc, lambda: budget_add_offline(paths, 60, None, None),
                                  lambda: fc.add_budget(time_secs=60)) is None
        [sent] = [ControlRequest.model_validate_json(p.read_text()) for p in paths.control.glob("*.json")]
        assert sent.action == "budget_add" and sent.args["time_secs"] == 60
    finally:
        lock.release()
    assert load_goal(paths).budget.time_secs == 3600  # the record is the controller's to change


def test_an_offline_command_waits_for_another_offline_command_not_for_a_controller(goal):
    repo, paths = goal
    other = ControllerLock(paths.lock, offline=True)
    other.acquire()
    info = read_lock(paths.lock)
    assert info.alive and info.offline and not FileControl(paths, repo).controller_alive()
    with pytest.raises(LockHeld, match="another omk-tui command .* is changing this goal's record"):
        ControllerLock(paths.lock).acquire()
    threading.Timer(0.3, other.release).start()
    fc = FileControl(paths, repo)
    state = offline_or_request(fc, lambda: budget_add_offline(paths, 60, None, None), lambda: pytest.fail("sent"))
    assert state.budget.time_secs == 3660 and load_goal(paths).budget.time_secs == 3660
    assert not list(paths.control.glob("*.json"))


def test_a_probe_of_the_lock_does_not_make_a_controller_fail_to_start(goal):
    """`is_locked` takes the lock for an instant to test it; a controller starting at that instant was refused with
    'another controller is running this goal' (and no pid)."""
    _, paths = goal
    fd = os.open(paths.lock, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the probe's instant, made longer
    probe_ends = threading.Timer(0.05, lambda: (fcntl.flock(fd, fcntl.LOCK_UN), os.close(fd)))
    probe_ends.start()
    lock = ControllerLock(paths.lock)
    lock.acquire()
    lock.release()
    probe_ends.join()
