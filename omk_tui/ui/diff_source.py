"""A slice's change against the goal's base commit, with pygit2 (run in a thread worker, never the UI loop)."""

from __future__ import annotations

import re
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


def _split_patch(patch: str) -> dict[str, str]:
    """Per-file pieces of a whole patch (split at each `diff --git` header)."""
    pieces: dict[str, str] = {}
    for chunk in re.split(r"(?m)^(?=diff --git )", patch):
        m = re.match(r"diff --git a/(.*?) b/(.*)", chunk)
        if m:
            pieces[m.group(2)] = chunk
    return pieces


def _from_manager(repo: Path, goal_id: str, base_commit: str, slice_id: str) -> SliceDiff | None:
    """The worktrees helper's diff (commits + uncommitted + untracked) when the slice's worktree exists."""
    try:
        from omk_tui.git.worktrees import WorktreeManager
    except ImportError:
        return None
    manager = WorktreeManager(repo, goal_id, base_commit)
    d = manager.diff(slice_id)
    pieces = _split_patch(d.patch)
    files = [DiffFile(path=f.path, insertions=f.additions, deletions=f.deletions, patch=pieces.get(f.path, ""))
             for f in d.files]
    note = " (with uncommitted changes)" if d.includes_uncommitted else ""
    return SliceDiff(slice_id=slice_id, source=f"worktree{note}", files=files)


def slice_diff(repo: Path, slice_view: SliceView, base_commit: str | None, goal_id: str = "") -> SliceDiff:
    """The slice worktree's changes if the worktree exists, else its branch's, against `base_commit`."""
    import pygit2

    sid = slice_view.slice_id
    try:
        main = pygit2.Repository(str(repo))
        base = main.revparse_single(base_commit) if base_commit else main.head.peel(pygit2.Commit)
        base = base.peel(pygit2.Commit)
        wt = slice_view.worktree
        if wt and Path(wt).is_dir() and goal_id:
            found = _from_manager(repo, goal_id, str(base.id), sid)
            if found is not None:
                return found
        branch = main.lookup_branch(slice_view.branch) if slice_view.branch else None
        if branch is None:
            return SliceDiff(slice_id=sid, source=slice_view.branch or "-",
                             error=f"slice {sid} has no worktree or branch yet")
        tip = branch.peel(pygit2.Commit)
        diff = main.diff(base.tree, tip.tree)
        return SliceDiff(slice_id=sid, source=slice_view.branch, files=_files(diff))
    except Exception as exc:  # pygit2 and the worktree manager raise several kinds; the screen shows the reason
        return SliceDiff(slice_id=sid, source=slice_view.branch or "-", error=f"cannot read the diff: {exc}")
