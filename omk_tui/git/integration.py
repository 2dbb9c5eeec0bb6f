"""The goal's integration branch: slice branches merged in slice order, conflicts detected in memory first.

A merge is computed as an in-memory index (`merge_commits`); only a clean result becomes a commit object, and the
branch ref moves to it. Nothing is ever checked out half-merged, in a worktree or in the main tree.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pygit2
from pygit2.enums import ResetMode

from omk_tui.git import naming
from omk_tui.git.diff import ChangedFile, changed_paths, tree_diff
from omk_tui.git.errors import GitError
from omk_tui.git.repo import open_repository, resolve_commit, signature, workdir_of
from omk_tui.git.worktrees import checkout_worktree, resolve_worktrees_base

MAX_HUNK_CHARS = 20_000


@dataclass(frozen=True)
class ConflictEvidence:
    slice_id: str
    files: list[str]
    hunks: dict[str, str]  # file -> the conflicting regions with both sides, labelled
    against: list[str]  # slices already merged that touched those files

    def to_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        who = ", ".join(self.against) or "the integration branch"
        return f"slice {self.slice_id} conflicts with {who} in {', '.join(self.files)}"


@dataclass(frozen=True)
class MergeOutcome:
    slice_id: str
    branch: str
    status: str  # merged | fast_forward | already_merged | empty | conflict
    head: str  # the integration branch's head after this call
    conflict: ConflictEvidence | None = None

    @property
    def ok(self) -> bool:
        return self.conflict is None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    summary: str
    author: str
    parents: list[str] = field(default_factory=list)


class Integrator:
    """Merges a goal's slice branches into `omk/<goal-id>/integration`, cut from the base commit."""

    def __init__(
        self, repo_path: Path | str, goal_id: str, base_commit: str, *, root: Path | str | None = None
    ) -> None:
        repo = open_repository(repo_path)
        self.repo_path = workdir_of(repo)
        self.goal_id = goal_id
        self.base_commit = str(resolve_commit(repo, base_commit).id)
        self._root = root
        self.branch = naming.integration_branch(goal_id)
        self.ref_name = "refs/heads/" + self.branch
        self._names: dict[str, str] = {}  # branch -> slice id, as given to merge() (evidence names slices)
        self.ensure_branch()

    def _repo(self) -> pygit2.Repository:
        return pygit2.Repository(str(self.repo_path))

    def ensure_branch(self) -> str:
        """Create the integration branch at the base commit when missing (kept as is when resuming)."""
        repo = self._repo()
        ref = repo.references.get(self.ref_name)
        if ref is None:
            repo.branches.local.create(self.branch, repo[self.base_commit].peel(pygit2.Commit))
            return self.base_commit
        tip = ref.peel(pygit2.Commit).id
        if str(tip) != self.base_commit and not repo.descendant_of(tip, pygit2.Oid(hex=self.base_commit)):
            raise GitError(
                f"branch {self.branch} exists but does not descend from the goal's base commit "
                f"{self.base_commit[:12]}; it belongs to something else. Rename or delete it and try again."
            )
        return str(tip)

    @property
    def head(self) -> str:
        return str(self._repo().references[self.ref_name].peel(pygit2.Commit).id)

    def merge(self, slice_id: str, branch: str | None = None) -> MergeOutcome:
        """Merge a slice branch into the integration branch.

        Fast-forwards when the integration branch has nothing the slice lacks (the first slice), otherwise makes a
        two-parent merge commit. A conflict changes nothing and comes back as evidence.
        """
        branch = branch or naming.slice_branch(self.goal_id, slice_id)
        repo = self._repo()
        ref = repo.references.get(self.ref_name)
        if ref is None:
            self.ensure_branch()
            ref = repo.references[self.ref_name]
        ours = ref.peel(pygit2.Commit)
        slice_ref = repo.references.get("refs/heads/" + branch)
        if slice_ref is None:
            raise GitError(f"slice {slice_id!r}: branch {branch} does not exist; nothing to merge.")
        theirs = slice_ref.peel(pygit2.Commit)
        self._names[branch] = slice_id
        if str(theirs.id) == self.base_commit:
            return MergeOutcome(slice_id, branch, "empty", str(ours.id))
        if theirs.id == ours.id or repo.descendant_of(ours.id, theirs.id):
            return MergeOutcome(slice_id, branch, "already_merged", str(ours.id))
        if repo.descendant_of(theirs.id, ours.id):
            ref.set_target(theirs.id, f"omk: fast-forward {self.branch} to slice {slice_id}")
            return MergeOutcome(slice_id, branch, "fast_forward", str(theirs.id))
        index = repo.merge_commits(ours, theirs)
        if index.conflicts is not None:
            evidence = self._evidence(repo, slice_id, branch, index, ours, theirs)
            return MergeOutcome(slice_id, branch, "conflict", str(ours.id), evidence)
        tree = index.write_tree(repo)
        sig = signature(repo)
        message = (
            f"omk: merge slice {slice_id} into {self.branch}\n\n"
            f"Omk-Goal: {self.goal_id}\nOmk-Slice: {slice_id}\n"
        )
        # create_commit checks that the ref still points at `ours` (its first parent) before moving it.
        new = repo.create_commit(self.ref_name, sig, sig, message, tree, [ours.id, theirs.id])
        return MergeOutcome(slice_id, branch, "merged", str(new))

    @staticmethod
    def _was_merged(repo: pygit2.Repository, tip: pygit2.Oid, head: pygit2.Oid) -> bool:
        return tip == head or repo.descendant_of(head, tip)

    def _evidence(
        self,
        repo: pygit2.Repository,
        slice_id: str,
        branch: str,
        index: pygit2.Index,
        ours: pygit2.Commit,
        theirs: pygit2.Commit,
    ) -> ConflictEvidence:
        files: list[str] = []
        hunks: dict[str, str] = {}
        ours_label = f"integration ({self.branch})"
        theirs_label = f"slice {slice_id} ({branch})"
        for ancestor, our, their in index.conflicts:
            path = next(e.path for e in (our, their, ancestor) if e is not None)
            files.append(path)
            hunks[path] = _conflict_text(repo, ancestor, our, their, ours_label, theirs_label)
        files = sorted(dict.fromkeys(files))
        return ConflictEvidence(slice_id, files, hunks, self._merged_slices_touching(repo, set(files), ours, branch))

    def _merged_slices_touching(
        self, repo: pygit2.Repository, files: set[str], head: pygit2.Commit, skip_branch: str
    ) -> list[str]:
        """Slice branches of this goal contained in the integration head whose changes touch `files`."""
        base_tree = repo[self.base_commit].peel(pygit2.Tree)
        prefix = naming.goal_prefix(self.goal_id)
        found = []
        for name in sorted(repo.branches.local):
            if not name.startswith(prefix) or name in (self.branch, skip_branch):
                continue
            tip = repo.branches.local[name].peel(pygit2.Commit)
            if str(tip.id) == self.base_commit or not self._was_merged(repo, tip.id, head.id):
                continue
            if changed_paths(repo, base_tree, tip.tree) & files:
                found.append(self._names.get(name, name[len(prefix) :]))
        return found

    # results ---------------------------------------------------------------------------------------------------
    def changed_files(self) -> list[ChangedFile]:
        repo = self._repo()
        head = repo.references[self.ref_name].peel(pygit2.Commit)
        diff = tree_diff(
            repo,
            repo[self.base_commit].peel(pygit2.Tree),
            head.tree,
            base=self.base_commit,
            head=str(head.id),
            with_patch=False,
        )
        return [ChangedFile(f.path, f.status) for f in diff.files]

    def diff(self, *, with_patch: bool = True):
        repo = self._repo()
        head = repo.references[self.ref_name].peel(pygit2.Commit)
        return tree_diff(
            repo,
            repo[self.base_commit].peel(pygit2.Tree),
            head.tree,
            base=self.base_commit,
            head=str(head.id),
            with_patch=with_patch,
        )

    def commits(self) -> list[CommitInfo]:
        """Commits on the integration branch that the base does not have, oldest first."""
        repo = self._repo()
        walker = repo.walk(repo.references[self.ref_name].target, pygit2.enums.SortMode.TOPOLOGICAL)
        walker.hide(pygit2.Oid(hex=self.base_commit))
        out = [
            CommitInfo(str(c.id), c.message.splitlines()[0] if c.message else "", c.author.name, [str(p) for p in c.parent_ids])
            for c in walker
        ]
        out.reverse()
        return out

    # materialised worktree ---------------------------------------------------------------------------------------
    @property
    def worktree_path(self) -> Path:
        base = resolve_worktrees_base(self.repo_path, self._root)
        return naming.integration_worktree_path(base, self.repo_path, self.goal_id)

    def materialize(self, path: Path | str | None = None) -> Path:
        """Check out the integration branch in its own worktree (for gates). Called again, it brings that
        worktree to the branch's current head; changes made there (by gates) are discarded, untracked files kept."""
        target = Path(path) if path is not None else self.worktree_path
        repo = self._repo()
        self.ensure_branch()
        out = checkout_worktree(
            repo,
            name=naming.integration_worktree_name(self.goal_id),
            path=target,
            branch=self.branch,
            base_commit=self.base_commit,
        )
        wrepo = pygit2.Repository(str(out))
        head = wrepo.references[self.ref_name].target
        # The ref moves under the worktree when merges land; align its index and files with it.
        if wrepo.index.write_tree() != wrepo[head].peel(pygit2.Commit).tree_id or _has_tracked_changes(wrepo):
            wrepo.reset(head, ResetMode.HARD)
        return out


def _has_tracked_changes(repo: pygit2.Repository) -> bool:
    return any(
        not (flags & pygit2.enums.FileStatus.WT_NEW)
        for flags in repo.status(untracked_files="no", ignored=False).values()
        if flags != pygit2.enums.FileStatus.CURRENT
    )


_MARKER = re.compile(r"^(<{7}|={7}|>{7}|\|{7})( .*)?$")


def _blob_text(repo: pygit2.Repository, entry) -> str | None:
    if entry is None:
        return None
    blob = repo[entry.id]
    if blob.is_binary:
        return None
    return blob.data.decode("utf-8", errors="replace")


def _conflict_text(repo, ancestor, ours, theirs, ours_label: str, theirs_label: str) -> str:
    """The conflicting regions of one file with both sides labelled; whole-file descriptions for add/delete,
    binary and mode conflicts."""
    if ours is None or theirs is None:
        gone, kept, entry = (ours_label, theirs_label, theirs) if ours is None else (theirs_label, ours_label, ours)
        body = _blob_text(repo, entry)
        text = f"deleted in {gone}, changed in {kept}"
        return _cap(text + (f":\n{body}" if body is not None else " (binary)"))
    if _blob_text(repo, ours) is None or _blob_text(repo, theirs) is None:
        return f"binary file changed on both sides ({ours_label}: {ours.id}, {theirs_label}: {theirs.id})"
    if ancestor is None:
        merged = repo.merge_file_from_index(None, ours, theirs)
    else:
        merged = repo.merge_file_from_index(ancestor, ours, theirs)
    contents = merged.contents if hasattr(merged, "contents") else str(merged)
    regions: list[str] = []
    current: list[str] | None = None
    for line in contents.splitlines():
        m = _MARKER.match(line)
        if m and m.group(1).startswith("<"):
            current = [f"<<<<<<< {ours_label}"]
        elif current is not None and m and m.group(1).startswith("="):
            current.append("=======")
        elif current is not None and m and m.group(1).startswith(">"):
            current.append(f">>>>>>> {theirs_label}")
            regions.append("\n".join(current))
            current = None
        elif current is not None:
            current.append(line)
    if not regions:
        return f"both sides changed this file in ways git cannot combine (mode or type change); {ours_label} vs {theirs_label}"
    return _cap("\n...\n".join(regions))


def _cap(text: str) -> str:
    return text if len(text) <= MAX_HUNK_CHARS else text[:MAX_HUNK_CHARS] + "\n… (truncated)"
