"""A slice's change against the goal's base commit, with pygit2 (run in a thread worker, never the UI loop)."""

from __future__ import annotations

from pathlib import Path

from omk_tui.projection import SliceView
from omk_tui.ui.messages import DiffFile, SliceDiff


def _files(diff) -> list[DiffFile]:
    out = []
    for patch in diff:
        _ctx, ins, dels = patch.line_stats
        delta = patch.delta
        path = delta.new_file.path if delta.new_file.path else delta.old_file.path
        try:
            text = patch.text or ""
        except Exception:  # binary or undecodable content
            text = f"(binary change in {path})\n"
        out.append(DiffFile(path=path, insertions=ins, deletions=dels, patch=text))
    return out


def slice_diff(repo: Path, slice_view: SliceView, base_commit: str | None, goal_id: str = "") -> SliceDiff:
    """The slice worktree's changes if the worktree exists, else its branch's, against `base_commit`."""
    import pygit2

    sid = slice_view.slice_id
    try:
        from omk_tui.git.worktrees import WorktreeManager  # the worktrees helper's API, when present
    except ImportError:
        WorktreeManager = None
    if WorktreeManager is not None and goal_id:
        try:
            d = WorktreeManager(repo, goal_id).diff(sid)  # type: ignore[call-arg]
            return SliceDiff(slice_id=sid, source="worktree", files=_files(d))
        except Exception:  # an API mismatch or a missing worktree: compute it directly below
            pass
    try:
        main = pygit2.Repository(str(repo))
        base = main.revparse_single(base_commit) if base_commit else main.head.peel(pygit2.Commit)
        base = base.peel(pygit2.Commit)
        wt = slice_view.worktree
        if wt and Path(wt).is_dir() and pygit2.discover_repository(wt):
            wrepo = pygit2.Repository(wt)
            diff = wrepo.diff(wrepo.revparse_single(str(base.id)).peel(pygit2.Tree), None)
            return SliceDiff(slice_id=sid, source=f"worktree {wt}", files=_files(diff))
        branch = main.lookup_branch(slice_view.branch) if slice_view.branch else None
        if branch is None:
            return SliceDiff(slice_id=sid, source=slice_view.branch or "-",
                             error=f"slice {sid} has no worktree or branch yet")
        tip = branch.peel(pygit2.Commit)
        diff = main.diff(base.tree, tip.tree)
        return SliceDiff(slice_id=sid, source=slice_view.branch, files=_files(diff))
    except (pygit2.GitError, KeyError, ValueError) as exc:
        return SliceDiff(slice_id=sid, source=slice_view.branch or "-", error=f"cannot read the diff: {exc}")
