"""`omk-tui reject GOAL --reason TEXT`: record a person's rejection and a rollback plan."""

from __future__ import annotations

import sys

from omk_tui.commands._common import GOAL_HELP, add_repo_arg, goal_of


def register(sub) -> None:
    p = sub.add_parser("reject", help="reject a goal's result and write a rollback plan",
                       description="Record the rejection (the goal becomes not_ready) and write "
                       "artifacts/policy/rollback-plan.{md,json}. The main working tree is not touched. "
                       "Exit codes: 0 recorded, 1 refused, 2 usage (an unknown or ambiguous GOAL too).")
    p.add_argument("goal", help=GOAL_HELP)
    p.add_argument("--reason", required=True, help="why the result is rejected (recorded in the proof)")
    add_repo_arg(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from omk_tui.cli import UsageError
    from omk_tui.delivery.local import DeliveryRefused, reject_goal

    if not args.reason.strip():
        raise UsageError("--reason must not be empty")
    repo, paths = goal_of(args)  # an unknown or ambiguous GOAL: a usage error
    try:
        outcome = reject_goal(repo, paths.goal_id, args.reason)
    except DeliveryRefused as exc:
        print(f"omk-tui: reject refused: {exc}", file=sys.stderr)
        return 1
    print(outcome.detail)
    return 0
