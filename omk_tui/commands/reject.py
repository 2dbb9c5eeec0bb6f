"""`omk-tui reject GOAL --reason TEXT`: record a person's rejection and a rollback plan."""

from __future__ import annotations

import sys

from omk_tui.commands._common import add_repo_arg, repo_root


def register(sub) -> None:
    p = sub.add_parser("reject", help="reject a goal's result and write a rollback plan",
                       description="Record the rejection (the goal becomes not_ready) and write "
                       "artifacts/policy/rollback-plan.{md,json}. The main working tree is not touched. "
                       "Exit codes: 0 recorded, 1 refused, 2 usage.")
    p.add_argument("goal", help="goal id, a unique part of one, or `latest`")
    p.add_argument("--reason", required=True, help="why the result is rejected (recorded in the proof)")
    add_repo_arg(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from omk_tui.cli import UsageError
    from omk_tui.delivery.local import DeliveryRefused, reject_goal

    if not args.reason.strip():
        raise UsageError("--reason must not be empty")
    repo = repo_root(args.repo)
    try:
        outcome = reject_goal(repo, args.goal, args.reason)
    except DeliveryRefused as exc:
        print(f"omk-tui: reject refused: {exc}", file=sys.stderr)
        return 1
    print(outcome.detail)
    return 0
