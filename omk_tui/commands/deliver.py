"""`omk-tui deliver GOAL`: (re-)run the GitHub delivery of a ready goal, or preview it with --dry-run."""

from __future__ import annotations

import sys

from omk_tui.commands._common import GOAL_HELP, add_repo_arg, goal_of


def register(sub) -> None:
    p = sub.add_parser("deliver", help="push a ready goal and open its pull request(s) with gh (again)",
                       description="Run the GitHub delivery of a goal whose work is ready: push the branch(es), open "
                       "or update the PR(s) with `gh`, then apply the merge policy. Use it after fixing what blocked "
                       "the delivery (a missing remote, `gh auth login`, a rejected push). Refused while a controller "
                       "runs the goal. Exit codes: 0 delivered (or, with --dry-run, would deliver), 1 blocked or "
                       "refused, 2 usage (an unknown or ambiguous GOAL too).")
    p.add_argument("goal", help=GOAL_HELP)
    p.add_argument("--dry-run", action="store_true",
                   help="print the pushes and gh calls it would make; push, open and write nothing")
    p.add_argument("--policy", choices=("draft-pr", "auto-pr", "local"),
                   help="delivery policy (default: the goal's own); `local` pushes nothing and leaves the verified "
                        "integration branch for `omk-tui accept` (e.g. where gh is not installed)")
    p.add_argument("--merge-policy", choices=("disabled", "manual", "gated"),
                   help="what happens once the PR exists (default: the goal's own)")
    add_repo_arg(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from omk_tui.cli import UsageError
    from omk_tui.config import ConfigError
    from omk_tui.delivery.local import DeliveryRefused
    from omk_tui.delivery.redeliver import redeliver
    from omk_tui.state.store import StateFileError

    repo, paths = goal_of(args)  # an unknown or ambiguous GOAL: a usage error
    try:
        out = redeliver(repo, paths.goal_id, policy=args.policy, merge_policy=args.merge_policy, dry_run=args.dry_run)
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc
    except (DeliveryRefused, StateFileError) as exc:
        print(f"omk-tui: deliver refused: {exc}", file=sys.stderr)
        return 1
    if out.dry_run:
        print("dry run: nothing was pushed, opened or written")
    for action in out.actions:
        print(f"  {action}")
    if out.blocker:
        print(f"omk-tui: delivery {'would be ' if out.dry_run else ''}blocked ({out.status}): {out.blocker}",
              file=sys.stderr)
        return 1
    if not out.dry_run:
        print(out.detail)
    return 0
