"""Durable state: the self-ignoring .omk folder, goal ids, atomic snapshots, failing writes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timezone

import pytest

from omk_tui.models.goal import GoalState
from omk_tui.models.tasks import Task, TaskGraph
from omk_tui.state.atomic import atomic_write_bytes, remove_stale_temp_files
from omk_tui.state.store import (
    GOAL_ID_PATTERN, OMK_GITIGNORE, GoalNotFound, StateFileError, create_goal, create_goal_paths, goal_paths, list_goal_ids,
    load_goal, load_task_graph, new_goal_id, omk_dir, resolve_goal, save_goal, save_task_graph,
)


def git(repo, *args):
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path):
    r = tmp_path / "repo"
    r.mkdir()
    git(r, "init", "-q")
    (r / "README.md").write_text("hi\n")
    git(r, "add", ".")
    git(r, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    return r


def state(goal_id: str, repo) -> GoalState:
    return GoalState(goal_id=goal_id, original_goal="Add a flag", normalized_goal="add a flag", repo=str(repo))


def test_goal_state_never_makes_the_repository_dirty(repo):
    paths = create_goal_paths(repo)
    assert (repo / ".omk" / ".gitignore").read_text() == OMK_GITIGNORE
    save_goal(paths, state(paths.goal_id, repo))
    save_task_graph(paths, TaskGraph(goal_id=paths.goal_id, tasks=[Task(id="a", title="A")]))
    paths.events.write_text("")
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""


def test_ensure_creates_the_gitignore_too(repo):
    # A writer that only builds the paths and calls ensure() must not leave .omk/ unignored.
    goal_paths(repo, new_goal_id()).ensure()
    assert (repo / ".omk" / ".gitignore").read_text() == OMK_GITIGNORE
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""


def test_the_projects_settings_can_be_committed_and_an_old_gitignore_is_upgraded(repo):
    """`.omk/.gitignore` was `*`: `git add .omk/gates.toml` was refused (ignored), so a team could not share it."""
    (repo / ".omk").mkdir()
    (repo / ".omk" / ".gitignore").write_text("*\n")  # what earlier versions wrote
    omk_dir(repo)
    assert (repo / ".omk" / ".gitignore").read_text() == OMK_GITIGNORE
    (repo / ".omk" / "gates.toml").write_text('[[gates]]\nname = "t"\ncommand = "true"\n')
    (repo / ".omk" / "config.toml").write_text("[agent]\n")
    paths = create_goal_paths(repo)
    save_goal(paths, state(paths.goal_id, repo))
    git(repo, "add", ".omk/gates.toml", ".omk/config.toml")
    status = git(repo, "status", "--porcelain", "--untracked-files=all")
    assert status.splitlines() == ["A  .omk/config.toml", "A  .omk/gates.toml"]


def test_existing_gitignore_is_left_alone(repo):
    (repo / ".omk").mkdir()
    (repo / ".omk" / ".gitignore").write_text("*\n!config.toml\n")
    omk_dir(repo)
    assert (repo / ".omk" / ".gitignore").read_text() == "*\n!config.toml\n"


def test_goal_id_format():
    when = datetime(2026, 11, 22, 9, 8, 7, 654321, tzinfo=timezone.utc)
    gid = new_goal_id(when)
    assert re.fullmatch(GOAL_ID_PATTERN, gid)
    assert gid.startswith("goal-20261122-090807-654-")
    assert len({new_goal_id(when) for _ in range(200)}) == 200


def test_resolve_goal_latest_id_and_prefix(repo):
    older = create_goal_paths(repo, "goal-20261121-100000-000-aaaaaaaa").goal_id
    newer = create_goal_paths(repo, "goal-20261122-100000-000-bbbbbbbb").goal_id
    assert list_goal_ids(repo) == [newer, older]
    assert resolve_goal(repo, "latest").goal_id == newer
    assert resolve_goal(repo, older).goal_id == older
    assert resolve_goal(repo, "goal-20261121").goal_id == older
    with pytest.raises(GoalNotFound, match=r"matches \d+ goals"):
        resolve_goal(repo, "goal-2026112")
    with pytest.raises(GoalNotFound, match="no goal matches 'nope'"):
        resolve_goal(repo, "nope")


def test_resolve_goal_without_goals_says_what_to_do(repo):
    with pytest.raises(GoalNotFound, match="omk-tui run"):
        resolve_goal(repo, "latest")
    assert not (repo / ".omk").exists()  # reading never creates state


def test_atomic_write_replaces_and_leaves_no_temp_files(tmp_path):
    target = tmp_path / "goal.json"
    for i in range(5):
        atomic_write_bytes(target, f"version {i}".encode())
    assert target.read_bytes() == b"version 4"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["goal.json"]


def test_stale_temp_files_of_killed_writers_are_removed(tmp_path):
    target = tmp_path / "goal.json"
    stale = tmp_path / ".goal.json.abc123.tmp"
    fresh = tmp_path / ".goal.json.def456.tmp"
    stale.write_text("half")
    fresh.write_text("in flight")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    atomic_write_bytes(target, b"{}")
    assert not stale.exists() and fresh.exists()  # a live writer's temp file is not touched
    assert remove_stale_temp_files(target, older_than=-1) == 1


def test_a_damaged_snapshot_is_a_clear_error(repo):
    paths = create_goal_paths(repo)
    paths.goal_json.write_text('{"goal_id": 3')
    with pytest.raises(StateFileError, match="goal.json is not a valid GoalState"):
        load_goal(paths)
    paths.task_graph_json.write_text('{"tasks": [{"id": "a"}]}')
    with pytest.raises(StateFileError, match=r"tasks\.0\.title: Field required"):
        load_task_graph(paths)


FAILING_WRITE = textwrap.dedent(
    """
    import json, resource, signal, sys
    from pathlib import Path
    from omk_tui.models.goal import GoalState
    from omk_tui.models.events import make_event
    from omk_tui.state.atomic import StateWriteError
    from omk_tui.state.eventlog import EventLog
    from omk_tui.state.store import GoalPaths, save_goal

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
    paths = GoalPaths(Path(sys.argv[1]))
    log = EventLog(paths.events)
    state = GoalState.model_validate_json(paths.goal_json.read_bytes())
    limit = int(sys.argv[2])
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    out = {}
    state.original_goal = "x" * (limit * 2)
    try:
        save_goal(paths, state)
    except StateWriteError as exc:
        out["snapshot_error"] = str(exc)
    try:
        log.append(make_event(paths.goal_id, "narrative", {"step": "s", "summary": "y" * limit}))
    except StateWriteError as exc:
        out["append_error"] = str(exc)
    small = log.append(make_event(paths.goal_id, "narrative", {"step": "after", "summary": "fits"}))
    out["seq_after"] = small.seq
    log.close()
    print(json.dumps(out))
    """
)


def test_a_failing_state_write_keeps_the_previous_snapshot_and_log(tmp_path):
    from omk_tui.models.events import make_event
    from omk_tui.state.eventlog import EventLog, read_events

    paths = create_goal_paths(tmp_path)
    save_goal(paths, state(paths.goal_id, tmp_path))
    before = paths.goal_json.read_bytes()
    with EventLog(paths.events) as log:
        for i in range(3):
            log.append(make_event(paths.goal_id, "narrative", {"step": str(i), "summary": "ok"}))
    limit = 64 * 1024
    proc = subprocess.run([sys.executable, "-c", FAILING_WRITE, str(paths.root), str(limit)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    import json

    out = json.loads(proc.stdout)
    assert "could not write" in out["snapshot_error"]
    assert "previous version of the file is intact" in out["snapshot_error"]
    assert "File too large" in out["snapshot_error"]
    assert "could not append to the event log" in out["append_error"]
    assert paths.goal_json.read_bytes() == before  # the previous snapshot, byte for byte
    assert GoalState.model_validate_json(paths.goal_json.read_bytes()).original_goal == "Add a flag"
    assert [p.name for p in paths.root.iterdir() if p.name.endswith(".tmp")] == []
    res = read_events(paths.events)
    # the failed append left no partial line behind: the next event follows seq 3 and nothing is a gap
    assert res.gaps == 0
    assert [e.seq for e in res.events] == [1, 2, 3, 4]
    assert out["seq_after"] == 4 and res.events[-1].payload["step"] == "after"


def test_a_new_goal_appears_with_its_goal_json_or_not_at_all(repo):
    state = GoalState(goal_id=new_goal_id(), original_goal="g", normalized_goal="g", repo=str(repo),
                      base_ref="main", base_commit="0" * 40, integration_branch="omk/x/integration")
    paths = create_goal(repo, state)
    assert list_goal_ids(repo) == [state.goal_id] and paths.goal_json.is_file()
    assert [p.name for p in paths.root.parent.iterdir()] == [state.goal_id]  # no staging folder left


def test_creating_a_goal_removes_staging_folders_that_killed_creations_left_but_not_a_recent_one(repo):
    """A kill while a goal was being created left `.creating-goal-*` behind, hidden, for good."""
    from omk_tui.state.store import STALE_CREATION_SECS

    goals = repo / ".omk" / "goals"
    stale, recent = goals / f".creating-{new_goal_id()}", goals / f".creating-{new_goal_id()}"
    for folder in (stale, recent):
        (folder / "control").mkdir(parents=True)
        (folder / ".goal.json.x1.tmp").write_text("{")
    old = time.time() - STALE_CREATION_SECS - 5
    os.utime(stale, (old, old))
    paths = create_goal(repo, state(new_goal_id(), repo))
    assert not stale.exists()
    assert recent.exists()  # it may be a creation in progress, in another process
    assert load_goal(paths).goal_id == paths.goal_id and list_goal_ids(repo) == [paths.goal_id]
