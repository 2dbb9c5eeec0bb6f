"""The gate runner with real subprocesses: exit codes, logs, events, timeouts, cancel, floods, bad bytes."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import pytest

from omk_tui.gates import log_file_name, run_gate, run_gates
from omk_tui.gates.output import MAX_LINE_CHARS
from omk_tui.models.events import GateFinished, GateProgress, GateStarted
from omk_tui.models.gates import GateSpec, gates_passed

PY = sys.executable


def alive(pid: int) -> bool:
    """A process that exists and is not a zombie (where PID 1 does not reap, ended orphans linger as zombies)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2 :].split()[0] not in (b"Z", b"X")


def vm_rss_kb() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


async def run(specs, tmp_path, **kw):
    return await run_gates(specs, tmp_path, tmp_path / "logs", scope="final", run_id="run1", **kw)


@pytest.mark.timeout(30)
async def test_pass_fail_exit_codes_logs_and_events(tmp_path):
    events: list[tuple[str, dict]] = []
    lines: list[tuple[str, str, str]] = []
    specs = [
        GateSpec(name="ok", command="echo out; echo err >&2"),
        GateSpec(name="exit 3", command=["sh", "-c", "echo failing; exit 3"]),
        GateSpec(name="optional", command="false", required=False),
        GateSpec(name="allowed", command="false", allow_fail=True),
        GateSpec(name="skipped", command="false", skip=True),
    ]
    results = await run(specs, tmp_path, on_event=lambda k, p: events.append((k, p)),
                        on_line=lambda *a: lines.append(a))
    ok, bad, optional, allowed, skipped = results
    assert ok.passed and ok.exit_code == 0 and ok.line_count == 2
    assert not bad.passed and bad.exit_code == 3 and bad.blocking
    assert "failing" in bad.summary
    assert not optional.passed and not optional.blocking
    assert not allowed.passed and allowed.allow_fail and not allowed.blocking
    assert skipped.skipped and skipped.passed and skipped.log_path is None
    assert not gates_passed(results) and gates_passed([ok, optional, allowed, skipped])

    assert Path(ok.log_path) == tmp_path / "logs" / "run1" / "01-ok.log"
    assert Path(bad.log_path).name == "02-exit-3.log"
    log = Path(ok.log_path).read_text()
    assert "$ echo out; echo err >&2" in log and "out\nerr\n" in log and "exit code 0" in log
    assert ("final", "ok", "out") in lines and ("final", "ok", "err") in lines

    kinds = [k for k, _ in events]
    assert kinds.count("gate_started") == 4 and kinds.count("gate_finished") == 5
    for kind, payload in events:
        model = {"gate_started": GateStarted, "gate_progress": GateProgress, "gate_finished": GateFinished}[kind]
        model.model_validate(payload)
    finished = [p for k, p in events if k == "gate_finished"]
    assert finished[1]["result"]["exit_code"] == 3 and finished[1]["run"] == "run1"


def test_log_file_names_are_sanitised():
    assert log_file_name(3, "unit tests/../x") == "03-unit-tests-..-x.log"
    assert log_file_name(12, "///") == "12-gate.log"


async def test_command_not_found_and_env_and_cwd(tmp_path):
    (tmp_path / "sub").mkdir()
    specs = [
        GateSpec(name="missing", command=["no-such-tool-xyz"]),
        GateSpec(name="env", command='test "$GATE_VAR" = hello && pwd', env={"GATE_VAR": "hello"}, cwd="sub"),
        GateSpec(name="escape", command="true", cwd="../"),
    ]
    missing, env, escape = await run(specs, tmp_path)
    assert not missing.passed and missing.exit_code == 127 and "command not found" in missing.summary[0]
    assert env.passed and env.summary[-1] == str((tmp_path / "sub").resolve())
    assert not escape.passed and "leaves the repository" in escape.summary[0]


async def test_fail_on_output(tmp_path):
    quiet, noisy = await run([
        GateSpec(name="quiet", command="true", fail_on_output=True),
        GateSpec(name="noisy", command="echo main.go", fail_on_output=True),
    ], tmp_path)
    assert quiet.passed
    assert not noisy.passed and noisy.exit_code == 0 and "main.go" in noisy.summary


@pytest.mark.timeout(30)
async def test_timeout_ends_the_whole_tree(tmp_path):
    pids = tmp_path / "pids"
    tree = (
        f"echo $$ >> {pids}; sleep 1000 & echo $! >> {pids}; "
        f"sh -c 'sleep 1000 & echo $! >> {pids}; trap \"\" TERM; sleep 1000' & echo $! >> {pids}; "
        "echo started; wait"
    )
    start = time.monotonic()
    [result] = await run([GateSpec(name="tree", command=tree, timeout_secs=1.0)], tmp_path, kill_grace=0.5)
    elapsed = time.monotonic() - start
    assert result.timed_out and not result.passed and result.exit_code is None
    assert "timed out after 1 s" in result.summary[0] and "started" in result.summary
    recorded = [int(p) for p in pids.read_text().split()]
    assert len(recorded) == 4
    assert not [p for p in recorded if alive(p)], "a process of the gate survived"
    assert elapsed < 5
    assert "timed out" in Path(result.log_path).read_text()


@pytest.mark.timeout(30)
async def test_background_children_left_by_a_finished_gate_are_ended(tmp_path):
    pids = tmp_path / "pids"
    [result] = await run([GateSpec(name="bg", command=f"sleep 1000 & echo $! > {pids}; echo done")], tmp_path)
    assert result.passed and result.exit_code == 0 and "done" in result.summary
    assert not alive(int(pids.read_text()))
    assert result.duration_ms < 4000


def away(name: str, secs: int = 1000) -> str:
    """Shell text that starts `sleep secs` in a new session (setsid: out of the gate's process group), its pid in
    `name`, holding the output pipe unless redirected after."""
    return f"setsid sh -c 'echo $$ > {name}; exec sleep {secs}'"


def wait_for(*names: str) -> str:
    return "; ".join(f"while [ ! -s {n} ]; do sleep 0.02; done" for n in names)


@pytest.mark.timeout(30)
async def test_processes_that_left_the_gates_process_group_are_ended_with_the_gate(tmp_path):
    # setsid (a test suite that starts a server with start_new_session=True and forgets it): the group kill
    # misses them; the gate run's environment mark finds them
    command = (f"{away('quiet.pid')} >/dev/null 2>&1 </dev/null & {away('holds.pid')} & "
               f"{wait_for('quiet.pid', 'holds.pid')}; echo done")
    [finished] = await run([GateSpec(name="daemons", command=command)], tmp_path)
    assert finished.passed and finished.exit_code == 0 and "done" in finished.summary
    pids = [int((tmp_path / n).read_text()) for n in ("quiet.pid", "holds.pid")]
    assert not [p for p in pids if alive(p)], "a process started with setsid outlived the gate"
    assert finished.duration_ms < 10_000  # the one holding the pipe did not keep the gate running

    (tmp_path / "quiet.pid").unlink()
    [timed] = await run([GateSpec(name="forever", command=f"{away('quiet.pid')} & {wait_for('quiet.pid')}; sleep 1000",
                                  timeout_secs=1.0)], tmp_path, kill_grace=0.5)
    assert timed.timed_out
    assert not alive(int((tmp_path / "quiet.pid").read_text()))


@pytest.mark.timeout(30)
async def test_cancel_ends_the_running_gate_and_skips_the_rest(tmp_path):
    pids = tmp_path / "pids"
    cancel = asyncio.Event()
    specs = [
        GateSpec(name="long", command=f"sleep 1000 & echo $! >> {pids}; echo $$ >> {pids}; wait"),
        GateSpec(name="never", command="true"),
    ]

    async def cancel_soon():
        while not pids.exists() or len(pids.read_text().split()) < 2:
            await asyncio.sleep(0.02)
        cancel.set()

    start = time.monotonic()
    results, _ = await asyncio.gather(run(specs, tmp_path, cancel=cancel, kill_grace=0.5), cancel_soon())
    assert time.monotonic() - start < 4
    assert [r.name for r in results] == ["long"]
    assert results[0].cancelled and not results[0].passed and not results[0].timed_out
    assert not [p for p in map(int, pids.read_text().split()) if alive(p)]


@pytest.mark.timeout(30)
async def test_outer_task_cancellation_leaves_no_process(tmp_path):
    pids = tmp_path / "pids"
    task = asyncio.create_task(run_gate(
        GateSpec(name="long", command=f"sleep 1000 & echo $! >> {pids}; {away('away.pid')} & wait"), tmp_path,
        tmp_path / "x.log", scope="final",
    ))
    while not all(p.exists() and p.read_text().strip() for p in (pids, tmp_path / "away.pid")):
        await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.2)
    assert not alive(int(pids.read_text()))
    assert not alive(int((tmp_path / "away.pid").read_text()))  # left the group with setsid: ended by its mark


@pytest.mark.timeout(60)
async def test_flood_of_output_keeps_memory_bounded(tmp_path):
    # 1000-byte lines as fast as Python can print them, plus error-looking lines, ended by a short timeout.
    flood = (
        "import sys\n"
        "chunk = ((b'x' * 990 + b' error: y\\n') * 1024)\n"
        "w = sys.stdout.buffer.write\n"
        "while True: w(chunk)\n"
    )
    await run([GateSpec(name="warm-up", command="echo hi")], tmp_path)
    baseline = vm_rss_kb()
    peak = [baseline]
    seen = [0]

    def on_event(kind, payload):
        if kind == "gate_progress":
            peak[0] = max(peak[0], vm_rss_kb())

    def on_line(scope, name, line):
        seen[0] += 1

    [result] = await run([GateSpec(name="flood", command=[PY, "-c", flood], timeout_secs=3)], tmp_path,
                         on_event=on_event, on_line=on_line, kill_grace=0.5)
    size = Path(result.log_path).stat().st_size
    Path(result.log_path).unlink()
    assert result.timed_out
    assert size > 50_000_000, f"only {size} bytes flowed"
    assert result.line_count == seen[0] and result.line_count > 50_000
    assert len(result.summary) <= 40 and all(len(line) <= 240 for line in result.summary)
    growth_mb = (max(peak[0], vm_rss_kb()) - baseline) / 1024
    assert growth_mb < 16, f"RSS grew by {growth_mb:.1f} MB for {size / 1e6:.0f} MB of output"


@pytest.mark.timeout(60)
async def test_long_line_without_newline_is_bounded(tmp_path):
    baseline = vm_rss_kb()
    got: list[str] = []
    [result] = await run([GateSpec(name="long", command="head -c 104857600 /dev/zero | tr '\\0' x")], tmp_path,
                         on_line=lambda s, n, line: got.append(line))
    assert result.passed and result.line_count == 1 and len(got) == 1
    assert got[0].startswith("x" * MAX_LINE_CHARS) and got[0].endswith(f"…[+{100 * 2**20 - MAX_LINE_CHARS} chars]")
    assert len(result.summary[0]) <= 240
    assert Path(result.log_path).stat().st_size > 100 * 2**20
    assert (vm_rss_kb() - baseline) / 1024 < 16


async def test_invalid_utf8_and_split_characters(tmp_path):
    script = (
        "import sys, time\n"
        "w = sys.stdout.buffer\n"
        "w.write(b'bad \\xff\\xfe bytes\\ncaf\\xc3'); w.flush(); time.sleep(0.2)\n"
        "w.write(b'\\xa9\\r\\nend'); w.flush()\n"
    )
    got: list[str] = []
    [result] = await run([GateSpec(name="bytes", command=[PY, "-c", script])], tmp_path,
                         on_line=lambda s, n, line: got.append(line))
    assert got == ["bad \ufffd\ufffd bytes", "café", "end"]
    assert result.passed and result.summary == got
    assert b"\xff\xfe" in Path(result.log_path).read_bytes()  # the log keeps the raw bytes


@pytest.mark.timeout(30)
async def test_the_log_of_a_running_gate_grows_as_the_gate_prints(tmp_path):
    # a viewer follows the file while the gate runs: each line must be there before the gate ends
    marker = tmp_path / "go-on"
    spec = GateSpec(name="slow", command=f"printf 'first %s\\n' line; while [ ! -e {marker} ]; do sleep 0.05; done; echo last")
    log = tmp_path / "slow.log"
    task = asyncio.create_task(run_gate(spec, tmp_path, log, scope="final"))
    for _ in range(400):
        if log.exists() and "first line" in log.read_text():
            break
        await asyncio.sleep(0.05)
    assert "first line" in log.read_text() and not task.done()  # read while the gate still runs
    marker.touch()
    result = await task
    assert result.passed and "last" in log.read_text()
