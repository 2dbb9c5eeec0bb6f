"""The base repository checks and the worktree folder computation."""

from __future__ import annotations

from pathlib import Path

import pytest

from omk_tui.git import naming
from omk_tui.git.errors import DirtyTree, NoCommits, NotARepository
from omk_tui.git.repo import open_base
from omk_tui.git.worktrees import WorktreeManager, resolve_worktrees_base
from tests.test_git_support import git, head_sha, make_repo, repo, tree_fingerprint, wt_root, write  # noqa: F401


def test_not_a_repository(tmp_path):
    (tmp_path / "plain").mkdir()
    with pytest.raises(NotARepository, match="not inside a git repository"):
        open_base(tmp_path / "plain")
    with pytest.raises(NotARepository, match="does not exist"):
        open_base(tmp_path / "missing")


def test_no_commits(tmp_path):
    (tmp_path / "empty").mkdir()
    git(tmp_path / "empty", "init", "-q", "-b", "main")
    with pytest.raises(NoCommits, match="no commits yet"):
        open_base(tmp_path / "empty")


def test_clean_repo_gives_base_commit_and_branch(repo):
    base = open_base(repo)
    assert base.base_commit == head_sha(repo)
    assert base.base_ref == "main"
    assert base.path == repo.resolve()
    assert base.dirty_files == () and base.notes == ()
    # a subfolder finds the same repository
    assert open_base(repo / "src").path == repo.resolve()


def test_dirty_tree_refused_with_file_list(repo):
    write(repo, {"README.md": "changed\n", "new_dir/a.txt": "x", "notes.txt": "n"})
    with pytest.raises(DirtyTree) as err:
        open_base(repo)
    assert err.value.files == ["README.md", "new_dir/", "notes.txt"]
    text = str(err.value)
    assert "README.md" in text and "--allow-dirty" in text


def test_omk_state_and_ignored_files_do_not_make_it_dirty(repo):
    write(repo, {".gitignore": "build/\n"})
    git(repo, "add", ".gitignore")
    git(repo, "commit", "-q", "-m", "ignore build")
    write(repo, {"build/out.bin": "x", ".omk/goals/g/goal.json": "{}"})
    assert open_base(repo).dirty_files == ()


def test_allow_dirty_proceeds_from_head_and_says_so(repo):
    write(repo, {"README.md": "changed\n"})
    before = tree_fingerprint(repo)
    base = open_base(repo, allow_dirty=True)
    assert base.base_commit == head_sha(repo)
    assert base.dirty_files == ("README.md",)
    assert any("not included" in n for n in base.notes)
    assert tree_fingerprint(repo) == before  # reading status never rewrites the index


def test_detached_head_works_from_head_commit(repo):
    sha = head_sha(repo)
    write(repo, {"more.txt": "m"})
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "second")
    git(repo, "checkout", "-q", "--detach", sha)
    base = open_base(repo)
    assert base.base_ref is None and base.detached
    assert base.base_commit == sha
    assert any("detached" in n for n in base.notes)


def test_default_worktrees_folder_uses_xdg_data_home(tmp_path, monkeypatch):
    monkeypatch.delenv("OMK_WORKTREES_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    repo = make_repo(tmp_path / "My Project")
    mgr = WorktreeManager(repo, "goal-1", head_sha(repo), copy_files=())
    key = naming.repo_key(repo)
    assert key.startswith("My-Project-") and len(key.rsplit("-", 1)[1]) == 8
    assert mgr.path_for("s1") == (tmp_path / "data").resolve() / "omk-tui" / "worktrees" / key / "goal-1" / "s1"
    # another folder with the same name is another repository
    other = make_repo(tmp_path / "elsewhere" / "My Project")
    assert naming.repo_key(other) != key


def test_worktrees_folder_from_config_and_env(tmp_path, monkeypatch):
    monkeypatch.delenv("OMK_WORKTREES_DIR", raising=False)
    repo = make_repo(tmp_path / "proj")
    write(repo, {".omk/config.toml": '[worktrees]\ndir = "../wt-from-config"\n'})
    assert resolve_worktrees_base(repo) == (tmp_path / "wt-from-config").resolve()
    monkeypatch.setenv("OMK_WORKTREES_DIR", str(tmp_path / "wt-env"))
    assert resolve_worktrees_base(repo) == (tmp_path / "wt-env").resolve()


def test_worktrees_folder_inside_the_repository_is_refused(tmp_path, monkeypatch):
    repo = make_repo(tmp_path / "proj")
    monkeypatch.setenv("OMK_WORKTREES_DIR", str(repo / "wt"))
    with pytest.raises(Exception, match="inside the repository"):
        resolve_worktrees_base(repo)


def test_names_are_valid_and_distinct():
    assert naming.slice_branch("goal-1", "s1") == "omk/goal-1/s1"
    assert naming.integration_branch("goal-1") == "omk/goal-1/integration"
    odd = ["fix bug", "fix-bug", "a..b", ".hidden", "x.lock", "integration", "ünï/cödé", "-dash", "a" * 80]
    comps = {naming.slice_component(s) for s in odd}
    assert len(comps) == len(odd)
    import pygit2

    for s in odd:
        assert pygit2.reference_is_valid_name("refs/heads/" + naming.slice_branch("goal-1", s)), s
        assert "/" not in naming.worktree_name("goal-1", s)
    assert naming.worktree_name("goal-1", "s1") != naming.worktree_name("goal-2", "s1")
    assert Path(naming.slice_component("a/../../etc")).name == naming.slice_component("a/../../etc")
