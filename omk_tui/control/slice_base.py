"""Where a slice starts: the base commit plus the work of the slices it depends on.

A slice that is serialised after others must see their results (a docs slice reads the module its dependency
wrote), so its branch is cut from an in-memory merge of the dependency commits. Merging happens in memory
(no worktree or ref is touched); should the dependencies conflict, the slice starts from the base commit and
the integration step reports the conflict.
"""

from __future__ import annotations

from pathlib import Path

import pygit2

from omk_tui.git.repo import open_repository, signature


def start_point(repo_path: Path, base_commit: str, dep_commits: list[str]) -> tuple[str, str]:
    """(commit to cut the slice from, a note for a person; empty when nothing special happened)."""
    repo = open_repository(repo_path)
    head = repo[base_commit].peel(pygit2.Commit)
    for sha in dep_commits:
        dep = repo[sha].peel(pygit2.Commit)
        if dep.id == head.id or repo.descendant_of(head.id, dep.id):
            continue
        if repo.descendant_of(dep.id, head.id):
            head = dep
            continue
        index = repo.merge_commits(head, dep)
        if index.conflicts is not None:
            return base_commit, "dependencies conflict with each other; the slice starts from the base commit"
        tree = index.write_tree(repo)
        sig = signature(repo)
        oid = repo.create_commit(None, sig, sig, f"omk: start point (merge {str(dep.id)[:12]})", tree,
                                 [head.id, dep.id])
        head = repo[oid].peel(pygit2.Commit)
    return str(head.id), ""


def reset_worktree_to(worktree: Path, commit: str) -> None:
    """Move the worktree's branch to `commit` and make its files match (used to re-run a conflicting slice on
    top of the integration result; the worktree holds no uncommitted work at that point)."""
    wrepo = pygit2.Repository(str(worktree))
    wrepo.reset(pygit2.Oid(hex=commit), pygit2.enums.ResetMode.HARD)
