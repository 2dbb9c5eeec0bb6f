"""`omk-tui goals`, `show` and `proof` on goal folders built with the real state APIs (no controller)."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from omk_tui.cli import main
from omk_tui.control.lock import ControllerLock
from omk_tui.models.events import make_event
from omk_tui.models.gates import GateResult
from omk_tui.models.goal import Budget, GoalPhase, GoalState, GoalStatus
from omk_tui.models.proof import Delivery, Proof, ReviewResult, SliceOutcome
from omk_tui.models.tasks import Task, TaskGraph, TaskStatus
from omk_tui.state.eventlog import EventLog
from omk_tui.state.store import (GoalPaths, create_goal_paths, goal_paths, load_goal, save_goal, save_proof,
                                 save_task_graph)

OLD_ID = "goal-20261120-090000-000-0000aaaa"
NEW_ID = "goal-20261122-110000-000-1111bbbb"
NOW = datetime.now(timezone.utc)


@pytest.fixture
def repo(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    return tmp_path


def gate(name, passed, **kw):
    return GateResult(name=name, command_line=f"{name} -q", passed=passed, **kw)


def build_goal(repo: Path, goal_id: str, text: str, *, done: bool, created: datetime) -> GoalPaths:
    paths = create_goal_paths(repo, goal_id)
    state = GoalState(goal_id=goal_id, original_goal=text, normalized_goal=text.lower(), repo=str(repo),
                      created_at=created, base_commit="0123456789abcdef0123",
                      integration_branch=f"omk/integration/{goal_id}",
                      status=GoalStatus.ready if done else GoalStatus.running,
                      phase=GoalPhase.done if done else GoalPhase.execution,
                      budget=Budget(time_secs=3600, tokens=100_000, spent_time_secs=120.0))
    save_goal(paths, state)
    # as the controller keeps it: a task is done once its slice is committed
    save_task_graph(paths, TaskGraph(goal_id=goal_id, tasks=[
        Task(id="t1", title="core change", write_set=["src/a.py"], status=TaskStatus.done),
        Task(id="t2", title="cli flag", dependencies=["t1"], write_set=["src/a.py", "src/cli.py"],
             status=TaskStatus.done if done else TaskStatus.blocked),
    ]))
    g = lambda kind, payload: make_event(goal_id, kind, payload)  # noqa: E731
    with EventLog(paths.events) as log:
        for e in [
            g("goal_created", {"goal": text, "repo": str(repo)}),
            g("task_proposed", {"task": {"id": "t1", "title": "core change"}}),
            g("task_proposed", {"task": {"id": "t2", "title": "cli flag", "dependencies": ["t1"]}}),
            g("task_proposed", {"task": {"id": "evil", "title": "escape"}}),
            g("task_accepted", {"task_id": "t1"}),
            g("task_accepted", {"task_id": "t2"}),
            g("task_rejected", {"task_id": "evil", "reason": "outside the allowed goal policy roots"}),
            g("slice_planned", {"slice_id": "s1", "task_id": "t1", "branch": "omk/goal/t1-1a", "worktree": "/wt/s1"}),
            g("slice_planned", {"slice_id": "s2", "task_id": "t2", "branch": "omk/goal/t2-2b", "worktree": "/wt/s2"}),
            g("overlap_serialized", {"blocked_slice_id": "s2", "serializes_after": "s1", "kind": "write/write",
                                     "path": "src/a.py"}),
            g("slice_state", {"slice_id": "s1", "state": "committed", "attempt": 1, "commit": "c1",
                              "changed_files": ["src/a.py"], "insertions": 4, "deletions": 1}),
            g("gate_finished", {"scope": "s1", "result": gate("pytest", True, exit_code=0, duration_ms=1500)}),
            g("usage", {"slice_id": "s1", "input_tokens": 1000, "output_tokens": 200, "usd": 0.05}),
        ]:
            log.append(e)
        if done:
            log.append(g("slice_state", {"slice_id": "s2", "state": "merged", "attempt": 2}))
            log.append(g("proof_written", {"status": "ready", "readiness": "ready", "path": str(paths.proof_json)}))
        else:
            log.append(g("slice_state", {"slice_id": "s2", "state": "blocked", "attempt": 4,
                                         "reason": "gate pytest still failing after 4 attempts"}))
            log.append(g("gate_finished", {"scope": "s2", "result": gate("pytest", False, exit_code=1,
                                                                         summary=["FAILED test_cli"])}))
            log.append(g("permission_asked", {"slice_id": "s2", "request_id": "r9", "tool": "shell",
                                              "command": "npm publish"}))
    if done:
        save_proof(paths, Proof(
            goal_id=goal_id, status=GoalStatus.ready, readiness="ready", summary="2 slices merged, all gates green",
            base_commit="0123456789abcdef0123", integration_branch=f"omk/integration/{goal_id}",
            baseline_gates=[gate("pytest", False, exit_code=1, summary=["FAILED test_old"])],
            final_gates=[gate("pytest", True, exit_code=0, duration_ms=2000), gate("ruff", True, required=False)],
            post_mutation_gates_ran=True, changed_files=["src/a.py", "src/cli.py"], commits=["c1", "c2"],
            slices=[SliceOutcome(slice_id="s1", task_id="t1", branch="omk/goal/t1-1a", status="merged", attempts=1,
                                 commit="c1c1c1c1c1c1c1c1")],
            review_results=[ReviewResult(kind="security", passed=True), ReviewResult(kind="anti_slop", passed=False,
                                                                                        feedback="a | pipe")],
            known_gaps=["no performance gate"], delivery=Delivery(policy="local", status="pending")))
    return paths


@pytest.fixture
def two_goals(repo):
    """An old finished goal, and a new one a controller is running (its lock is held as a controller holds it)."""
    old = build_goal(repo, OLD_ID, "Fix the slugify bug with a regression test", done=True,
                     created=datetime.now(timezone.utc) - timedelta(days=2))
    new = build_goal(repo, NEW_ID, "Add a --json flag to the CLI with tests", done=False,
                     created=datetime.now(timezone.utc) - timedelta(minutes=5))
    controller = ControllerLock(new.lock)
    controller.acquire()
    yield old, new
    controller.release()


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def folder_state(root: Path) -> dict:
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")}


def test_goals_lists_newest_first_with_progress_and_age(repo, two_goals, capsys):
    before = folder_state(repo / ".omk")
    code, out, err = run_cli(capsys, "goals", "--repo", str(repo))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "STATUS", "PHASE", "PROGRESS", "AGE", "GOAL"]
    assert lines[1].split()[:5] == [NEW_ID, "running", "execution", "1/2", "5m"]
    assert lines[1].endswith("Add a --json flag to the CLI with tests")
    assert lines[2].split()[:5] == [OLD_ID, "ready", "done", "2/2", "2d"]
    assert folder_state(repo / ".omk") == before  # read-only


def test_goals_json(repo, two_goals, capsys):
    code, out, _ = run_cli(capsys, "goals", "--repo", str(repo), "--json")
    rows = json.loads(out)
    assert code == 0 and [r["id"] for r in rows] == [NEW_ID, OLD_ID]
    assert rows[0]["progress"] == {"done": 1, "total": 2} and rows[0]["status"] == "running"
    assert 280 < rows[0]["age_secs"] < 3600 and rows[0]["goal"].startswith("Add a --json")
    assert rows[0]["problems"] == []


def test_goals_tolerates_a_missing_or_garbled_goal_json_and_task_graph(repo, two_goals, capsys):
    old, new = two_goals
    new.task_graph_json.write_text("[not a graph")
    os.unlink(old.task_graph_json)  # not planned yet
    third = create_goal_paths(repo, "goal-20261122-120000-000-2222cccc")
    third.goal_json.write_text("{not json")
    code, out, _ = run_cli(capsys, "goals", "--repo", str(repo), "--json")
    rows = {r["id"]: r for r in json.loads(out)}
    assert code == 0 and len(rows) == 3
    assert rows[NEW_ID]["status"] == "running" and rows[NEW_ID]["progress"] == {"done": 0, "total": 0}
    assert rows[NEW_ID]["problems"][0].startswith("unreadable task-graph.json: ")
    assert rows[OLD_ID]["status"] == "ready" and rows[OLD_ID]["progress"] == {"done": 0, "total": 0}
    assert rows[OLD_ID]["problems"] == []
    bad = rows["goal-20261122-120000-000-2222cccc"]
    assert bad["status"] == "unknown" and bad["problems"][0].startswith("unreadable goal.json: ")
    assert "omk-tui show goal-20261122-120000-000-2222cccc" in bad["problems"][0]
    code, out, _ = run_cli(capsys, "goals", "--repo", str(repo))
    assert code == 0 and "! goal-20261122-120000-000-2222cccc: unreadable goal.json" in out
    third.goal_json.write_text('{"goal_id": 5, "status": "weird"}')  # JSON, but not a goal
    code, out, _ = run_cli(capsys, "goals", "--repo", str(repo), "--json")
    bad = {r["id"]: r for r in json.loads(out)}["goal-20261122-120000-000-2222cccc"]
    assert bad["status"] == "unknown" and "not a valid goal (status 'weird')" in bad["problems"][0]


def test_goals_never_reads_an_event_log_and_show_reports_its_gaps(repo, two_goals, capsys):
    old, new = two_goals
    new.events.write_bytes(new.events.read_bytes() + b"\x00garbage\n")
    os.unlink(old.events)
    os.mkfifo(old.events)  # opening it for reading would block until a writer comes: it never does
    env = dict(os.environ, PATH=f"{Path(os.sys.executable).parent}:{os.environ['PATH']}")
    proc = subprocess.run(["omk-tui", "goals", "--repo", str(repo), "--json"], capture_output=True, text=True,
                          timeout=60, env=env)
    rows = {r["id"]: r for r in json.loads(proc.stdout)}
    assert proc.returncode == 0 and rows[OLD_ID]["progress"] == {"done": 2, "total": 2}
    assert rows[NEW_ID]["problems"] == []  # the log's garbage line is `show`'s business
    code, out, _ = run_cli(capsys, "show", NEW_ID, "--repo", str(repo), "--json")
    d = json.loads(out)
    assert code == 0 and d["events"]["gaps"] == 1
    assert any("1 unreadable line(s)" in p for p in d["problems"])


def test_a_goal_recorded_as_running_that_no_controller_holds_shows_as_interrupted(repo, capsys):
    paths = build_goal(repo, NEW_ID, "Add a --json flag", done=False, created=datetime.now(timezone.utc))
    code, out, _ = run_cli(capsys, "goals", "--repo", str(repo), "--json")
    assert code == 0 and json.loads(out)[0]["status"] == "running"  # no lock file yet: its controller is starting
    controller = ControllerLock(paths.lock)
    controller.acquire()
    controller.release()  # as a controller killed with -9 leaves it: the file, without the flock
    code, out, _ = run_cli(capsys, "goals", "--repo", str(repo), "--json")
    assert code == 0 and json.loads(out)[0]["status"] == "interrupted"
    code, out, _ = run_cli(capsys, "show", NEW_ID, "--repo", str(repo), "--json")
    d = json.loads(out)
    assert d["status"] == "interrupted"
    assert d["blockers"][0].startswith("interrupted: no controller is running this goal")
    assert f"`omk-tui resume {NEW_ID}`" in d["blockers"][0]
    code, _, err = run_cli(capsys, "proof", NEW_ID, "--repo", str(repo))
    assert code == 2 and "has no proof yet (status interrupted)" in err
    assert load_goal(goal_paths(repo, NEW_ID)).status == GoalStatus.running  # what is shown changes, not the record
    code, out, _ = run_cli(capsys, "pause", NEW_ID, "--repo", str(repo))
    assert code == 1 and out == (f"goal {NEW_ID} has no running controller (status interrupted); nothing to pause; "
                                 f"`omk-tui resume {NEW_ID}` continues it\n")


def test_a_goal_whose_run_was_killed_before_its_controller_took_the_lock_shows_as_interrupted(repo, capsys):
    """Killed between goal.json written and controller.lock created: it showed as `running` forever."""
    from omk_tui.control.lock import STARTING_GRACE_SECS

    paths = build_goal(repo, NEW_ID, "Add a --json flag", done=False, created=datetime.now(timezone.utc))
    old = time.time() - STARTING_GRACE_SECS - 1
    os.utime(paths.goal_json, (old, old))
    assert not paths.lock.exists()
    code, out, _ = run_cli(capsys, "goals", "--repo", str(repo), "--json")
    assert code == 0 and json.loads(out)[0]["status"] == "interrupted"
    code, out, _ = run_cli(capsys, "show", NEW_ID, "--repo", str(repo))
    assert code == 0 and "status interrupted" in out and f"`omk-tui resume {NEW_ID}`" in out


def test_commands_on_a_goal_folder_without_goal_json_exit_2_saying_what_to_do(repo, capsys):
    """`resume` (also pause, cancel, budget-add) said `internal error: GoalNotFound`, exit 1."""
    folder = repo / ".omk" / "goals" / NEW_ID
    (folder / "control").mkdir(parents=True)
    for argv in (["resume"], ["pause"], ["cancel"], ["budget-add", "--time", "1m"]):
        code, out, err = run_cli(capsys, argv[0], NEW_ID, *argv[1:], "--repo", str(repo))
        assert code == 2, (argv, err)
        assert err.startswith(f"omk-tui: error: goal {NEW_ID} has no goal.json ({folder / 'goal.json'} does not "
                              "exist"), (argv, err)
        assert "restore the file, or remove the folder and start a new goal with `omk-tui run`" in err
        assert "internal error" not in err
    assert not (folder / "goal.json").exists() and not (folder / "events.jsonl").exists()  # nothing recorded


def test_goals_without_goals_exits_2_with_a_message(repo, capsys):
    code, out, err = run_cli(capsys, "goals", "--repo", str(repo))
    assert code == 2 and "no goals in" in err and 'omk-tui run "GOAL"' in err and out == ""
    assert not (repo / ".omk").exists()


def test_show_text_has_tasks_slices_overlaps_gates_budget_blockers(repo, two_goals, capsys):
    code, out, err = run_cli(capsys, "show", "latest", "--repo", str(repo))
    assert code == 0, err
    assert out.startswith(f"goal {NEW_ID}\n  Add a --json flag")
    assert "status running · phase execution · slices 1/2" in out
    assert "budget time 120s of 3600s · tokens 1200 of 100000 · usd 0.0500 of unlimited" in out
    assert "  - slice s2 blocked: gate pytest still failing after 4 attempts" in out
    assert "  - permission pending: shell npm publish [r9]" in out
    assert "evil           rejected  deps -            escape — outside the allowed goal policy roots" in out
    assert "s1             committed  attempt 1  branch omk/goal/t1-1a" in out
    assert "worktree /wt/s2" in out
    assert "s2 after s1: write/write on src/a.py" in out
    assert "s2           pytest           failed     exit 1" in out


def test_show_json_and_prefix(repo, two_goals, capsys):
    code, out, _ = run_cli(capsys, "show", "goal-20261120", "--repo", str(repo), "--json")
    d = json.loads(out)
    assert code == 0 and d["id"] == OLD_ID and d["status"] == "ready" and d["readiness"] == "ready"
    assert [t["id"] for t in d["tasks"]] == ["t1", "t2", "evil"]
    assert {s["id"]: (s["state"], s["branch"], s["worktree"]) for s in d["slices"]} == {
        "s1": ("committed", "omk/goal/t1-1a", "/wt/s1"), "s2": ("merged", "omk/goal/t2-2b", "/wt/s2")}
    assert d["overlaps"][0]["kind"] == "write/write"
    assert d["gates"][0]["status"] == "passed" and d["gates"][0]["duration_ms"] == 1500
    assert d["budget"]["spent_tokens"] == 1200 and d["budget"]["left_time_secs"] == 3480
    assert d["blockers"] == [] and d["events"]["gaps"] == 0 and d["proof"].endswith("proof.json")


def test_show_unknown_or_ambiguous_goal_exits_2(repo, two_goals, capsys):
    code, _, err = run_cli(capsys, "show", "nope", "--repo", str(repo))
    assert code == 2 and "no goal matches 'nope'" in err and "omk-tui goals" in err
    code, _, err = run_cli(capsys, "show", "goal-2026112", "--repo", str(repo))
    assert code == 2 and "matches 2 goals" in err and "give more of the id" in err


def test_proof_formats(repo, two_goals, capsys):
    code, out, _ = run_cli(capsys, "proof", OLD_ID, "--repo", str(repo), "--format", "json")
    assert code == 0 and Proof.model_validate_json(out).summary == "2 slices merged, all gates green"
    code, out, _ = run_cli(capsys, "proof", OLD_ID[:20], "--repo", str(repo), "--format", "md")
    assert code == 0 and out.startswith(f"# Proof: {OLD_ID}\n\n**✅ ready**")
    assert "| pytest | passed | required | 0 | 2.0s | `pytest -q` |" in out
    assert "| goal | anti_slop | no | low | a \\| pipe |" in out
    assert "## Known gaps\n\n- no performance gate" in out
    code, out, _ = run_cli(capsys, "proof", OLD_ID, "--repo", str(repo))
    assert code == 0 and "status ready · readiness ready" in out
    assert "baseline gates (1)" in out and "      FAILED test_old" in out
    assert "post-mutation gates ran: yes" in out
    assert "s1             merged     attempts 1  omk/goal/t1-1a @ c1c1c1c1c1c1" in out


def test_proof_missing_or_damaged_exits_2(repo, two_goals, capsys):
    code, _, err = run_cli(capsys, "proof", NEW_ID, "--repo", str(repo))
    assert code == 2 and "has no proof yet (status running)" in err
    old, _ = two_goals
    old.proof_json.write_text('{"goal_id": "x"}')
    code, _, err = run_cli(capsys, "proof", OLD_ID, "--repo", str(repo))
    assert code == 2 and "proof.json is not a valid Proof" in err and "omk-tui show" in err


def test_read_commands_work_while_a_writer_appends(repo, two_goals, capsys):
    _, new = two_goals
    log = EventLog(new.events)
    stop = threading.Event()

    def writer():
        i = 0
        while not stop.is_set():
            i += 1
            log.append(make_event(NEW_ID, "agent_message_chunk", {"slice_id": "s2", "text": f"tok {i} "}))

    t = threading.Thread(target=writer)
    t.start()
    try:
        for _ in range(5):
            code, out, _ = run_cli(capsys, "show", NEW_ID, "--repo", str(repo), "--json")
            assert code == 0 and json.loads(out)["events"]["gaps"] == 0
    finally:
        stop.set()
        t.join()
        log.close()


def test_console_script_goals(repo, two_goals):
    proc = subprocess.run(["omk-tui", "goals", "--repo", str(repo)], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, PATH=f"{Path(os.sys.executable).parent}:{os.environ['PATH']}"))
    assert proc.returncode == 0, proc.stderr
    assert NEW_ID in proc.stdout and OLD_ID in proc.stdout


def test_a_goal_running_again_does_not_show_its_earlier_proofs_blocker(repo, two_goals, capsys):
    _, new = two_goals  # running, its controller's lock held
    save_proof(new, Proof(goal_id=NEW_ID, status=GoalStatus.paused, readiness="not_ready", summary="paused",
                          blocker="paused"))
    code, out, _ = run_cli(capsys, "show", NEW_ID, "--repo", str(repo), "--json")
    d = json.loads(out)
    assert code == 0 and d["status"] == "running" and "paused" not in d["blockers"]
    code, out, err = run_cli(capsys, "proof", NEW_ID, "--repo", str(repo))
    assert code == 0 and "status paused" in out
    assert f"goal {NEW_ID} is running again; this proof is from its earlier run (status paused)" in err


HOSTILE = "Evil \x1b[31mRED\x1b[0m \x1b]0;PWNED\x07 \x9b2J title\r\nFAKE: ready \u202e"


def test_agent_text_with_terminal_controls_is_printed_escaped_everywhere(repo, capsys):
    """A planner's task title (or a reason, a gap, the goal) with ESC/OSC/BEL/C1/CR-LF could recolour, retitle or
    clear the terminal and forge output lines: every text output shows them escaped; JSON escapes them itself."""
    from omk_tui.headless import HeadlessPrinter

    paths = build_goal(repo, OLD_ID, "Fix it " + HOSTILE, done=True, created=NOW)
    with EventLog(paths.events) as log:
        log.append(make_event(OLD_ID, "task_proposed", {"task": {"id": "esc", "title": HOSTILE}}))
        log.append(make_event(OLD_ID, "task_rejected", {"task_id": "esc", "reason": "malformed: " + HOSTILE}))
    proof = Proof(goal_id=OLD_ID, status=GoalStatus.blocked_on_human, readiness="blocked", summary=HOSTILE,
                  blocker=HOSTILE, known_gaps=[HOSTILE], human_decisions_required=[HOSTILE],
                  slices=[SliceOutcome(slice_id="s1", task_id="t1", branch="b", status="blocked", reason=HOSTILE)])
    save_proof(paths, proof)
    outputs = []
    for argv in (["goals"], ["show", OLD_ID], ["proof", OLD_ID], ["proof", OLD_ID, "--format", "md"],
                 ["replay", OLD_ID, "--headless"]):
        code, out, err = run_cli(capsys, *argv, "--repo", str(repo))
        assert code == 0, (argv, err)
        outputs.append((argv, out + err))
    HeadlessPrinter()(make_event(OLD_ID, "task_rejected", {"task_id": "esc", "reason": HOSTILE}))
    HeadlessPrinter()(make_event(OLD_ID, "status_changed", {"status": "not_ready", "reason": HOSTILE}))
    HeadlessPrinter()(make_event(OLD_ID, "scope_refused", {"slice_id": "s1", "operation": "write", "path": "a[b].txt",
                                                           "reason": HOSTILE}))
    outputs.append((["run progress"], capsys.readouterr().err))
    assert "  refused write a[b].txt [s1]: Evil \\x1b[31mRED" in outputs[-1][1]  # a refused write is said, not only logged
    for argv, text in outputs:
        assert not any(c in text for c in "\x1b\x07\x9b\r\u202e"), argv
        assert not any(line.startswith("FAKE") for line in text.splitlines()), argv
    for argv, text in outputs[1:]:
        assert "\\x1b[31mRED\\x1b[0m \\x1b]0;PWNED\\x07 \\x9b2J title\\r\\nFAKE: ready \\u202e" in text, argv
    code, out, _ = run_cli(capsys, "proof", OLD_ID, "--format", "json", "--repo", str(repo))
    assert json.loads(out)["blocker"] == HOSTILE  # JSON keeps the text as it is


def test_show_states_each_blocker_once(repo, capsys):
    """The proof's blocker, the goal's failure and the blocked slice say the same cause in other words: shown once,
    with the failure's next step kept."""
    from omk_tui.models.goal import GoalFailure

    why = "the agent changed no file in 2 attempts (its write scope: project files); nothing to verify"
    paths = build_goal(repo, NEW_ID, "Add a --json flag", done=False, created=NOW)
    state = load_goal(paths)
    state.status = GoalStatus.not_ready
    state.failure = GoalFailure(kind="not_ready", reason=f"slice t2 is blocked: {why}",
                                next_action="omk-tui resume " + NEW_ID)
    save_goal(paths, state)
    save_proof(paths, Proof(goal_id=NEW_ID, status=GoalStatus.not_ready, readiness="not_ready",
                            summary=f"not_ready: slice t2 is blocked: {why}", blocker=f"slice t2 is blocked: {why}"))
    with EventLog(paths.events) as log:
        log.append(make_event(NEW_ID, "slice_state", {"slice_id": "t2", "state": "blocked", "reason": why}))
    code, out, _ = run_cli(capsys, "show", NEW_ID, "--repo", str(repo), "--json")
    assert code == 0
    blockers = json.loads(out)["blockers"]
    assert blockers[0] == f"slice t2 is blocked: {why} (next: omk-tui resume {NEW_ID})"
    assert [b for b in blockers if why in b] == blockers[:1]  # the other ones are other causes (slice s2, a permission)
    code, out, _ = run_cli(capsys, "show", NEW_ID, "--repo", str(repo))
    assert out.split("\ntasks")[0].count(why) == 1


def test_proof_notes_a_goal_whose_status_changed_since_its_proof(repo, capsys):
    """A goal cancelled with no controller (`omk-tui cancel`) keeps the proof of its last run: proof says so."""
    from omk_tui.control.offline import cancel_offline

    paths = build_goal(repo, OLD_ID, "Fix the slugify bug", done=True, created=NOW)
    state = load_goal(paths)
    state.status = GoalStatus.not_ready
    save_goal(paths, state)
    save_proof(paths, Proof(goal_id=OLD_ID, status=GoalStatus.not_ready, readiness="not_ready",
                            summary="not_ready: a gate failed", blocker="a gate failed"))
    code, out, err = run_cli(capsys, "proof", OLD_ID, "--repo", str(repo))
    assert code == 0 and err == ""  # the goal is as its proof says
    cancel_offline(repo, paths)
    code, out, err = run_cli(capsys, "proof", OLD_ID, "--repo", str(repo))
    assert code == 0 and "status not_ready" in out
    assert f"note: goal {OLD_ID} is now cancelled; this proof was written when it was not_ready" in err, err


def test_show_gate_columns_stay_aligned_for_as_baseline_and_long_names():
    from omk_tui.render.text import _gate_lines

    gate = {"exit_code": 1, "duration_ms": 1500, "command_line": "pytest -q"}
    lines = _gate_lines([{**gate, "scope": "s1", "name": "pytest", "status": "failed"},
                         {**gate, "scope": "s2", "name": "pytest", "status": "as baseline"},
                         {**gate, "scope": "a-very-long-slice-id", "name": "a-long-gate-name-here",
                          "status": "failed (optional)"}])
    assert len({line.index(" exit ") for line in lines}) == 1, lines
    assert lines[0] == "  s1                   pytest                failed            exit 1       1.5s  pytest -q"
