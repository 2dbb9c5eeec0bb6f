"""`omk-tui show GOAL`: everything about one goal (read-only)."""

from __future__ import annotations

from omk_tui.commands._common import add_goal_arg, add_repo_arg


def register(sub) -> None:
    p = sub.add_parser(
        "show",
        help="show one goal: tasks, slices, worktrees, overlaps, gates, budget, blockers",
        description="Show a goal from its snapshots (goal.json, task-graph.json, proof.json) and the fold of "
        "its event log. Read-only: safe while a controller runs. Exit code 0, or 2 when the goal is not found.",
    )
    add_goal_arg(p)
    add_repo_arg(p)
    p.add_argument("--json", action="store_true", help="print the goal as one JSON object")
    p.set_defaults(func=run)


def run(args) -> int:
    import sys

    from omk_tui.commands._common import goal_of, print_json
    from omk_tui.render.goal_data import goal_detail
    from omk_tui.render.text import render_goal_text
    from omk_tui.state.reader import load_bundle

    repo, paths = goal_of(args)
    detail = goal_detail(load_bundle(paths))
    if args.json:
        print_json(detail)
    else:
        sys.stdout.write(render_goal_text(detail))
    return 0
