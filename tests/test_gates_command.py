"""`omk-tui gates` as a person runs it: a real subprocess on real temp repositories."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(60)


def make_repo(path: Path, gates_toml: str | None = None) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    if gates_toml is not None:
        (path / ".omk").mkdir(exist_ok=True)
        (path / ".omk" / "gates.toml").write_text(gates_toml)
    return path


def omk(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "omk_tui", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=50)


GATES = '''
[[gates]]
name = "unit"
command = "echo all good"

[[gates]]
name = "lint"
command = ["sh", "-c", "echo 'src/a.py:1:1: F401 unused import'; exit 1"]
required = false

[[gates]]
name = "types"
command = "echo 'error: bad type' >&2; exit 2"
'''


def test_json_output_and_exit_code_one_for_a_failed_required_gate(tmp_path):
    repo = make_repo(tmp_path / "r", GATES)
    proc = omk("gates", "--repo", str(repo), "--json")
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    assert data["passed"] is False
    unit, lint, types = data["gates"]
    assert (unit["name"], unit["passed"], unit["exit_code"]) == ("unit", True, 0)
    assert (lint["passed"], lint["required"]) == (False, False)
    assert (types["passed"], types["exit_code"]) == (False, 2) and "error: bad type" in types["summary"]
    log = Path(types["log_path"])
    assert log.parent.parent == repo / ".omk" / "gates-runs" and log.name == "03-types.log"
    assert (repo / ".omk" / ".gitignore").read_text() == "*\n!gates.toml\n!config.toml\n"
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=repo, capture_output=True,
                            text=True).stdout
    assert status == "?? .omk/gates.toml\n"  # the project's own settings, to commit; none of the runs' files


def test_only_selects_gates_and_exit_zero(tmp_path):
    repo = make_repo(tmp_path / "r", GATES)
    proc = omk("gates", "--only", "unit", "--only", "lint", "--json", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["passed"] is True and [g["name"] for g in data["gates"]] == ["unit", "lint"]


def test_table_output(tmp_path):
    repo = make_repo(tmp_path / "r", GATES)
    proc = omk("gates", "--repo", str(repo))
    assert proc.returncode == 1
    out = proc.stdout
    for text in ("unit", "passed", "lint", "failed (allowed)", "types", "FAILED", "error: bad type",
                 "a required gate failed", "03-types.log"):
        assert text in out, text
    assert "▶ unit: echo all good" in proc.stderr


def test_unknown_only_name_is_a_usage_error(tmp_path):
    repo = make_repo(tmp_path / "r", GATES)
    proc = omk("gates", "--repo", str(repo), "--only", "nope")
    assert proc.returncode == 2
    assert "unknown gate 'nope'" in proc.stderr and "known gates: unit, lint, types" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_malformed_gates_toml_is_exit_two_with_file_line_and_field(tmp_path):
    repo = make_repo(tmp_path / "r", '[[gates]]\nname = "a"\ncommand = "true"\ntimeout_secs = "soon"\n')
    proc = omk("gates", "--repo", str(repo))
    assert proc.returncode == 2
    assert f"{repo}/.omk/gates.toml, line 4: gates[0].timeout_secs" in proc.stderr


def test_no_gates_is_exit_one_with_a_clear_message(tmp_path):
    repo = make_repo(tmp_path / "r")
    proc = omk("gates", "--repo", str(repo))
    assert proc.returncode == 1
    assert "no local gates were detected or configured" in proc.stderr
    proc = omk("gates", "--repo", str(repo), "--json")
    assert proc.returncode == 1
    assert json.loads(proc.stdout) == {
        "passed": False, "gates": [], "message": "no local gates were detected or configured",
        "notes": ["no local gates were detected or configured"],
    }


def test_not_a_repository_is_a_usage_error(tmp_path):
    proc = omk("gates", "--repo", str(tmp_path))
    assert proc.returncode == 2 and "not inside a git repository" in proc.stderr


def test_gates_command_does_not_import_textual():
    code = ("import sys; from omk_tui.cli import main; import omk_tui.commands.gates as g, omk_tui.commands.doctor;"
            "assert 'textual' not in sys.modules and 'pydantic' not in sys.modules, sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)


def test_ctrl_c_ends_the_gates_quietly_and_leaves_no_process(tmp_path):
    import signal
    import time

    marker = f"omk-ctrl-c-{os.getpid()}"
    repo = make_repo(tmp_path / "r", f'[[gates]]\nname = "slow"\ncommand = ["sh", "-c", "sleep 30; : {marker}"]\n')
    for _ in range(3):  # the noise it used to print came now and then, not every time
        proc = subprocess.Popen([sys.executable, "-m", "omk_tui", "gates"], cwd=repo, stderr=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True)
        line = proc.stderr.readline()
        assert line.startswith("▶ slow"), line
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
        assert proc.returncode == 130 and "Traceback" not in err and "Event loop is closed" not in err, err
        left = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True).stdout.split()
        assert not left


def test_a_detected_gate_whose_tool_is_not_on_path_is_kept_with_a_note(tmp_path):
    repo = make_repo(tmp_path / "r")
    (repo / "pyproject.toml").write_text("[tool.ruff]\nline-length = 100\n")
    (repo / "tests").mkdir()
    (repo / "tests" / "test_x.py").write_text("def test_x():\n    pass\n")
    path = os.pathsep.join(d for d in os.environ["PATH"].split(os.pathsep) if d and not (Path(d) / "ruff").exists())
    note = "`ruff` is not on PATH: the ruff gates will fail until it is installed"
    env = {**os.environ, "PATH": path, "COLUMNS": "200"}
    run = lambda *a: subprocess.run([sys.executable, "-m", "omk_tui", *a], cwd=repo, env=env,  # noqa: E731
                                    capture_output=True, text=True, timeout=50)
    data = json.loads(run("gates", "--json").stdout)
    assert [g["name"] for g in data["gates"]] == ["pytest", "ruff"] and data["notes"] == [note]
    proc = run("gates")
    assert f"note: {note}" in proc.stderr
    doctor = {c["name"]: c for c in json.loads(run("doctor", "--json").stdout)}["gates"]
    assert doctor["status"] == "warning" and note in doctor["detail"] and "ruff (`ruff check`)" in doctor["detail"]
    assert not doctor["required"]


def slow_gate_repo(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A repository whose gate `slow` starts a process in a new session (setsid) and sleeps; `quick` passes.
    Returns (repo, pid file of the setsid'd process, pid file of the gate's shell)."""
    away, shell = tmp_path / "away.pid", tmp_path / "sh.pid"
    repo = make_repo(tmp_path / "r", (
        '[[gates]]\nname = "slow"\n'
        f'command = "setsid sh -c \'echo $$ > {away}; exec sleep 3029\' >/dev/null 2>&1 & echo $$ > {shell}; '
        'sleep 3030"\n'
        '[[gates]]\nname = "quick"\ncommand = "true"\n'))
    return repo, away, shell


def started_gates(proc: subprocess.Popen, *pid_files: Path) -> list[int]:
    deadline = time.monotonic() + 20
    while not all(p.exists() and p.read_text().strip() for p in pid_files):
        assert time.monotonic() < deadline and proc.poll() is None, "the slow gate did not start"
        time.sleep(0.05)
    return [int(p.read_text()) for p in pid_files]


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGHUP"])
def test_sigterm_or_sighup_ends_the_gates_with_the_command(tmp_path, sig):
    import signal

    from omk_tui.procs import process_alive

    repo, away, shell = slow_gate_repo(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "omk_tui", "gates"], cwd=repo, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    pids = started_gates(proc, away, shell)
    try:
        proc.send_signal(getattr(signal, sig))
        _, err = proc.communicate(timeout=20)
        assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err, err
        assert not [p for p in pids if process_alive(p)]
    finally:
        for pid in pids:
            if process_alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_gates_left_running_by_a_killed_gates_command_are_ended_by_the_next_one(tmp_path):
    import signal

    from omk_tui.procs import process_alive

    repo, away, shell = slow_gate_repo(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "omk_tui", "gates"], cwd=repo, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    pids = started_gates(proc, away, shell)
    try:
        proc.kill()  # kill -9: nothing of omk-tui runs to end its gate
        proc.wait(timeout=10)
        assert all(process_alive(p) for p in pids)  # they outlive it: nothing of ours ran to end them
        again = omk("gates", "--only", "quick", cwd=repo)
        assert again.returncode == 0, again.stderr
        assert "process(es) left behind by an `omk-tui gates` that was killed" in again.stderr
        assert not [p for p in pids if process_alive(p)]
    finally:
        for pid in pids:
            if process_alive(pid):
                os.kill(pid, signal.SIGKILL)
