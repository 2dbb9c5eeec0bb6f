"""Control from another terminal: `omk-tui run` in one process, `pause`/`resume`/`cancel`/`budget-add` from others."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from omk_tui.control.orphans import marked_processes
from omk_tui.state.eventlog import read_events
from omk_tui.state.store import list_goal_ids, load_goal, load_proof, goal_paths

from tests.support.goal_repo import make_repo, task, write_script

pytestmark = pytest.mark.timeout(240)

SLOW = {
    "plan": {"tasks": [task("slow", ["slow.check"])]},
    "tasks": {"slow": [[{"say": "thinking hard"}, {"sleep": 60}, {"write": "slow.check", "content": "ok\n"}],
                       [{"write": "slow.check", "content": "ok\n"}]]},
}


def omk(repo: Path, *args: str, env: dict, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "omk_tui", *args, "--repo", str(repo)], env=env,
                          capture_output=True, text=True, timeout=timeout)


def start_run(repo: Path, agent: str, env: dict, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "omk_tui", "run", "write slow.check so the gate passes",
                             "--agent", agent, "--repo", str(repo), *extra],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_agent_text(repo: Path, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ids = list_goal_ids(repo)
        if ids:
            events = read_events(goal_paths(repo, ids[0]).events).events
            if any(e.kind == "agent_message_chunk" and e.payload.get("slice_id") == "slow" for e in events):
                return ids[0]
        time.sleep(0.1)
    raise AssertionError("the agent never started talking")


@pytest.fixture
def env(tmp_path):
    e = {**os.environ, "OMK_WORKTREES_DIR": str(tmp_path / "worktrees")}
    e.pop("OMK_DEBUG", None)
    return e


def test_pause_from_another_process_then_resume_reaches_ready(tmp_path, env):
    repo = make_repo(tmp_path / "repo")
    agent = write_script(tmp_path / "s.json", SLOW)
    run = start_run(repo, agent, env)
    goal_id = wait_for_agent_text(repo)
    # no --budget-time: adding time to the running goal leaves it unlimited, and both the CLI and the controller say so
    more = omk(repo, "budget-add", "latest", "--time", "5m", env=env)
    assert more.returncode == 0 and "sent to the running controller" in more.stdout, more.stderr
    assert "(time unlimited: nothing added there)" in more.stdout, more.stdout
    paused = omk(repo, "pause", "latest", env=env)
    assert paused.returncode == 0, paused.stderr
    assert "paused" in paused.stdout
    _, err = run.communicate(timeout=60)
    assert run.returncode == 5  # paused
    # the run's last lines say what happened and the command that goes on
    assert "paused — paused by the user\n" in err and f"next: resume it when you are ready: `omk-tui resume {goal_id}`" in err, err
    paths = goal_paths(repo, goal_id)
    assert load_goal(paths).status.value == "paused" and load_goal(paths).budget.time_secs is None
    assert load_proof(paths).summary == "paused by the user" and load_proof(paths).blocker == "paused by the user"
    said = [e.payload["summary"] for e in read_events(paths.events).events if e.kind == "narrative"]
    assert any("time unlimited: nothing added there" in s for s in said), said
    assert not marked_processes(goal_id)  # the agent was ended with its process group
    resumed = omk(repo, "resume", goal_id, "--json", env=env)
    assert resumed.returncode == 0, resumed.stderr
    proof = json.loads(resumed.stdout)
    assert proof["status"] == "ready" and "slow.check" in proof["changed_files"]
    kinds = [e.kind for e in read_events(paths.events).events]
    assert "goal_paused" in kinds and "goal_resumed" in kinds


def test_cancel_from_another_process_ends_everything_and_keeps_the_worktree(tmp_path, env):
    repo = make_repo(tmp_path / "repo")
    agent = write_script(tmp_path / "s.json", SLOW)
    run = start_run(repo, agent, env)
    goal_id = wait_for_agent_text(repo)
    cancelled = omk(repo, "cancel", goal_id[:24], env=env)
    assert cancelled.returncode == 0, cancelled.stderr
    assert run.wait(timeout=60) == 5
    paths = goal_paths(repo, goal_id)
    assert load_goal(paths).status.value == "cancelled"
    assert load_proof(paths).status.value == "cancelled"
    assert not marked_processes(goal_id)
    assert list((tmp_path / "worktrees").rglob("slow")), "the slice worktree is kept for inspection"
    again = omk(repo, "resume", goal_id, env=env)
    assert again.returncode == 2 and "cancelled" in again.stderr


def _marked_sleep(goal_id: str, timeout: float = 30) -> int:
    """The pid of the goal's `sleep 120` (a shell command the agent runs in a client terminal)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for pid, _ in marked_processes(goal_id):
            try:
                if b"sleep\x00120" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    return pid
            except OSError:
                pass
        time.sleep(0.1)
    raise AssertionError("the agent's shell command never started")


def test_clean_refuses_a_running_goal_and_after_a_kill_ends_what_was_left_behind(tmp_path, env):
    repo = make_repo(tmp_path / "repo")
    script = {"plan": {"tasks": [task("slow", ["slow.check"])]},
              "tasks": {"slow": [[{"say": "thinking hard"}, {"shell": "sleep 120"},
                                  {"write": "slow.check", "content": "ok\n"}]]}}
    run = start_run(repo, write_script(tmp_path / "s.json", script), env)
    goal_id = wait_for_agent_text(repo)
    sleeper = _marked_sleep(goal_id)
    goal_worktrees = list((tmp_path / "worktrees").rglob(goal_id))
    slice_worktree = list((tmp_path / "worktrees").rglob("slow"))
    assert len(goal_worktrees) == 1 and slice_worktree
    for args in ((goal_id,), ("--all",), (goal_id, "--dry-run")):
        refused = omk(repo, "clean", *args, env=env)
        assert refused.returncode == 1, refused.stderr
        assert f"{goal_id}: not cleaned: a controller is running goal {goal_id}" in refused.stdout
        assert f"`omk-tui pause {goal_id}`" in refused.stdout
    assert slice_worktree[0].is_dir() and run.poll() is None  # the run goes on untouched

    run.kill()  # kill -9: the shell command, in its own process group, outlives its controller
    run.wait(timeout=30)
    time.sleep(1)
    assert sleeper in {pid for pid, _ in marked_processes(goal_id)}
    cleaned = omk(repo, "clean", goal_id, "--json", env=env)
    assert cleaned.returncode == 0, cleaned.stderr
    report = json.loads(cleaned.stdout)[0]
    assert report["refused"] == "" and sleeper in report["ended_processes"]  # with the rest of its process group
    assert not marked_processes(goal_id)
    assert str(slice_worktree[0]) in report["removed_worktrees"]
    assert not goal_worktrees[0].exists()  # with the agents' temporary files


def test_budget_exhausted_then_budget_add_from_the_command_line_and_resume(tmp_path, env):
    repo = make_repo(tmp_path / "repo")
    script = {"plan": {"tasks": [task("t", ["t.check"])]},
              "tasks": {"t": [[{"usage": {"input": 5000, "output": 500}}, {"write": "t.check", "content": "ok\n"}]]}}
    agent = write_script(tmp_path / "s.json", script)
    run = start_run(repo, agent, env, "--budget-tokens", "1000")
    out, err = run.communicate(timeout=120)
    assert run.returncode == 4, err
    assert "needs_more_budget" in err
    failure = load_goal(goal_paths(repo, list_goal_ids(repo)[0])).failure
    assert "--tokens" in failure.next_action and "--time" not in failure.next_action  # the limit used up
    assert f"  next: {failure.next_action}" in err  # run's last lines say it too (only `show` did)
    for bad in (["--tokens", "-5"], ["--usd", "nan"], ["--time", "inf"], ["--tokens", "1.5"]):
        refused = omk(repo, "budget-add", "latest", *bad, env=env)
        assert refused.returncode == 2, (bad, refused.stderr)
    unlimited = omk(repo, "budget-add", "latest", "--time", "5m", env=env)  # no time limit: it stays so
    assert unlimited.returncode == 0 and "time unlimited" in unlimited.stdout, unlimited.stdout
    assert load_goal(goal_paths(repo, list_goal_ids(repo)[0])).budget.time_secs is None
    added = omk(repo, "budget-add", "latest", "--tokens", "20000", env=env)
    assert added.returncode == 0 and "resume" in added.stdout
    resumed = omk(repo, "resume", "latest", env=env)
    assert resumed.returncode == 0, resumed.stderr
    state = load_goal(goal_paths(repo, list_goal_ids(repo)[0]))
    assert state.status.value == "ready" and state.budget.tokens == 21000


def test_usage_errors_exit_2_with_a_message(tmp_path, env):
    not_repo = tmp_path / "plain"
    not_repo.mkdir()
    res = omk(not_repo, "run", "fix the failing test in tests/test_x.py", env=env)
    assert res.returncode == 2 and "not inside a git repository" in res.stderr
    repo = make_repo(tmp_path / "repo")
    (repo / "README.md").write_text("changed\n")
    res = omk(repo, "run", "fix the failing test in tests/test_x.py", "--agent", "kimi", env=env)
    assert res.returncode == 2 and "README.md" in res.stderr and "--allow-dirty" in res.stderr
    # an agent SPEC, a count or an amount that cannot work is refused before any goal exists
    for bad, said in ((["--agent", "nosuch"], "unknown agent SPEC"), (["--agent", "script:x.json"], "does not exist"),
                      (["--max-agents", "100000"], "from 1 to 64"), (["--budget-usd", "nan"], "finite number"),
                      (["--budget-tokens", "-1"], "more than 0"), (["--budget-time", "inf"], "finite"),
                      (["--budget-time", "-5m"], "more than 0"), (["--budget-time", "0m"], "more than 0")):
        res = omk(repo, "run", "fix the failing test in tests/test_x.py", "--allow-dirty", *bad, env=env)
        assert res.returncode == 2 and said in res.stderr, (bad, res.stderr)
    assert not (repo / ".omk" / "goals").exists() or not list((repo / ".omk" / "goals").iterdir())
    res = omk(repo, "run", "fix the failing test", "--budget-time", "soon", "--allow-dirty", env=env)
    assert res.returncode == 2 and "not a duration" in res.stderr
    res = omk(repo, "pause", "nope", env=env)
    assert res.returncode == 2 and "no goals" in res.stderr
    for command, wait in (("pause", "-1"), ("cancel", "nan")):
        res = omk(repo, command, "latest", "--wait", wait, env=env)
        assert res.returncode == 2 and "--wait" in res.stderr, (command, wait, res.stderr)
    assert "Traceback" not in res.stderr


def test_a_malformed_gates_toml_is_a_usage_error_before_any_goal_exists(tmp_path, env):
    """It started the planner, then recorded a failed_infra goal (exit 1), one more on every attempt."""
    from omk_tui.control.controller import GoalController
    from omk_tui.gates import GateConfigError
    from omk_tui.models.goal import GoalOptions

    repo = make_repo(tmp_path / "repo")
    gates = repo / ".omk" / "gates.toml"
    gates.write_text('[[gates]]\nname = "x"\ncommand = "true"\ntimeout_secs = "10"\n')
    agent = write_script(tmp_path / "s.json", SLOW)
    res = omk(repo, "run", "write slow.check so the gate passes", "--agent", agent, env=env)
    assert res.returncode == 2, res.stderr
    assert f"omk-tui: error: {gates}, line 4: gates[0].timeout_secs: must be a number of seconds" in res.stderr
    assert "fix the file (or remove it to use the detected gates); no goal was created" in res.stderr
    with pytest.raises(GateConfigError):  # the dashboard's new goal takes the same way (and says why)
        GoalController.create(repo, "write slow.check so the gate passes", GoalOptions(agent=agent))
    assert list_goal_ids(repo) == []


def test_resume_checks_gates_toml_before_the_goal_changes(tmp_path, env):
    """A gates.toml broken after the goal was created: resume said failed_infra at the first gate and left the goal
    failed; now it is a usage error naming the file, and the goal is as it was."""
    from omk_tui.control.controller import GoalController
    from omk_tui.models.goal import GoalOptions
    from omk_tui.state import store

    repo = make_repo(tmp_path / "repo")
    agent = write_script(tmp_path / "s.json", SLOW)
    ctl = GoalController.create(repo, "write slow.check so the gate passes", GoalOptions(agent=agent))
    ctl.close()
    before = ctl.paths.events.read_bytes(), ctl.paths.goal_json.read_bytes()
    gates = repo / ".omk" / "gates.toml"
    gates.write_text('[[gates]]\nname = "x"\ncommand = "true"\ntimeout_secs = "10"\n')
    res = omk(repo, "resume", "latest", "--quiet", env=env)
    gid = ctl.state.goal_id
    assert res.returncode == 2, res.stderr
    assert f"omk-tui: error: {gates}, line 4: gates[0].timeout_secs: must be a number of seconds" in res.stderr
    assert (f"fix the file (or remove it to use the detected gates), then resume goal {gid}; the goal is unchanged"
            in res.stderr)
    assert (ctl.paths.events.read_bytes(), ctl.paths.goal_json.read_bytes()) == before
    assert store.load_goal(ctl.paths).status.value != "failed_infra"


def test_a_run_that_fails_on_infrastructure_says_what_happened_plainly_and_the_next_step(tmp_path, env, capsys):
    """The last lines started with an internal prefix (`GateConfigError: `, `OSError: <sha>: `) and had no next
    step; the event log still records the exception's type. (resume checks gates.toml first, so the run is
    started here as resume starts it after its checks.)"""
    from omk_tui.commands._runner import run_controller_headless
    from omk_tui.control.controller import GoalController, infra_reason
    from omk_tui.models.goal import GoalOptions

    repo = make_repo(tmp_path / "repo")
    agent = write_script(tmp_path / "s.json", SLOW)
    ctl = GoalController.create(repo, "write slow.check so the gate passes", GoalOptions(agent=agent))
    gates = repo / ".omk" / "gates.toml"
    gates.write_text('[[gates]]\nname = "x"\ncommand = "true"\ntimeout_secs = "10"\n')  # broken after creation
    assert run_controller_headless(ctl, quiet=True) == 1
    err = capsys.readouterr().err
    gid = ctl.state.goal_id
    assert f"failed_infra — {gates}, line 4: gates[0].timeout_secs: must be" in err
    assert f"  next: fix the cause, then `omk-tui resume {gid}`" in err and "GateConfigError" not in err
    failed = [e for e in read_events(ctl.paths.events).events if e.kind == "run_failed"]
    assert failed[0].payload["error"].startswith("GateConfigError: ")
    sha = "758e2daba2a52ae39287d9320b7b80f5a1fe482f"
    assert infra_reason(OSError(f"{sha}: could not write to 'a.check': No space left on device")) == \
        "could not write to 'a.check': No space left on device"
    assert infra_reason(OSError(28, "No space left on device", "/wt/a")) == "could not use /wt/a: No space left on device"
    assert infra_reason(KeyError("x")) == "internal error: KeyError: 'x'"


def test_a_ctrl_c_before_the_run_starts_pauses_the_new_goal(tmp_path, env, monkeypatch, capsys):
    """Ctrl+C while `run` creates the goal (before the controller's loop handles signals) used to raise
    KeyboardInterrupt: exit 130 and a goal recorded as `running` that no controller ever held."""
    import signal

    from omk_tui.commands._runner import StopSignals, run_controller_headless
    from omk_tui.control.controller import GoalController
    from omk_tui.models.goal import GoalOptions

    monkeypatch.setenv("OMK_WORKTREES_DIR", env["OMK_WORKTREES_DIR"])
    repo = make_repo(tmp_path / "repo")
    agent = write_script(tmp_path / "slow.json", SLOW)
    with StopSignals() as signals:
        os.kill(os.getpid(), signal.SIGINT)  # delivered at once, to this (the main) thread
        ctl = GoalController.create(repo, "write slow.check so the gate passes", GoalOptions(agent=agent))
        code = run_controller_headless(ctl, quiet=True, signals=signals)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back
    assert code == 5
    state = load_goal(ctl.paths)
    assert state.status.value == "paused" and state.phase.value == "intake"
    assert "paused" in capsys.readouterr().err
    shown = omk(repo, "goals", env=env)
    assert shown.returncode == 0 and "paused" in shown.stdout and "running" not in shown.stdout


def test_budget_summary_names_the_limits_nothing_was_added_to():
    from omk_tui.control.controller import apply_budget_add
    from omk_tui.control.offline import budget_summary
    from omk_tui.models.goal import Budget, GoalState

    state = GoalState(goal_id="goal-x", original_goal="g", normalized_goal="g", repo="/r", budget=Budget(tokens=1000))
    apply_budget_add(state.budget, 600.0, 500, None)
    said = budget_summary(state, 600.0, 500, None, resume="r resumes it")
    assert said == ("budget now: time unlimited, tokens 1,500, USD unlimited (time unlimited: nothing added "
                    "there); r resumes it")
    assert budget_summary(state, None, 1, None).endswith("`omk-tui resume goal-x` continues")


def test_a_headless_run_under_ask_says_how_to_answer_and_what_was_decided(tmp_path, env):
    repo = make_repo(tmp_path / "repo")
    (repo / ".omk").mkdir(exist_ok=True)
    (repo / ".omk" / "config.toml").write_text("[agent]\nask_timeout_secs = 1\n")
    agent = write_script(tmp_path / "w.json", {"plan": {"tasks": [task("w", ["w.check"])]},
                                               "tasks": {"w": [[{"write": "w.check", "content": "ok\n"}]]}})
    done = omk(repo, "run", "write w.check so the gate passes", "--agent", agent, "--approval", "ask", env=env)
    assert done.returncode == 3, done.stderr
    assert "permission? WriteFile: w.check — waiting up to 1s for a person: open `omk-tui` in this repository " \
           "and press a" in done.stderr
    assert "permission reject by timeout: no answer within 1s" in done.stderr
    assert "permission request(s) were rejected (by timeout)" in done.stderr


def test_a_run_that_ends_not_ready_names_the_next_step(tmp_path, env):
    """It ended with the blocker and the proof's path only."""
    repo = make_repo(tmp_path / "repo")
    agent = write_script(tmp_path / "s.json", {"plan": {"tasks": [task("t", ["t.check"])]},
                                                "tasks": {"t": [[{"say": "I will not write it."}]]}})
    run = start_run(repo, agent, env)
    out, err = run.communicate(timeout=120)
    assert run.returncode == 3, err
    gid = list_goal_ids(repo)[0]
    assert err.splitlines()[-2] == (f"  next: fix the cause, then `omk-tui resume {gid}` runs what is left "
                                    f"(`omk-tui show {gid}` has the details)")
