"""`omk-tui clean`: remove a goal's worktrees (never one with uncommitted work) and its branches that are merged
into the base branch (unmerged ones are kept and listed).

Never while a controller runs the goal (its agents work in those worktrees): that goal is refused, and the
controller lock is held while cleaning. Processes left behind by a controller killed with -9 are ended first, and
the folder of its agents' temporary files is removed."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from omk_tui.delivery import gitcli
from omk_tui.delivery.local import base_branch_of
from omk_tui.state import store


@dataclass
class CleanReport:
    goal_id: str
    removed_worktrees: list[str] = field(default_factory=list)
    kept_worktrees: dict[str, str] = field(default_factory=dict)  # path -> why
    deleted_branches: list[str] = field(default_factory=list)
    kept_branches: dict[str, str] = field(default_factory=dict)  # branch -> why
    ended_processes: list[int] = field(default_factory=list)  # left behind by a killed controller
    refused: str = ""  # why the goal was not cleaned (a controller runs it)
    dry_run: bool = False

    def to_dict(self) -> dict:
        return self.__dict__.copy()


def _preview(repo: Path, goal_id: str, base: str | None) -> CleanReport:
    import pygit2

    from omk_tui.git import naming
    from omk_tui.git.diff import status_entries
    from omk_tui.git.repo import open_repository
    from omk_tui.git.worktrees import list_entries

    report = CleanReport(goal_id, dry_run=True)
    repo_obj = open_repository(repo)
    prefix = naming.worktree_name_prefix(goal_id)
    checked_out = set()
    for info in list_entries(repo_obj):
        if not info.name.startswith(prefix):
            continue
        if not Path(info.path).exists():
            report.removed_worktrees.append(f"{info.path} (stale entry, pruned)")
            continue
        dirty = [c.path for c in status_entries(pygit2.Repository(str(info.path)))]
        if dirty:
            report.kept_worktrees[str(info.path)] = "uncommitted work: " + ", ".join(dirty[:10])
            checked_out.add(info.branch)
        else:
            report.removed_worktrees.append(str(info.path))
    base_sha = gitcli.rev(repo, f"refs/heads/{base}") if base else None
    for name in sorted(repo_obj.branches.local):
        if not name.startswith(naming.goal_prefix(goal_id)):
            continue
        tip = gitcli.rev(repo, f"refs/heads/{name}")
        if base_sha is None or not gitcli.is_ancestor(repo, tip, base_sha):
            report.kept_branches[name] = f"has commits not in {base}"
        elif name in checked_out:
            report.kept_branches[name] = "checked out in a worktree"
        else:
            report.deleted_branches.append(name)
    return report


def clean_goal(repo: Path, goal_id: str, *, dry_run: bool = False) -> CleanReport:
    from omk_tui.delivery.guard import goal_write_lock, refuse_if_running
    from omk_tui.delivery.local import DeliveryRefused

    repo = Path(repo)
    paths = store.goal_paths(repo, goal_id)
    base = None
    try:
        base = base_branch_of(repo, store.load_goal(paths))
    except (store.GoalNotFound, store.StateFileError):
        base = gitcli.current_branch(repo)
    try:
        if dry_run:
            refuse_if_running(paths, "clean")
            return _preview(repo, goal_id, base)
        with goal_write_lock(paths, "clean"):
            return _clean(repo, goal_id, base)
    except DeliveryRefused as exc:
        return CleanReport(goal_id, refused=str(exc), dry_run=dry_run)


def _clean(repo: Path, goal_id: str, base: str | None) -> CleanReport:
    from omk_tui.control.orphans import reap_orphans
    from omk_tui.git.cleanup import delete_merged_branches, remove_goal_worktrees

    report = CleanReport(goal_id)
    from omk_tui.state.store import goal_paths

    # no controller holds the goal: these were left behind
    report.ended_processes = reap_orphans(goal_id, records=goal_paths(repo, goal_id).procs)
    wt = remove_goal_worktrees(repo, goal_id, force_clean_only=True)
    report.removed_worktrees = [str(p) for p in wt.removed] + [f"{n} (stale entry, pruned)" for n in wt.pruned]
    report.kept_worktrees = {str(p): "uncommitted work: " + ", ".join(files[:10]) for p, files in wt.kept.items()}
    _remove_agent_tmp(repo, goal_id)
    if base and gitcli.branch_exists(repo, base):
        branches = delete_merged_branches(repo, goal_id, into=f"refs/heads/{base}")
        report.deleted_branches = list(branches.deleted)
        report.kept_branches = dict(branches.kept)
    return report


def _remove_agent_tmp(repo: Path, goal_id: str) -> None:
    """The agents' temporary files (normally removed as each agent ends), then the goal's worktrees folder if that
    leaves it empty."""
    import shutil

    from omk_tui.git.worktrees import goal_agent_tmp

    tmp = goal_agent_tmp(repo, goal_id)
    if tmp is None:
        return
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tmp.parent.rmdir()
    except OSError:
        pass  # kept worktrees, or never made


def clean(repo: Path, goal_ref: str | None, *, all_goals: bool = False, dry_run: bool = False) -> list[CleanReport]:
    if all_goals:
        ids = store.list_goal_ids(repo)
    else:
        ids = [store.resolve_goal(repo, goal_ref or "latest").goal_id]
    return [clean_goal(repo, gid, dry_run=dry_run) for gid in ids]
