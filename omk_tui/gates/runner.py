"""Running gates: one asyncio subprocess per gate, in its own process group, output streamed and bounded.

Output (stdout and stderr merged by the OS, so their order is kept) is read in chunks as it comes, written raw
to the gate's log, split into lines offered to `on_line`, and otherwise only kept as a bounded window (last
lines + first interesting lines). A timeout or a cancel ends the whole process group, grandchildren included.
Each gate run carries its own environment mark (procs.new_mark), so what it started and left behind — also a
process that left the group with `setsid` — is ended when the gate ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import time
from collections.abc import Callable
from pathlib import Path

from omk_tui.gates.output import LineSplitter, OutputWindow
from omk_tui.gates.summary import build_summary
from omk_tui.models.events import GateFinished, GateProgress, GateStarted
from omk_tui.models.gates import GateResult, GateSpec
from omk_tui.proc_records import forget, record_started
from omk_tui.procs import DRAIN_SECS, end_command, exited, group_alive, kill_group_now, kill_marked, new_mark

EventHandler = Callable[[str, dict], None]
LineHandler = Callable[[str, str, str], None]

READ_CHUNK = 64 * 1024
KILL_GRACE_SECS = 2.0
PROGRESS_INTERVAL_SECS = 0.1


MAX_LOG_BYTES = int(os.environ.get("OMK_GATE_LOG_MAX_BYTES", 256 << 20))  # per gate run


def log_file_name(index: int, name: str) -> str:
    """`NN-<name>.log` with the name reduced to characters safe in any file system."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")[:60] or "gate"
    return f"{index:02d}-{safe}.log"


async def run_gates(
    specs: list[GateSpec],
    cwd: Path,
    log_dir: Path,
    *,
    scope: str,
    run_id: str,
    on_event: EventHandler | None = None,
    on_line: LineHandler | None = None,
    cancel: asyncio.Event | None = None,
    kill_grace: float = KILL_GRACE_SECS,
    judge: Callable[[GateResult], GateResult] | None = None,
) -> list[GateResult]:
    """Run `specs` one after the other in `cwd`; logs go to `log_dir/<run_id>/NN-<name>.log`.

    Every gate runs even when an earlier one failed (the proof lists them all). When `cancel` is set, the running
    gate is ended (its result has cancelled=True) and the gates after it are not run, so they have no result.
    `judge`, when given, may amend each result before it is recorded (`gate_finished`) and returned.
    """
    run_dir = Path(log_dir) / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    results: list[GateResult] = []
    for index, spec in enumerate(specs, start=1):
        if cancel is not None and cancel.is_set():
            break
        results.append(
            await run_gate(
                spec, cwd, run_dir / log_file_name(index, spec.name), scope=scope, run_id=run_id,
                on_event=on_event, on_line=on_line, cancel=cancel, kill_grace=kill_grace, judge=judge,
            )
        )
    return results


async def run_gate(
    spec: GateSpec,
    cwd: Path,
    log_path: Path,
    *,
    scope: str,
    run_id: str = "",
    on_event: EventHandler | None = None,
    on_line: LineHandler | None = None,
    cancel: asyncio.Event | None = None,
    kill_grace: float = KILL_GRACE_SECS,
    judge: Callable[[GateResult], GateResult] | None = None,
) -> GateResult:
    """Run one gate and return its result (never raises for the gate's own failures)."""
    emit = on_event or (lambda kind, payload: None)
    base = dict(
        name=spec.name, command_line=spec.command_line, required=spec.required, allow_fail=spec.allow_fail,
        timeout_secs=spec.timeout_secs,
    )
    if spec.skip:
        return _finished(GateResult(**base, passed=True, skipped=True, summary=["skipped (skip = true)"]), scope,
                         run_id, emit, judge)

    log_path = Path(log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    emit("gate_started", GateStarted(
        scope=scope, name=spec.name, command_line=spec.command_line, log_path=str(log_path), run=run_id,
    ).model_dump(mode="json"))
    started = time.monotonic()
    with open(log_path, "wb") as log:
        log.write(f"$ {spec.command_line}\n".encode())
        log.flush()
        workdir, problem = _workdir(Path(cwd), spec.cwd)
        outcome = None
        if problem is None:
            outcome = await _execute(spec, workdir, log, scope, run_id, emit, on_line, cancel, kill_grace)
            problem = outcome.problem
        duration_ms = int((time.monotonic() - started) * 1000)
        log.write(f"\n[{_ending(outcome, problem, spec, duration_ms)}]\n".encode())

    return _finished(_result(spec, base, outcome, problem, duration_ms, log_path), scope, run_id, emit, judge)


def _finished(result: GateResult, scope: str, run_id: str, emit, judge) -> GateResult:
    if judge is not None:
        result = judge(result)
    emit("gate_finished", GateFinished(scope=scope, result=result, run=run_id).model_dump(mode="json"))
    return result


class _Outcome:
    def __init__(self, window: OutputWindow) -> None:
        self.window = window
        self.exit_code: int | None = None
        self.timed_out = False
        self.cancelled = False
        self.problem: str | None = None


async def _execute(spec, workdir, log, scope, run_id, emit, on_line, cancel, kill_grace) -> _Outcome:
    window = OutputWindow()
    outcome = _Outcome(window)
    argv = ["/bin/sh", "-c", spec.command] if isinstance(spec.command, str) else list(spec.command)
    mark = new_mark()
    try:
        proc = await _spawn(argv, workdir, {**spec.env, mark: "1"})
        record = record_started(proc.pid, f"gate {spec.name}")
    except FileNotFoundError:
        outcome.exit_code = 127
        outcome.problem = f"command not found: {argv[0]} (install it, or change the gate in .omk/gates.toml)"
        return outcome
    except PermissionError:
        outcome.exit_code = 126
        outcome.problem = f"not executable: {argv[0]}"
        return outcome
    except OSError as exc:
        outcome.problem = f"could not start {argv[0]}: {exc.strerror or exc}"
        return outcome

    splitter = LineSplitter()
    last_progress = 0.0
    reported = 0

    def deliver(lines: list[str]) -> None:
        nonlocal last_progress, reported
        if not lines:
            return
        window.add(lines)
        if on_line is not None:
            for line in lines:
                on_line(scope, spec.name, line)
        now = time.monotonic()
        if now - last_progress >= PROGRESS_INTERVAL_SECS:
            last_progress, reported = now, window.line_count
            emit("gate_progress", GateProgress(scope=scope, name=spec.name, line_count=reported).model_dump(mode="json"))

    written = 0

    async def pump() -> None:
        nonlocal written
        assert proc.stdout is not None
        while True:
            chunk = await proc.stdout.read(READ_CHUNK)
            if not chunk:
                if written > MAX_LOG_BYTES:
                    log.write(f"\n[omk-tui: {written - MAX_LOG_BYTES} more bytes of output were not kept in this "
                              f"log (limit {MAX_LOG_BYTES >> 20} MiB); the summary covers the end]\n".encode())
                return
            # The disk is bounded like memory: the first MAX_LOG_BYTES are kept, the rest only counted and
            # summarised (the summary window keeps the last lines).
            if written < MAX_LOG_BYTES:
                log.write(chunk[: MAX_LOG_BYTES - written])
                # in the file at once, so a viewer (this process's TUI or one attached from elsewhere) follows a
                # running gate's log as it grows
                log.flush()
            written += len(chunk)
            deliver(splitter.feed(chunk))

    loop = asyncio.get_running_loop()
    pump_task = asyncio.create_task(pump())
    wait_task = asyncio.create_task(exited(proc))
    cancel_task = asyncio.create_task(cancel.wait()) if cancel is not None else None
    end = loop.time() + spec.timeout_secs
    ended = False  # end_command has ended everything the gate started
    try:
        while not wait_task.done():
            if pump_task.done() and pump_task.exception() is not None:
                break
            remaining = end - loop.time()
            if remaining <= 0:
                outcome.timed_out = True
                break
            watched = {wait_task}
            if not pump_task.done():
                watched.add(pump_task)
            if cancel_task is not None:
                watched.add(cancel_task)
            done, _ = await asyncio.wait(watched, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
            if cancel_task is not None and cancel_task in done and not wait_task.done():
                outcome.cancelled = True
                break
        if outcome.timed_out or outcome.cancelled:
            await end_command(proc, pump_task, mark, drain=0, grace=kill_grace)
        else:
            # Children the gate left in the background may still hold the pipe: let them finish briefly.
            await end_command(proc, pump_task, mark, drain=max(0.0, min(DRAIN_SECS, end - loop.time())),
                              grace=min(kill_grace, 0.5))
        ended = True
        if pump_task.done() and pump_task.exception() is not None:
            raise pump_task.exception()
        deliver(splitter.finish())
        if window.line_count != reported:
            emit("gate_progress", GateProgress(
                scope=scope, name=spec.name, line_count=window.line_count).model_dump(mode="json"))
        if not (outcome.timed_out or outcome.cancelled):
            outcome.exit_code = proc.returncode
        return outcome
    finally:
        for task in (pump_task, wait_task, cancel_task):
            if task is not None and not task.done():
                task.cancel()
        if proc.returncode is None or group_alive(proc.pid):
            kill_group_now(proc.pid)  # we are being cancelled or failing: leave no process behind
            # reap it and let its pipe close here, while the loop runs (not in a transport's __del__ after
            # asyncio.run closed the loop, which prints "Event loop is closed" on Ctrl-C)
            with contextlib.suppress(BaseException):
                await asyncio.wait({asyncio.ensure_future(proc.wait())}, timeout=1.0)
        if not ended:  # cancelled or failing midway: also what left the group
            kill_marked(mark)
        forget(record)


async def _spawn(argv: list[str], workdir: Path, env: dict[str, str]) -> asyncio.subprocess.Process:
    """Start the gate; if we are cancelled meanwhile, the child may already run: end its group, then re-raise."""
    spawn = asyncio.ensure_future(asyncio.create_subprocess_exec(
        *argv, cwd=str(workdir), env=_gate_env(env), stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, start_new_session=True,
    ))
    try:
        return await asyncio.shield(spawn)
    except asyncio.CancelledError:
        try:
            proc = await spawn
        except Exception:
            raise asyncio.CancelledError from None
        kill_group_now(proc.pid)
        raise


def _gate_env(extra: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("CI", "true")  # test runners with a watch mode (jest, vitest) stay non-interactive
    env["PYTHONUNBUFFERED"] = "1"  # Python gates stream their output instead of flushing at exit
    env.update(extra)
    return env


def _workdir(root: Path, cwd: str | None) -> tuple[Path, str | None]:
    if not cwd:
        return root, None
    target = (root / cwd).resolve()
    base = root.resolve()
    if target != base and base not in target.parents:
        return target, f"cwd {cwd!r} leaves the repository ({target}); it must stay inside it"
    if not target.is_dir():
        return target, f"cwd {cwd!r} is not a folder in {base}"
    return target, None


def _ending(outcome: _Outcome | None, problem: str | None, spec: GateSpec, duration_ms: int) -> str:
    secs = f"{duration_ms / 1000:.1f} s"
    if outcome is not None and outcome.timed_out:
        return f"timed out after {spec.timeout_secs:g} s: the process group was ended"
    if outcome is not None and outcome.cancelled:
        return f"cancelled after {secs}: the process group was ended"
    if problem:
        return problem
    return f"exit code {outcome.exit_code} after {secs}" if outcome else secs


def _result(spec, base, outcome, problem, duration_ms, log_path) -> GateResult:
    notes: list[str] = []
    exit_code = outcome.exit_code if outcome else None
    passed = False
    window = outcome.window if outcome else OutputWindow()
    if outcome is not None and outcome.timed_out:
        notes.append(f"timed out after {spec.timeout_secs:g} s; the gate's process group was ended")
    elif outcome is not None and outcome.cancelled:
        notes.append("cancelled; the gate's process group was ended")
    elif problem:
        notes.append(problem)
    elif exit_code == 0 and spec.fail_on_output and window.printed_anything:
        notes.append(f"{spec.name} printed output, which means failure for this gate (e.g. files to reformat)")
    else:
        passed = exit_code == 0
        if exit_code is not None and exit_code < 0:
            notes.append(f"ended by signal {-exit_code}")
    summary = build_summary(
        (text for _, text in window.interesting), window.tail, passed=passed, notes=notes
    )
    return GateResult(
        **base,
        passed=passed,
        exit_code=exit_code,
        timed_out=bool(outcome and outcome.timed_out),
        cancelled=bool(outcome and outcome.cancelled),
        duration_ms=duration_ms,
        log_path=str(log_path),
        line_count=window.line_count,
        summary=summary,
    )
