"""What a change is, read once from git: the changed files, their old/new text and their added lines.

The wall reads commits (base..head) or, with no head, a worktree's current files (including untracked ones),
so a slice can be reviewed before or after its commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pygit2

MAX_TEXT_BYTES = 512 * 1024  # larger files are only size-checked (and flagged by the security pass)
MAX_PATCH_CHARS = 200_000


@dataclass
class FileChange:
    path: str
    status: str  # A added | M modified | D deleted | R renamed
    old_path: str | None = None
    binary: bool = False
    new_size: int = 0
    old_text: str | None = None
    new_text: str | None = None
    added: list[tuple[int, str]] = field(default_factory=list)  # (line number in the new file, text)
    removed: list[str] = field(default_factory=list)

    @property
    def deleted(self) -> bool:
        return self.status == "D"

    @property
    def added_line_numbers(self) -> set[int]:
        return {n for n, _ in self.added}


@dataclass
class Change:
    base: str
    head: str | None
    files: list[FileChange]
    patch: str = ""

    @property
    def paths(self) -> list[str]:
        return [f.path for f in self.files]

    def by_path(self) -> dict[str, FileChange]:
        return {f.path: f for f in self.files}


_STATUS = {"A": "A", "?": "A", "M": "M", "D": "D", "R": "R", "C": "A", "T": "M"}


def _blob_text(repo: pygit2.Repository, oid: pygit2.Oid, size_hint: int) -> tuple[str | None, int]:
    if oid == pygit2.Oid(hex="0" * 40):
        return None, 0
    try:
        blob = repo[oid]
    except (KeyError, ValueError):
        return None, size_hint
    data = blob.data
    if len(data) > MAX_TEXT_BYTES or b"\0" in data[:8192]:
        return None, len(data)
    return data.decode("utf-8", errors="replace"), len(data)


def _work_text(root: Path, rel: str) -> tuple[str | None, int]:
    p = root / rel
    try:
        size = p.stat().st_size
    except OSError:
        return None, 0
    if size > MAX_TEXT_BYTES:
        return None, size
    data = p.read_bytes()
    if b"\0" in data[:8192]:
        return None, size
    return data.decode("utf-8", errors="replace"), size


def _excluded(path: str, exclude: list[str]) -> bool:
    return any(path == e.strip("/") or path.startswith(e.strip("/") + "/") for e in exclude)


def collect_change(repo_path: Path, base: str, head: str | None = None, *, exclude: list[str] | None = None) -> Change:
    """The change from `base` to `head` (a commit-ish), or to the working tree of `repo_path` when head is None.

    `exclude` drops paths that are not the change's (files copied into a worktree, such as a `.env`)."""
    exclude = list(exclude or [])
    repo = pygit2.Repository(str(repo_path))
    base_commit = repo.revparse_single(base).peel(pygit2.Commit)
    if head is None:
        flags = (
            pygit2.enums.DiffOption.INCLUDE_UNTRACKED
            | pygit2.enums.DiffOption.RECURSE_UNTRACKED_DIRS
            | pygit2.enums.DiffOption.SHOW_UNTRACKED_CONTENT
        )
        diff = base_commit.tree.diff_to_workdir(flags, 0)
    else:
        head_commit = repo.revparse_single(head).peel(pygit2.Commit)
        head = str(head_commit.id)
        diff = repo.diff(base_commit, head_commit, context_lines=0)
    diff.find_similar()
    root = Path(repo.workdir) if repo.workdir else Path(repo_path)
    files: list[FileChange] = []
    texts: list[str] = []
    for patch in diff:
        delta = patch.delta
        status = _STATUS.get(delta.status_char(), "M")
        if _excluded(delta.new_file.path, exclude) or _excluded(delta.old_file.path, exclude):
            continue
        fc = FileChange(path=delta.new_file.path, status=status, binary=delta.is_binary)
        if status == "R":
            fc.old_path = delta.old_file.path
        if status == "D":
            fc.path = delta.old_file.path
        if status in ("M", "D", "R"):
            fc.old_text, _ = _blob_text(repo, delta.old_file.id, delta.old_file.size)
        if status != "D":
            if head is None:
                fc.new_text, fc.new_size = _work_text(root, fc.path)
            else:
                fc.new_text, fc.new_size = _blob_text(repo, delta.new_file.id, delta.new_file.size)
            if fc.new_text is None and fc.new_size == 0:
                fc.new_size = delta.new_file.size
        for hunk in patch.hunks:
            for line in hunk.lines:
                text = line.content.rstrip("\n").rstrip("\r")
                if line.origin == "+":
                    fc.added.append((line.new_lineno, text))
                elif line.origin == "-":
                    fc.removed.append(text)
        files.append(fc)
        texts.append(patch.text or "")
    patch_text = "".join(texts)
    if len(patch_text) > MAX_PATCH_CHARS:
        patch_text = patch_text[:MAX_PATCH_CHARS] + "\n[... diff truncated ...]\n"
    return Change(base=str(base_commit.id), head=head, files=files, patch=patch_text)
