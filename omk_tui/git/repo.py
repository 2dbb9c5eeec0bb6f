"""The base repository a goal starts from: checks that it can be used, and the commit the goal is cut from."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pygit2
from pygit2.enums import FileStatus

from omk_tui.git.errors import DirtyTree, GitError, NoCommits, NotARepository

# libgit2 checks, for every tree it writes, that each entry's object exists: one odb lookup per file, most of the
# cost of committing or merging in a 5,000-file repository. Our trees are always built from objects just read or
# written (index, merge), so the check buys nothing here. Process-wide: set once when the git package loads.
pygit2.settings.enable_strict_object_creation(False)

OMK_STATE_DIR = ".omk/"
FALLBACK_AUTHOR = ("omk-tui", "omk-tui@localhost")


@dataclass(frozen=True)
class BaseRepo:
    path: Path  # the main working tree's root
    base_commit: str  # full sha the goal's branches are cut from
    base_ref: str | None  # branch name HEAD is on ("main"); None for a detached HEAD
    dirty_files: tuple[str, ...] = ()  # uncommitted changes left out (only with allow_dirty)
    notes: tuple[str, ...] = field(default_factory=tuple)  # things a person should be told

    @property
    def detached(self) -> bool:
        return self.base_ref is None


def open_repository(repo_path: Path | str) -> pygit2.Repository:
    """The repository whose working tree contains `repo_path`, or NotARepository."""
    path = Path(repo_path)
    if not path.exists():
        raise NotARepository(f"{path} does not exist. Run omk-tui inside a git repository or pass --repo PATH.")
    found = pygit2.discover_repository(str(path))
    if found is None:
        raise NotARepository(
            f"{path} is not inside a git repository. Run `git init` and commit your project first, "
            "or pass --repo PATH of a git repository."
        )
    repo = pygit2.Repository(found)
    if repo.is_bare or repo.workdir is None:
        raise NotARepository(f"{found} is a bare repository (no working tree); omk-tui needs a checkout.")
    return repo


def workdir_of(repo: pygit2.Repository) -> Path:
    return Path(repo.workdir).resolve()


def dirty_files(repo: pygit2.Repository, *, skip_prefixes: tuple[str, ...] = (OMK_STATE_DIR,)) -> list[str]:
    """Paths with uncommitted changes (tracked changes and untracked, not ignored, files; an untracked folder is
    listed once, with a trailing `/`). Reading status never rewrites the index."""
    out = []
    for path, flags in repo.status(untracked_files="normal", ignored=False).items():
        if flags == FileStatus.CURRENT or flags & FileStatus.IGNORED:
            continue
        if any(path.startswith(p) for p in skip_prefixes):
            continue
        out.append(path)
    return sorted(out)


def open_base(repo_path: Path | str, *, allow_dirty: bool = False) -> BaseRepo:
    """Check the repository a goal will run on and return the commit its branches are cut from.

    Refuses: not a git repository, a repository with no commit, and a dirty main tree unless `allow_dirty`
    (then the goal starts from HEAD and `notes` says the uncommitted changes are not included). A detached HEAD
    works from the HEAD commit (`base_ref` is None).
    """
    repo = open_repository(repo_path)
    root = workdir_of(repo)
    if repo.head_is_unborn or repo.is_empty:
        raise NoCommits(
            f"{root} has no commits yet. Commit your project first (git add -A && git commit -m 'initial'): "
            "slices are branches cut from a commit."
        )
    head_commit = repo.head.peel(pygit2.Commit)
    base_ref = None if repo.head_is_detached else repo.head.shorthand
    notes: list[str] = []
    if base_ref is None:
        notes.append(f"HEAD is detached; the goal starts from commit {str(head_commit.id)[:12]}.")
    dirty = dirty_files(repo)
    if dirty and not allow_dirty:
        raise DirtyTree(root, dirty)
    if dirty:
        notes.append(
            f"{len(dirty)} uncommitted change(s) in {root} are not included; the goal starts from HEAD "
            f"({str(head_commit.id)[:12]})."
        )
    return BaseRepo(
        path=root,
        base_commit=str(head_commit.id),
        base_ref=base_ref,
        dirty_files=tuple(dirty),
        notes=tuple(notes),
    )


def signature(repo: pygit2.Repository) -> pygit2.Signature:
    """Author/committer: GIT_AUTHOR_NAME/EMAIL when set, else git config user.name/email, else omk-tui."""
    env_name, env_mail = os.environ.get("GIT_AUTHOR_NAME"), os.environ.get("GIT_AUTHOR_EMAIL")
    if env_name and env_mail:
        return pygit2.Signature(env_name, env_mail)
    try:
        return repo.default_signature
    except (KeyError, pygit2.GitError, ValueError):
        return pygit2.Signature(*FALLBACK_AUTHOR)


def common_dir(repo: pygit2.Repository) -> Path:
    """The shared git folder (`<main>/.git`) even when `repo` is a linked worktree."""
    git_dir = Path(repo.path)
    pointer = git_dir / "commondir"
    if pointer.exists():
        target = Path(pointer.read_text(encoding="utf-8").strip())
        return (target if target.is_absolute() else git_dir / target).resolve()
    return git_dir.resolve()


def resolve_commit(repo: pygit2.Repository, rev: str) -> pygit2.Commit:
    try:
        return repo.revparse_single(rev).peel(pygit2.Commit)
    except (KeyError, ValueError, pygit2.GitError) as exc:
        raise GitError(f"{rev!r} is not a commit in {workdir_of(repo)}: {exc}") from exc
