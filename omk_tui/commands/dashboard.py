"""`omk-tui` / `omk-tui dashboard [--repo DIR]`: the live dashboard of a repository's goals."""

from __future__ import annotations

from omk_tui.commands._common import add_repo_arg, repo_root


def register(sub) -> None:
    p = sub.add_parser("dashboard", help="the live dashboard of the repository's goals (the default command)",
                       description="Open the Textual dashboard: goals, task graph, worktrees, agent output, "
                       "gates; keys pause/resume/cancel goals and answer permission requests.")
    add_repo_arg(p)
    p.add_argument("--goal", help="select this goal (id, unique prefix/suffix, or `latest`) at start")
    p.add_argument("--light", action="store_true", help="start with the light theme")
    p.set_defaults(func=run)


def run(args) -> int:
    from omk_tui.cli import UsageError
    from omk_tui.state.store import GoalNotFound, resolve_goal

    repo = repo_root(args.repo)
    goal_id = None
    if args.goal:
        try:
            goal_id = resolve_goal(repo, args.goal).goal_id
        except GoalNotFound as exc:
            raise UsageError(str(exc)) from exc
    from omk_tui.ui.app import OmkApp
    from omk_tui.ui.themes import DARK, LIGHT

    OmkApp(repo, goal_id=goal_id, theme=LIGHT.name if args.light else DARK.name).run()
    return 0
