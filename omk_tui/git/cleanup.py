"""Cleaning up after a goal: its worktrees (never one with uncommitted work) and its merged branches."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pygit2

from omk_tui.git import naming
from omk_tui.git.diff import stage_all, status_entries
from omk_tui.git.errors import GitError
from omk_tui.git.repo import open_repository, resolve_commit, signature
from omk_tui.git.worktrees import list_entries, prune_stale, remove_worktree


@dataclass
class CleanupReport:
    removed: list[Path] = field(default_factory=list)  # worktree folders deleted
    kept: dict[Path, list[str]] = field(default_factory=dict)  # worktree -> its uncommitted files
    committed: dict[Path, str] = field(default_factory=dict)  # worktree -> sha of the commit saving its work
    pruned: list[str] = field(default_factory=list)  # stale entries dropped


@dataclass
class BranchCleanup:
    deleted: list[str] = field(default_factory=list)
    kept: dict[str, str] = field(default_factory=dict)  # branch -> why it was kept


def remove_goal_worktrees(
    repo_path: Path | str, goal_id: str, *, force_clean_only: bool = True
) -> CleanupReport:
    """Remove every worktree of a goal (slices and integration); branches stay.

    With `force_clean_only` (the default) a worktree with uncommitted work is kept and listed; without it, that
    work is first committed to the worktree's branch and then the worktree is removed. Nothing is ever lost.
    """
    repo = open_repository(repo_path)
    report = CleanupReport()
    prefix = naming.worktree_name_prefix(goal_id)
    ours = [i.name for i in list_entries(repo) if i.name.startswith(prefix)]
    report.pruned = prune_stale(repo, ours)
    for info in list_entries(repo):
        if not info.name.startswith(prefix):
            continue
        saver = None if force_clean_only else (lambda p=info.path, b=info.branch: _commit_all(p, goal_id, b))
        try:
            sha = remove_worktree(repo, name=info.name, path=info.path, commit_dirty=saver)
        except GitError as exc:
            files = getattr(exc, "files", None) or [str(exc)]
            report.kept[info.path] = files
            continue
        report.removed.append(info.path)
        if sha:
            report.committed[info.path] = sha
    return report


def _commit_all(path: Path, goal_id: str, branch: str | None) -> str | None:
    wrepo = pygit2.Repository(str(path))
    if wrepo.head_is_detached:
        raise GitError(f"worktree {path} has a detached HEAD; commit its work on a branch by hand first.")
    head = wrepo.head.peel(pygit2.Commit)
    index = stage_all(wrepo)
    tree = index.write_tree()
    if tree == head.tree_id:
        return None
    index.write()
    sig = signature(wrepo)
    msg = f"omk: uncommitted work saved before cleaning goal {goal_id}\n\nOmk-Goal: {goal_id}\n"
    sha = str(wrepo.create_commit("HEAD", sig, sig, msg, tree, [head.id]))
    if status_entries(wrepo):
        raise GitError(f"worktree {path} still has changes after saving them; look at it by hand.")
    return sha


def delete_merged_branches(
    repo_path: Path | str, goal_id: str, *, into: str | None = None
) -> BranchCleanup:
    """Delete the goal's branches whose commits are all contained in `into` (a branch or sha; by default the
    goal's integration branch). The integration branch itself is deleted only when `into` is another ref that
    contains it (e.g. the base branch after `accept`). A branch checked out in a worktree is kept."""
    repo = open_repository(repo_path)
    integration = naming.integration_branch(goal_id)
    target_rev = into or integration
    if into is None and repo.references.get("refs/heads/" + integration) is None:
        return BranchCleanup()
    target = resolve_commit(repo, target_rev).id
    prefix = naming.goal_prefix(goal_id)
    result = BranchCleanup()
    for name in sorted(repo.branches.local):
        if not name.startswith(prefix):
            continue
        if name == integration and into is None:
            continue
        branch = repo.branches.local[name]
        tip = branch.peel(pygit2.Commit).id
        if not (tip == target or repo.descendant_of(target, tip)):
            result.kept[name] = f"has commits not in {target_rev.removeprefix('refs/heads/')}"
            continue
        if branch.is_checked_out():
            result.kept[name] = "checked out in a worktree"
            continue
        branch.delete()
        result.deleted.append(name)
    return result


def remove_stale_locks(repo_path: Path | str, goal_id: str) -> list[str]:
    """Remove the lock files git (libgit2) left in this goal's own namespace: its branches' refs and reflogs, and its
    worktrees' admin folders (index, HEAD). A controller killed with -9 while it updated a ref or a worktree's index
    leaves `<file>.lock` behind, and every later update of that file fails with "failed to lock file".

    Only for a caller holding the goal's controller lock: nothing else writes these files, so a lock there is stale.
    Returns the paths removed, relative to the git folder.
    """
    repo = open_repository(repo_path)
    git_dir = Path(repo.path)
    ours = naming.goal_prefix(goal_id).rstrip("/")
    places = [git_dir / "refs" / "heads" / ours, git_dir / "logs" / "refs" / "heads" / ours]
    places += [p for p in (git_dir / "worktrees").glob(naming.worktree_name_prefix(goal_id) + "*") if p.is_dir()]
    removed = []
    for place in places:
        for lock in sorted(place.rglob("*.lock")) if place.is_dir() else ():
            try:
                lock.unlink()
            except FileNotFoundError:
                continue
            except OSError:
                continue  # not ours to fix: the update that needs it will say what is wrong
            removed.append(str(lock.relative_to(git_dir)))
    return removed
