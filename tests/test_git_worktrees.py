"""Per-slice worktrees on real repositories: create, reuse, refusals, status, diff, commit, remove."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pygit2
import pytest

from omk_tui.git.errors import BranchConflict, GitError, PathOccupied, WorktreeDirty
from omk_tui.git.repo import common_dir
from omk_tui.git.worktrees import WorktreeManager
from tests.test_git_support import git, head_sha, make_repo, repo, wt_root, write  # noqa: F401

GOAL = "goal-20261122-101010-000-abcd1234"


def manager(repo, **kw):
    kw.setdefault("copy_files", ())
    return WorktreeManager(repo, GOAL, head_sha(repo), **kw)


def test_create_makes_branch_and_worktree_outside_the_repo(repo, wt_root):
    mgr = manager(repo)
    path = mgr.create("s1")
    assert path == mgr.path_for("s1")
    assert wt_root.resolve() in path.parents and repo.resolve() not in path.parents
    assert (path / "src" / "app.py").read_text() == "print('hi')\n"
    assert mgr.branch_for("s1") == f"omk/{GOAL}/s1"
    assert git(path, "rev-parse", "--abbrev-ref", "HEAD").strip() == f"omk/{GOAL}/s1"
    assert git(path, "status", "--porcelain") == ""  # the git CLI sees a clean, valid worktree
    gitfile = (path / ".git").read_text()
    assert f"worktrees/{mgr.name_for('s1')}" in gitfile
    listed = git(repo, "worktree", "list", "--porcelain")
    assert str(path) in listed
    infos = mgr.list()
    assert [(i.slice_id, i.branch, i.prunable) for i in infos] == [("s1", f"omk/{GOAL}/s1", False)]


def test_create_keeps_modes_and_bytes(tmp_path, wt_root):
    repo = make_repo(tmp_path / "p", {"run.sh": "#!/bin/sh\necho hi\n", "crlf.txt": "a\r\nb\r\n"})
    git(repo, "update-index", "--chmod=+x", "run.sh")
    git(repo, "commit", "-q", "-m", "exec")
    path = manager(repo).create("s1")
    assert os.stat(path / "run.sh").st_mode & stat.S_IXUSR
    assert (path / "crlf.txt").read_bytes() == b"a\r\nb\r\n"


def test_create_is_idempotent_and_keeps_work(repo):
    mgr = manager(repo)
    path = mgr.create("s1")
    write(path, {"work.txt": "in progress"})
    again = manager(repo).create("s1")  # a resumed goal: a new manager, same slice
    assert again == path
    assert (path / "work.txt").read_text() == "in progress"
    assert len(mgr.list()) == 1


def test_resume_after_remove_reuses_the_branch(repo):
    mgr = manager(repo)
    path = mgr.create("s1")
    write(path, {"a.txt": "a"})
    sha = mgr.commit("s1", "add a")
    mgr.remove("s1")
    assert not path.exists()
    again = mgr.create("s1")
    assert (again / "a.txt").read_text() == "a"
    assert head_sha(again) == sha


def test_foreign_branch_is_refused(repo):
    mgr = manager(repo)
    git(repo, "checkout", "-q", "--orphan", "tmp")
    git(repo, "commit", "-q", "-m", "unrelated", "--allow-empty")
    git(repo, "branch", "-f", mgr.branch_for("s1"), "tmp")
    git(repo, "checkout", "-q", "main")
    with pytest.raises(BranchConflict, match="does not descend"):
        mgr.create("s1")
    assert not mgr.path_for("s1").exists()
    assert pygit2.Repository(str(repo)).list_worktrees() == []


def test_branch_checked_out_elsewhere_is_refused(repo, tmp_path):
    mgr = manager(repo)
    git(repo, "branch", mgr.branch_for("s1"))
    git(repo, "worktree", "add", "-q", str(tmp_path / "mine"), mgr.branch_for("s1"))
    with pytest.raises(BranchConflict, match="checked out in another working tree"):
        mgr.create("s1")


def test_occupied_path_is_refused_and_nothing_is_left_behind(repo):
    mgr = manager(repo)
    target = mgr.path_for("s1")
    write(target, {"someone-elses.txt": "keep me"})
    with pytest.raises(PathOccupied, match="already exists"):
        mgr.create("s1")
    assert (target / "someone-elses.txt").read_text() == "keep me"
    assert pygit2.Repository(str(repo)).list_worktrees() == []
    # an empty folder is fine
    shutil.rmtree(target)
    target.mkdir()
    assert mgr.create("s1") == target


def test_stale_entry_is_pruned_before_reuse(repo):
    mgr = manager(repo)
    path = mgr.create("s1")
    shutil.rmtree(path)  # someone deleted the folder by hand
    name = mgr.name_for("s1")
    assert (common_dir(pygit2.Repository(str(repo))) / "worktrees" / name).exists()
    assert [i.prunable for i in mgr.list()] == [True]
    again = mgr.create("s1")
    assert (again / "README.md").exists()
    assert git(again, "status", "--porcelain") == ""


def test_a_deleted_worktree_folder_made_again_without_git_is_set_aside_and_the_worktree_rebuilt(repo):
    """Deleted by hand while a slice ran, then a folder of that name made again (a write, say): it is no worktree
    (no `.git`), so the next checkout sets it aside and makes the worktree again from the slice branch."""
    mgr = manager(repo)
    path = mgr.create("s1")
    (path / "done.txt").write_text("committed work")
    committed = mgr.commit("s1", "work")
    shutil.rmtree(path)
    path.mkdir()
    (path / "late.txt").write_text("written after the deletion")
    assert not mgr.exists("s1")
    with pytest.raises(GitError, match=f"is gone.*omk-tui resume {mgr.goal_id}"):
        mgr.status("s1")
    assert mgr.create("s1") == path and mgr.exists("s1")
    assert (path / "done.txt").read_text() == "committed work" and git(path, "rev-parse", "HEAD").strip() == committed
    aside = [p for p in path.parent.iterdir() if p.name.startswith(f".{path.name}.orphaned-")]
    assert len(aside) == 1 and (aside[0] / "late.txt").read_text() == "written after the deletion"


def test_copy_files_copied_but_agents_md_never_overwritten(tmp_path, wt_root):
    repo = make_repo(tmp_path / "p", {"AGENTS.md": "project rules\n", "README.md": "r\n", ".gitignore": ".env\n"})
    write(repo, {".env": "SECRET=1\n", "conf/local.toml": "x=1\n"})
    (repo / "AGENTS.md").write_text("locally edited, uncommitted\n")
    mgr = manager(repo, copy_files=[".env", "conf/local.toml", "AGENTS.md", "missing.txt"])
    path = mgr.create("s1")
    assert (path / ".env").read_text() == "SECRET=1\n"
    assert (path / "conf" / "local.toml").read_text() == "x=1\n"
    assert (path / "AGENTS.md").read_text() == "project rules\n"
    assert not (path / "missing.txt").exists()
    # copied files are environment, not work: not in status, diff or commits
    assert mgr.status("s1") == []
    assert mgr.commit("s1") is None
    write(path, {"feature.py": "x = 1\n"})
    mgr.commit("s1", "feature")
    committed = git(path, "show", "--name-only", "--format=", "HEAD").split()
    assert committed == ["feature.py"]


def test_copy_files_from_config(tmp_path, wt_root):
    repo = make_repo(tmp_path / "p", {"README.md": "r\n", ".gitignore": ".env\n"})
    write(repo, {".env": "K=V\n", ".omk/config.toml": '[worktrees]\ncopy_files = [".env"]\n'})
    mgr = WorktreeManager(repo, GOAL, head_sha(repo))
    assert (mgr.create("s1") / ".env").read_text() == "K=V\n"


def test_status_diff_commit(repo):
    mgr = manager(repo)
    path = mgr.create("s1")
    assert mgr.status("s1") == [] and mgr.commit("s1") is None
    write(path, {"README.md": "hello\nworld\n", "new/file.txt": "n1\nn2\n"})
    (path / "src" / "app.py").unlink()
    st = {(c.path, c.status) for c in mgr.status("s1")}
    assert st == {("README.md", "modified"), ("new/file.txt", "untracked"), ("src/app.py", "deleted")}

    d = mgr.diff("s1")
    assert d.includes_uncommitted
    stats = {f.path: (f.status, f.additions, f.deletions) for f in d.files}
    assert stats == {
        "README.md": ("modified", 1, 0),
        "new/file.txt": ("added", 2, 0),
        "src/app.py": ("deleted", 0, 1),
    }
    assert "+world" in d.patch and "-print('hi')" in d.patch
    assert (d.additions, d.deletions) == (3, 1)
    # the diff stages in memory only: the worktree's index still shows the changes as unstaged
    assert all(not c.staged for c in mgr.status("s1"))

    sha = mgr.commit("s1", "implement s1")
    assert sha and mgr.status("s1") == []
    msg = git(path, "log", "-1", "--format=%B")
    assert "implement s1" in msg and f"Omk-Goal: {GOAL}" in msg and "Omk-Slice: s1" in msg
    assert git(path, "log", "-1", "--format=%an <%ae>").strip() == "Repo User <repo@example.com>"
    assert git(repo, "rev-parse", mgr.branch_for("s1")).strip() == sha
    after = mgr.diff("s1")
    assert not after.includes_uncommitted and after.head == sha
    assert {f.path: (f.additions, f.deletions) for f in after.files} == {k: v[1:] for k, v in stats.items()}


def test_author_falls_back_to_omk_tui(tmp_path, wt_root, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    (home / "gitconfig").write_text("")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / "gitconfig"))
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "EMAIL"):
        monkeypatch.delenv(var, raising=False)
    levels = (pygit2.enums.ConfigLevel.GLOBAL, pygit2.enums.ConfigLevel.XDG, pygit2.enums.ConfigLevel.SYSTEM)
    saved = {lvl: pygit2.settings.search_path[lvl] for lvl in levels}
    try:
        for lvl in levels:  # libgit2 reads its global config paths once per process; point them at empty dirs
            pygit2.settings.search_path[lvl] = str(home)
        repo = make_repo(tmp_path / "p", user=False)
        mgr = manager(repo)
        path = mgr.create("s1")
        write(path, {"x.txt": "x"})
        mgr.commit("s1")
    finally:
        for lvl, value in saved.items():
            pygit2.settings.search_path[lvl] = value
    assert git(path, "log", "-1", "--format=%an <%ae>").strip() == "omk-tui <omk-tui@localhost>"


def test_commit_refuses_a_worktree_on_another_branch(repo):
    mgr = manager(repo)
    path = mgr.create("s1")
    git(path, "checkout", "-q", "-b", "agent-made-this")
    write(path, {"x.txt": "x"})
    with pytest.raises(GitError, match="not on refs/heads/omk/"):
        mgr.commit("s1")


def test_remove_refuses_dirty_and_commit_dirty_saves_work(repo):
    mgr = manager(repo)
    path = mgr.create("s1")
    write(path, {"precious.txt": "do not lose\n"})
    with pytest.raises(WorktreeDirty) as err:
        mgr.remove("s1")
    assert err.value.files == ["precious.txt"]
    assert (path / "precious.txt").exists()
    sha = mgr.remove("s1", commit_dirty=True)
    assert sha and not path.exists()
    assert git(repo, "show", f"{mgr.branch_for('s1')}:precious.txt") == "do not lose\n"
    assert mgr.list() == []
    assert mgr.remove("s1") is None  # already gone: nothing to do


def test_remove_clean_keeps_branch_and_ignored_files_do_not_block(tmp_path, wt_root):
    repo = make_repo(tmp_path / "p", {"README.md": "r\n", ".gitignore": "__pycache__/\n"})
    mgr = manager(repo)
    path = mgr.create("s1")
    write(path, {"__pycache__/x.pyc": "bytes"})
    mgr.remove("s1")
    assert not path.exists() and not mgr.goal_dir.exists()
    assert git(repo, "branch", "--list", mgr.branch_for("s1")).strip()


def test_broken_entries_left_by_failed_creations_are_dropped(repo):
    # two entry folders without a gitdir file make libgit2 report every branch as checked out
    for name in ("half-made-1", "half-made-2"):
        (repo / ".git" / "worktrees" / name).mkdir(parents=True)
    path = manager(repo).create("s1")
    assert (path / "README.md").exists()
    assert not (repo / ".git" / "worktrees" / "half-made-1").exists()
    assert "half-made" not in git(repo, "worktree", "list")


def test_a_worktree_folder_whose_entry_a_crash_lost_is_set_aside_not_refused(repo):
    """A kill while libgit2 made the worktree leaves its folder (with its .git link) but no entry: the next
    checkout moves the folder aside (nothing is deleted) instead of refusing the path forever."""
    mgr = manager(repo)
    target = mgr.create("s1")
    (target / "half.txt").write_text("from before the crash")
    name = mgr.name_for("s1")
    shutil.rmtree(Path(pygit2.Repository(str(repo)).path) / "worktrees" / name)
    assert name not in pygit2.Repository(str(repo)).list_worktrees()
    assert mgr.create("s1") == target
    assert name in pygit2.Repository(str(repo)).list_worktrees()
    aside = [p for p in target.parent.iterdir() if p.name.startswith(f".{target.name}.orphaned-")]
    assert len(aside) == 1 and (aside[0] / "half.txt").read_text() == "from before the crash"


def test_removing_leaves_no_folder_behind(repo):
    mgr = manager(repo)
    target = mgr.create("s1")
    mgr.remove("s1")
    assert not target.exists()
    assert not target.parent.exists() or not any(target.parent.iterdir())


def test_a_half_made_worktree_entry_does_not_block_the_checkout(repo):
    """A kill inside libgit2's add leaves `.git/worktrees/NAME` without a valid entry: it is metadata only."""
    mgr = manager(repo)
    half = Path(pygit2.Repository(str(repo)).path) / "worktrees" / mgr.name_for("s1")
    half.mkdir(parents=True)  # gitdir and commondir written, HEAD not yet: libgit2 neither lists nor overwrites it
    (half / "gitdir").write_text(f"{mgr.path_for('s1') / '.git'}\n")
    (half / "commondir").write_text("../..\n")
    assert mgr.create("s1") == mgr.path_for("s1")
    assert mgr.name_for("s1") in pygit2.Repository(str(repo)).list_worktrees()


CHECKOUT = r'''
import sys
from omk_tui.git.worktrees import WorktreeManager
repo, goal, base = sys.argv[1:4]
WorktreeManager(repo, goal, base, copy_files=()).create("s1")
'''


def test_a_checkout_killed_midway_is_made_again_not_taken_for_the_slices_work(tmp_path, wt_root):
    """kill -9 while a slice's worktree is being checked out leaves a folder with part of the files and an empty
    index: reused as it was, every missing file would be committed as deleted (and delivered)."""
    import signal
    import subprocess
    import sys
    import time

    files = {f"data/f{i:04d}.txt": f"file {i}\n" * 20 for i in range(3000)}
    repo = make_repo(tmp_path / "big", files)
    mgr = manager(repo)
    path = mgr.path_for("s1")
    env = {**os.environ, "OMK_WORKTREES_DIR": str(wt_root), "PYTHONPATH": str(Path(__file__).parents[1])}
    for _ in range(5):
        proc = subprocess.Popen([sys.executable, "-c", CHECKOUT, str(repo), GOAL, head_sha(repo)], env=env)
        while proc.poll() is None and not (path / "data").is_dir():
            time.sleep(0.001)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        entry = common_dir(pygit2.Repository(str(repo))) / "worktrees" / mgr.name_for("s1")
        torn = entry.is_dir() and not (entry / "omk-checked-out").exists()
        if torn and len(list((path / "data").iterdir())) < 3000:
            break
        shutil.rmtree(path, ignore_errors=True)
        git(repo, "worktree", "prune")
    else:
        raise AssertionError("the kill never landed mid-checkout")
    again = manager(repo).create("s1")  # the resumed goal
    assert again == path and len(list((path / "data").iterdir())) == 3000
    assert git(path, "status", "--porcelain") == "" and mgr.status("s1") == []
    assert not [p for p in path.parent.iterdir() if ".torn-" in p.name]  # what was torn is gone, not kept


def test_a_worktree_without_its_checked_out_mark_is_made_again(repo):
    mgr = manager(repo)
    path = mgr.create("s1")
    entry = common_dir(pygit2.Repository(str(repo))) / "worktrees" / mgr.name_for("s1")
    (entry / "omk-checked-out").unlink()  # as after a kill before the checkout finished
    (path / "src" / "app.py").unlink()
    (entry / "index").unlink(missing_ok=True)
    assert manager(repo).create("s1") == path
    assert (path / "src" / "app.py").read_text() == "print('hi')\n" and mgr.status("s1") == []
    assert (entry / "omk-checked-out").exists()


def test_a_moved_repository_keeps_plain_git_working_and_its_worktrees_follow(tmp_path, wt_root):
    repo = make_repo(tmp_path / "proj")
    mgr = manager(repo)
    old = mgr.create("s1")
    write(old, {"work.txt": "not committed yet"})
    moved = repo.rename(tmp_path / "moved")
    assert "main" in git(moved, "branch")  # libgit2's absolute commondir made this "fatal: Invalid path"
    assert git(moved, "fsck", "--no-progress") is not None
    again = manager(moved)
    path = again.create("s1")  # the resumed goal, in the moved repository
    assert path == again.path_for("s1") != old and not old.exists()
    assert (path / "work.txt").read_text() == "not committed yet"
    assert [c.path for c in again.status("s1")] == ["work.txt"]
    assert str(path) in git(moved, "worktree", "list")
    assert again.remove("s1", commit_dirty=True) is not None and not path.exists()


def test_a_complete_worktree_without_the_mark_keeps_its_work(repo):
    """Made by an earlier omk-tui (no mark), or killed between its checkout and the mark: its index is there
    (libgit2 writes it last), so it is complete, and the slice's uncommitted work is kept."""
    mgr = manager(repo)
    path = mgr.create("s1")
    entry = common_dir(pygit2.Repository(str(repo))) / "worktrees" / mgr.name_for("s1")
    (entry / "omk-checked-out").unlink()
    write(path, {"work.txt": "in progress"})
    assert manager(repo).create("s1") == path
    assert (path / "work.txt").read_text() == "in progress" and (entry / "omk-checked-out").exists()
