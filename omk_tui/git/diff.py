"""Changed files and diffs: what a slice changed, as data the review wall, proof and UI can use."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import pygit2
from pygit2.enums import DeltaStatus, DiffFind, FileStatus


@dataclass(frozen=True)
class ChangedFile:
    path: str
    status: str  # added | modified | deleted | renamed | typechange | untracked | conflicted
    staged: bool = False  # the change is in the index (for worktree status)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class FileDiff:
    path: str
    status: str  # added | modified | deleted | renamed | copied | typechange
    additions: int
    deletions: int
    old_path: str | None = None  # set for renames/copies
    binary: bool = False


@dataclass(frozen=True)
class SliceDiff:
    base: str  # sha the diff starts from
    head: str  # sha of the worktree's HEAD (or the compared commit)
    files: list[FileDiff] = field(default_factory=list)
    patch: str = ""
    includes_uncommitted: bool = False  # the worktree had uncommitted (or untracked) changes, included here

    @property
    def additions(self) -> int:
        return sum(f.additions for f in self.files)

    @property
    def deletions(self) -> int:
        return sum(f.deletions for f in self.files)

    @property
    def paths(self) -> list[str]:
        return [f.path for f in self.files]

    def to_dict(self) -> dict:
        d = asdict(self)
        d["additions"], d["deletions"] = self.additions, self.deletions
        return d


_DELTA = {
    DeltaStatus.ADDED: "added",
    DeltaStatus.DELETED: "deleted",
    DeltaStatus.MODIFIED: "modified",
    DeltaStatus.RENAMED: "renamed",
    DeltaStatus.COPIED: "copied",
    DeltaStatus.TYPECHANGE: "typechange",
}


def is_excluded(path: str, exclude: tuple[str, ...]) -> bool:
    return any(path == e or path.startswith(e + "/") for e in exclude)


def status_entries(repo: pygit2.Repository, *, exclude: tuple[str, ...] = ()) -> list[ChangedFile]:
    """Files that differ from HEAD in `repo`'s index or working tree (untracked included, ignored not)."""
    out = []
    for path, flags in repo.status(untracked_files="all", ignored=False).items():
        if flags == FileStatus.CURRENT or flags & FileStatus.IGNORED:
            continue
        if flags & FileStatus.WT_NEW and is_excluded(path, exclude):
            continue
        out.append(ChangedFile(path, _status_word(flags), staged=_staged(flags)))
    return sorted(out, key=lambda c: c.path)


def _staged(flags: int) -> bool:
    return bool(
        flags
        & (
            FileStatus.INDEX_NEW
            | FileStatus.INDEX_MODIFIED
            | FileStatus.INDEX_DELETED
            | FileStatus.INDEX_RENAMED
            | FileStatus.INDEX_TYPECHANGE
        )
    )


def _status_word(flags: int) -> str:
    if flags & FileStatus.CONFLICTED:
        return "conflicted"
    if flags & (FileStatus.INDEX_DELETED | FileStatus.WT_DELETED):
        return "deleted"
    if flags & FileStatus.INDEX_NEW:
        return "added"
    if flags & FileStatus.WT_NEW:
        return "untracked"
    if flags & (FileStatus.INDEX_RENAMED | FileStatus.WT_RENAMED):
        return "renamed"
    if flags & (FileStatus.INDEX_TYPECHANGE | FileStatus.WT_TYPECHANGE):
        return "typechange"
    return "modified"


def stage_all(repo: pygit2.Repository, *, exclude: tuple[str, ...] = ()) -> pygit2.Index:
    """`repo`'s index with every change of the working tree staged (like `git add -A`), not written to disk.

    Untracked files under `exclude` (files copied in from the main tree, such as `.env`) are left out unless the
    project tracks them. The caller decides whether to `write()` the index.
    """
    index = repo.index
    index.read(force=True)
    index.add_all()  # like `git add -A`: new, modified and deleted files
    if exclude:
        head_tree = None if repo.head_is_unborn else repo.head.peel(pygit2.Commit).tree
        for path in [e.path for e in index if is_excluded(e.path, exclude)]:
            if head_tree is None or path not in head_tree:
                index.remove(path)
    return index


def tree_diff(
    repo: pygit2.Repository,
    old: pygit2.Tree,
    new: pygit2.Tree,
    *,
    base: str,
    head: str,
    includes_uncommitted: bool = False,
    with_patch: bool = True,
) -> SliceDiff:
    diff = repo.diff(old, new)
    diff.find_similar(DiffFind.FIND_RENAMES)
    files = []
    for patch in diff:
        delta = patch.delta
        _, adds, dels = patch.line_stats
        status = _DELTA.get(delta.status, "modified")
        old_path = delta.old_file.path if status in ("renamed", "copied") else None
        files.append(FileDiff(delta.new_file.path, status, adds, dels, old_path, delta.is_binary))
    return SliceDiff(
        base=base,
        head=head,
        files=files,
        patch=(diff.patch or "") if with_patch else "",
        includes_uncommitted=includes_uncommitted,
    )


def changed_paths(repo: pygit2.Repository, old: pygit2.Tree, new: pygit2.Tree) -> set[str]:
    """Every path added, removed or modified between two trees (both sides of a rename)."""
    paths = set()
    for delta in repo.diff(old, new).deltas:
        paths.add(delta.new_file.path)
        paths.add(delta.old_file.path)
    return paths
