"""`omk-tui budget-add GOAL [--time] [--tokens] [--usd]`."""

from __future__ import annotations

from omk_tui.commands._common import add_goal_arg, add_repo_arg, duration, positive_amount, positive_int


def register(sub) -> None:
    p = sub.add_parser("budget-add", help="add time, tokens or money to a goal's budget")
    add_goal_arg(p)
    p.add_argument("--time", type=duration, default=None, help="more wall-clock time, e.g. 30m")
    p.add_argument("--tokens", type=positive_int, default=None, help="more tokens")
    p.add_argument("--usd", type=positive_amount, default=None, help="more money (USD)")
    add_repo_arg(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from omk_tui.cli import UsageError
    from omk_tui.commands._common import goal_of
    from omk_tui.control.client import FileControl
    from omk_tui.control.offline import budget_add_offline, budget_summary, offline_or_request, unlimited_note
    from omk_tui.state.store import load_goal

    if not (args.time or args.tokens or args.usd):
        raise UsageError("say what to add: --time 30m, --tokens N or --usd X")
    repo, paths = goal_of(args)
    fc = FileControl(paths, repo)
    note = unlimited_note(load_goal(paths), args.time, args.tokens, args.usd)  # limits only change by budget-add

    def request() -> None:
        fc.add_budget(time_secs=args.time, tokens=args.tokens, usd=args.usd)

    if not fc.controller_alive():
        # no controller: added to the record, unless one takes the goal meanwhile (then the request goes to it)
        state = offline_or_request(fc, lambda: budget_add_offline(paths, args.time, args.tokens, args.usd), request)
        if state is not None:
            print(f"goal {paths.goal_id}: {budget_summary(state, args.time, args.tokens, args.usd)}")
            return 0
    else:
        request()
    print(f"goal {paths.goal_id}: budget request sent to the running controller{note}")
    return 0
