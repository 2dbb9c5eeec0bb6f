"""Where an agent may read and write: inside its worktree, and for writes inside the slice's write scope.

Backend-neutral: the ACP client checks every `fs/*` request and terminal cwd here; the Wire backend can check
the paths of an approval request the same way. Paths are resolved with realpath, so `..`, absolute paths and
symlinks that lead out of the worktree are all caught by the same test: "is the real path under the real root".
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_FILES = "project files"  # same wildcard as omk_tui.models.tasks.PROJECT_FILES


@dataclass(frozen=True)
class ScopeDecision:
    allowed: bool
    path: Path | None  # the resolved path (None when it could not be resolved)
    rel: str  # path relative to the worktree root ("" when outside)
    reason: str = ""


def _normalise_entry(entry: str) -> str:
    entry = entry.strip().replace("\\", "/")
    while entry.startswith("./"):
        entry = entry[2:]
    return entry.rstrip("/")


class WriteScope:
    """The worktree root plus the write set of the slice (`project files` = anything inside the worktree)."""

    def __init__(self, root: Path | str, write_set: list[str] | None = None, *, read_only: bool = False):
        self.root = Path(os.path.realpath(root))
        entries = [_normalise_entry(e) for e in (write_set if write_set is not None else [PROJECT_FILES])]
        self.entries = [e for e in entries if e]
        self.read_only = read_only

    # ------------------------------------------------------------------ resolution
    def resolve(self, path: str | Path) -> ScopeDecision:
        """Resolve `path` (relative to the root, or absolute) and say whether it stays inside the worktree."""
        raw = str(path)
        if not raw or "\x00" in raw:
            return ScopeDecision(False, None, "", "empty or invalid path")
        candidate = Path(raw).expanduser()
        if not candidate.is_absolute():
            candidate = self.root / candidate
        lexical = Path(os.path.normpath(candidate))
        real = Path(os.path.realpath(candidate))
        if not _is_within(real, self.root):
            if not _is_within(lexical, self.root):
                if ".." in Path(raw).parts:
                    reason = f"{raw!r} escapes the worktree through '..'"
                else:
                    reason = f"{raw!r} is outside the worktree {self.root}"
            else:
                reason = f"{raw!r} goes through a symlink that points outside the worktree (to {real})"
            return ScopeDecision(False, real, "", reason)
        rel = real.relative_to(self.root).as_posix()
        return ScopeDecision(True, real, "" if rel == "." else rel)

    def check_read(self, path: str | Path) -> ScopeDecision:
        return self.resolve(path)

    def check_write(self, path: str | Path) -> ScopeDecision:
        decision = self.resolve(path)
        if not decision.allowed:
            return decision
        if self.read_only:
            return ScopeDecision(False, decision.path, decision.rel, "this session is read-only: no file may be written")
        rel = decision.rel
        if not self.root.is_dir():  # deleted under the agent: writing would make a folder that is no worktree
            return ScopeDecision(False, decision.path, rel, f"the worktree {self.root} no longer exists (it was "
                                 "deleted while the agent worked); nothing was written")
        if rel == "" or rel == ".git" or rel.startswith(".git/"):
            return ScopeDecision(False, decision.path, rel, f"{rel or '.'!r} is not a file the agent may write")
        if self.allows(rel):
            return decision
        return ScopeDecision(
            False, decision.path, rel,
            f"{rel!r} is outside this slice's write scope ({', '.join(self.entries) or 'nothing'})",
        )

    def allows(self, rel: str) -> bool:
        """Whether the worktree-relative path `rel` is inside the write set."""
        for entry in self.entries:
            if entry == PROJECT_FILES or entry == ".":
                return True
            if any(ch in entry for ch in "*?["):
                if fnmatch.fnmatch(rel, entry) or fnmatch.fnmatch(rel, entry + "/*"):
                    return True
                continue
            if rel == entry or rel.startswith(entry + "/"):
                return True
        return False

    def check_cwd(self, cwd: str | Path | None) -> ScopeDecision:
        """A terminal's working directory: the worktree or a folder inside it."""
        if cwd is None:
            return ScopeDecision(True, self.root, "")
        return self.resolve(cwd)


def _is_within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents
