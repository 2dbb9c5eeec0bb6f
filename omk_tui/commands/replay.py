"""`omk-tui replay GOAL [--speed X] [--headless] [--json]`: replay a recorded goal from its event log."""

from __future__ import annotations

import sys
from pathlib import Path

from omk_tui.commands._common import add_repo_arg, positive_amount


def register(sub) -> None:
    p = sub.add_parser("replay", help="replay a recorded goal in the dashboard, or print it (--headless)",
                       description="Replay GOAL's recorded events through the same fold as the live dashboard. "
                       "Keys: space play/pause, +/- speed, → step, ← back, home/end, click the timeline to seek. "
                       "--headless prints a deterministic rendering (the same output every time); unreadable "
                       "log lines are counted as known gaps.")
    p.add_argument("goal", help="goal id, unique prefix/suffix, `latest`, or a goal folder / events.jsonl path")
    add_repo_arg(p)
    p.add_argument("--speed", type=positive_amount, default=1.0, help="playback speed multiplier (default 1)")
    p.add_argument("--headless", action="store_true", help="print the replayed goal instead of opening the UI")
    p.add_argument("--json", action="store_true", help="with --headless: print JSON")
    p.set_defaults(func=run)


def events_path(goal: str, repo_arg: str) -> Path:
    from omk_tui.cli import UsageError

    candidate = Path(goal)
    if candidate.is_file() and candidate.name.endswith(".jsonl"):
        return candidate
    if candidate.is_dir() and (candidate / "events.jsonl").is_file():
        return candidate / "events.jsonl"
    from omk_tui.commands._common import repo_root
    from omk_tui.state.store import GoalNotFound, resolve_goal

    try:
        paths = resolve_goal(repo_root(repo_arg), goal)
    except GoalNotFound as exc:
        raise UsageError(str(exc)) from exc
    if not paths.events.is_file():
        raise UsageError(f"{paths.events} does not exist: goal {paths.goal_id} has no recorded events")
    return paths.events


def run(args) -> int:
    from omk_tui.cli import UsageError

    if args.json and not args.headless:
        raise UsageError("--json needs --headless")
    path = events_path(args.goal, args.repo)
    from omk_tui.replay import Recording, ReplayClock, final_view, render_json, render_text

    goal_id = path.parent.name if path.parent.name.startswith("goal-") else None
    if args.headless:
        # the engine's fast fold, in one streaming pass: no Recording (its lines and times) is needed
        view = final_view(path, goal_id)
        if not view.events_applied:
            raise UsageError(f"{path} holds no readable events ({view.gaps} unreadable lines)")
        if args.json:
            import json

            sys.stdout.write(json.dumps(render_json(view), indent=2, sort_keys=True, default=str) + "\n")
        else:
            sys.stdout.write(render_text(view))
        return 0
    recording = Recording.load(path, goal_id=goal_id)
    if not recording.events:
        raise UsageError(f"{path} holds no readable events ({recording.gaps} unreadable lines)")
    from omk_tui.ui.app import OmkApp

    repo = path.parent.parent.parent.parent if path.parent.parent.name == "goals" else None
    OmkApp(repo, clock=ReplayClock(recording, speed=args.speed)).run()
    return 0
