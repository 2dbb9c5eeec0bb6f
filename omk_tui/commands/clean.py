"""`omk-tui clean GOAL|--all`: remove a goal's worktrees and merged branches (never uncommitted work)."""

from __future__ import annotations

import sys

from omk_tui.commands._common import GOAL_HELP, add_repo_arg, print_json, repo_root


def register(sub) -> None:
    p = sub.add_parser("clean", help="remove a goal's worktrees and merged branches",
                       usage="%(prog)s [-h] (GOAL | --all) [--dry-run] [--json] [--repo REPO]",
                       description="Remove the goal's worktrees (a worktree with uncommitted work is kept and listed) "
                       "and its branches merged into the base branch (unmerged ones are kept and listed). A goal "
                       "a controller is running is not touched (pause it first); processes left behind by a "
                       "killed controller are ended. Exit codes: 0 done, 1 failed or a goal refused, 2 usage.")
    p.add_argument("goal", nargs="?", metavar="GOAL", help=f"{GOAL_HELP} (or --all)")
    p.add_argument("--all", action="store_true", help="every goal of the repository (or a GOAL)")
    p.add_argument("--dry-run", action="store_true", help="print what would be removed; change nothing")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    add_repo_arg(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from omk_tui.cli import UsageError
    from omk_tui.delivery.clean import clean
    from omk_tui.git.errors import GitError
    from omk_tui.state.store import GoalNotFound

    if bool(args.goal) == bool(args.all):
        raise UsageError("give a GOAL or --all (not both)")
    repo = repo_root(args.repo)
    try:
        reports = clean(repo, args.goal, all_goals=args.all, dry_run=args.dry_run)
    except GoalNotFound as exc:
        raise UsageError(str(exc)) from exc
    except GitError as exc:
        print(f"omk-tui: clean failed: {exc}", file=sys.stderr)
        return 1
    code = 1 if any(r.refused for r in reports) else 0
    if args.json:
        print_json([r.to_dict() for r in reports])
        return code
    verb = "would remove" if args.dry_run else "removed"
    for r in reports:
        if r.refused:
            print(f"{r.goal_id}: not cleaned: {r.refused}")
            continue
        print(f"{r.goal_id}:")
        if r.ended_processes:
            print(f"  ended {len(r.ended_processes)} process(es) left behind by a killed controller: "
                  + ", ".join(map(str, r.ended_processes)))
        for p in r.removed_worktrees:
            print(f"  {verb} worktree {p}")
        for p, why in r.kept_worktrees.items():
            print(f"  kept worktree {p} ({why})")
        for b in r.deleted_branches:
            print(f"  {'would delete' if args.dry_run else 'deleted'} branch {b}")
        for b, why in r.kept_branches.items():
            print(f"  kept branch {b} ({why})")
    if not reports:
        print("no goals")
    return code
