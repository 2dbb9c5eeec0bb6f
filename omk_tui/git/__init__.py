"""Git through pygit2: the base repository, per-slice worktrees, the integration branch, cleanup.

Names are imported lazily so that `omk_tui.git.naming` (pure, used by the slice planner) does not pull in pygit2.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "GitError": "errors",
    "NotARepository": "errors",
    "NoCommits": "errors",
    "DirtyTree": "errors",
    "InvalidName": "errors",
    "BranchConflict": "errors",
    "PathOccupied": "errors",
    "WorktreeDirty": "errors",
    "BaseRepo": "repo",
    "open_base": "repo",
    "ChangedFile": "diff",
    "FileDiff": "diff",
    "SliceDiff": "diff",
    "WorktreeManager": "worktrees",
    "WorktreeInfo": "worktrees",
    "resolve_worktrees_base": "worktrees",
    "Integrator": "integration",
    "MergeOutcome": "integration",
    "ConflictEvidence": "integration",
    "CommitInfo": "integration",
    "CleanupReport": "cleanup",
    "BranchCleanup": "cleanup",
    "remove_goal_worktrees": "cleanup",
    "delete_merged_branches": "cleanup",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'omk_tui.git' has no attribute {name!r}")
    return getattr(importlib.import_module(f"omk_tui.git.{module}"), name)
