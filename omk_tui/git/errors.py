"""Git errors that carry a message a person can act on."""

from __future__ import annotations

from pathlib import Path


class GitError(Exception):
    """A git operation could not be done; the message says what happened and what to do."""


class NotARepository(GitError):
    pass


class NoCommits(GitError):
    pass


class DirtyTree(GitError):
    """The main working tree has uncommitted changes."""

    def __init__(self, repo: Path, files: list[str]) -> None:
        self.repo = repo
        self.files = files
        shown = "\n".join(f"  {f}" for f in files[:50])
        more = f"\n  … and {len(files) - 50} more" if len(files) > 50 else ""
        super().__init__(
            f"{repo} has uncommitted changes:\n{shown}{more}\n"
            "Commit or stash them first, or pass --allow-dirty to start from HEAD "
            "(the uncommitted changes are then not included)."
        )


class InvalidName(GitError):
    pass


class BranchConflict(GitError):
    """A branch we need exists but belongs to something else (or is checked out elsewhere)."""


class PathOccupied(GitError):
    pass


class WorktreeDirty(GitError):
    """Removing this worktree would lose uncommitted work."""

    def __init__(self, path: Path, files: list[str]) -> None:
        self.path = path
        self.files = files
        shown = "\n".join(f"  {f}" for f in files[:50])
        more = f"\n  … and {len(files) - 50} more" if len(files) > 50 else ""
        super().__init__(
            f"worktree {path} has uncommitted changes:\n{shown}{more}\n"
            "Commit them to the slice branch first (remove with commit_dirty / `omk-tui clean --commit-dirty`), "
            "or look at them in that folder."
        )
