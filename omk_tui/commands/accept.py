"""`omk-tui accept GOAL`: merge a ready goal's integration branch into the base branch and the main tree."""

from __future__ import annotations

import sys

from omk_tui.commands._common import GOAL_HELP, add_repo_arg, goal_of


def register(sub) -> None:
    p = sub.add_parser("accept", help="merge a ready goal's integration branch into the base branch",
                       description="Re-check the gates on the goal's integration branch, then merge it into the base "
                       "branch and the main working tree (fast-forward when possible, otherwise a merge commit). "
                       "Refused over uncommitted changes. Exit codes: 0 merged, 1 refused, 2 usage (an unknown or ambiguous GOAL too).")
    p.add_argument("goal", help=GOAL_HELP)
    p.add_argument("--summary", help="a line recorded with the decision and in the merge commit")
    add_repo_arg(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from omk_tui.delivery.local import DeliveryRefused, accept_goal

    repo, paths = goal_of(args)  # an unknown or ambiguous GOAL: a usage error
    try:
        outcome = accept_goal(repo, paths.goal_id, args.summary)
    except DeliveryRefused as exc:
        print(f"omk-tui: accept refused: {exc}", file=sys.stderr)
        for f in exc.files[:50]:
            print(f"  {f}", file=sys.stderr)
        return 1
    print(outcome.detail)
    print(f"  `omk-tui clean {paths.goal_id}` removes the goal's worktrees and merged branches")
    return 0
