"""`omk-tui gates`: run a repository's verification gates and report them."""

from __future__ import annotations

import sys

from omk_tui.commands._common import add_repo_arg

EXIT_PASSED = 0
EXIT_FAILED = 1  # a required gate failed or timed out, or there are no gates at all
RUNS_DIR = "gates-runs"


def register(sub) -> None:
    parser = sub.add_parser(
        "gates",
        help="run the repository's verification gates (tests, linters)",
        description="Run the gates from .omk/gates.toml, or the ones detected from the project files. "
        "Exit code: 0 every required gate passed, 1 a required gate failed or timed out (or no gates "
        "exist), 2 usage or configuration error. Logs: <repo>/.omk/gates-runs/<timestamp>/.",
    )
    add_repo_arg(parser)
    parser.add_argument("--json", action="store_true", help='print {"passed": bool, "gates": [...], "notes": [...]} as JSON')
    parser.add_argument(
        "--only", action="append", metavar="NAME", default=[],
        help="run only this gate (repeatable); names as shown by `omk-tui doctor`",
    )
    parser.set_defaults(func=run)


def run(args) -> int:
    import asyncio
    from datetime import datetime

    from omk_tui.cli import UsageError
    from omk_tui.commands._common import cancel_on_stop_signals, repo_root
    from omk_tui.control.orphans import GATES_MARK, markers, reap_orphans
    from omk_tui.gates import GateConfigError, NO_GATES_MESSAGE, resolve_gates, run_gates
    from omk_tui.models.gates import gates_passed
    from omk_tui.state.store import omk_dir

    repo = repo_root(args.repo)
    try:
        plan = resolve_gates(repo)
    except GateConfigError as exc:
        raise UsageError(f"{exc}\n  fix the file (or remove it to use the detected gates)") from None
    specs = plan.specs
    if args.only:
        known = plan.names
        unknown = [name for name in args.only if name not in known]
        if unknown:
            listed = ", ".join(known) if known else f"none ({NO_GATES_MESSAGE})"
            raise UsageError(f"unknown gate {', '.join(map(repr, unknown))}; known gates: {listed}")
        specs = [s for s in specs if s.name in set(args.only)]
    if not specs:
        return _report_no_gates(args.json, plan.notes, NO_GATES_MESSAGE)
    if not args.json:
        for note in plan.notes:  # e.g. a gate's tool is not on PATH: the gate is kept (and fails), and said why
            print(f"note: {note}", file=sys.stderr)

    # An earlier `omk-tui gates` here killed with -9 left its gates running: end them. Ours carry the same marks.
    reaped = reap_orphans(str(repo), GATES_MARK)
    if reaped:
        print(f"ended {len(reaped)} process(es) left behind by an `omk-tui gates` that was killed", file=sys.stderr)
    mark = markers(str(repo), GATES_MARK)
    specs = [s.model_copy(update={"env": {**s.env, **mark}}) for s in specs]
    now = datetime.now()
    run_id = f"{now:%Y%m%d-%H%M%S}-{now.microsecond // 1000:03d}"
    log_dir = omk_dir(repo) / RUNS_DIR
    on_event = None if args.json else _progress_printer()

    async def main():
        cancel_on_stop_signals()
        return await run_gates(specs, repo, log_dir, scope="cli", run_id=run_id, on_event=on_event)

    try:
        results = asyncio.run(main())
    except asyncio.CancelledError:  # SIGTERM or SIGHUP: the running gate was ended, as on Ctrl+C
        raise KeyboardInterrupt from None
    passed = gates_passed(results)
    if args.json:
        import json

        sys.stdout.write(json.dumps(
            {"passed": passed, "gates": [r.model_dump(mode="json") for r in results], "notes": plan.notes},
            indent=2) + "\n")
    else:
        _print_table(results, passed, log_dir / run_id)
    return EXIT_PASSED if passed else EXIT_FAILED


def _report_no_gates(as_json: bool, notes: list[str], message: str) -> int:
    if as_json:
        import json

        sys.stdout.write(json.dumps({"passed": False, "gates": [], "message": message, "notes": notes}, indent=2)
                         + "\n")
    else:
        for note in notes:
            if note != message:
                print(f"  {note}", file=sys.stderr)
        print(f"{message}: add a [[gates]] entry to .omk/gates.toml (see the README)", file=sys.stderr)
    return EXIT_FAILED


def _progress_printer():
    """Live progress on stderr, so stdout holds only the table."""

    def on_event(kind: str, payload: dict) -> None:
        if kind == "gate_started":
            print(f"▶ {payload['name']}: {payload['command_line']}", file=sys.stderr, flush=True)

    return on_event


def _status(result) -> tuple[str, str]:
    if result.skipped:
        return "skipped", "dim"
    if result.timed_out:
        return "TIMED OUT", "bold red"
    if result.passed:
        return "passed", "green"
    if result.allow_fail or not result.required:
        return "failed (allowed)", "yellow"
    return "FAILED", "bold red"


def _print_table(results, passed: bool, run_dir) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(highlight=False)
    table = Table(title="Gates", title_justify="left")
    for column in ("gate", "result", "exit", "time", "required", "command"):
        table.add_column(column, overflow="fold")
    for r in results:
        label, style = _status(r)
        table.add_row(
            Text(r.name), Text(label, style=style), "" if r.exit_code is None else str(r.exit_code),
            f"{r.duration_ms / 1000:.1f}s", "yes" if r.required and not r.allow_fail else "no",
            Text(r.command_line),
        )
    console.print(table)
    for r in results:
        if r.passed or r.skipped:
            continue
        console.print(Text(f"\n{r.name}: {_status(r)[0]} — log: {r.log_path}", style="bold"), soft_wrap=True)
        for line in r.summary:
            console.print(Text(f"  {line}"), soft_wrap=True)
    verdict = "every required gate passed" if passed else "a required gate failed"
    console.print(Text(f"\n{verdict}; logs in {run_dir}", style="green" if passed else "bold red"), soft_wrap=True)
