"""`omk-tui demo`: run a goal on the built-in sample repository with the bundled scripted agent."""

from __future__ import annotations

from omk_tui.commands._common import non_negative_amount


def register(sub) -> None:
    p = sub.add_parser("demo", help="run the demo goal on a sample repository (in the TUI, or --headless)")
    p.add_argument("--headless", action="store_true", help="no UI: progress on stderr, proof path at the end")
    p.add_argument("--json", action="store_true", help="with --headless: print the proof as JSON on stdout")
    p.add_argument("--dir", default=None, help="where to create the sample repository (default: a new temp folder)")
    p.add_argument("--pace", type=non_negative_amount, default=None,
                   help="multiplier of the scripted agent's pauses (default 4 in the TUI, so a person can follow "
                   "it, and 1 headless; 0 = as fast as possible)")
    p.set_defaults(func=run)


def prepare_demo(target: str | None, pace: float):
    """Create the sample repo and the agent script; return (repo, goal text, options, budget)."""
    import json
    import tempfile
    from pathlib import Path

    from omk_tui.demo.sample import DEMO_GOAL, create_sample_repo, demo_script
    from omk_tui.models.goal import Budget, GoalOptions

    from omk_tui.cli import UsageError

    root = Path(target).expanduser().resolve() if target else Path(tempfile.mkdtemp(prefix="omk-demo-")) / "calc"
    if root.exists() and not root.is_dir():
        raise UsageError(f"{root} is a file; pass a new (or empty) folder to --dir")
    if root.exists() and any(root.iterdir()):
        raise UsageError(f"{root} is not empty; pass a new folder to --dir")
    repo = create_sample_repo(root)
    # inside the repository's own .omk folder (git-ignored): nothing is written next to the folder you named
    script = repo / ".omk" / "demo-agent-script.json"
    script.write_text(json.dumps(demo_script(pace), indent=2), encoding="utf-8")
    options = GoalOptions(agent=f"script:{script}", max_agents=2, approval="yolo")
    return repo, DEMO_GOAL, options, Budget(time_secs=600)


def run(args) -> int:
    import os
    import sys

    from omk_tui.cli import UsageError

    if args.json and not args.headless:
        raise UsageError("--json needs --headless")
    # Worktrees of throwaway demo repos go next to the repo, not into the user's data folder.
    pace = args.pace if args.pace is not None else (1.0 if args.headless else 4.0)
    repo, goal, options, budget = prepare_demo(args.dir, pace)
    if not args.dir:  # a throwaway repository in a temp folder: its worktrees go beside it, in the same folder
        os.environ.setdefault("OMK_WORKTREES_DIR", str(repo.parent / "worktrees"))
    print(f"sample repository: {repo}", file=sys.stderr)
    if args.headless:
        from omk_tui.commands._runner import StopSignals, run_controller_headless
        from omk_tui.control.controller import GoalController

        with StopSignals() as signals:
            ctl = GoalController.create(repo, goal, options, budget)
            return run_controller_headless(ctl, json_out=args.json, signals=signals)
    from omk_tui.ui.launch import run_dashboard

    return run_dashboard(repo, new_goal=(goal, options, budget))
