"""Branch, worktree and folder names for goals and slices. Pure functions, no pygit2 import (the slice planner and
fast CLI paths use them).

Every name component is kept as given when it is already safe (letters, digits, `.`, `_`, `-`, not starting with
`.` or `-`, not ending with `.lock`, at most 64 characters); otherwise it is sanitised and a short hash of the
original is appended, so two different ids never share a branch, worktree entry or folder.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

BRANCH_PREFIX = "omk"
INTEGRATION = "integration"
AGENT_TMP = ".agent-tmp"
WORKTREES_ENV = "OMK_WORKTREES_DIR"
_SAFE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")
_MAX = 64


def _short_hash(text: str, n: int = 8) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:n]


def safe_component(raw: str) -> str:
    """`raw` as a component valid in a ref name, a worktree name and a folder name."""
    if _SAFE.fullmatch(raw) and len(raw) <= _MAX and not raw.endswith(".lock") and ".." not in raw:
        return raw
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", raw).strip(".-")
    cleaned = re.sub(r"\.{2,}", ".", cleaned)[: _MAX - 9].rstrip(".-") or "x"
    return f"{cleaned}-{_short_hash(raw, 8)}"


def slice_component(slice_id: str) -> str:
    comp = safe_component(slice_id)
    # The integration branch and worktree use the name "integration"; a slice called that must not collide.
    if comp == INTEGRATION:
        comp = f"{INTEGRATION}-{_short_hash('slice:' + slice_id, 8)}"
    return comp


def goal_prefix(goal_id: str) -> str:
    """Every branch of a goal starts with this (`omk/<goal>/`)."""
    return f"{BRANCH_PREFIX}/{safe_component(goal_id)}/"


def slice_branch(goal_id: str, slice_id: str) -> str:
    return goal_prefix(goal_id) + slice_component(slice_id)


def integration_branch(goal_id: str) -> str:
    return goal_prefix(goal_id) + INTEGRATION


def worktree_name_prefix(goal_id: str) -> str:
    return f"omk-{_short_hash(goal_id, 8)}-"


def worktree_name(goal_id: str, slice_id: str) -> str:
    """The name of the worktree entry under `.git/worktrees/` (unique per goal and slice)."""
    return worktree_name_prefix(goal_id) + slice_component(slice_id)


def integration_worktree_name(goal_id: str) -> str:
    return worktree_name_prefix(goal_id) + INTEGRATION


def repo_key(repo_path: Path) -> str:
    """`<repo-name>-<short hash of the repository path>`: one folder per repository under the worktrees root."""
    resolved = Path(repo_path).resolve()
    return f"{safe_component(resolved.name or 'repo')}-{_short_hash(str(resolved), 8)}"


def default_worktrees_base() -> Path:
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "omk-tui" / "worktrees"


def worktrees_base(repo_path: Path, configured: str | None = None) -> Path:
    """The folder holding every repository's worktrees: `OMK_WORKTREES_DIR`, else `[worktrees] dir` from
    `.omk/config.toml` (a relative value is relative to the repository), else the user's data folder."""
    env = os.environ.get(WORKTREES_ENV)
    if env:
        return Path(env).expanduser().resolve()
    if configured:
        p = Path(configured).expanduser()
        return (p if p.is_absolute() else Path(repo_path) / p).resolve()
    return default_worktrees_base().resolve()


def goal_worktrees_dir(base: Path, repo_path: Path, goal_id: str) -> Path:
    return Path(base) / repo_key(repo_path) / safe_component(goal_id)


def agent_tmp_dir(base: Path, repo_path: Path, goal_id: str) -> Path:
    """Where the goal's confined agents get their private TMPDIRs: beside its worktrees (a slice folder never
    starts with a dot, so it cannot collide)."""
    return goal_worktrees_dir(base, repo_path, goal_id) / AGENT_TMP


def slice_worktree_path(base: Path, repo_path: Path, goal_id: str, slice_id: str) -> Path:
    return goal_worktrees_dir(base, repo_path, goal_id) / slice_component(slice_id)


def integration_worktree_path(base: Path, repo_path: Path, goal_id: str) -> Path:
    return goal_worktrees_dir(base, repo_path, goal_id) / INTEGRATION
