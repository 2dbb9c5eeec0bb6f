"""The few git command-line operations delivery needs on the person's own repository: merges into the checked-out
base branch (git's own merge machinery updates the working tree and index safely), pushes, remotes and a
throwaway worktree for re-running gates."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

GIT_TIMEOUT_SECS = 300


@dataclass
class GitRun:
    code: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.code == 0

    @property
    def message(self) -> str:
        return (self.stderr.strip() or self.stdout.strip()).splitlines()[-1] if (self.stderr.strip() or self.stdout.strip()) else ""


def git(repo: Path, *args: str, timeout: float = GIT_TIMEOUT_SECS, env: dict | None = None) -> GitRun:
    import os

    full_env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", **(env or {})}
    try:
        proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=timeout,
                              env=full_env, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return GitRun(124, "", f"git {' '.join(args)} timed out after {timeout:.0f}s")
    except FileNotFoundError:
        return GitRun(127, "", "git is not installed or not on PATH")
    return GitRun(proc.returncode, proc.stdout, proc.stderr)


def rev(repo: Path, ref: str) -> str | None:
    out = git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    return out.stdout.strip() if out.ok else None


def current_branch(repo: Path) -> str | None:
    out = git(repo, "symbolic-ref", "--quiet", "--short", "HEAD")
    return out.stdout.strip() if out.ok else None


def dirty_files(repo: Path) -> list[str]:
    """Uncommitted changes of the main working tree (our own `.omk/` ignores itself)."""
    out = git(repo, "status", "--porcelain=v1", "-z", "--untracked-files=normal")
    files = []
    entries = out.stdout.split("\0")
    i = 0
    while i < len(entries):
        entry = entries[i]
        i += 1
        if not entry:
            continue
        status, path = entry[:2], entry[3:]
        if status[0] in "RC":
            i += 1  # the rename's source path follows
        if not path.startswith(".omk/"):
            files.append(path)
    return files


def is_ancestor(repo: Path, older: str, newer: str) -> bool:
    return git(repo, "merge-base", "--is-ancestor", older, newer).code == 0


def branch_exists(repo: Path, branch: str) -> bool:
    return rev(repo, f"refs/heads/{branch}") is not None


def remote_url(repo: Path, remote: str) -> str | None:
    out = git(repo, "remote", "get-url", remote)
    return out.stdout.strip() if out.ok else None


def normalise_branch(ref: str | None) -> str | None:
    if not ref:
        return None
    return ref.removeprefix("refs/heads/")


@contextlib.contextmanager
def temporary_checkout(repo: Path, commit: str) -> Iterator[Path]:
    """A detached worktree of `commit` outside the repository, removed afterwards (with whatever gates wrote)."""
    parent = Path(tempfile.mkdtemp(prefix="omk-accept-"))
    path = parent / "checkout"
    out = git(repo, "worktree", "add", "--detach", str(path), commit)
    if not out.ok:
        shutil.rmtree(parent, ignore_errors=True)
        raise RuntimeError(f"could not check out {commit[:12]} for the gate re-check: {out.message}")
    try:
        yield path
    finally:
        git(repo, "worktree", "remove", "--force", str(path))
        shutil.rmtree(parent, ignore_errors=True)
        git(repo, "worktree", "prune")
