"""Helpers shared by subcommands (cheap to import)."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path


def positive_int(text: str) -> int:
    """An argparse type: a whole number > 0 (a budget or a count; 0, negatives and `1.5` are refused)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: must be more than 0")
    return value


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def positive_amount(text: str) -> float:
    """An argparse type: a finite number > 0 (`nan`, `inf` and `1e400` are not amounts)."""
    value = _number(text)
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: must be a finite number more than 0")
    return value


def non_negative_amount(text: str) -> float:
    """An argparse type: a finite number >= 0 (seconds to wait, a pace multiplier where 0 means none)."""
    value = _number(text)
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: must be a finite number, 0 or more")
    return value


def duration(text: str) -> float:
    """An argparse type: a duration more than 0 (`30m`, `2h`, `1d`, `90s`, `1h30m` or seconds)."""
    from omk_tui.control.durations import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_repo_arg(parser) -> None:
    parser.add_argument("--repo", default=".", help="the git repository (default: the current folder)")


def repo_root(path: str | Path) -> Path:
    """The top of the git work tree containing `path`, or a UsageError saying what to do."""
    from omk_tui.cli import UsageError

    p = Path(path).resolve()
    if not p.exists():
        raise UsageError(f"{p} does not exist")
    import pygit2

    found = pygit2.discover_repository(str(p))
    if found is None:
        raise UsageError(f"{p} is not inside a git repository; run `git init` there or pass --repo DIR")
    repo = pygit2.Repository(found)
    if repo.is_bare or repo.workdir is None:
        raise UsageError(f"{found} is a bare repository; omk-tui needs a working tree")
    return Path(repo.workdir).resolve()


def cancel_on_stop_signals() -> None:
    """Call in the main task: SIGTERM and SIGHUP (a closed terminal) cancel it, as Ctrl+C does, so what it
    started (agents, gates, their commands) is ended with it, never left behind."""
    import asyncio
    import signal

    loop, me = asyncio.get_running_loop(), asyncio.current_task()
    for sig in (signal.SIGTERM, signal.SIGHUP):
        try:
            loop.add_signal_handler(sig, me.cancel)
        except (NotImplementedError, RuntimeError, ValueError):
            pass


def print_json(data) -> None:
    if hasattr(data, "model_dump_json"):
        sys.stdout.write(data.model_dump_json(indent=2) + "\n")
    else:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


GOAL_HELP = "goal id, a unique prefix or suffix of one, or `latest`"


def add_goal_arg(parser) -> None:
    parser.add_argument("goal", nargs="?", default="latest", help=f"{GOAL_HELP} (default)")


def goal_of(args):
    """(repository root, GoalPaths) named by `args.repo` and `args.goal`, or a UsageError saying what exists."""
    from omk_tui.cli import UsageError
    from omk_tui.state.store import GoalNotFound, resolve_goal

    repo = repo_root(args.repo)
    try:
        return repo, resolve_goal(repo, args.goal)
    except GoalNotFound as exc:
        raise UsageError(str(exc)) from exc
