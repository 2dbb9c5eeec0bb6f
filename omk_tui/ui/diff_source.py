"""A slice's change against the goal's base commit, with the git package (run in a thread worker, never the UI loop)."""

from __future__ import annotations

import re
from pathlib import Path

from omk_tui.git import diff as gitdiff
from omk_tui.projection import SliceView
from omk_tui.ui.messages import DiffFile, SliceDiff


def _split_patch(patch: str) -> dict[str, str]:
    """Per-file pieces of a whole patch (split at each `diff --git` header)."""
    pieces: dict[str, str] = {}
    for chunk in re.split(r"(?m)^(?=diff --git )", patch):
        m = re.match(r"diff --git a/(.*?) b/(.*)", chunk)
        if m:
            pieces[m.group(2)] = chunk
    return pieces


def _shown(slice_id: str, source: str, d: gitdiff.SliceDiff) -> SliceDiff:
    pieces = _split_patch(d.patch)
    files = [DiffFile(path=f.path, insertions=f.additions, deletions=f.deletions,
                      patch=pieces.get(f.path, f"(binary change in {f.path})\n" if f.binary else ""))
             for f in d.files]
    return SliceDiff(slice_id=slice_id, source=source, files=files)


def slice_diff(repo: Path, slice_view: SliceView, base_commit: str | None, goal_id: str = "") -> SliceDiff:
    """The slice worktree's changes (commits + uncommitted + untracked) if the worktree exists, else its
    branch's, against `base_commit`."""
    import pygit2

    from omk_tui.git.worktrees import WorktreeManager

    sid = slice_view.slice_id
    try:
        main = pygit2.Repository(str(repo))
        base = main.revparse_single(base_commit) if base_commit else main.head.peel(pygit2.Commit)
        base = base.peel(pygit2.Commit)
        wt = slice_view.worktree
        if wt and Path(wt).is_dir() and goal_id:
            d = WorktreeManager(repo, goal_id, str(base.id)).diff(sid)
            return _shown(sid, "worktree (with uncommitted changes)" if d.includes_uncommitted else "worktree", d)
        branch = main.lookup_branch(slice_view.branch) if slice_view.branch else None
        if branch is None:
            if slice_view.commit or slice_view.state in ("committed", "merged"):
                # it had them: removed since (`omk-tui clean`, or by hand)
                why = (f"its worktree and branch {slice_view.branch or '-'} were removed (after `omk-tui clean`?)"
                       + (f"; its commit was {slice_view.commit[:12]}" if slice_view.commit else ""))
                return SliceDiff(slice_id=sid, source=slice_view.branch or "-", error=f"slice {sid}: {why}")
            return SliceDiff(slice_id=sid, source=slice_view.branch or "-",
                             error=f"slice {sid} has no worktree or branch yet")
        tip = branch.peel(pygit2.Commit)
        d = gitdiff.tree_diff(main, base.tree, tip.tree, base=str(base.id), head=str(tip.id))
        return _shown(sid, slice_view.branch, d)
    except Exception as exc:  # pygit2 and the worktree manager raise several kinds; the screen shows the reason
        return SliceDiff(slice_id=sid, source=slice_view.branch or "-", error=f"cannot read the diff: {exc}")
