"""The integration branch: ordered merges, in-memory conflict detection, materialising, cleanup."""

from __future__ import annotations

import pygit2
import pytest

from omk_tui.git.cleanup import delete_merged_branches, remove_goal_worktrees
from omk_tui.git.errors import GitError
from omk_tui.git.integration import Integrator
from omk_tui.git.worktrees import WorktreeManager
from tests.test_git_support import git, head_sha, make_repo, repo, tree_fingerprint, wt_root, write  # noqa: F401

GOAL = "goal-int"


def slice_with(mgr: WorktreeManager, slice_id: str, files: dict[str, str]) -> str:
    path = mgr.create(slice_id)
    write(path, files)
    return mgr.commit(slice_id, f"work of {slice_id}")


@pytest.fixture
def setup(tmp_path, wt_root):
    repo = make_repo(tmp_path / "proj", {"shared.txt": "one\ntwo\nthree\n", "README.md": "r\n"})
    base = head_sha(repo)
    return repo, base, WorktreeManager(repo, GOAL, base, copy_files=()), Integrator(repo, GOAL, base)


def refs_snapshot(repo) -> dict[str, str]:
    r = pygit2.Repository(str(repo))
    return {name: str(r.references[name].target) for name in r.references}


def test_clean_merges_in_order(setup):
    repo, base, mgr, integ = setup
    assert integ.head == base
    a = slice_with(mgr, "a", {"a.txt": "a\n"})
    slice_with(mgr, "b", {"b.txt": "b\n"})
    first = integ.merge("a")
    assert (first.status, first.head, first.ok) == ("fast_forward", a, True)
    second = integ.merge("b")
    assert second.status == "merged" and second.ok
    merge_commit = pygit2.Repository(str(repo))[second.head]
    assert [str(p) for p in merge_commit.parent_ids] == [a, git(repo, "rev-parse", mgr.branch_for("b")).strip()]
    assert "Omk-Slice: b" in merge_commit.message
    assert [c.path for c in integ.changed_files()] == ["a.txt", "b.txt"]
    assert [c.summary for c in integ.commits()][-1].startswith("omk: merge slice b")
    assert len(integ.commits()) == 3
    # merging again is a no-op; a slice with no commits is reported as empty
    assert integ.merge("a").status == "already_merged"
    mgr.create("c")
    assert integ.merge("c").status == "empty"
    assert integ.head == second.head


def test_conflict_detected_in_memory_without_side_effects(setup):
    repo, base, mgr, integ = setup
    slice_with(mgr, "a", {"shared.txt": "one\nTWO from a\nthree\n"})
    slice_with(mgr, "other", {"other.txt": "o\n"})
    slice_with(mgr, "b", {"shared.txt": "one\nTWO from b\nthree\n", "b.txt": "b\n"})
    integ.merge("a")
    integ.merge("other")
    path_b = mgr.path_for("b")
    before_refs = refs_snapshot(repo)
    before_main = tree_fingerprint(repo)
    before_wt = {p.name: p.read_bytes() for p in path_b.iterdir() if p.is_file()}
    before_wt_index = (repo / ".git" / "worktrees" / mgr.name_for("b") / "index").read_bytes()

    out = integ.merge("b")

    assert out.status == "conflict" and not out.ok
    ev = out.conflict
    assert ev.slice_id == "b" and ev.files == ["shared.txt"]
    assert ev.against == ["a"]
    hunk = ev.hunks["shared.txt"]
    assert "TWO from a" in hunk and "TWO from b" in hunk
    assert "<<<<<<< integration" in hunk and ">>>>>>> slice b" in hunk
    assert "b" in ev.summary() and "shared.txt" in ev.summary()
    assert refs_snapshot(repo) == before_refs
    assert tree_fingerprint(repo) == before_main
    assert {p.name: p.read_bytes() for p in path_b.iterdir() if p.is_file()} == before_wt
    assert (repo / ".git" / "worktrees" / mgr.name_for("b") / "index").read_bytes() == before_wt_index
    assert out.head == integ.head


def test_delete_modify_conflict_is_described(setup):
    repo, base, mgr, integ = setup
    path = mgr.create("a")
    (path / "shared.txt").unlink()
    mgr.commit("a")
    slice_with(mgr, "z", {"z.txt": "z"})
    slice_with(mgr, "b", {"shared.txt": "changed\n"})
    integ.merge("a")
    integ.merge("z")
    ev = integ.merge("b").conflict
    assert ev.files == ["shared.txt"] and ev.against == ["a"]
    assert ev.hunks["shared.txt"].startswith("deleted in integration")


def test_materialize_checks_out_and_refreshes(setup):
    repo, base, mgr, integ = setup
    slice_with(mgr, "a", {"a.txt": "a\n", "shared.txt": "one\n"})
    integ.merge("a")
    path = integ.materialize()
    assert path == integ.worktree_path and path.parent == mgr.goal_dir
    assert (path / "a.txt").read_text() == "a\n"
    assert git(path, "rev-parse", "HEAD").strip() == integ.head
    assert git(path, "status", "--porcelain") == ""
    # a later merge moves the branch; materialize again brings files along (incl. deletions)
    wpath = mgr.create("b")
    (wpath / "README.md").unlink()
    write(wpath, {"b.txt": "b\n"})
    mgr.commit("b")
    integ.merge("b")
    assert integ.materialize() == path
    assert (path / "b.txt").exists() and not (path / "README.md").exists()
    assert git(path, "rev-parse", "HEAD").strip() == integ.head
    assert git(path, "status", "--porcelain") == ""


def test_integration_branch_that_is_not_ours_is_refused(tmp_path, wt_root):
    repo = make_repo(tmp_path / "p")
    git(repo, "checkout", "-q", "--orphan", "x")
    git(repo, "commit", "-q", "--allow-empty", "-m", "x")
    git(repo, "branch", "-f", f"omk/{GOAL}/integration", "x")
    git(repo, "checkout", "-q", "main")
    with pytest.raises(GitError, match="does not descend"):
        Integrator(repo, GOAL, head_sha(repo))


def test_merge_of_missing_branch_is_an_error(setup):
    _, _, _, integ = setup
    with pytest.raises(GitError, match="does not exist"):
        integ.merge("nope")


def test_cleanup_keeps_dirty_worktrees_and_unmerged_branches(setup):
    repo, base, mgr, integ = setup
    slice_with(mgr, "a", {"a.txt": "a\n"})
    slice_with(mgr, "b", {"b.txt": "b\n"})
    integ.merge("a")
    integ.materialize()
    write(mgr.path_for("b"), {"wip.txt": "unsaved\n"})
    report = remove_goal_worktrees(repo, GOAL)
    assert set(report.removed) == {mgr.path_for("a"), integ.worktree_path}
    assert list(report.kept) == [mgr.path_for("b")] and report.kept[mgr.path_for("b")] == ["wip.txt"]
    assert (mgr.path_for("b") / "wip.txt").exists()

    branches = delete_merged_branches(repo, GOAL)
    assert branches.deleted == [mgr.branch_for("a")]
    assert "checked out" in branches.kept[mgr.branch_for("b")] or "not in" in branches.kept[mgr.branch_for("b")]

    report = remove_goal_worktrees(repo, GOAL, force_clean_only=False)
    assert report.removed == [mgr.path_for("b")] and mgr.path_for("b") in report.committed
    assert git(repo, "show", f"{mgr.branch_for('b')}:wip.txt") == "unsaved\n"
    assert mgr.list() == []
    # after the person accepts: everything merged into main can go, integration included
    git(repo, "merge", "-q", "--no-edit", integ.branch)
    integ.merge("b")
    git(repo, "merge", "-q", "--no-edit", integ.branch)
    done = delete_merged_branches(repo, GOAL, into="main")
    assert sorted(done.deleted) == sorted([mgr.branch_for("b"), integ.branch])
