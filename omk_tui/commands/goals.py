"""`omk-tui goals`: the goals of a repository, newest first (read-only)."""

from __future__ import annotations

from omk_tui.commands._common import add_repo_arg


def register(sub) -> None:
    p = sub.add_parser(
        "goals",
        help="list the goals of a repository, newest first",
        description="List the goals recorded in <repo>/.omk/goals, newest first: id, status, phase, progress "
        "(tasks done/total), age and goal text, from each goal's goal.json and task-graph.json (never its event "
        "log, so it is quick however long the logs are; `show` reads the log). Read-only: safe while a controller "
        "runs. Exit code 0, or 2 when the repository has no goals.",
    )
    add_repo_arg(p)
    p.add_argument("--json", action="store_true", help="print a JSON array of goals")
    p.set_defaults(func=run)


def run(args) -> int:
    import sys

    from omk_tui.commands._common import print_json, repo_root
    from omk_tui.render.goal_data import goal_row
    from omk_tui.render.text import render_goals_table
    from omk_tui.state.store import OMK_DIR
    from omk_tui.state.summary import scan_goals

    repo = repo_root(args.repo)
    summaries = scan_goals(repo)
    if not summaries:
        if args.json:
            print_json([])
        print(f"omk-tui: no goals in {repo / OMK_DIR / 'goals'}; start one with: omk-tui run \"GOAL\"",
              file=sys.stderr)
        return 2
    rows = [goal_row(s) for s in summaries]
    if args.json:
        print_json(rows)
    else:
        sys.stdout.write(render_goals_table(rows))
    return 0
