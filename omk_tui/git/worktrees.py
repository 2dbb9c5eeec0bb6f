"""One git worktree per slice, outside the main working tree, on branch `omk/<goal-id>/<slice-id>`.

Only the shared object store and refs of the repository change; the main tree's HEAD, index and files are never
touched. A worktree with uncommitted work is never deleted.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Iterable, Sequence

import pygit2

from omk_tui.git import naming
from omk_tui.git.diff import ChangedFile, SliceDiff, stage_all, status_entries, tree_diff
from omk_tui.git.errors import BranchConflict, GitError, InvalidName, PathOccupied, WorktreeDirty
from omk_tui.git.repo import common_dir, open_repository, resolve_commit, signature, workdir_of

PROTECTED_FILES = frozenset({"AGENTS.md"})


@dataclass(frozen=True)
class WorktreeInfo:
    name: str  # entry name under .git/worktrees/
    path: Path
    branch: str | None  # short branch name checked out there; None when detached
    head: str | None  # sha of its HEAD; None when the folder is gone
    slice_id: str | None  # the slice component of the branch, for this goal's slice branches
    prunable: bool  # the folder is gone: the entry is stale


def resolve_worktrees_base(repo_path: Path, root: Path | str | None = None) -> Path:
    """`root` when given, else OMK_WORKTREES_DIR, else `[worktrees] dir` of `.omk/config.toml`, else the data
    folder. Refuses a folder inside the main working tree (tools walking the project would see the worktrees)."""
    if root is not None:
        base = Path(root).expanduser().resolve()
    else:
        from omk_tui.config import load_config

        base = naming.worktrees_base(repo_path, load_config(repo_path).worktrees.dir)
    main = Path(repo_path).resolve()
    if base == main or main in base.parents:
        raise GitError(
            f"the worktrees folder {base} is inside the repository {main}; test runners and file watchers "
            "would see every slice. Set [worktrees] dir in .omk/config.toml or OMK_WORKTREES_DIR to a folder "
            "outside the repository."
        )
    return base


def goal_agent_tmp(repo_path: Path, goal_id: str) -> Path | None:
    """Where the goal's confined agents get their private TMPDIRs (beside its worktrees, outside the main tree), or
    None when the worktrees folder is misconfigured (creating a worktree says why)."""
    repo = Path(repo_path).resolve()
    try:
        return naming.agent_tmp_dir(resolve_worktrees_base(repo), repo, goal_id)
    except GitError:
        return None


def normalise_copy_files(entries: Iterable[str]) -> tuple[str, ...]:
    out = []
    for raw in entries:
        p = PurePosixPath(raw.replace("\\", "/"))
        if p.is_absolute() or ".." in p.parts or not p.parts or p.parts[0] == ".git":
            raise GitError(
                f"[worktrees] copy_files entry {raw!r} must be a relative path inside the project "
                "(no absolute path, no `..`, not under .git)."
            )
        out.append(str(p))
    return tuple(dict.fromkeys(out))


def worktree_head_ref(common: Path, name: str) -> str | None:
    """What a linked worktree's HEAD points to (`refs/heads/...`), or None when detached/unknown."""
    try:
        text = (common / "worktrees" / name / "HEAD").read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return text[5:].strip() if text.startswith("ref:") else None


def list_entries(repo: pygit2.Repository) -> list[WorktreeInfo]:
    common = common_dir(repo)
    infos = []
    for name in repo.list_worktrees():
        wt = repo.lookup_worktree(name)
        ref = worktree_head_ref(common, name)
        branch = ref[len("refs/heads/") :] if ref and ref.startswith("refs/heads/") else None
        path = Path(wt.path)
        head = None
        if not wt.is_prunable:
            try:
                head = str(pygit2.Repository(str(path)).head.target)
            except (pygit2.GitError, KeyError, ValueError):
                head = None
        infos.append(WorktreeInfo(name, path, branch, head, None, wt.is_prunable))
    return infos


# The files libgit2 needs to see a `.git/worktrees/<name>` folder as an entry.
_ENTRY_FILES = ("gitdir", "commondir", "HEAD")
# Written into the entry once the worktree's checkout (and copied files) are complete: a worktree without it, and
# without an index, was being made when its process died (part of its files missing), and no agent worked in it.
CHECKED_OUT = "omk-checked-out"


def drop_broken_entries(repo: pygit2.Repository) -> list[str]:
    """Delete `.git/worktrees/<name>` folders that are not whole entries (left by a failed or killed worktree
    creation; metadata only), as `git worktree prune` does for those without `gitdir`. libgit2 misreads them:
    without `gitdir` it may report every branch as checked out; without `commondir` or `HEAD` it does not list
    the entry but refuses to create a worktree of that name over it."""
    entries = common_dir(repo) / "worktrees"
    dropped = []
    if entries.is_dir():
        for d in entries.iterdir():
            if d.is_dir() and not all((d / f).exists() for f in _ENTRY_FILES):
                shutil.rmtree(d, ignore_errors=True)
                dropped.append(d.name)
    return dropped


def repair_links(common: Path, name: str) -> None:
    """Make a worktree entry's links what git writes and what still holds once the repository folder is moved:
    `commondir` relative (`../..`; libgit2 writes an absolute path, and a stale one makes plain git fail in the
    whole repository: "fatal: Invalid path"), and the worktree's `.git` file naming this entry when the entry it
    names is gone (the repository was moved; `git worktree repair` does the same)."""
    entry = common / "worktrees" / name
    try:
        if (entry / "commondir").read_text(encoding="utf-8").strip() != "../..":
            (entry / "commondir").write_text("../..\n", encoding="utf-8")
        dot_git = Path((entry / "gitdir").read_text(encoding="utf-8").strip())
        link = dot_git.read_text(encoding="utf-8").strip() if dot_git.is_file() else ""
        if link.startswith("gitdir:") and not (dot_git.parent / link[len("gitdir:"):].strip()).is_dir():
            dot_git.write_text(f"gitdir: {entry}\n", encoding="utf-8")
    except OSError:
        pass  # an entry that is not whole: `drop_broken_entries` and pruning deal with it


def prune_stale(repo: pygit2.Repository, names: Iterable[str] | None = None) -> list[str]:
    """Drop worktree entries whose folder is gone (all of them, or only `names`), and broken entries; mend the
    links of the others (`repair_links`). Returns the pruned names."""
    wanted = set(names) if names is not None else None
    pruned = drop_broken_entries(repo)
    common = common_dir(repo)
    for name in repo.list_worktrees():
        if wanted is not None and name not in wanted:
            continue
        repair_links(common, name)
        wt = repo.lookup_worktree(name)
        if wt.is_prunable and not Path(wt.path).exists():
            wt.prune(True)
            pruned.append(name)
    return pruned


class WorktreeManager:
    """The slice worktrees of one goal."""

    def __init__(
        self,
        repo_path: Path | str,
        goal_id: str,
        base_commit: str,
        *,
        root: Path | str | None = None,
        copy_files: Sequence[str] | None = None,
    ) -> None:
        repo = open_repository(repo_path)
        self.repo_path = workdir_of(repo)
        self.goal_id = goal_id
        self.base_commit = str(resolve_commit(repo, base_commit).id)
        self.base = resolve_worktrees_base(self.repo_path, root)
        if copy_files is None:
            from omk_tui.config import load_config

            copy_files = load_config(self.repo_path).worktrees.copy_files
        self.copy_files = normalise_copy_files(copy_files)

    # names ------------------------------------------------------------------------------------------------
    def path_for(self, slice_id: str) -> Path:
        return naming.slice_worktree_path(self.base, self.repo_path, self.goal_id, slice_id)

    def branch_for(self, slice_id: str) -> str:
        return naming.slice_branch(self.goal_id, slice_id)

    def name_for(self, slice_id: str) -> str:
        return naming.worktree_name(self.goal_id, slice_id)

    @property
    def goal_dir(self) -> Path:
        return naming.goal_worktrees_dir(self.base, self.repo_path, self.goal_id)

    def _repo(self) -> pygit2.Repository:
        # A fresh handle per operation: pygit2 caches the index per Repository object, and staging for a diff
        # must never leak into a later write.
        return pygit2.Repository(str(self.repo_path))

    # lifecycle --------------------------------------------------------------------------------------------
    def create(self, slice_id: str) -> Path:
        """The slice's worktree, creating branch and worktree when missing. Idempotent: a resumed goal gets its
        existing worktree back (with its uncommitted work)."""
        return checkout_worktree(
            self._repo(),
            name=self.name_for(slice_id),
            path=self.path_for(slice_id),
            branch=self.branch_for(slice_id),
            base_commit=self.base_commit,
            on_new=lambda p: self._copy_into(p),
        )

    def _copy_into(self, dest_root: Path) -> None:
        for rel in self.copy_files:
            src = self.repo_path / rel
            dest = dest_root / rel
            # Never overwrite what the checkout put there: the project's AGENTS.md and tracked files win.
            if not src.exists() or dest.exists() or dest.is_symlink() or PurePosixPath(rel).name in PROTECTED_FILES:
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, dest, symlinks=True)
            else:
                shutil.copy2(src, dest, follow_symlinks=False)

    def _open(self, slice_id: str) -> pygit2.Repository:
        path = self.path_for(slice_id)
        if not (path / ".git").exists():
            raise GitError(f"the worktree of slice {slice_id!r} at {path} is gone (deleted while the goal ran?); "
                           f"`omk-tui resume {self.goal_id}` makes it again from the slice branch (what was not "
                           "committed there is lost)")
        return pygit2.Repository(str(path))

    def exists(self, slice_id: str) -> bool:
        return (self.path_for(slice_id) / ".git").exists()

    def status(self, slice_id: str) -> list[ChangedFile]:
        """Changed files in the slice's worktree versus its HEAD, untracked files included."""
        return status_entries(self._open(slice_id), exclude=self.copy_files)

    def diff(self, slice_id: str, *, with_patch: bool = True) -> SliceDiff:
        """Everything the slice changed since the goal's base commit: its commits plus uncommitted and untracked
        (not ignored) files, exactly what `commit()` would record. Staging happens in memory only."""
        wrepo = self._open(slice_id)
        head = wrepo.head.peel(pygit2.Commit)
        dirty = bool(status_entries(wrepo, exclude=self.copy_files))
        tree = wrepo[stage_all(wrepo, exclude=self.copy_files).write_tree()] if dirty else head.tree
        base_tree = wrepo[self.base_commit].peel(pygit2.Tree)
        return tree_diff(
            wrepo,
            base_tree,
            tree,
            base=self.base_commit,
            head=str(head.id),
            includes_uncommitted=dirty,
            with_patch=with_patch,
        )

    def tree_id(self, slice_id: str) -> str:
        """The id of the tree `commit()` would record now (staged in memory only): equal ids, equal work."""
        wrepo = self._open(slice_id)
        head = wrepo.head.peel(pygit2.Commit)
        if not status_entries(wrepo, exclude=self.copy_files):
            return str(head.tree_id)
        return str(stage_all(wrepo, exclude=self.copy_files).write_tree())

    def commit(self, slice_id: str, message: str | None = None) -> str | None:
        """Stage everything in the worktree and commit it on the slice branch. None when nothing changed."""
        wrepo = self._open(slice_id)
        branch_ref = "refs/heads/" + self.branch_for(slice_id)
        if wrepo.head_is_detached or wrepo.head.name != branch_ref:
            where = "a detached HEAD" if wrepo.head_is_detached else wrepo.head.name
            raise GitError(
                f"the worktree of slice {slice_id!r} ({self.path_for(slice_id)}) is on {where}, not on "
                f"{branch_ref}; check out {self.branch_for(slice_id)} there before committing."
            )
        head = wrepo.head.peel(pygit2.Commit)
        index = stage_all(wrepo, exclude=self.copy_files)
        tree = index.write_tree()
        if tree == head.tree_id:
            return None
        index.write()
        sig = signature(wrepo)
        text = (message or f"omk: slice {slice_id}").rstrip()
        text += f"\n\nOmk-Goal: {self.goal_id}\nOmk-Slice: {slice_id}\n"
        return str(wrepo.create_commit("HEAD", sig, sig, text, tree, [head.id]))

    def remove(self, slice_id: str, *, commit_dirty: bool = False) -> str | None:
        """Delete the slice's worktree folder and entry; the branch stays. A worktree with uncommitted work is
        refused (WorktreeDirty) unless `commit_dirty`, which commits it to the slice branch first (its sha is
        returned)."""
        return remove_worktree(
            self._repo(),
            name=self.name_for(slice_id),
            path=self.path_for(slice_id),
            commit_dirty=(lambda: self.commit(slice_id, "omk: uncommitted work saved before removing the worktree"))
            if commit_dirty
            else None,
            exclude=self.copy_files,
        )

    def list(self) -> list[WorktreeInfo]:
        """This goal's worktrees (slices and integration), stale ones included."""
        repo = self._repo()
        prefix = naming.worktree_name_prefix(self.goal_id)
        gprefix = naming.goal_prefix(self.goal_id)
        out = []
        for info in list_entries(repo):
            if not info.name.startswith(prefix):
                continue
            sid = info.branch[len(gprefix) :] if info.branch and info.branch.startswith(gprefix) else None
            out.append(
                WorktreeInfo(info.name, info.path, info.branch, info.head, sid, info.prunable)
            )
        return out


def checkout_worktree(
    repo: pygit2.Repository,
    *,
    name: str,
    path: Path,
    branch: str,
    base_commit: str,
    on_new=None,
) -> Path:
    """Make `path` a worktree (entry `name`) on `branch`, creating the branch at `base_commit` when missing.

    Reuses the worktree when it is already there on that branch; prunes a stale entry of the same name first;
    refuses an occupied folder, a branch that does not descend from the base, and a branch checked out elsewhere.
    """
    if not pygit2.reference_is_valid_name("refs/heads/" + branch):
        raise InvalidName(f"{branch!r} is not a valid branch name.")
    path = Path(path)
    ref_name = "refs/heads/" + branch
    common = common_dir(repo)
    if name in repo.list_worktrees() and (path.is_dir() and not path.is_symlink()) and not (path / ".git").exists():
        if Path(repo.lookup_worktree(name).path).resolve() == path.resolve():
            # The worktree's folder was deleted and something made a folder of that name again (it is no
            # worktree: no `.git`). Set it aside, not deleted, so its entry is stale and the worktree is made anew.
            _set_aside(path)
    prune_stale(repo, [name])
    if name in repo.list_worktrees():
        wt = repo.lookup_worktree(name)
        here = Path(wt.path).resolve()
        if here != path.resolve() and worktree_head_ref(common, name) == ref_name and \
                not (path.exists() or path.is_symlink()):
            # The slice's worktree, where the repository's old place put it (its folder was moved, and the
            # worktrees folder's name comes from it): it follows, with its work, as `git worktree move` would.
            _move(common, name, here, path)
        elif here != path.resolve() or worktree_head_ref(common, name) != ref_name:
            raise PathOccupied(
                f"worktree entry {name!r} already exists at {here} on "
                f"{worktree_head_ref(common, name) or 'a detached HEAD'}, not at {path} on {branch}. "
                f"Remove it with `git worktree remove {here}` if it is no longer needed."
            )
        entry = common / "worktrees" / name
        if (entry / CHECKED_OUT).exists():
            return path
        if (entry / "index").exists():
            # Checked out completely (libgit2 writes the index last), its mark not written yet: made by an
            # earlier omk-tui, or killed just after the checkout. Its work is kept.
            _mark_checked_out(entry)
            return path
        # Torn: its checkout never finished (taken for the slice's work, the missing files would be committed
        # as deleted). Nothing in it is anyone's work: it is made again.
        _discard(repo, name, path)
    if path.exists() or path.is_symlink():
        if _is_orphaned_worktree_of(path, common, name):
            # This worktree's own folder, its entry gone: a crash while it was being made. Set aside, not deleted.
            _set_aside(path)
        elif not path.is_dir() or any(path.iterdir()):
            raise PathOccupied(
                f"{path} already exists and is not the worktree of {branch}. Move or delete it, or set a "
                "different worktrees folder ([worktrees] dir in .omk/config.toml or OMK_WORKTREES_DIR)."
            )
        else:
            path.rmdir()  # libgit2 creates the folder itself and refuses an existing one, even empty
    base = repo[base_commit].peel(pygit2.Commit)
    ref = repo.references.get(ref_name)
    created_branch = False
    if ref is not None:
        tip = ref.peel(pygit2.Commit).id
        if tip != base.id and not repo.descendant_of(tip, base.id):
            raise BranchConflict(
                f"branch {branch} already exists at {str(tip)[:12]}, which does not descend from the goal's base "
                f"commit {str(base.id)[:12]}: it belongs to something else. Rename or delete it "
                f"(git branch -m {branch} NEW-NAME) and try again."
            )
        br = repo.branches.local.get(branch)
        if br is not None and br.is_checked_out():
            raise BranchConflict(
                f"branch {branch} is checked out in another working tree ({_where_checked_out(repo, ref_name)}); "
                "git allows a branch in one working tree only. Switch that tree to another branch."
            )
    else:
        ref = repo.branches.local.create(branch, base)
        created_branch = True
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        repo.add_worktree(name, str(path), ref)
    except (pygit2.GitError, OSError) as exc:
        # libgit2 leaves a half-made entry behind on failure; drop it and the branch we just made.
        shutil.rmtree(common / "worktrees" / name, ignore_errors=True)
        if created_branch:
            repo.references.delete(ref_name)
        raise GitError(f"could not create the worktree {path} for {branch}: {exc}") from exc
    if on_new is not None:
        on_new(path)
    repair_links(common, name)
    _mark_checked_out(common / "worktrees" / name)
    return path


def _mark_checked_out(entry: Path) -> None:
    with open(entry / CHECKED_OUT, "w", encoding="utf-8") as fh:
        fh.write("the checkout of this worktree is complete\n")
        fh.flush()
        os.fsync(fh.fileno())


def _move(common: Path, name: str, old: Path, new: Path) -> None:
    new.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(old, new)
    except OSError as exc:
        raise PathOccupied(f"the worktree {old} must move to {new} (the repository was moved), and could not: {exc}. "
                           f"Run `git worktree move {old} {new}`, then try again.") from exc
    (common / "worktrees" / name / "gitdir").write_text(f"{new / '.git'}\n", encoding="utf-8")
    _remove_empty_parents(old)


def _discard(repo: pygit2.Repository, name: str, path: Path) -> None:
    """Delete a worktree's folder and entry (renamed first, so a crash midway leaves the path free)."""
    doomed = path.with_name(f".{path.name}.torn-{os.getpid()}")
    path.rename(doomed)
    repo.lookup_worktree(name).prune(True)
    shutil.rmtree(doomed, ignore_errors=True)


def _set_aside(path: Path) -> None:
    """Move a folder that is in a worktree's way to `.<name>.orphaned-<time>-<pid>` beside it: nothing is deleted."""
    path.rename(path.with_name(f".{path.name}.orphaned-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"))


def _is_orphaned_worktree_of(path: Path, common: Path, name: str) -> bool:
    """Whether `path` is a folder whose `.git` file links it to the worktree entry `name` (which is not there)."""
    try:
        link = (path / ".git").read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return False
    if path.is_symlink() or not link.startswith("gitdir:"):
        return False
    target = Path(link[len("gitdir:"):].strip())
    return (path / target).resolve() == (common / "worktrees" / name).resolve()


def _where_checked_out(repo: pygit2.Repository, ref_name: str) -> str:
    common = common_dir(repo)
    for name in repo.list_worktrees():
        if worktree_head_ref(common, name) == ref_name:
            return str(repo.lookup_worktree(name).path)
    return str(workdir_of(repo))


def remove_worktree(
    repo: pygit2.Repository,
    *,
    name: str,
    path: Path,
    commit_dirty=None,
    exclude: tuple[str, ...] = (),
) -> str | None:
    """Delete a worktree's folder and entry, never losing work: refuses uncommitted changes unless `commit_dirty`
    (a callable committing them) is given, and refuses a detached HEAD holding commits no branch has."""
    prune_stale(repo, [name])
    if name not in repo.list_worktrees():
        return None
    wt = repo.lookup_worktree(name)
    where = Path(wt.path)
    wrepo = pygit2.Repository(str(where))
    committed = None
    dirty = [c.path for c in status_entries(wrepo, exclude=exclude)]
    if dirty:
        if commit_dirty is None:
            raise WorktreeDirty(where, dirty)
        committed = commit_dirty()
        wrepo = pygit2.Repository(str(where))
        left = [c.path for c in status_entries(wrepo, exclude=exclude)]
        if left:
            raise WorktreeDirty(where, left)
    if wrepo.head_is_detached:
        head = wrepo.head.target
        if not any(
            b.target == head or repo.descendant_of(b.target, head)
            for b in (repo.branches.local[n] for n in repo.branches.local)
        ):
            raise GitError(
                f"worktree {where} has a detached HEAD at {str(head)[:12]} that no branch contains; removing it "
                f"would lose those commits. Create a branch there first (git -C {where} branch NAME)."
            )
    del wrepo
    # Renamed first, so a crash mid-removal leaves the slice's path free and the entry prunable, never a
    # half-deleted folder in the way of the next checkout.
    doomed = where.with_name(f".{where.name}.removing-{os.getpid()}")
    where.rename(doomed)
    repo.lookup_worktree(name).prune(True)
    shutil.rmtree(doomed)
    _remove_empty_parents(where)
    return committed


def _remove_empty_parents(path: Path, levels: int = 2) -> None:
    parent = path.parent
    for _ in range(levels):
        try:
            parent.rmdir()
        except OSError:
            return
        parent = parent.parent
