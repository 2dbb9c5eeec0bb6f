"""Helpers shared by the git tests: real repositories built with the git CLI in temp folders."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Test Author",
    "GIT_COMMITTER_EMAIL": "author@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *args: str, check: bool = True) -> str:
    env = {**os.environ, **GIT_ENV}
    out = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True)
    if check and out.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {out.stderr}")
    return out.stdout


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


def make_repo(path: Path, files: dict[str, str] | None = None, *, user: bool = True) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    if user:
        git(path, "config", "user.name", "Repo User")
        git(path, "config", "user.email", "repo@example.com")
    write(path, files or {"README.md": "hello\n", "src/app.py": "print('hi')\n"})
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "initial")
    return path


def head_sha(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD").strip()


def tree_fingerprint(repo: Path) -> dict[str, str]:
    """Hash of every file of the main tree (outside .git), plus HEAD and the raw index bytes."""
    out = {}
    for p in sorted(repo.rglob("*")):
        rel = p.relative_to(repo).as_posix()
        if rel == ".git" or rel.startswith(".git/"):
            continue
        if p.is_file():
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    out[".git/HEAD"] = (repo / ".git" / "HEAD").read_text()
    out[".git/index"] = hashlib.sha256((repo / ".git" / "index").read_bytes()).hexdigest()
    return out


@pytest.fixture
def wt_root(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "worktrees"
    monkeypatch.setenv("OMK_WORKTREES_DIR", str(root))
    return root


@pytest.fixture
def repo(tmp_path, wt_root) -> Path:
    return make_repo(tmp_path / "proj")
