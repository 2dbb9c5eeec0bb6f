"""`omk-tui deliver` (re-run or preview a GitHub delivery) and the controller lock guarding accept/reject/deliver:
real repositories, a local bare remote, the fake `gh` on PATH, the real CLI in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from omk_tui.control.execution import load_execution
from omk_tui.control.lock import ControllerLock, read_lock
from omk_tui.git import naming
from omk_tui.models.goal import GoalStatus
from omk_tui.state import store
from omk_tui.state.eventlog import read_events
from tests.support import fake_gh
from tests.support.delivery_goal import add_bare_remote, git, make_goal, make_repo

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def env(tmp_path: Path) -> dict:
    bin_dir = tmp_path / "bin"
    fake_gh.install(bin_dir)
    e = {k: v for k, v in os.environ.items() if not k.startswith("FAKE_GH_")}
    e.update(PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", FAKE_GH_LOG=str(tmp_path / "gh.jsonl"),
             FAKE_GH_STATE=str(tmp_path / "gh-state.json"))
    return e


def cli(env: dict, repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "omk_tui", *args, "--repo", str(repo)], capture_output=True,
                          text=True, env=env, timeout=60)


def gh_calls(env: dict) -> list[list[str]]:
    return [c["argv"] for c in fake_gh.read_calls(Path(env["FAKE_GH_LOG"]))]


def tree_of(paths: store.GoalPaths) -> dict[str, bytes]:
    return {str(p.relative_to(paths.root)): p.read_bytes() for p in sorted(paths.root.rglob("*")) if p.is_file()}


def test_missing_remote_then_fixed_delivers(tmp_path: Path, env: dict):
    repo = make_repo(tmp_path, gate_command=None)
    paths = make_goal(repo, policy="local")
    branch = naming.integration_branch(paths.goal_id)
    first = cli(env, repo, "deliver", paths.goal_id, "--policy", "draft-pr")
    assert first.returncode == 1 and "no git remote 'origin'" in first.stderr and "git remote add origin" in first.stderr
    state = store.load_goal(paths)
    assert state.status is GoalStatus.blocked_on_human and state.options.delivery_policy == "draft-pr"
    assert store.load_proof(paths).delivery.status == "blocked"
    assert load_execution(paths).delivered is False  # a controller resume would try again
    assert git(repo, "rev-parse", branch)  # nothing lost

    bare = add_bare_remote(tmp_path, repo)
    second = cli(env, repo, "deliver", paths.goal_id)
    assert second.returncode == 0, second.stderr
    assert "https://github.com/owner/repo/pull/1" in second.stdout
    assert git(bare, "rev-parse", f"refs/heads/{branch}") == git(repo, "rev-parse", branch)
    proof, state = store.load_proof(paths), store.load_goal(paths)
    assert state.status is GoalStatus.ready and state.failure is None
    assert proof.status is GoalStatus.ready and proof.readiness == "ready" and proof.blocker is None
    assert proof.delivery.status == "pr_opened" and proof.delivery.pr_urls == ["https://github.com/owner/repo/pull/1"]
    assert load_execution(paths).delivery["pr_urls"] == proof.delivery.pr_urls  # a resume keeps it
    events = read_events(paths.events).events
    assert [e.kind for e in events[-2:]] == ["delivery", "status_changed"]
    assert events[-2].payload["pr_urls"] == proof.delivery.pr_urls and events[-1].payload["status"] == "ready"
    assert json.loads((paths.artifacts / "policy" / "delivery.json").read_text())["delivery_status"] == "pr_opened"
    assert read_lock(paths.lock) is not None and not read_lock(paths.lock).alive  # released


def test_logged_out_gh_then_login_delivers_gated_auto_pr(tmp_path: Path, env: dict):
    repo = make_repo(tmp_path, gate_command=None)
    bare = add_bare_remote(tmp_path, repo)
    paths = make_goal(repo, policy="auto-pr", merge="gated")
    logged_out = cli({**env, "FAKE_GH_AUTH": "0"}, repo, "deliver", paths.goal_id)
    assert logged_out.returncode == 1 and "gh auth login" in logged_out.stderr
    assert "integration" not in git(bare, "branch")  # nothing pushed before gh works
    assert store.load_goal(paths).status is GoalStatus.blocked_on_human
    done = cli(env, repo, "deliver", paths.goal_id)
    assert done.returncode == 0, done.stderr
    assert "merged after checks" in done.stdout
    assert json.loads(Path(env["FAKE_GH_STATE"]).read_text())["prs"][0]["state"] == "MERGED"
    assert store.load_proof(paths).delivery.status == "merged"
    again = cli(env, repo, "deliver", paths.goal_id)
    assert again.returncode == 1 and "already delivered" in again.stderr


def test_dry_run_prints_exact_commands_and_changes_nothing(tmp_path: Path, env: dict):
    repo = make_repo(tmp_path, gate_command=None)
    bare = add_bare_remote(tmp_path, repo)
    paths = make_goal(repo, policy="local")
    before = tree_of(paths)
    proc = cli(env, repo, "deliver", paths.goal_id, "--dry-run", "--policy", "auto-pr", "--merge-policy", "manual")
    assert proc.returncode == 0, proc.stderr
    branch = naming.integration_branch(paths.goal_id)
    assert "nothing was pushed, opened or written" in proc.stdout
    assert f"would run: git push --porcelain origin refs/heads/{branch}:refs/heads/{branch}" in proc.stdout
    assert f"would run: gh pr create --title 'omk: add a feature function returning 42' --body-file - --head {branch} --base main" in proc.stdout
    assert "--draft" not in proc.stdout and "gh pr merge <PR of" in proc.stdout
    assert [c[:2] for c in gh_calls(env)] == [["auth", "status"], ["pr", "list"]]  # read-only calls only
    assert "integration" not in git(bare, "branch")
    assert tree_of(paths) == before


def test_local_goal_needs_a_pr_policy(tmp_path: Path, env: dict):
    repo = make_repo(tmp_path, gate_command=None)
    paths = make_goal(repo, policy="local")
    proc = cli(env, repo, "deliver", paths.goal_id)
    assert proc.returncode == 1 and "--policy draft-pr" in proc.stderr and "omk-tui accept" in proc.stderr
    bad = cli(env, repo, "deliver", paths.goal_id, "--policy", "email")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


def test_without_gh_the_goal_switches_to_local_delivery_and_is_accepted(tmp_path: Path, env: dict):
    repo = make_repo(tmp_path, gate_command=None)
    add_bare_remote(tmp_path, repo)
    paths = make_goal(repo, policy="draft-pr")
    no_gh = {**env, "PATH": os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p != str(tmp_path / "bin"))}
    blocked = cli(no_gh, repo, "deliver", paths.goal_id)
    assert blocked.returncode == 1 and "--policy local" in blocked.stderr
    assert store.load_goal(paths).status is GoalStatus.blocked_on_external
    preview = cli(no_gh, repo, "deliver", paths.goal_id, "--policy", "local", "--dry-run")
    assert preview.returncode == 0 and "switch" in preview.stdout
    assert store.load_goal(paths).status is GoalStatus.blocked_on_external  # a dry run writes nothing
    switched = cli(no_gh, repo, "deliver", paths.goal_id, "--policy", "local")
    assert switched.returncode == 0, switched.stderr
    state, proof = store.load_goal(paths), store.load_proof(paths)
    assert state.status is GoalStatus.ready and state.options.delivery_policy == "local"
    assert proof.readiness == "ready" and any("omk-tui accept" in h for h in proof.human_decisions_required)
    accepted = cli(no_gh, repo, "accept", paths.goal_id)
    assert accepted.returncode == 0, accepted.stderr
    assert git(repo, "rev-parse", "HEAD") == git(repo, "rev-parse", naming.integration_branch(paths.goal_id))
    shown = json.loads(cli(no_gh, repo, "show", paths.goal_id, "--json").stdout)
    assert shown["blockers"] == []  # the missing gh was still listed on the accepted goal


def test_unfinished_goal_is_refused(tmp_path: Path, env: dict):
    repo = make_repo(tmp_path, gate_command=None)
    add_bare_remote(tmp_path, repo)
    paths = make_goal(repo, policy="draft-pr", status=GoalStatus.not_ready)
    proc = cli(env, repo, "deliver", paths.goal_id)
    assert proc.returncode == 1 and "is not_ready" in proc.stderr and "only a goal whose work is ready" in proc.stderr
    assert gh_calls(env) == []


@pytest.mark.parametrize("command", [["accept"], ["reject", "--reason", "no"], ["deliver", "--policy", "draft-pr"],
                                     ["deliver", "--dry-run", "--policy", "draft-pr"]])
def test_refused_while_a_controller_runs_the_goal(tmp_path: Path, env: dict, command: list[str]):
    repo = make_repo(tmp_path)
    add_bare_remote(tmp_path, repo)
    paths = make_goal(repo)
    before = tree_of(paths)
    lock = ControllerLock(paths.lock)
    lock.acquire()  # stands for a running controller (another open file: flock excludes it like another process)
    try:
        proc = cli(env, repo, command[0], paths.goal_id, *command[1:])
        assert proc.returncode == 1, proc.stderr
        assert f"a controller is running goal {paths.goal_id} (pid {os.getpid()}" in proc.stderr
        assert f"omk-tui pause {paths.goal_id}" in proc.stderr
        assert gh_calls(env) == []
        after = tree_of(paths)
        after.pop("controller.lock"), before.pop("controller.lock", None)
        assert after == before
    finally:
        lock.release()
    assert cli(env, repo, "reject", paths.goal_id, "--reason", "no").returncode == 0  # free again


def test_decisions_hold_the_lock_so_no_controller_starts_meanwhile(tmp_path: Path):
    """While accept holds the goal's lock (here: during the gate re-check), a controller cannot take it."""
    repo = make_repo(tmp_path)
    (repo / ".omk" / "gates.toml").write_text(
        '[[gates]]\nname = "slow"\ncommand = "python3 -c \'import time; time.sleep(2)\'"\n')
    paths = make_goal(repo)
    proc = subprocess.Popen([sys.executable, "-m", "omk_tui", "accept", paths.goal_id, "--repo", str(repo)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    import time

    from omk_tui.control.lock import LockHeld

    deadline = time.monotonic() + 20
    while not ((info := read_lock(paths.lock)) and info.alive) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert info and info.pid == proc.pid
    with pytest.raises(LockHeld):
        ControllerLock(paths.lock).acquire()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    ControllerLock(paths.lock).acquire()  # released after the decision


def test_an_unknown_or_ambiguous_goal_is_a_usage_error(tmp_path: Path, env: dict):
    repo = make_repo(tmp_path, gate_command=None)
    first = make_goal(repo, goal_id="goal-20261122-100000-000-aaaaaaaa")
    make_goal(repo, goal_id="goal-20261122-110000-000-bbbbbbbb")
    before = tree_of(first)
    for command in (["accept"], ["reject", "--reason", "no"], ["deliver"], ["clean"]):
        for goal, said in (("zzz", "no goal matches 'zzz'"), ("goal-2026", "'goal-2026' matches 2 goals")):
            proc = cli(env, repo, command[0], goal, *command[1:])
            assert proc.returncode == 2 and said in proc.stderr, (command, goal, proc.stderr)
    assert tree_of(first) == before and gh_calls(env) == []  # nothing was touched
