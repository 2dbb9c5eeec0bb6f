"""An agent that wipes its environment (kimi retitles itself with setproctitle, which overwrites /proc/PID/environ,
so the OMK_GOAL_ID mark is gone) is still ended after a kill -9 of its controller: by the goal's durable
record of the processes it started (omk_tui.proc_records), at `resume` and at `clean`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from omk_tui.proc_records import ProcessRecords, start_time
from omk_tui.procs import process_alive
from omk_tui.state.eventlog import read_events
from omk_tui.state.store import goal_paths, list_goal_ids

from tests.support.goal_repo import make_repo, task

pytestmark = pytest.mark.timeout(240)

ROOT = Path(__file__).resolve().parents[1]

# An ACP agent (the scripted one) that first re-execs itself with an environment holding none of omk-tui's marks,
# as kimi's setproctitle leaves it: the pid stays the same, /proc/PID/environ no longer names the goal. Like kimi
# waiting on a shell command, it does not end when its controller is gone (its stdin closes).
WRAPPER = """\
import os, runpy, sys, time
if "OMK_GOAL_ID" in os.environ:
    os.execve(sys.executable, [sys.executable, *sys.argv], {{"PATH": os.environ.get("PATH", "/usr/bin:/bin")}})
sys.path.insert(0, {root!r})
sys.argv = ["scripted", {script!r}]
try:
    runpy.run_module("omk_tui.agents.scripted", run_name="__main__")
except SystemExit:
    pass
time.sleep(100000)  # a live controller ends it with its process group when it closes the session
"""

HANG = {"default": [{"say": "planning"}, {"sleep": 100000}]}
QUICK = {"plan": {"tasks": [task("t", ["t.check"])]}, "tasks": {"t": [[{"write": "t.check", "content": "ok\n"}]]}}


@pytest.fixture
def env(tmp_path):
    e = {**os.environ, "OMK_WORKTREES_DIR": str(tmp_path / "worktrees")}
    e.pop("OMK_DEBUG", None)
    return e


def omk(repo: Path, *args: str, env: dict, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "omk_tui", *args, "--repo", str(repo)], env=env,
                          capture_output=True, text=True, timeout=timeout)


def _agents(wrapper: Path) -> list[int]:
    """Live processes running the wrapper whose environment no longer holds the goal's mark."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            environ = Path(f"/proc/{entry}/environ").read_bytes()
        except OSError:
            continue
        if str(wrapper).encode() in cmdline.split(b"\0") and b"OMK_GOAL_ID=" not in environ \
                and process_alive(int(entry)):
            found.append(int(entry))
    return found


def _start_and_kill(tmp_path: Path, env: dict) -> tuple[Path, str, int, Path]:
    """A run whose planner (an agent without marks) hangs; its controller killed with SIGKILL. The agent lives on."""
    repo = make_repo(tmp_path / "repo")
    script = tmp_path / "script.json"
    script.write_text(json.dumps(HANG))
    wrapper = tmp_path / "wiping_agent.py"
    wrapper.write_text(WRAPPER.format(root=str(ROOT), script=str(script)))
    run = subprocess.Popen([sys.executable, "-m", "omk_tui", "run", "write t.check so the gate passes",
                            "--agent", f'acp:"{sys.executable} {wrapper}"', "--repo", str(repo)],
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    agent = goal_id = None
    while time.monotonic() < deadline and agent is None:
        ids = list_goal_ids(repo)
        if ids and any(e.kind == "agent_message_chunk" for e in read_events(goal_paths(repo, ids[0]).events).events):
            goal_id = ids[0]
            found = _agents(wrapper)
            agent = found[0] if found else None
        time.sleep(0.1)
    if agent is None:
        run.kill()
        raise AssertionError("the planner agent never started talking")
    run.send_signal(signal.SIGKILL)
    run.wait(timeout=30)
    assert process_alive(agent), "the agent outlives its controller's kill -9"
    return repo, goal_id, agent, wrapper


def test_resume_after_kill_nine_ends_an_agent_that_wiped_its_environment(tmp_path, env):
    repo, goal_id, agent, wrapper = _start_and_kill(tmp_path, env)
    started = start_time(agent)
    try:
        records = list((goal_paths(repo, goal_id).root / "procs").glob("*.json"))
        assert [json.loads(p.read_text())["pid"] for p in records] == [agent], "the controller recorded its agent"
        (tmp_path / "script.json").write_text(json.dumps(QUICK))  # the resumed run's agents finish at once
        resumed = omk(repo, "resume", goal_id, "--json", env=env)
        assert resumed.returncode == 0, resumed.stderr
        assert json.loads(resumed.stdout)["status"] == "ready"
        assert start_time(agent) != started, "the orphaned agent still runs after resume"
        assert not _agents(wrapper)
        said = [e.payload.get("summary", "") for e in read_events(goal_paths(repo, goal_id).events).events
                if e.kind == "narrative"]
        assert any("left behind by a controller that died" in s for s in said), said
        assert not list((goal_paths(repo, goal_id).root / "procs").glob("*")), "every record is removed as its process ends"
    finally:
        if start_time(agent) == started:
            os.killpg(agent, signal.SIGKILL)


def test_clean_after_kill_nine_ends_an_agent_that_wiped_its_environment(tmp_path, env):
    repo, goal_id, agent, _ = _start_and_kill(tmp_path, env)
    started = start_time(agent)
    try:
        cleaned = omk(repo, "clean", goal_id, "--json", env=env)
        assert cleaned.returncode == 0, cleaned.stderr
        assert agent in json.loads(cleaned.stdout)[0]["ended_processes"]
        deadline = time.monotonic() + 10  # SIGKILLed: gone once the kernel next schedules it
        while start_time(agent) == started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert start_time(agent) != started
    finally:
        if start_time(agent) == started:
            os.killpg(agent, signal.SIGKILL)


def test_a_record_whose_pid_now_names_another_process_is_never_killed(tmp_path):
    """The start time tells a reused pid apart: only a record whose pid and start time both match is ended."""
    records = ProcessRecords(tmp_path / "procs")
    other = subprocess.Popen(["sleep", "1000"], start_new_session=True)
    mine = subprocess.Popen(["sleep", "1000"], start_new_session=True)
    try:
        path = records.add(other.pid, "agent")
        assert path is not None and path.name == f"{other.pid}-{start_time(other.pid)}.json"
        data = json.loads(path.read_text())
        data["start"] += 1  # the recorded process ended and the pid went to `other`
        data["controller"], data["controller_start"] = 0, None  # written by a controller that is gone
        path.write_text(json.dumps(data))
        mine_record = records.add(mine.pid, "gate")
        data = json.loads(mine_record.read_text())
        data["controller"], data["controller_start"] = 0, None
        mine_record.write_text(json.dumps(data))
        assert records.reap() == [mine.pid]
        assert mine.wait(timeout=10) == -signal.SIGKILL
        assert other.poll() is None and not list(records.folder.glob("*"))
    finally:
        for p in (other, mine):
            p.kill()
            p.wait()


def test_records_of_a_live_controller_are_kept(tmp_path):
    records = ProcessRecords(tmp_path / "procs")
    child = subprocess.Popen(["sleep", "1000"], start_new_session=True)
    try:
        path = records.add(child.pid, "agent")  # written by this process, which runs
        assert records.reap() == [] and path.exists() and child.poll() is None
    finally:
        child.kill()
        child.wait()
