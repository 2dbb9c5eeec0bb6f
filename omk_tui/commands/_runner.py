"""Running a controller headless from a command: progress on stderr, proof on stdout, exit codes."""

from __future__ import annotations

import asyncio
import signal

EXIT_READY, EXIT_BLOCKED, EXIT_BUDGET, EXIT_STOPPED = 0, 3, 4, 5


def exit_code_for(status: str) -> int:
    if status == "ready":
        return EXIT_READY
    if status == "needs_more_budget":
        return EXIT_BUDGET
    if status in ("paused", "cancelled"):
        return EXIT_STOPPED
    if status == "failed_infra":
        return 1
    return EXIT_BLOCKED


class StopSignals:
    """SIGINT/SIGTERM/SIGHUP as a pause from the moment a goal is about to exist until its run's summary is printed.

    The controller's event loop handles the signals while it runs; before it starts (the goal being created, the
    loop starting) and after it ends (the summary), Python's default would raise KeyboardInterrupt and leave a
    goal recorded as `running` that no controller ever held. Here a signal before `attach` is remembered and
    becomes a pause as soon as the controller exists; the run then stops at once, recorded as paused.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

    def __init__(self) -> None:
        self.ctl = None
        self.asked = False
        self._old: dict = {}

    def __enter__(self) -> "StopSignals":
        try:
            self._old = {sig: signal.signal(sig, self._handle) for sig in self.SIGNALS}
        except ValueError:  # not the main thread: the default handling stays
            self._old = {}
        return self

    def __exit__(self, *exc) -> None:
        for sig, handler in self._old.items():
            signal.signal(sig, handler)

    def reinstall(self) -> None:
        """After `asyncio.run`, whose loop put the default handlers back when it closed."""
        if self._old:
            for sig in self.SIGNALS:
                signal.signal(sig, self._handle)

    def _handle(self, signum, frame) -> None:
        self.asked = True
        if self.ctl is not None:
            self.ctl.pause()

    def attach(self, ctl) -> None:
        self.ctl = ctl
        if self.asked:
            ctl.pause()


def run_controller_headless(ctl, *, json_out: bool = False, quiet: bool = False,
                            signals: StopSignals | None = None) -> int:
    """Run `ctl` to its end, progress on stderr; `signals`, when the caller already guards SIGINT/SIGTERM (it
    created the goal under them)."""
    if signals is None:
        with StopSignals() as own:
            return run_controller_headless(ctl, json_out=json_out, quiet=quiet, signals=own)
    from omk_tui.headless import HeadlessPrinter, print_proof_json

    signals.attach(ctl)
    ask_hint = None
    if ctl.state.options.approval == "ask":
        ask_hint = (f"waiting up to {ctl.config.agent.ask_timeout_secs:g}s for a person: open `omk-tui` in this "
                    "repository and press a")
    ctl.log.subscribe(HeadlessPrinter(quiet=quiet, ask_hint=ask_hint))

    async def main():
        loop = asyncio.get_running_loop()
        # SIGINT/SIGTERM/SIGHUP (a closed terminal) pause the goal cleanly (agents and gates are ended as
        # process groups).
        for sig in StopSignals.SIGNALS:
            try:
                loop.add_signal_handler(sig, ctl.pause)
            except (NotImplementedError, RuntimeError):
                pass
        return await ctl.run()

    try:
        proof = asyncio.run(main())
    finally:
        signals.reinstall()
        ctl.close()
    if json_out:
        print_proof_json(proof)
    else:
        from rich.console import Console
        from rich.text import Text

        from omk_tui.render.safe import printable

        c = Console(stderr=True, highlight=False, soft_wrap=True)  # paths and commands are never broken
        # Text, not markup: a summary or a hint can quote test names, agent text or paths with brackets
        summary = proof.summary.removeprefix(f"{proof.status.value}: ")  # the status is already at the start
        c.print(Text.assemble((proof.status.value, "bold"), f" — {printable(summary)}"))
        nexts = list(proof.human_decisions_required)
        gid, status = ctl.state.goal_id, proof.status.value
        failure = ctl.state.failure
        if failure and failure.next_action and status not in ("ready", "paused"):
            nexts.append(failure.next_action)  # e.g. the budget-add that a needs_more_budget goal needs
        elif status in ("not_ready", "blocked_on_external"):
            nexts.append(f"fix the cause, then `omk-tui resume {gid}` runs what is left "
                         f"(`omk-tui show {gid}` has the details)")
        nexts = list(dict.fromkeys(nexts))
        for h in nexts:
            c.print(Text(f"  next: {printable(h)}"))
        c.print(Text(f"  proof: {ctl.paths.proof_json}"))
    return exit_code_for(proof.status.value)
