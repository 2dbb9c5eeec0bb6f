"""pause / cancel: send an intent to a goal's running controller."""

from __future__ import annotations

from omk_tui.commands._common import add_goal_arg, add_repo_arg, non_negative_amount


def register_intent(sub, name: str, help_text: str) -> None:
    p = sub.add_parser(name, help=help_text)
    add_goal_arg(p)
    add_repo_arg(p)
    p.add_argument("--wait", type=non_negative_amount, default=15.0, help="seconds to wait for the controller to stop (default 15)")
    p.set_defaults(func=lambda args: send_intent(args, name))


def send_intent(args, action: str) -> int:
    import time

    from omk_tui.commands._common import goal_of
    from omk_tui.control.client import FileControl
    from omk_tui.control.lock import shown_status
    from omk_tui.state.store import load_goal

    repo, paths = goal_of(args)
    fc = FileControl(paths, repo)
    if not fc.controller_alive():
        state = load_goal(paths)
        if action == "cancel" and state.settled is None:
            from omk_tui.control.offline import cancel_offline, offline_or_request

            if (done := offline_or_request(fc, lambda: cancel_offline(repo, paths), fc.cancel)) is not None:
                print(f"goal {paths.goal_id}: {done.status.value} (no controller was running)")
                return 0
            # a controller took the goal a moment ago: the request went to it; wait for it to stop (below)
        else:
            shown = "rejected" if state.rejected else shown_status(state.status.value, paths.lock)
            hint = f"; `omk-tui resume {paths.goal_id}` continues it" if state.status.value == "running" else ""
            print(f"goal {paths.goal_id} has no running controller (status {shown}); nothing to {action}{hint}")
            return 1
    else:
        getattr(fc, action)()
    deadline = time.monotonic() + args.wait
    while time.monotonic() < deadline and fc.controller_alive():
        time.sleep(0.1)
    state = load_goal(paths)
    if fc.controller_alive():
        print(f"goal {paths.goal_id}: {action} requested; its controller has not stopped yet (status "
              f"{state.status.value}); `omk-tui show {paths.goal_id}` tells when it has")
        return 1
    print(f"goal {paths.goal_id}: {state.status.value}")
    return 0
