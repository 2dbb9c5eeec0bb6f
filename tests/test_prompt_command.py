"""`omk-tui prompt` as a person runs it: a real subprocess driving the scripted agent over ACP."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(90)


def omk(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "omk_tui", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60)


def script(tmp_path: Path, actions: list) -> str:
    path = tmp_path / f"script{len(list(tmp_path.glob('script*.json')))}.json"
    path.write_text(json.dumps({"default": actions}))
    return f"script:{path}"


def test_readable_lines_and_exit_0(tmp_path):
    wt = tmp_path / "wt"
    wt.mkdir()
    spec = script(tmp_path, [{"say": "Writing the file now."}, {"write": "a.txt", "content": "A"},
                             {"write": "b.txt", "content": "B"}, {"usage": {"input": 1000, "output": 100}}])
    done = omk("prompt", "--agent", spec, "--cwd", str(wt), "--scope", "a.txt", "write a file", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Writing the file now." in out
    assert "[permission approve] by policy:yolo" in out
    assert "[tool completed] WriteFile: a.txt" in out
    assert "[refused write]" in out and "write scope" in out
    assert "[result] end_turn" in out and "tokens 1000 in / 100 out ($0.0028)" in out
    assert (wt / "a.txt").read_text() == "A" and not (wt / "b.txt").exists()


def test_json_lines_and_policy(tmp_path):
    spec = script(tmp_path, [{"say": "hi"}, {"write": "a.txt", "content": "A"}])
    done = omk("prompt", "--agent", spec, "--approval", "never", "--json", "go", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert all(line["type"] in ("update", "result") for line in lines)
    assert lines[-1]["type"] == "result" and lines[-1]["stop_reason"] == "end_turn"
    decided = [line for line in lines if line.get("kind") == "permission_decided"]
    assert decided[0]["decision"] == "reject" and decided[0]["by"] == "policy:never"
    assert not (tmp_path / "a.txt").exists()


def test_agent_failure_exits_1_with_the_reason(tmp_path):
    crash = omk("prompt", "--agent", script(tmp_path, [{"crash": 5}]), "go", cwd=tmp_path)
    assert crash.returncode == 1
    assert "agent failure" in crash.stderr and "exit code 5" in crash.stderr
    assert "[result] crashed" in crash.stdout
    hang = omk("prompt", "--agent", script(tmp_path, [{"sleep": 30}]), "--timeout", "0.5", "--json", "go",
               cwd=tmp_path)
    assert hang.returncode == 1
    assert json.loads(hang.stdout.splitlines()[-1])["stop_reason"] == "timeout"
    # the message names the agent, not the confinement launcher that starts it
    dead = omk("prompt", "--agent", 'acp:"false"', "go", cwd=tmp_path)
    assert dead.returncode == 1 and "the agent (false) exited during initialize" in dead.stderr, dead.stderr


def test_usage_errors_exit_2(tmp_path):
    (tmp_path / "afile").write_text("")
    for args, message in [
        (["--agent", "nonsense"], "unknown agent SPEC"),
        (["--agent", "script:missing.json"], "does not exist"),
        (["--approval", "sometimes"], "unknown approval policy"),
        (["--cwd", str(tmp_path / "nope")], "no such folder"),
        (["--cwd", str(tmp_path / "afile")], "not a folder"),
        (["--timeout", "0"], "--timeout"),
        (["--agent", f"script:{tmp_path}"], "is a folder, not a script file"),
        (["--scope", "/etc"], "give a path relative to --cwd"),
        (["--scope", "../elsewhere"], "give a path relative to --cwd"),
    ]:
        done = omk("prompt", *args, "go", cwd=tmp_path)
        assert done.returncode == 2, (args, done.stderr)
        assert message in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGHUP"])
def test_sigterm_or_sighup_ends_the_agent_and_its_commands_too(tmp_path, sig):
    import os
    import signal
    import time

    wt = tmp_path / "wt"
    wt.mkdir()
    spec = script(tmp_path, [{"say": "starting"}, {"shell": "sleep 3022"}])
    proc = subprocess.Popen([sys.executable, "-m", "omk_tui", "prompt", "--agent", spec, "--cwd", str(wt), "go"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while "sleep 3022" not in os.popen("ps -eo args").read():
        assert time.monotonic() < deadline, "the agent's command never started"
        time.sleep(0.1)
    proc.send_signal(getattr(signal, sig))
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1 and "stopped by a signal" in (out + err)
    assert "sleep 3022" not in os.popen("ps -eo args").read()  # not left behind (it was, orphaned)


def test_ask_on_a_terminal_a_question_left_unanswered_times_out_and_later_answers_still_count(tmp_path):
    """The question goes to stderr (stdout stays JSON lines); after a timeout nothing keeps reading the terminal,
    so the next answer reaches the next question and the process ends with its turn."""
    import os
    import pty

    wt = tmp_path / "wt"
    (wt / ".omk").mkdir(parents=True)
    (wt / ".omk" / "config.toml").write_text("[agent]\nask_timeout_secs = 1.5\n")
    spec = script(tmp_path, [{"write": "first.txt", "content": "1"}, {"write": "second.txt", "content": "2"},
                             {"say": "done"}])
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "omk_tui", "prompt", "--agent", spec, "--cwd", str(wt),
                             "--approval", "ask", "--json", "go"], cwd=tmp_path, stdin=slave,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    os.close(slave)
    lines = []
    try:
        for line in proc.stdout:  # the first question is left to time out (1.5 s)
            lines.append(line)
            if '"by": "timeout"' in line:
                break
        os.write(master, b"y\n")  # the answer to the second question
        out, err = proc.communicate(timeout=30)
    finally:
        os.close(master)
    out = "".join(lines) + out
    assert proc.returncode == 0, err
    assert not (wt / "first.txt").exists() and (wt / "second.txt").read_text() == "2"
    records = [json.loads(line) for line in out.splitlines()]  # every stdout line is JSON
    decided = [r for r in records if r.get("kind") == "permission_decided"]
    assert [(d["decision"], d["by"]) for d in decided] == [("reject", "timeout"), ("approve", "person")]
    assert err.count("allow WriteFile") == 2
