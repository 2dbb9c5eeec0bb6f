"""Git lock files a controller killed with -9 leaves in its goal's namespace are removed on resume; others are not."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pygit2
import pytest

from omk_tui.git import naming
from omk_tui.git.cleanup import remove_stale_locks

GOAL = "goal-20261122-120000-000-abcdef01"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def make_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "a.txt").write_text("a\n")
    git(repo, "add", "a.txt")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "a")
    return repo


def test_a_stale_ref_lock_of_the_goal_is_removed_and_the_ref_can_be_updated_again(tmp_path):
    repo = make_repo(tmp_path)
    branch = naming.goal_prefix(GOAL) + "beta"
    git(repo, "branch", branch)
    ref_lock = repo / ".git" / "refs" / "heads" / (branch + ".lock")
    ref_lock.write_text("")  # killed between creating the lock and renaming it over the ref
    other_lock = repo / ".git" / "refs" / "heads" / "feature.lock"
    other_lock.write_text("")  # not the goal's: never touched
    r = pygit2.Repository(str(repo))
    head = r.head.target
    with pytest.raises(Exception, match="lock"):
        r.references.create("refs/heads/" + branch, head, force=True)

    assert remove_stale_locks(repo, GOAL) == [f"refs/heads/{branch}.lock"]
    r.references.create("refs/heads/" + branch, head, force=True)  # works again
    assert other_lock.exists() and not ref_lock.exists()
    assert remove_stale_locks(repo, GOAL) == []


def test_a_stale_index_lock_of_a_goal_worktree_is_removed(tmp_path):
    repo = make_repo(tmp_path)
    name = naming.worktree_name(GOAL, "beta")
    git(repo, "worktree", "add", "-q", "-b", naming.goal_prefix(GOAL) + "beta", str(tmp_path / "wt"))
    admin = repo / ".git" / "worktrees"
    (admin / "wt").rename(admin / name)  # the admin folder under the name omk-tui gives it
    (tmp_path / "wt" / ".git").write_text(f"gitdir: {admin / name}\n")
    (admin / name / "index.lock").write_text("")
    assert remove_stale_locks(repo, GOAL) == [f"worktrees/{name}/index.lock"]
