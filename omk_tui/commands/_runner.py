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


def run_controller_headless(ctl, *, json_out: bool = False, quiet: bool = False) -> int:
    from omk_tui.headless import HeadlessPrinter, print_proof_json

    ctl.log.subscribe(HeadlessPrinter(quiet=quiet))

    async def main():
        loop = asyncio.get_running_loop()
        # SIGINT/SIGTERM pause the goal cleanly (agents and gates are ended as process groups).
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, ctl.pause)
            except (NotImplementedError, RuntimeError):
                pass
        return await ctl.run()

    try:
        proof = asyncio.run(main())
    finally:
        ctl.close()
    if json_out:
        print_proof_json(proof)
    else:
        from rich.console import Console
        from rich.text import Text

        c = Console(stderr=True, highlight=False, soft_wrap=True)  # paths and commands are never broken
        # Text, not markup: a summary or a hint can quote test names, agent text or paths with brackets
        c.print(Text.assemble((proof.status.value, "bold"), f" — {proof.summary}"))
        for h in proof.human_decisions_required:
            c.print(Text(f"  next: {h}"))
        c.print(Text(f"  proof: {ctl.paths.proof_json}"))
    return exit_code_for(proof.status.value)
