"""`omk-tui prompt`: run one agent turn and print its events as they come, then the result.

Exit codes: 0 the turn finished; 1 the agent failed (the reason is printed); 2 usage or configuration error.
"""

from __future__ import annotations

import sys

from omk_tui.commands._common import cancel_on_stop_signals, positive_amount

FINISHED = ("end_turn", "max_tokens", "max_turn_requests")


def register(sub) -> None:
    parser = sub.add_parser(
        "prompt",
        help="run one agent turn and print its events",
        description="Run one agent turn in a folder and print its events as they come (readable lines, or JSON "
        "lines with --json), then the result. Exit 0 when the turn finished, 1 on an agent failure, 2 on a "
        "usage error.",
    )
    parser.add_argument("text", metavar="TEXT", help="the prompt ('-' reads it from stdin)")
    parser.add_argument("--agent", metavar="SPEC",
                        help='kimi | acp:"<command>" | wire | wire:"<command>" | script:PATH '
                        "(default: agent.default of .omk/config.toml, else kimi)")
    parser.add_argument("--cwd", default=".", metavar="DIR", help="the agent's working directory (default: .)")
    parser.add_argument("--approval", metavar="POLICY",
                        help="never | safe | yolo | pattern:<regex> | ask (default: agent.approval, else yolo)")
    parser.add_argument("--scope", action="append", metavar="PATH",
                        help="a path the agent may write, relative to --cwd (repeatable; default: anything "
                        "inside --cwd)")
    parser.add_argument("--read-only", action="store_true", help="reject every mutating tool and every write")
    parser.add_argument("--timeout", type=positive_amount, metavar="SECS",
                        help="cancel the turn after SECS seconds (killed after a grace period)")
    parser.add_argument("--json", action="store_true", help="print JSON lines instead of readable lines")
    parser.set_defaults(func=run)


def run(args) -> int:
    import asyncio
    from pathlib import Path

    from omk_tui.agents.base import AgentError, SessionConfig
    from omk_tui.agents.spec import open_session
    from omk_tui.cli import UsageError
    from omk_tui.config import ConfigError, agent_settings, load_config

    cwd = Path(args.cwd).expanduser().resolve()
    if not cwd.is_dir():
        raise UsageError(f"--cwd {args.cwd}: {'not a folder' if cwd.exists() else 'no such folder'}")
    try:
        config = load_config(cwd)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    text = sys.stdin.read() if args.text == "-" else args.text
    if not text.strip():
        raise UsageError("the prompt TEXT is empty")
    for entry in args.scope or []:
        if not entry.strip() or Path(entry).is_absolute() or ".." in Path(entry).parts:
            raise UsageError(f"--scope {entry!r}: give a path relative to --cwd ({cwd}) that stays inside it")
    try:
        spec, approval = agent_settings(cwd, config, args.agent, args.approval)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    asker = _terminal_asker() if approval == "ask" and sys.stdin.isatty() and args.text != "-" else None
    session_config = SessionConfig(
        cwd=cwd,
        approval=approval,
        write_scope=args.scope or ["project files"],
        asker=asker,
        ask_timeout_secs=config.agent.ask_timeout_secs,
        ask_fallback=config.agent.ask_fallback,  # type: ignore[arg-type]
        read_only=args.read_only,
    )
    printer = _JsonPrinter() if args.json else _LinePrinter()
    try:
        session = open_session(spec, session_config, share_env=config.agent.env,
                               grace_secs=config.agent.turn_grace_secs, confine=config.agent.confine,
                               writable=config.agent.writable)
    except AgentError as exc:
        printer.failure(str(exc))
        return 1

    async def one_turn():
        cancel_on_stop_signals()  # SIGTERM, SIGHUP: the turn ends as on Ctrl+C
        try:
            await session.start()
            return await session.prompt(text, printer.update, timeout=args.timeout)
        finally:
            await session.close()

    try:
        result = asyncio.run(one_turn())
    except AgentError as exc:
        printer.failure(str(exc))
        return 1
    except asyncio.CancelledError:
        printer.failure("stopped by a signal; the agent and its commands were ended")
        return 1
    from omk_tui.agents.pricing import PriceTable

    cost = PriceTable.from_config(config.agent).cost(result.usage.input_tokens, result.usage.output_tokens)
    printer.result(result, cost)
    return 0 if result.stop_reason in FINISHED and not result.error else 1


def _terminal_asker():
    """Questions on stderr (stdout carries the events, JSON lines with --json), answers read from the terminal by
    the event loop itself: a question nobody answers in time leaves no reader behind to swallow later answers or
    keep the process alive."""
    import asyncio
    import os

    pending = bytearray()  # what was typed beyond the answer being read (answers typed ahead)

    async def read_line() -> str:
        loop = asyncio.get_running_loop()
        fd = sys.stdin.fileno()
        while b"\n" not in pending:
            ready = loop.create_future()
            loop.add_reader(fd, lambda: ready.done() or ready.set_result(None))
            try:
                await ready
            finally:
                loop.remove_reader(fd)
            data = os.read(fd, 4096)
            if not data:  # end of input: no answer
                return ""
            pending.extend(data)
        line, _, rest = bytes(pending).partition(b"\n")
        pending[:] = rest
        return line.decode("utf-8", errors="replace")

    async def ask(request):
        sys.stderr.write(f"\nallow {request.title}? [y = once / a = for this session / N = reject] ")
        sys.stderr.flush()
        answer = (await read_line()).strip().lower()
        return "approve" if answer in ("y", "yes") else "approve_for_session" if answer == "a" else "reject"

    return ask


class _LinePrinter:
    """Readable lines: message text streams as it comes; everything else is one tagged line."""

    def __init__(self) -> None:
        self.mid_line = False
        self.streaming: str | None = None

    def _line(self, text: str) -> None:
        if self.mid_line:
            sys.stdout.write("\n")
            self.mid_line = False
        self.streaming = None
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    def _stream(self, kind: str, text: str) -> None:
        if self.streaming != kind:
            if self.mid_line:
                sys.stdout.write("\n")
            sys.stdout.write("[thought] " if kind == "thought" else "")
            self.streaming = kind
        sys.stdout.write(text)
        self.mid_line = not text.endswith("\n")
        sys.stdout.flush()

    def update(self, u) -> None:
        if u.kind in ("message", "thought"):
            self._stream(u.kind, u.text)
        elif u.kind == "tool_call":
            detail = f" — {u.content.splitlines()[0][:120]}" if u.content and u.status in ("completed", "failed") \
                else ""
            self._line(f"[tool {u.status or 'update'}] {u.title or u.tool_call_id}{detail}")
        elif u.kind == "plan":
            self._line("[plan] " + "; ".join(f"{e.get('content')} ({e.get('status')})" for e in u.entries))
        elif u.kind == "permission_asked":
            self._line(f"[permission asked] {u.title}")
        elif u.kind == "permission_decided":
            self._line(f"[permission {u.decision}] by {u.by}" + (f": {u.reason}" if u.reason else ""))
        elif u.kind == "scope_refused":
            self._line(f"[refused {u.operation}] {u.reason}")
        elif u.kind == "usage":
            self._line(f"[usage] +{u.input_tokens} input, +{u.output_tokens} output tokens")
        elif u.kind == "stderr":
            self._line(f"[stderr] {u.text}")

    def result(self, r, cost: float) -> None:
        usage = (f" · tokens {r.usage.input_tokens} in / {r.usage.output_tokens} out (${cost:.4f})"
                 if r.usage_reported else " · no token usage reported")
        self._line(f"[result] {r.stop_reason} · {r.duration_ms / 1000:.2f}s{usage}")
        if r.error:
            print(f"omk-tui: agent failure: {r.error}", file=sys.stderr)

    def failure(self, message: str) -> None:
        print(f"omk-tui: agent failure: {message}", file=sys.stderr)


class _JsonPrinter:
    def _write(self, data: dict) -> None:
        import json

        sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    def update(self, u) -> None:
        self._write({"type": "update", **u.model_dump(exclude_defaults=True), "kind": u.kind})

    def result(self, r, cost: float) -> None:
        self._write({"type": "result", **r.model_dump(), "cost_usd": round(cost, 8)})

    def failure(self, message: str) -> None:
        self._write({"type": "result", "stop_reason": "error", "error": message})
        print(f"omk-tui: agent failure: {message}", file=sys.stderr)
