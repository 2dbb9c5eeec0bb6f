"""Git errors that carry a message a person can act on."""

from __future__ import annotations

from pathlib import Path


SHOWN_FILES = 50


def _listed(files: list[str]) -> str:
    """The first `SHOWN_FILES` files, one per indented line, and how many more there are."""
    shown = "\n".join(f"  {f}" for f in files[:SHOWN_FILES])
    more = f"\n  … and {len(files) - SHOWN_FILES} more" if len(files) > SHOWN_FILES else ""
    return shown + more


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
        super().__init__(
            f"{repo} has uncommitted changes:\n{_listed(files)}\n"
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
        super().__init__(
            f"worktree {path} has uncommitted changes:\n{_listed(files)}\n"
            "Look at them in that folder, and commit them to the slice branch (`git add -A && git commit` there) or "
            "discard them; `omk-tui clean` removes the worktree once it is clean."
        )
