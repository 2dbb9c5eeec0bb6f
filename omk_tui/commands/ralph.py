"""`omk-tui ralph "TASK"`: the persistent PRD loop (seed 000)."""

from __future__ import annotations

from omk_tui.commands._common import add_repo_arg


def register(sub) -> None:
    p = sub.add_parser("ralph", help="persistent loop: a PRD of user stories, each implemented and verified by the gates",
                       description="Exit codes: 0 every story verified, 3 stopped before that, 2 usage or "
                       "configuration error (an unknown agent SPEC too), 1 the agent failed (e.g. its executable is "
                       "not installed) or an internal error.")
    p.add_argument("task", help="the task to turn into user stories")
    p.add_argument("--agent", default=None, help="agent SPEC (default: config, else kimi)")
    p.add_argument("--max-iterations", "-m", type=int, default=10, help="iterations before giving up (default 10)")
    p.add_argument("--resume", action="store_true", help="continue the saved state of this task")
    p.add_argument("--yolo", action="store_true", help="keep going after 3 consecutive failures of a story")
    add_repo_arg(p)
    p.set_defaults(func=run)


def run(args) -> int:
    import asyncio

    from rich.console import Console

    from omk_tui.cli import UsageError
    from omk_tui.commands._common import repo_root
    from omk_tui.config import ConfigError, agent_settings, load_config
    from omk_tui.git.errors import GitError
    from omk_tui.ralph import Ralph, RalphError
    from omk_tui.render.safe import printable

    if not args.task.strip():
        raise UsageError("the TASK is empty; say what to build, e.g. omk-tui ralph \"add a --json flag to list\"")
    if args.max_iterations < 1:
        raise UsageError("--max-iterations must be at least 1")
    repo = repo_root(args.repo)
    try:
        agent, approval = agent_settings(repo, load_config(repo), args.agent)
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc
    console = Console(stderr=True, highlight=False, soft_wrap=True)

    def say(text: str) -> None:  # story titles and reasons are the agent's text: escaped
        console.print(printable(text, newlines=True), markup=False)

    ralph = Ralph(repo, args.task, agent=agent, max_iterations=args.max_iterations,
                  yolo=args.yolo, approval=approval, say=say)
    from omk_tui.agents.base import AgentError

    try:
        contract = asyncio.run(ralph.run(resume=args.resume))
    except (RalphError, GitError) as exc:
        raise UsageError(str(exc)) from exc
    except AgentError as exc:
        say(f"omk-tui: error: the agent failed: {exc}")
        return 1
    say(f"{'passed' if contract.passed else 'stopped'}: {contract.reason}")
    say(f"done contract: {ralph.dir / 'done-contract.json'}  branch: {contract.branch}")
    return 0 if contract.passed else 3
