"""The `omk-tui` command line.

Each subcommand lives in `omk_tui/commands/<name>.py`, which exposes `register(subparsers)` and imports
nothing heavy at module level: `omk-tui --help` and every headless subcommand must never import textual.
With no subcommand, `omk-tui` opens the dashboard of the repository in the current folder.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import re
import sys

from omk_tui import __version__

# Order is the order shown by --help.
COMMAND_MODULES = (
    "dashboard", "demo", "run", "goals", "show", "proof", "pause", "resume", "cancel", "budget_add",
    "accept", "reject", "deliver", "clean", "replay", "ralph", "prompt", "gates", "slices", "doctor",
)

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2

# `--budget-time -5m` or `--wait -1`: a value (refused by the option's own check, with a reason), not an unknown
# option. argparse takes only plain negative numbers such as `-5` for values.
NEGATIVE_VALUE = re.compile(r"^-\.?\d")


class UsageError(Exception):
    """A usage or configuration error: printed as `omk-tui: error: ...`, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="omk-tui",
        description="Prompts into proof-backed engineering runs: task graphs, per-slice git worktrees, "
        "ACP agents, verification gates, a review wall and replay, in a terminal UI.",
    )
    parser.add_argument("--version", action="version", version=f"omk-tui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        modname = f"omk_tui.commands.{name}"
        if importlib.util.find_spec(modname) is None:
            continue
        importlib.import_module(modname).register(sub)
    for p in (parser, *sub.choices.values()):
        if hasattr(p, "_negative_number_matcher"):  # argparse's own (3.11-3.13); without it, argparse's message
            p._negative_number_matcher = NEGATIVE_VALUE
    parser.subcommands = sub.choices  # type: ignore[attr-defined]
    return parser


def parse(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """The arguments; an unknown one is reported with the usage of the subcommand it was given to."""
    args, extra = parser.parse_known_args(argv)
    if not getattr(args, "command", None):
        if "dashboard" not in parser.subcommands:  # type: ignore[attr-defined]
            return args
        args, extra = parser.parse_known_args(["dashboard", *(argv if argv is not None else sys.argv[1:])])
    if extra:
        command = parser.subcommands[args.command]  # type: ignore[attr-defined]
        command.error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def quiet_broken_pipe() -> int:
    """stdout's reader went away (omk-tui ... | head): stop quietly, as command-line tools do. stdout is pointed
    at /dev/null so that Python's own flush at exit does not fail again."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return EXIT_FAILURE


def state_write_advice(exc: OSError, args) -> str:
    """What to do after a state file could not be written: the cause's fix, then how to go on."""
    from omk_tui.state.atomic import write_fix

    fix = write_fix(exc.errno)
    command = getattr(args, "command", "")
    if command in ("run", "demo"):
        then = "continue with `omk-tui resume latest`"
    elif command == "resume":
        then = f"continue with `omk-tui resume {getattr(args, 'goal', 'latest')}`"
    elif command == "ralph":
        then = "continue with `omk-tui ralph ... --resume`"
    else:
        then = "run the command again"
    return f"{fix}, then {then}"


def _error(message, *, internal: bool = False) -> None:
    """`omk-tui: error: MESSAGE` on stderr; the message's control characters escaped (it may quote an agent's or a
    file's text), its lines kept."""
    from omk_tui.render.safe import printable

    print(f"omk-tui: {'internal error' if internal else 'error'}: {printable(str(message), newlines=True)}",
          file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parse(parser, argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # here, so that a reader gone away is seen below, not at exit
        return code
    except BrokenPipeError:
        return quiet_broken_pipe()
    except UsageError as exc:
        _error(exc)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("omk-tui: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # never a bare traceback for a person
        from omk_tui.config import CONFIG_FIX, ConfigError
        from omk_tui.state.atomic import StateWriteError
        from omk_tui.state.store import GoalNotFound, StateFileError

        if isinstance(exc, ConfigError):  # .omk/config.toml found malformed where a command reads it (resume)
            _error(f"{exc}\n  {CONFIG_FIX}, then run the command again")
            return EXIT_USAGE
        if isinstance(exc, GoalNotFound):  # e.g. a goal folder without goal.json: the message says what to do
            _error(exc)
            return EXIT_USAGE
        if isinstance(exc, StateWriteError):
            _error(exc)
            print(f"  {state_write_advice(exc, args)}; the files written before are intact", file=sys.stderr)
            return EXIT_FAILURE
        if isinstance(exc, StateFileError):  # a recorded file that cannot be read: named, nothing changed
            _error(exc)
            print("  nothing was changed; restore the file (or remove the goal's folder), then run the command "
                  "again", file=sys.stderr)
            return EXIT_FAILURE
        if isinstance(exc, OSError) and exc.filename:  # the file system said no to a path: not our bug, name it
            _error(f"cannot use {exc.filename}: {exc.strerror or exc}")
            print("  fix that path (a file where a folder belongs, permissions, space), then run the command again",
                  file=sys.stderr)
            return EXIT_FAILURE
        import os
        import traceback

        _error(f"{type(exc).__name__}: {exc}", internal=True)
        if os.environ.get("OMK_DEBUG"):
            traceback.print_exc()
        else:
            print("  (set OMK_DEBUG=1 to see the traceback)", file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":
    raise SystemExit(main())
