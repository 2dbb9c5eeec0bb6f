"""`omk-tui run "GOAL"`: create a goal and run it until it is ready or blocked."""

from __future__ import annotations

from omk_tui.commands._common import add_repo_arg, duration, positive_amount, positive_int


def add_goal_options(p) -> None:
    p.add_argument("--agent", default=None, help='agent SPEC: kimi | acp:"CMD" | wire | wire:"CMD" | script:PATH')
    p.add_argument("--max-agents", type=int, default=2, help="slices that run in parallel (default 2)")
    p.add_argument("--budget-time", type=duration, default=None, help="wall-clock budget, e.g. 30m, 2h, 1d")
    p.add_argument("--budget-tokens", type=positive_int, default=None, help="token budget")
    p.add_argument("--budget-usd", type=positive_amount, default=None, help="money budget in USD")
    p.add_argument("--approval", default=None, help="never | safe | yolo | pattern:REGEX | ask (default: config, else yolo)")
    p.add_argument("--policy", choices=["local", "draft-pr", "auto-pr"], default="local", help="delivery policy")
    p.add_argument("--merge-policy", choices=["disabled", "manual", "gated"], default="disabled", help="merge policy for PRs")
    p.add_argument("--allow-dirty", action="store_true", help="run from HEAD even if the main tree has uncommitted changes")


def register(sub) -> None:
    p = sub.add_parser("run", help="create a goal and run it until ready or blocked",
                       description="Create a goal and run it until it is ready or blocked. Exit codes: 0 ready, "
                       "3 blocked or not ready, 4 needs more budget, 5 paused or cancelled, 2 usage error, 1 internal error.")
    p.add_argument("goal", help="what to achieve, with a testable signal")
    add_goal_options(p)
    add_repo_arg(p)
    p.add_argument("--headless", action="store_true", help="no UI: progress on stderr (the default for `run`)")
    p.add_argument("--json", action="store_true", help="print the final proof as JSON on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(func=run)


def build_options(args):
    from omk_tui.cli import UsageError
    from omk_tui.config import ConfigError, agent_settings, load_config
    from omk_tui.models.goal import Budget, GoalOptions

    from omk_tui.commands._common import repo_root

    repo = repo_root(args.repo)
    try:
        config = load_config(repo)
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc
    from omk_tui.git.errors import GitError
    from omk_tui.git.worktrees import resolve_worktrees_base

    try:
        resolve_worktrees_base(repo)  # a worktrees folder inside the repository: refused now, not after planning
    except GitError as exc:
        raise UsageError(str(exc)) from exc
    if not 1 <= args.max_agents <= 64:
        raise UsageError("--max-agents must be from 1 to 64")
    try:
        # checked before a goal exists; a script's path is stored absolute, so a resume from anywhere finds it
        agent, approval = agent_settings(repo, config, args.agent, args.approval)
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc
    options = GoalOptions(
        agent=agent, max_agents=args.max_agents, approval=approval,
        delivery_policy=args.policy, merge_policy=args.merge_policy, allow_dirty=args.allow_dirty,
    )
    budget = Budget(time_secs=args.budget_time, tokens=args.budget_tokens, usd=args.budget_usd)
    return repo, config, options, budget


def run(args) -> int:
    from omk_tui.cli import UsageError
    from omk_tui.commands._runner import StopSignals, run_controller_headless
    from omk_tui.control.controller import GoalController
    from omk_tui.gates.config import GateConfigError
    from omk_tui.git.repo import GitError

    repo, config, options, budget = build_options(args)
    with StopSignals() as signals:  # a Ctrl+C from here on pauses the goal, even before its run starts
        try:
            ctl = GoalController.create(repo, args.goal, options, budget, config=config)
        except GitError as exc:
            raise UsageError(str(exc)) from exc
        except GateConfigError as exc:
            raise UsageError(f"{exc}\n  {exc.advice}; no goal was created") from None
        import sys

        print(f"goal {ctl.state.goal_id}", file=sys.stderr)
        return run_controller_headless(ctl, json_out=args.json, quiet=args.quiet, signals=signals)
