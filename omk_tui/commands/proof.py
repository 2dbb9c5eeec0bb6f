"""`omk-tui proof GOAL`: a goal's proof.json as JSON, Markdown or text (read-only)."""

from __future__ import annotations

from omk_tui.commands._common import add_goal_arg, add_repo_arg


def register(sub) -> None:
    p = sub.add_parser(
        "proof",
        help="print a goal's proof (json, md or text)",
        description="Print the proof of a goal (proof.json): readiness, gates, slices, review wall, changed "
        "files, known gaps. Exit code 0; 2 when the goal is not found, has no proof yet, or the proof "
        "cannot be read.",
    )
    add_goal_arg(p)
    add_repo_arg(p)
    p.add_argument("--format", choices=("json", "md", "text"), default="text",
                   help="json: proof.json as stored; md: Markdown (e.g. for a PR); text: for a terminal (default)")
    p.set_defaults(func=run)


def run(args) -> int:
    import sys

    from omk_tui.cli import UsageError
    from omk_tui.commands._common import goal_of
    from omk_tui.control.lock import shown_status
    from omk_tui.render.text import render_proof_md, render_proof_text
    from omk_tui.state.store import GoalNotFound, StateFileError, load_goal, load_proof

    repo, paths = goal_of(args)
    try:
        proof = load_proof(paths)
    except StateFileError as exc:
        raise UsageError(f"{exc}; the event log {paths.events} still has the history (`omk-tui show "
                         f"{paths.goal_id}`)") from exc
    try:
        now = shown_status(load_goal(paths).status.value, paths.lock)  # what the goal is doing now
    except (StateFileError, GoalNotFound):
        now = None
    if proof is None:
        status = f" (status {now})" if now else ""
        raise UsageError(f"goal {paths.goal_id} has no proof yet{status}; a proof is written when a run "
                         f"ends — see `omk-tui show {paths.goal_id}`")
    if now == "running":
        print(f"note: goal {paths.goal_id} is running again; this proof is from its earlier run (status "
              f"{proof.status.value}), and a new one is written when this run ends", file=sys.stderr)
    elif now and now != proof.status.value:  # e.g. cancelled, or interrupted, with no controller to rewrite it
        print(f"note: goal {paths.goal_id} is now {now}; this proof was written when it was {proof.status.value} "
              f"(`omk-tui show {paths.goal_id}` has the goal as it is now)", file=sys.stderr)
    if args.format == "json":
        sys.stdout.write(proof.model_dump_json(indent=2) + "\n")
    elif args.format == "md":
        sys.stdout.write(render_proof_md(proof))
    else:
        sys.stdout.write(render_proof_text(proof))
    return 0
