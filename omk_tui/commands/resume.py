"""`omk-tui resume GOAL`: continue a paused, stopped or crashed goal from its snapshots."""

from __future__ import annotations

from omk_tui.commands._common import add_goal_arg, add_repo_arg


def register(sub) -> None:
    p = sub.add_parser("resume", help="resume a goal (paused, out of budget, or whose controller died)")
    add_goal_arg(p)
    add_repo_arg(p)
    p.add_argument("--headless", action="store_true", help="no UI: progress on stderr (the default)")
    p.add_argument("--json", action="store_true", help="print the final proof as JSON on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(func=run)


def run(args) -> int:
    from omk_tui.cli import UsageError
    from omk_tui.commands._common import goal_of
    from omk_tui.commands._runner import run_controller_headless
    from omk_tui.control.client import FileControl
    from omk_tui.control.controller import GoalController
    from omk_tui.control.lock import LockHeld

    repo, paths = goal_of(args)
    fc = FileControl(paths, repo)
    if fc.controller_alive():
        fc.resume()
        print(f"goal {paths.goal_id}: its controller is running; asked it to resume")
        return 0
    ctl = GoalController.open(repo, paths.goal_id)
    if (why := ctl.not_resumable()) is not None:
        ctl.close()
        raise UsageError(f"{why}; start a new goal with `omk-tui run`")
    if ctl.state.status.value == "ready" and ctl.proof_is_current():
        ctl.close()
        print(f"goal {paths.goal_id} is already ready; proof: {paths.proof_json}")
        return 0
    if (problem := ctl.config_problem()) is not None:
        ctl.close()
        raise UsageError(problem)
    try:
        return run_controller_headless(ctl, json_out=args.json, quiet=args.quiet)
    except LockHeld as exc:
        raise UsageError(str(exc)) from exc
