"""The goal controller end to end: real repositories, the scripted agent over real ACP, real gates."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from omk_tui.control.controller import GoalController
from omk_tui.control.orphans import marked_processes
from omk_tui.models.goal import Budget, GoalOptions, GoalStatus
from omk_tui.projection import load_view
from omk_tui.state.eventlog import read_events
from omk_tui.state.store import load_goal, load_proof

from tests.support.goal_repo import kinds, make_repo, task, tree_fingerprint, write_script

pytestmark = pytest.mark.timeout(180)


async def agent_speaks(ctl, slice_id: str, secs: float = 20) -> None:
    """Wait (polling the log) until the slice's agent has said something: its turn is under way."""
    import asyncio

    for _ in range(int(secs / 0.05)):
        await asyncio.sleep(0.05)
        if any(e.kind == "agent_message_chunk" and e.payload.get("slice_id") == slice_id
               for e in read_events(ctl.paths.events).events):
            return


@pytest.fixture(autouse=True)
def _worktrees(tmp_path, monkeypatch):
    monkeypatch.setenv("OMK_WORKTREES_DIR", str(tmp_path / "worktrees"))


async def run_goal(repo, script_path, script, goal="add the checks files so the gate passes", **opts):
    agent = write_script(script_path, script)
    budget = opts.pop("budget", None) or Budget()
    ctl = GoalController.create(repo, goal, GoalOptions(agent=agent, **opts), budget)
    proof = await ctl.run()
    return ctl, proof


async def test_demo_goal_runs_parallel_slices_fixes_a_gate_failure_and_is_ready(tmp_path):
    """The demo: four tasks, overlapping scopes, two agents in parallel, one gate failure fixed on attempt 2."""
    from omk_tui.demo.sample import DEMO_GOAL, create_sample_repo, demo_script

    repo = create_sample_repo(tmp_path / "calc")
    before = tree_fingerprint(repo)
    ctl, proof = await run_goal(repo, tmp_path / "script.json", demo_script(0), goal=DEMO_GOAL, max_agents=2)

    assert proof.status is GoalStatus.ready, proof.blocker
    assert proof.readiness == "ready"
    assert {s.slice_id: s.status for s in proof.slices} == {
        "add-stats": "merged", "fix-divide": "merged", "ops-docs": "merged", "stats-docs": "merged"}
    assert {s.slice_id: s.attempts for s in proof.slices}["add-stats"] == 2
    assert not proof.baseline_gates[0].passed and proof.final_gates[0].passed
    # stats-docs starts from add-stats' work, without fix-divide: red only where the baseline was red
    stats_docs_gate = next(s for s in proof.slices if s.slice_id == "stats-docs").gates[0]
    assert not stats_docs_gate.passed and stats_docs_gate.only_baseline_failures
    assert proof.post_mutation_gates_ran
    assert {"calc/ops.py", "calc/stats.py", "tests/test_stats.py", "README.md", "docs/stats.md"} <= set(proof.changed_files)
    # ops-docs reads what fix-divide writes: serialised after it
    overlaps = [e.payload for e in kinds(ctl, "overlap_serialized")]
    assert {"blocked_slice_id": "ops-docs", "serializes_after": "fix-divide", "kind": "read_write",
            "path": "calc/ops.py"} in overlaps
    # two agents really ran at once: both first turns started before either finished
    order = [(e.kind, e.payload.get("slice_id")) for e in read_events(ctl.paths.events).events
             if e.kind in ("agent_turn_started", "agent_turn_finished") and e.payload.get("slice_id")]
    first_finish = next(i for i, (k, _) in enumerate(order) if k == "agent_turn_finished")
    assert {s for k, s in order[:first_finish] if k == "agent_turn_started"} == {"add-stats", "fix-divide"}
    # stats-docs started from add-stats' work (its dependency)
    assert "calc/stats.py" not in {f for s in proof.slices if s.slice_id == "stats-docs" for f in s.changed_files}
    assert tree_fingerprint(repo) == before  # the main working tree is untouched
    assert not marked_processes(ctl.state.goal_id)
    state = load_goal(ctl.paths)
    assert state.status is GoalStatus.ready and state.budget.spent_tokens > 0 and state.budget.spent_usd > 0
    ctl.close()


async def test_hostile_plan_is_rejected_task_by_task(tmp_path):
    repo = make_repo(tmp_path / "repo")
    script = {
        "plan": {"tasks": [
            task("good", ["good.check"]),
            task("abs", ["/etc/passwd"]),
            task("dotdot", ["../outside.txt"]),
            task("gitdir", [".git/config"]),
            task("cyc-a", ["a.txt"], deps=["cyc-b"]),
            task("cyc-b", ["b.txt"], deps=["cyc-a"]),
            task("good", ["dup.txt"]),
            task("orphan", ["o.txt"], deps=["nope"]),
        ]},
        "tasks": {"good": [[{"write": "good.check", "content": "ok\n"}]]},
    }
    ctl, proof = await run_goal(repo, tmp_path / "s.json", script, budget=Budget(time_secs=600))
    rejected = {e.payload["task_id"]: e.payload["reason"] for e in kinds(ctl, "task_rejected")}
    assert "outside the allowed goal policy roots" in rejected["abs"]
    assert "outside the allowed goal policy roots" in rejected["dotdot"]
    assert "outside the allowed goal policy roots" in rejected["gitdir"]
    assert "dependency cycle" in rejected["cyc-a"] and "dependency cycle" in rejected["cyc-b"]
    assert "duplicate task id" in rejected["good"]
    assert "unknown dependency 'nope'" in rejected["orphan"]
    accepted = [e.payload for e in kinds(ctl, "task_accepted")]
    assert [a["task_id"] for a in accepted] == ["good"]
    assert accepted[0]["budget_snapshot"]["task_budget_secs"] == 120
    # a rejected task counts as failed, never completed: the good task's work is done and integrated, but the
    # goal is not ready without the rejected ones' work; a person decides (accept what was done, or not)
    statuses = {e.payload["task_id"]: e.payload["status"] for e in kinds(ctl, "task_status")}
    assert statuses["abs"] == "failed" and statuses["good"] == "done"
    assert [s.status for s in proof.slices] == ["merged"] and proof.final_gates[0].passed
    assert proof.status is GoalStatus.blocked_on_human and proof.readiness == "blocked"
    assert "7 proposed task(s) rejected at intake, so their work was not done: 'abs' (outside the allowed" \
        in proof.blocker
    assert f"`omk-tui accept {ctl.state.goal_id}`" in proof.blocker and "and 2 more" in proof.blocker
    assert proof.human_decisions_required == [proof.blocker]
    gaps = [g for g in proof.known_gaps if "rejected at intake" in g]
    assert len(gaps) == 7 and f"task 'orphan' rejected at intake: {rejected['orphan']}" in gaps
    ctl.close()


async def test_a_task_id_that_cannot_name_a_branch_is_rejected_and_the_goal_goes_on(tmp_path):
    """Once accepted, such a task made the slice planner fail: failed_infra, and the same on every resume."""
    repo = make_repo(tmp_path / "repo")
    script = {"plan": {"tasks": [task("good", ["good.check"]), task("bad id/..", ["bi.check"]),
                                 task("after", ["after.check"], deps=["bad id/.."])]},
              "tasks": {"good": [[{"write": "good.check", "content": "ok\n"}]]}}
    ctl, proof = await run_goal(repo, tmp_path / "s.json", script)
    rejected = {e.payload["task_id"]: e.payload["reason"] for e in kinds(ctl, "task_rejected")}
    assert rejected == {"bad id/..": "malformed task (id 'bad id/..' cannot name a git branch or folder; use "
                                     "letters, digits, '.', '_', '-')",
                        "after": "depends on rejected task 'bad id/..'"}
    assert [(s.slice_id, s.status) for s in proof.slices] == [("good", "merged")]
    assert proof.status is GoalStatus.blocked_on_human
    assert "'bad id/..' (malformed task" in proof.blocker and "'after' (depends on" in proof.blocker
    ctl.close()
    again = GoalController.open(repo, ctl.state.goal_id)  # a resume finds the same, and no new agent turn
    turns = len(kinds(again, "agent_turn_started"))
    proof2 = await again.run()
    assert proof2.status is GoalStatus.blocked_on_human and proof2.blocker == proof.blocker
    assert proof2.known_gaps == proof.known_gaps and len(kinds(again, "agent_turn_started")) == turns
    again.close()


async def test_vague_goal_is_blocked_on_a_human_before_any_agent(tmp_path):
    repo = make_repo(tmp_path / "repo")
    ctl, proof = await run_goal(repo, tmp_path / "s.json", {}, goal="make it better")
    assert proof.status is GoalStatus.blocked_on_human
    assert "clarification" in proof.blocker
    assert not kinds(ctl, "agent_turn_started")
    ctl.close()


async def test_no_gates_blocks_with_the_seed_message(tmp_path):
    repo = make_repo(tmp_path / "repo", gate="none")
    ctl, proof = await run_goal(repo, tmp_path / "s.json", {"plan": {"tasks": [task("t", ["x.txt"])]}})
    assert proof.status is GoalStatus.not_ready
    assert "verification blocked: no local gates were detected or configured" in proof.blocker
    ctl.close()


async def test_no_usable_plan_falls_back_to_one_project_task(tmp_path):
    repo = make_repo(tmp_path / "repo")
    script = {"default": [{"say": "no plan here"}],
              "tasks": {"goal-execute": [[{"write": "new.check", "content": "ok\n"}]]}}
    ctl, proof = await run_goal(repo, tmp_path / "s.json", script)
    assert [s.slice_id for s in proof.slices] == ["goal-execute"]
    assert proof.status is GoalStatus.ready
    assert "new.check" in proof.changed_files
    ctl.close()


def _warn_on_scope_violations(repo: Path) -> None:
    """A conflict needs a write outside a task's declared scope (a shell command can do that); the review wall
    blocks such slices by default, so these tests let it warn instead, to reach the integration step."""
    (repo / ".omk" / "config.toml").write_text('[review]\nscope_violations = "warn"\n')


async def test_merge_conflict_reruns_the_later_slice_on_top_then_integrates(tmp_path):
    repo = make_repo(tmp_path / "repo")
    _warn_on_scope_violations(repo)
    script = {
        "plan": {"tasks": [task("a", ["shared.txt"]), task("b", ["b.check"])]},
        "tasks": {
            "a": [[{"write": "shared.txt", "content": "from a\n"}]],
            # b writes shared.txt behind its scope's back (a shell command), then on the re-run only its own file
            "b": [[{"shell": "printf 'from b\\n' > shared.txt"}, {"write": "b.check", "content": "ok\n"}],
                  [{"write": "b.check", "content": "ok\n"}]],
        },
    }
    ctl, proof = await run_goal(repo, tmp_path / "s.json", script)
    conflicts = kinds(ctl, "integration_conflict")
    assert conflicts and conflicts[0].payload["slice_id"] == "b"
    assert conflicts[0].payload["files"] == ["shared.txt"]
    assert proof.status is GoalStatus.ready, proof.blocker
    assert {s.slice_id: s.status for s in proof.slices} == {"a": "merged", "b": "merged"}
    ctl.close()


async def test_repeated_conflict_blocks_with_evidence(tmp_path):
    repo = make_repo(tmp_path / "repo")
    _warn_on_scope_violations(repo)
    script = {
        "plan": {"tasks": [task("a", ["shared.txt"]), task("b", ["b.check"])]},
        "tasks": {
            "a": [[{"write": "shared.txt", "content": "from a\n"}]],
            # the re-run on top of the integration result never finishes: the conflict stands
            "b": [[{"shell": "printf 'from b\\n' > shared.txt"}, {"write": "b.check", "content": "ok\n"}],
                  [{"crash": 1}]],
        },
    }
    ctl, proof = await run_goal(repo, tmp_path / "s.json", script)
    assert proof.status is GoalStatus.blocked_on_human
    assert "merge conflict in shared.txt with a" in proof.blocker
    assert "re-run on top of the integration result did not finish" in proof.blocker
    conflict = kinds(ctl, "integration_conflict")[0].payload
    assert conflict["files"] == ["shared.txt"] and "from a" in conflict["detail"]
    ctl.close()


async def test_a_slice_whose_writes_the_policy_rejected_says_so_in_its_blocker(tmp_path):
    repo = make_repo(tmp_path / "repo")
    script = {"plan": {"tasks": [task("w", ["w.check"])]},
              "tasks": {"w": [[{"write": "w.check", "content": "ok\n"}]]}}
    ctl, proof = await run_goal(repo, tmp_path / "s.json", script, approval="safe")
    assert proof.status is GoalStatus.not_ready
    assert "changed no file in 2 attempts" in proof.blocker
    assert "2 of its permission request(s) were rejected (by policy:safe)" in proof.blocker
    ctl.close()


async def test_crashing_agent_blocks_its_slice_and_the_rest_goes_on(tmp_path):
    repo = make_repo(tmp_path / "repo")
    script = {
        "plan": {"tasks": [task("ok", ["ok.check"]), task("boom", ["boom.txt"])]},
        "tasks": {"ok": [[{"write": "ok.check", "content": "ok\n"}]], "boom": [[{"crash": 3}]]},
    }
    ctl, proof = await run_goal(repo, tmp_path / "s.json", script)
    by = {s.slice_id: s for s in proof.slices}
    assert by["ok"].status == "merged"
    assert by["boom"].status == "blocked"
    assert proof.status is GoalStatus.not_ready and "boom" in proof.blocker and "agent failed" in proof.blocker
    blocked = [e.payload for e in kinds(ctl, "slice_state") if e.payload.get("state") == "blocked"]
    assert [b["attempt"] for b in blocked] == [1]  # the first attempt, tried three times (it said attempt 0)
    assert not marked_processes(ctl.state.goal_id)
    ctl.close()


async def test_an_agent_that_changes_nothing_is_asked_again_then_its_slice_is_blocked(tmp_path):
    """Ready only with evidence: a task with files to write whose agent writes none is not done."""
    repo = make_repo(tmp_path / "repo")
    script = {
        "plan": {"tasks": [task("ok", ["ok.check"]), task("idle", ["idle.check"]), task("late", ["late.check"])]},
        "tasks": {"ok": [[{"write": "ok.check", "content": "ok\n"}]],
                  "idle": [[{"say": "I did it."}], [{"say": "Done, really."}]],
                  # changes nothing at first; writes when asked again
                  "late": [[{"say": "Looks fine as it is."}], [{"write": "late.check", "content": "ok\n"}]]},
    }
    ctl, proof = await run_goal(repo, tmp_path / "s.json", script)
    by = {s.slice_id: s for s in proof.slices}
    assert by["ok"].status == "merged" and by["late"].status == "merged" and by["late"].attempts == 2
    assert by["idle"].status == "blocked" and by["idle"].attempts == 2 and not by["idle"].changed_files
    assert proof.status is GoalStatus.not_ready
    assert "idle" in proof.blocker and "changed no file in 2 attempts" in proof.blocker
    prompts = [e.payload for e in kinds(ctl, "agent_turn_started") if e.payload.get("slice_id") == "late"]
    assert len(prompts) == 2
    # each slice runs once at a time: two slices ending together once launched the third twice
    in_turn: set[str] = set()
    for e in read_events(ctl.paths.events).events:
        sid = e.payload.get("slice_id")
        if e.kind == "agent_turn_started" and sid:
            assert sid not in in_turn, f"slice {sid} started a turn while one was running"
            in_turn.add(sid)
        elif e.kind == "agent_turn_finished" and sid:
            in_turn.discard(sid)
    ctl.close()


async def test_hanging_agent_is_ended_at_its_budget_with_no_process_left(tmp_path):
    repo = make_repo(tmp_path / "repo")
    script = {"plan": {"tasks": [task("hang", ["h.txt"], budget=1.5)]}, "tasks": {"hang": [[{"hang": True}]]}}
    ctl, proof = await run_goal(repo, tmp_path / "s.json", script)
    assert proof.status is GoalStatus.not_ready
    assert "exceeded its time budget" in proof.blocker
    finished = [e.payload["stop_reason"] for e in kinds(ctl, "agent_turn_finished") if e.payload["slice_id"] == "hang"]
    assert finished and set(finished) == {"timeout"}
    assert not marked_processes(ctl.state.goal_id)
    ctl.close()


async def test_gate_failing_every_attempt_escalates_to_an_architect_then_blocks(tmp_path):
    repo = make_repo(tmp_path / "repo")
    script = {"plan": {"tasks": [task("bad", ["bad.check"])]},
              "tasks": {"bad": [[{"write": "bad.check", "content": "nope\n"}]]}}
    ctl, proof = await run_goal(repo, tmp_path / "s.json", script)
    roles = [e.payload["role"] for e in kinds(ctl, "agent_turn_started") if e.payload["slice_id"] == "bad"]
    assert roles == ["implementer", "fixer", "fixer", "architect", "fixer"]
    assert proof.status is GoalStatus.not_ready
    assert "gates still failing after 4 attempts: checks" in proof.blocker
    slice_gates = [g for s in proof.slices for g in s.gates]
    assert slice_gates and not slice_gates[0].passed
    ctl.close()


async def test_token_budget_runs_out_mid_run_and_budget_add_resumes(tmp_path):
    repo = make_repo(tmp_path / "repo")
    script = {
        "plan": {"tasks": [task("one", ["one.check"]), task("two", ["two.check"], deps=["one"])]},
        "tasks": {"one": [[{"usage": {"input": 4000, "output": 1000}}, {"write": "one.check", "content": "ok\n"}]],
                  "two": [[{"usage": {"input": 100, "output": 10}}, {"write": "two.check", "content": "ok\n"}]]},
    }
    ctl, proof = await run_goal(repo, tmp_path / "s.json", script, budget=Budget(tokens=3000))
    assert proof.status is GoalStatus.needs_more_budget
    assert "tokens" in proof.blocker and "left to do: one, two" in proof.blocker
    ctl.close()
    ctl = GoalController.open(repo, "latest")
    ctl.add_budget(tokens=10_000)  # before run(): applied and saved at once (the CLI path is in test_control_cli)
    proof = await ctl.run()
    assert proof.status is GoalStatus.ready, proof.blocker
    assert load_goal(ctl.paths).budget.tokens == 13_000
    assert [e.kind for e in kinds(ctl, "budget_extended")]
    ctl.close()


async def test_pause_then_resume_continues_from_the_snapshots(tmp_path):
    import asyncio

    repo = make_repo(tmp_path / "repo")
    script = {
        "plan": {"tasks": [task("slow", ["slow.check"])]},
        "tasks": {"slow": [[{"say": "working"}, {"sleep": 30}, {"write": "slow.check", "content": "ok\n"}]]},
    }
    agent = write_script(tmp_path / "s.json", script)
    ctl = GoalController.create(repo, "write slow.check so the gate passes", GoalOptions(agent=agent))
    run = asyncio.create_task(ctl.run())
    await agent_speaks(ctl, "slow")
    ctl.run_gates_now()  # `g`: the gates on the integration branch now, while the slice works
    for _ in range(400):
        await asyncio.sleep(0.05)
        if any(e.kind == "gate_finished" and e.payload["scope"] == "manual"
               for e in read_events(ctl.paths.events).events):
            break
    else:
        raise AssertionError("the gates requested now never ran")
    ctl.pause()
    proof = await asyncio.wait_for(run, 30)
    assert proof.status is GoalStatus.paused
    assert load_goal(ctl.paths).status is GoalStatus.paused
    assert not marked_processes(ctl.state.goal_id)
    ctl.close()
    spent = load_goal(ctl.paths).budget.spent_time_secs
    await asyncio.sleep(1.0)  # paused: no time spent
    assert 0 < load_view(ctl.paths.events).time_spent(datetime.now(timezone.utc)) == spent  # as the TUI shows it
    script["tasks"]["slow"] = [[{"write": "slow.check", "content": "ok\n"}]]  # the re-run turn is quick
    write_script(tmp_path / "s.json", script)
    ctl = GoalController.open(repo, ctl.state.goal_id)
    proof = await ctl.run()
    assert proof.status is GoalStatus.ready, proof.blocker
    assert kinds(ctl, "goal_paused") and kinds(ctl, "goal_resumed")
    # the turn the pause interrupted is re-run as the same attempt, not counted
    assert {s.slice_id: s.attempts for s in proof.slices} == {"slow": 1}
    assert (ctl.paths.artifacts / "agents" / "slow-implementer-1.md").is_file()
    ctl.close()


def test_second_controller_on_the_same_goal_is_refused(tmp_path):
    from omk_tui.control.lock import ControllerLock, LockHeld

    repo = make_repo(tmp_path / "repo")
    ctl = GoalController.create(repo, "write x.check so the gate passes", GoalOptions(agent="script:/nonexistent"))
    held = ControllerLock(ctl.paths.lock)
    held.acquire()
    try:
        import asyncio

        with pytest.raises(LockHeld, match="another controller is running this goal"):
            asyncio.run(GoalController.open(repo, "latest").run())
    finally:
        held.release()
        ctl.close()


def test_proof_json_and_events_parse_after_a_run(tmp_path):
    import asyncio

    repo = make_repo(tmp_path / "repo")
    ctl, proof = asyncio.run(run_goal(repo, tmp_path / "s.json", {
        "plan": {"tasks": [task("t", ["t.check"])]}, "tasks": {"t": [[{"write": "t.check", "content": "ok\n"}]]}}))
    data = json.loads(Path(ctl.paths.proof_json).read_text())
    assert data["status"] == "ready" and data["readiness"] == "ready"
    assert load_proof(ctl.paths).final_gates[0].passed
    log = read_events(ctl.paths.events)
    seqs = [e.seq for e in log.events]
    assert log.gaps == 0 and seqs == sorted(set(seqs))
    ctl.close()


async def assert_lease_lost(tmp_path, steps: list[dict], blocker: str, config: str = "", **options) -> None:
    """A slice whose agent runs `steps` then falls silent: its lease expires on each of its three tries, the goal is
    not ready with `blocker` in its reason, and no process of it is left."""
    repo = make_repo(tmp_path / "repo")
    if config:
        (repo / ".omk" / "config.toml").write_text(config)
    script = {"plan": {"tasks": [task("quiet", ["q.check"], budget=None)]},
              "tasks": {"quiet": [[*steps, {"write": "q.check", "content": "ok\n"}]]}}
    agent = write_script(tmp_path / "s.json", script)
    ctl = GoalController.create(repo, "write q.check so the gate passes", GoalOptions(agent=agent, **options))
    proof = await ctl.run()
    assert proof.status is GoalStatus.not_ready
    assert blocker in proof.blocker
    assert len(kinds(ctl, "lease_expired")) == 3
    assert not marked_processes(ctl.state.goal_id)
    ctl.close()


async def test_a_silent_agent_loses_its_lease_and_the_slice_is_retried_then_blocked(tmp_path):
    await assert_lease_lost(tmp_path, [{"say": "let me think"}, {"sleep": 30}], "lease expired", lease_secs=1.5)


def test_failure_ids_read_pytest_and_unittest_summaries():
    from omk_tui.control.controller import failure_ids
    from omk_tui.models.gates import GateResult

    r = GateResult(name="t", command_line="t", passed=False, summary=[
        "FAILED tests/test_ops.py::test_divide - assert 3 == 3.5", "ERROR tests/test_io.py::test_open",
        "FAIL: test_median (tests.test_stats.StatsTest.test_median)", "FAILED (failures=1)", "1 failed"])
    assert failure_ids(r) == {"tests/test_ops.py::test_divide", "tests/test_io.py::test_open",
                              "tests.test_stats.StatsTest.test_median"}


def test_unreadable_event_log_lines_are_counted_once_for_the_proof(tmp_path):
    repo = make_repo(tmp_path / "repo")
    ctl = GoalController.create(repo, "write x.check so the gate passes", GoalOptions(agent="script:/nonexistent"))
    with open(ctl.paths.events, "ab") as fh:
        fh.write(b"not json at all\n{\"seq\": \"x\"}\n")
    assert ctl.view_gaps() == 2
    with open(ctl.paths.events, "ab") as fh:
        fh.write(b"more garbage\n")
    assert ctl.view_gaps() == 2  # counted once: the controller is the log's only writer
    ctl.close()


async def test_a_long_command_in_a_client_terminal_keeps_the_lease_alive(tmp_path):
    """A slow test suite run through omk-tui's own terminal is no silence: the agent waits for it. QA: a
    `sleep 330` was killed as stuck at lease_secs (300 s), three times, then the slice was blocked."""
    repo = make_repo(tmp_path / "repo")
    script = {"plan": {"tasks": [task("suite", ["s.check"], budget=None)]},
              "tasks": {"suite": [[{"say": "running the suite"},
                                   {"shell": "sleep 4 && echo suite done && echo ok > s.check"}]]}}
    agent = write_script(tmp_path / "s.json", script)
    ctl = GoalController.create(repo, "write s.check so the gate passes", GoalOptions(agent=agent, lease_secs=1.0))
    proof = await ctl.run()
    assert proof.status is GoalStatus.ready, proof.blocker
    assert not kinds(ctl, "lease_expired")
    assert {s.slice_id: s.attempts for s in proof.slices} == {"suite": 1}
    finished = [e.payload for e in kinds(ctl, "agent_tool_call") if e.payload.get("status") == "completed"]
    assert any("suite done" in (p.get("content") or "") for p in finished)
    assert not marked_processes(ctl.state.goal_id)
    ctl.close()


async def test_a_silent_agent_after_its_command_ended_still_loses_its_lease(tmp_path):
    """The command renews the lease only while it runs: an agent that hangs once it has ended is still caught.
    The lease comes from `[agent] lease_secs` of .omk/config.toml (the goal's option says 300 s)."""
    await assert_lease_lost(tmp_path, [{"shell": "sleep 2"}, {"sleep": 60}],
                            "no sign of life from the agent for 1s: its lease expired",
                            config="[agent]\nlease_secs = 1\n")


async def test_a_tool_call_in_progress_keeps_the_lease_only_while_a_process_of_the_agent_runs(tmp_path):
    """Over Wire, kimi runs its shell itself: a tool call it reported as started, with a process it started (one
    carrying the session's mark) still running, is no silence. A tool call with no such process is."""
    import asyncio
    import os
    import types

    from omk_tui.agents.base import AgentUpdate
    from omk_tui.agents.process_session import ProcessSession
    from omk_tui.control.controller import Lease
    from omk_tui.procs import new_mark

    mark = new_mark()
    agent = types.SimpleNamespace(mark=mark, pid=os.getpid())
    agent.agent_children_alive = lambda: ProcessSession.agent_children_alive(agent)
    seen = []
    lease = Lease(0.4, lambda: False, agent)
    lease.wrap(seen.append)(AgentUpdate(kind="tool_call", tool_call_id="c1", title="Shell: pytest", status="in_progress"))
    child = await asyncio.create_subprocess_exec("sleep", "3", env={**os.environ, mark: "1"})
    expiry = asyncio.ensure_future(lease.expired())
    await child.wait()
    assert not expiry.done()  # 3 s of silence, more than the 0.4 s lease: the command kept it
    await asyncio.wait_for(expiry, 30)  # the command ended: silence expires the lease
    # the same tool call with no process of the agent running: the lease expires
    lease = Lease(0.4, lambda: False, agent)
    lease.wrap(seen.append)(AgentUpdate(kind="tool_call", tool_call_id="c2", title="Shell: x", status="in_progress"))
    await asyncio.wait_for(lease.expired(), 30)
    # a process of the agent with no tool call in progress (a helper it keeps) renews nothing
    child = await asyncio.create_subprocess_exec("sleep", "30", env={**os.environ, mark: "1"})
    try:
        lease = Lease(0.4, lambda: False, agent)
        lease.wrap(seen.append)(AgentUpdate(kind="tool_call", tool_call_id="c3", status="in_progress"))
        lease.wrap(seen.append)(AgentUpdate(kind="tool_call", tool_call_id="c3", status="completed"))
        await asyncio.wait_for(lease.expired(), 30)
    finally:
        child.kill()
        await child.wait()
    assert len(seen) == 4


async def test_a_turn_re_run_after_a_pause_is_told_of_the_partial_work_in_its_worktree(tmp_path):
    """QA: resume started a fresh session with a byte-identical prompt; the agent did not know its interrupted
    turn had already written files."""
    import asyncio

    repo = make_repo(tmp_path / "repo")
    script = {"plan": {"tasks": [task("slow", ["slow.check", "part.txt"])]},
              "tasks": {"slow": [[{"write": "part.txt", "content": "half\n"}, {"say": "halfway"}, {"sleep": 30},
                                  {"write": "slow.check", "content": "ok\n"}]]}}
    agent = write_script(tmp_path / "s.json", script)
    ctl = GoalController.create(repo, "write slow.check so the gate passes", GoalOptions(agent=agent))
    run = asyncio.create_task(ctl.run())
    await agent_speaks(ctl, "slow", secs=30)
    ctl.pause()
    proof = await asyncio.wait_for(run, 30)
    assert proof.status is GoalStatus.paused
    ctl.close()
    script["tasks"]["slow"] = [[{"write": "slow.check", "content": "ok\n"}]]
    write_script(tmp_path / "s.json", script)
    ctl = GoalController.open(repo, ctl.state.goal_id)
    proof = await ctl.run()
    assert proof.status is GoalStatus.ready, proof.blocker
    from omk_tui.control import prompts

    again = (ctl.paths.artifacts / "agents" / "slow-implementer-1.md").read_text().split("\n\n---\n\n")[0]
    graph_task = ctl.graph.by_id()["slow"]
    fresh = prompts.implementer_prompt(ctl.state.normalized_goal, graph_task, tmp_path, 1, ["checks"])
    assert "interrupted" not in fresh
    assert again.startswith(fresh)  # the same prompt (header, attempt 1), then the note
    note = again[len(fresh):]
    assert "This task was interrupted (the goal was paused)" in note
    assert "- part.txt (untracked)" in note and "slow.check" not in note
    assert {s.slice_id: s.attempts for s in proof.slices} == {"slow": 1}
    ctl.close()


async def test_each_slice_is_told_its_id_and_a_port_block_of_its_own(tmp_path):
    """Parallel slices whose test suites bind fixed ports collide; each slice's agent (and its shell commands) and
    gates get OMK_SLICE_ID and an OMK_PORT_BASE no other slice of the goal gets; goal-level gates get one too."""
    from omk_tui.control.ports import PORT_BLOCK, port_base

    repo = make_repo(tmp_path / "repo")
    seen = tmp_path / "gate-env.txt"
    record = ["sh", "-c", f'echo "[$OMK_SLICE_ID] $OMK_PORT_BASE" >> {seen}']
    with open(repo / ".omk" / "gates.toml", "a") as fh:
        fh.write(f'\n[[gates]]\nname = "env"\ncommand = {json.dumps(record)}\n')
    shell = 'echo "slice=$OMK_SLICE_ID port=$OMK_PORT_BASE" && echo ok > {}.check'
    script = {"plan": {"tasks": [task("a", ["a.check"]), task("b", ["b.check"])]},
              "tasks": {t: [[{"shell": shell.format(t)}]] for t in "ab"}}
    ctl, proof = await run_goal(repo, tmp_path / "s.json", script, max_agents=2)
    assert proof.status is GoalStatus.ready, proof.blocker
    gid = ctl.state.goal_id
    goal_port, a_port, b_port = (port_base(gid, i) for i in range(3))
    assert len({goal_port, a_port, b_port}) == 3 and all(10000 <= p <= 30000 - PORT_BLOCK for p in (a_port, b_port))
    assert sorted(seen.read_text().splitlines()) == sorted(
        [f"[] {goal_port}", f"[a] {a_port}", f"[b] {b_port}", f"[] {goal_port}"])  # baseline, a, b, final
    said = " ".join(p.get("content") or "" for p in (e.payload for e in kinds(ctl, "agent_tool_call")))
    assert f"slice=a port={a_port}" in said and f"slice=b port={b_port}" in said
    ctl.close()
