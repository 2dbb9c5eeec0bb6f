"""The goal controller: runs a goal until it is ready, or stops with a precise reason.

intake → plan → baseline gates → execute slices (parallel, each in its worktree: agent turn, gates, fix
attempts, review) → integrate → final gates → goal review → proof → delivery. Every step is an event; the
snapshots (goal.json, task-graph.json, execution.json, proof.json) are what a resume starts from.
Intents (pause, cancel, budget, permission answers) arrive as method calls or control request files.
"""

from __future__ import annotations

import asyncio
import functools
import math
import os
import re
import shutil
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from omk_tui.agents.base import AgentError, AgentUpdate, PermissionRequest, SessionConfig, TurnResult
from omk_tui.config import OmkConfig, load_config
from omk_tui.control import execution as ex
from omk_tui.control import prompts
from omk_tui.control.intake import normalize_goal, vague_reason
from omk_tui.control.lock import HEARTBEAT_SECS, ControllerLock
from omk_tui.control.orphans import markers, reap_orphans
from omk_tui.control.plan_intake import OVER_BUDGET, fallback_task, review_proposals
from omk_tui.control.requests import take_requests
from omk_tui.models.events import make_event
from omk_tui.models.gates import GateResult, GateSpec
from omk_tui.models.goal import Budget, GoalFailure, GoalOptions, GoalPhase, GoalState, GoalStatus
from omk_tui.models.proof import Proof
from omk_tui.models.tasks import GOAL_EXECUTE_TASK_ID, Task, TaskGraph, TaskStatus
from omk_tui.proc_records import RECORDS, ProcessRecords
from omk_tui.state import store
from omk_tui.state.atomic import StateWriteError
from omk_tui.state.eventlog import EventLog

CRASH_RETRIES = 2
NO_CHANGE_RETRIES = 1  # a turn that changed nothing is asked again once, then the slice is blocked
BASELINE_ROUNDS = 1  # a slice green but for tests red at baseline is asked once to fix them, if that is its task
BUDGET_CHECKPOINT_SECS = 10.0


class StopRun(Exception):
    """Leave the pipeline: `why` is pause | cancel | budget | short_of_time | blocked | human."""

    def __init__(self, why: str, reason: str = "", next_action: str = ""):
        super().__init__(reason or why)
        self.why = why
        self.reason = reason
        self.next_action = next_action


class GoalController:
    def __init__(self, repo: Path, paths: store.GoalPaths, state: GoalState, config: OmkConfig | None = None):
        self.repo = Path(repo)
        self.paths = paths.ensure()
        self.state = state
        self.config = config or load_config(self.repo)
        self.log = EventLog(paths.events)
        self.exec = ex.load_execution(paths)
        self.graph: TaskGraph | None = store.load_task_graph(paths)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._intent: str | None = None
        self._interrupted: asyncio.Event | None = None
        self._permission_waiters: dict[str, asyncio.Future] = {}
        self._rejected: dict[str, list[str]] = {}  # slice id -> who rejected each of its permission requests
        self._sessions: set = set()
        self._run_started: float | None = None
        self._time_base = state.budget.spent_time_secs
        self._gate_specs: list[GateSpec] | None = None
        self._manual_gates: asyncio.Task | None = None
        self._manual_runs = 0
        self._integration_lock = asyncio.Lock()  # one user of the integration worktree at a time
        self._save_lock = threading.Lock()
        self._gaps: int | None = None
        self._fatal: BaseException | None = None  # a state write failed inside a callback: stop and report it
        self._state_broken = False
        self.running = False

    # ------------------------------------------------------------------ construction
    @classmethod
    def create(
        cls, repo: Path, goal_text: str, options: GoalOptions | None = None, budget: Budget | None = None,
        *, config: OmkConfig | None = None,
    ) -> "GoalController":
        from omk_tui.gates.config import load_gates_file
        from omk_tui.git.repo import open_base

        repo = Path(repo).resolve()
        options = options or GoalOptions()
        base = open_base(repo, allow_dirty=options.allow_dirty)
        load_gates_file(repo)  # a malformed .omk/gates.toml: GateConfigError now, before a goal exists
        config = config or load_config(repo)  # ... and a malformed .omk/config.toml: ConfigError
        store.omk_dir(repo)
        goal_id = store.new_goal_id()
        state = GoalState(
            goal_id=goal_id, original_goal=goal_text, normalized_goal=normalize_goal(goal_text), repo=str(repo),
            base_ref=base.base_ref, base_commit=base.base_commit, integration_branch=f"omk/{goal_id}/integration",
            options=options, budget=budget or Budget(),
        )
        paths = store.create_goal(repo, state)
        ctl = cls(repo, paths, state, config)
        ctl.emit("goal_created", {
            "goal": goal_text, "repo": str(repo), "options": options.model_dump(mode="json"),
            "budget": state.budget.model_dump(mode="json"), "base_commit": base.base_commit,
            "base_ref": base.base_ref, "notes": list(base.notes),
        }, durable=True)
        for note in base.notes:
            ctl.narrate("intake", note)
        return ctl

    @classmethod
    def open(cls, repo: Path, goal_ref: str) -> "GoalController":
        repo = Path(repo).resolve()
        paths = store.resolve_goal(repo, goal_ref)
        return cls(repo, paths, store.load_goal(paths))

    # ------------------------------------------------------------------ events and snapshots
    def emit(self, kind: str, payload: dict | None = None, *, actor: str = "controller", durable: bool = False):
        return self.log.append(make_event(self.state.goal_id, kind, payload or {}, actor=actor), durable=durable)

    def narrate(self, step: str, summary: str) -> None:
        self.emit("narrative", {"step": step, "summary": summary})

    def save(self) -> None:
        with self._save_lock:
            self._account_time()
            self.log.sync()  # the log is never behind a snapshot
            store.save_goal(self.paths, self.state)
            ex.save_execution(self.paths, self.exec)

    def _set_phase(self, phase: GoalPhase) -> None:
        if self.state.phase != phase:
            self.state.phase = phase
            self.emit("phase_changed", {"phase": phase.value}, durable=True)
            self.save()

    def _set_status(self, status: GoalStatus, reason: str = "", *, kind: str = "", next_action: str = "") -> None:
        self.state.status = status
        if status is GoalStatus.running:
            self.state.failure = None
        elif reason:
            self.state.failure = GoalFailure(kind=kind or status.value, reason=reason, next_action=next_action)
        self.emit("status_changed", {"status": status.value, "reason": reason}, durable=True)
        self.save()

    # ------------------------------------------------------------------ intents (thread-safe)
    def _call(self, fn, *args) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            if fn in (self._request_stop, self._apply_budget_add):  # before run(): run() honours it at once
                fn(*args)
            return
        if _running_loop() is loop:
            fn(*args)
        else:
            loop.call_soon_threadsafe(fn, *args)

    def pause(self) -> None:
        self._call(self._request_stop, "pause")

    def cancel(self) -> None:
        self._call(self._request_stop, "cancel")

    def add_budget(self, *, time_secs: float | None = None, tokens: int | None = None, usd: float | None = None) -> None:
        self._call(self._apply_budget_add, time_secs, tokens, usd)

    def answer_permission(self, request_id: str, decision: str) -> None:
        self._call(self._resolve_permission, request_id, decision, "user")

    def run_gates_now(self) -> None:
        self._call(self._request_gates)

    def _request_stop(self, why: str) -> None:
        if self._intent == "cancel":
            return
        self._intent = why
        if self._interrupted is not None:
            self._interrupted.set()

    def _request_gates(self) -> None:
        if self._manual_gates is not None and not self._manual_gates.done():
            self.narrate("gates", "a gate run is already going")
            return
        self._manual_gates = asyncio.get_running_loop().create_task(self._run_manual_gates())

    async def _run_manual_gates(self) -> None:
        """`g` / run_gates: the gates now, on the integration branch as it stands (scope "manual")."""
        specs = self._resolve_gates()
        async with self._integration_lock:
            cwd = await asyncio.to_thread(self._integrator().materialize)
            self._manual_runs += 1
            results = await self._run_gates(specs, cwd, "manual", f"manual-{self._manual_runs}")
        red = [r.name for r in results if r.blocking]
        self.narrate("gates", "gates on the integration branch now: " + (f"failing: {', '.join(red)}" if red else "all pass"))

    def _apply_budget_add(self, time_secs, tokens, usd) -> None:
        if unlimited := unlimited_asked(self.state.budget, time_secs, tokens, usd):
            self.narrate("budget", f"{', '.join(unlimited)} unlimited: nothing added there (it stays unlimited)")
        added = apply_budget_add(self.state.budget, time_secs, tokens, usd)
        if added:
            self.emit("budget_extended", {"budget": self.state.budget.model_dump(mode="json"), "added": added}, durable=True)
            self.save()

    def _resolve_permission(self, request_id: str, decision: str, by: str) -> None:
        fut = self._permission_waiters.get(request_id)
        if fut is not None and not fut.done():
            fut.set_result(decision)

    def _handle_requests(self) -> None:
        reqs, problems = take_requests(self.paths.control)
        for p in problems:
            self.narrate("control", p)
        for r in reqs:
            a = r.args
            if r.action in ("pause", "cancel"):
                self._request_stop(r.action)
            elif r.action == "budget_add":
                self._apply_budget_add(a.get("time_secs"), a.get("tokens"), a.get("usd"))
            elif r.action == "permission":
                self._resolve_permission(str(a.get("request_id", "")), str(a.get("decision", "reject")), r.by)
            elif r.action == "run_gates":
                self._request_gates()
            # "resume" is a no-op for a running controller

    async def _watch_control(self) -> None:
        from watchfiles import awatch

        self._handle_requests()
        stop = asyncio.Event()
        try:
            async for _ in awatch(self.paths.control, debounce=50, step=20, stop_event=stop, recursive=False,
                                  watch_filter=None):
                self._handle_requests()
        except (RuntimeError, OSError):
            while True:  # watcher unavailable: poll
                await asyncio.sleep(0.25)
                self._handle_requests()

    # ------------------------------------------------------------------ budget
    def _account_time(self) -> None:
        if self._run_started is not None:
            self.state.budget.spent_time_secs = self._time_base + (time.monotonic() - self._run_started)

    async def _heartbeat(self, lock: ControllerLock) -> None:
        last_checkpoint = time.monotonic()
        while True:
            await asyncio.sleep(HEARTBEAT_SECS / 2)
            lock.heartbeat()
            self._account_time()
            if self.state.budget.exhausted() and self._intent is None:
                self._request_stop("budget")
            if time.monotonic() - last_checkpoint >= BUDGET_CHECKPOINT_SECS:
                last_checkpoint = time.monotonic()
                self.emit("budget_checkpoint", {"budget": self.state.budget.model_dump(mode="json")})
                self.save()

    def _check(self) -> None:
        """Between steps: honour intents and budgets."""
        if self._fatal is not None:
            raise self._fatal
        self._handle_requests()
        self._account_time()
        if self._intent:
            raise StopRun(self._intent)
        exhausted = self.state.budget.exhausted()
        if exhausted:
            raise StopRun("budget", ", ".join(exhausted))

    # ------------------------------------------------------------------ the run
    async def run(self) -> Proof:
        self._loop = asyncio.get_running_loop()
        self._interrupted = asyncio.Event()
        self._integration_lock = asyncio.Lock()
        if self._intent:  # asked before the loop existed (a key pressed as the worker started)
            self._interrupted.set()
        lock = ControllerLock(self.paths.lock)
        lock.acquire()
        try:
            self._reload()
        except BaseException:
            lock.release()
            raise
        if (why := self.not_resumable()) is not None:  # cancelled (or rejected) before the lock was ours
            lock.release()
            self.narrate("resume", f"not run: {why}")
            return store.load_proof(self.paths) or self._write_proof(
                blocker=self.state.failure.reason if self.state.failure else why)
        reaped = reap_orphans(self.state.goal_id, records=self.paths.procs)
        # every agent, terminal and gate this run starts is recorded in the goal's procs/ (proc_records)
        records_token = RECORDS.set(ProcessRecords(self.paths.procs))
        stale_locks = self._remove_stale_git_locks()
        if self._agent_tmp_root is not None:
            shutil.rmtree(self._agent_tmp_root, ignore_errors=True)  # no agent of this goal runs now
        self.running = True
        self._run_started = time.monotonic()
        self._time_base = self.state.budget.spent_time_secs
        resumed = self.log.seq > 1
        self.emit("run_started", {"pid": os.getpid(), "resumed": resumed}, durable=True)
        if reaped:
            self.narrate("recover", f"ended {len(reaped)} process(es) left behind by a controller that died")
        if stale_locks:
            self.narrate("recover", f"removed {len(stale_locks)} git lock file(s) a controller that died left behind: "
                         + ", ".join(stale_locks))
        if self.state.status is not GoalStatus.running:
            self.emit("goal_resumed", {"by": "user", "reason": f"was {self.state.status.value}"})
            self._set_status(GoalStatus.running)
        self.state.completed_at = None
        background = [
            asyncio.create_task(self._heartbeat(lock)),
            asyncio.create_task(self._watch_control()),
        ]
        try:
            proof = await self._pipeline()
        except StopRun as stop:
            if self._fatal is not None:
                self._state_broken = True
                raise self._fatal from None
            proof = self._stopped(stop)
        except Exception as exc:  # an infrastructure failure: recorded with what to do
            reason = infra_reason(exc)
            try:
                self.emit("run_failed", {"error": f"{type(exc).__name__}: {exc}"}, durable=True)
                self._set_status(GoalStatus.failed_infra, reason,
                                 next_action=f"fix the cause, then `omk-tui resume {self.state.goal_id}`")
                proof = self._write_proof(blocker=reason)
            except StateWriteError:  # the disk refuses even the record of the failure: say so and stop
                self._state_broken = True
                raise exc from None
        finally:
            if self._manual_gates is not None:
                background.append(self._manual_gates)
            for t in background:
                t.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            await self._close_sessions()
            RECORDS.reset(records_token)
            self._account_time()
            self._run_started = None
            if not self._state_broken:
                try:
                    self.save()
                except StateWriteError:
                    pass  # the previous snapshots are intact; the error that matters is already on its way up
            self.running = False
            if self._state_broken:
                lock.release()
        self.emit("run_finished", {"status": self.state.status.value, "readiness": proof.readiness,
                                   "budget": self.state.budget.model_dump(mode="json"),
                                   "reason": proof.blocker or ""}, durable=True)
        self.log.sync()
        lock.release()
        return proof

    def close(self) -> None:
        self.log.close()

    def _reload(self) -> None:
        """The goal's records as they are now that this controller holds the goal's lock: between reading them (at
        construction) and taking the lock, an offline `cancel` or `budget-add` (which take the same lock) may have
        written to them; the log's next seq is taken up from the file too."""
        self.log.resync()
        self.state = store.load_goal(self.paths)
        self.exec = ex.load_execution(self.paths)
        self.graph = store.load_task_graph(self.paths)

    def not_resumable(self) -> str | None:
        """Why this goal must not run again: it was cancelled, or a person rejected its result (running it again
        would overwrite that decision). None when it may be resumed."""
        gid = self.state.goal_id
        if self.state.status.value == "cancelled":
            return f"goal {gid} was cancelled"
        if self.state.rejected:
            return f"goal {gid} was rejected by a person ({self.state.failure.reason}); the decision stands"
        return None

    def config_problem(self) -> str | None:
        """Why this goal cannot run now although it may be resumed: a malformed `.omk/gates.toml` (found here,
        before the run changes the goal, instead of failing it as failed_infra at its first gate). None when the
        configuration is usable."""
        from omk_tui.gates.config import GateConfigError, load_gates_file

        try:
            load_gates_file(self.repo)
        except GateConfigError as exc:
            return f"{exc}\n  {exc.advice}, then resume goal {self.state.goal_id}; the goal is unchanged"
        return None

    def proof_is_current(self) -> bool:
        """The proof on disk matches the goal's status (false when a crash fell between the two writes)."""
        proof = store.load_proof(self.paths)
        return proof is not None and proof.status == self.state.status

    def view_gaps(self) -> int:
        """Unreadable lines in this goal's event log (known gaps of the record). Counted once, streaming: this
        controller is the log's only writer and writes whole lines, so the count cannot change while it runs."""
        if self._gaps is None:
            from omk_tui.state.eventlog import ReadResult, iter_record_blocks

            counter = ReadResult()
            for _ in iter_record_blocks(self.paths.events, 0, counter):  # the fast read: same accepts and gaps
                pass
            self._gaps = counter.gaps
        return self._gaps

    def _requeue(self, rec: ex.SliceRecord, reason: str) -> None:
        """A slice that was in flight goes back to pending: an agent turn that never finished is re-run and not
        counted as an attempt; a finished turn's work (stopped in its gates or review) is judged first."""
        if rec.state == "running":
            rec.attempts = max(0, rec.attempts - 1)
            why = reason.split(":", 1)[0]
            rec.interrupted = {"pause": "the goal was paused", "budget": "the budget ran out",
                               "resumed": "its controller stopped: a crash or a kill"}.get(why, why)
        else:
            rec.resume_at = "gates"
        rec.state = "pending"
        self.emit("slice_state", {"slice_id": rec.slice_id, "state": "pending", "attempt": rec.attempts,
                                  "reason": reason})

    def _stopped(self, stop: StopRun) -> Proof:
        for rec in self.exec.slices.values():
            if rec.state in ex.IN_FLIGHT:
                self._requeue(rec, f"{stop.why}: partial work kept in the worktree")
        if stop.why == "pause":
            self.emit("goal_paused", {"by": "user"}, durable=True)
            self._set_status(GoalStatus.paused, "paused by the user",
                             next_action=f"omk-tui resume {self.state.goal_id}")
            return self._write_proof(blocker="paused by the user")
        if stop.why == "cancel":
            self.emit("goal_cancelled", {"by": "user"}, durable=True)
            self._set_status(GoalStatus.cancelled, "cancelled by the user; worktrees are kept for inspection",
                             next_action=f"omk-tui clean {self.state.goal_id}")
            return self._write_proof(blocker="cancelled by the user")
        if stop.why == "short_of_time":  # the plan needs more time than the goal has: nothing was started
            self._set_status(GoalStatus.needs_more_budget, stop.reason, next_action=stop.next_action)
            return self._write_proof(blocker=stop.reason)
        if stop.why == "budget":
            b = self.state.budget
            left = [r.slice_id for r in self.exec.slices.values() if r.state not in ex.DONE and r.state != "blocked"]
            if left:
                todo = ", ".join(left)
            elif not self.exec.slices:  # stopped before any slice was planned
                todo = f"{self.state.phase.value} and everything after it"
            elif self.state.phase is GoalPhase.delivery:  # e.g. while waiting for a PR's checks
                todo = "delivery"
            else:
                todo = "integration and proof"
            reason = (
                f"budget exhausted ({', '.join(b.exhausted()) or stop.reason}): spent {b.spent_time_secs:.0f}s, "
                f"{b.spent_tokens} tokens, ${b.spent_usd:.4f}; left to do: {todo}"
            )
            self.emit("budget_exhausted", {"budget": b.model_dump(mode="json"), "exhausted": b.exhausted()}, durable=True)
            flags = {"time": "--time 30m", "tokens": f"--tokens {max(100_000, b.tokens or 0)}",
                     "usd": f"--usd {max(1.0, b.usd or 0):g}"}
            more = " ".join(flags[k] for k in b.exhausted()) or flags["time"]
            self._set_status(GoalStatus.needs_more_budget, reason,
                             next_action=f"omk-tui budget-add {self.state.goal_id} {more}, then omk-tui resume {self.state.goal_id}")
            return self._write_proof(blocker=reason)
        # blocked
        status = GoalStatus.blocked_on_human if stop.why == "human" else GoalStatus.not_ready
        self._set_status(status, stop.reason)
        return self._write_proof(blocker=stop.reason)

    async def _pipeline(self) -> Proof:
        self._check()
        if self.state.phase is GoalPhase.intake:
            reason = vague_reason(self.state.original_goal)
            if reason:
                self.narrate("intake", f"blocked before any work: {reason}")
                raise StopRun("human", f"goal needs clarification: {reason}")
            self.narrate("intake", "goal accepted: " + self.state.normalized_goal)
            self._set_phase(GoalPhase.planning)
        self._check()
        specs = self._resolve_gates()
        if self.graph is None:
            await self._plan(specs)
        self._check()
        if self.exec.baseline is None:
            await self._baseline(specs)
        await self._execute(specs)
        self._check()
        await self._integrate(specs)
        self._check()
        await self._review_goal()
        self._check()
        return await self._finish()

    # ------------------------------------------------------------------ gates
    def _resolve_gates(self) -> list[GateSpec]:
        from omk_tui.gates import resolve_gates

        if self._gate_specs is None:
            plan = resolve_gates(self.repo)
            self._gate_specs = [s for s in plan.specs]
            self.exec.gate_source = plan.source
            self.exec.gate_names = [s.name for s in plan.specs if not s.skip]
        return self._gate_specs

    async def _run_gates(self, specs: list[GateSpec], cwd: Path, scope: str, run_id: str) -> list[GateResult]:
        from omk_tui.gates import run_gates

        judged = scope not in ("baseline", "final", "manual")  # a slice's gates are judged against the baseline

        def on_event(kind: str, payload: dict) -> None:
            payload = dict(payload)
            payload.setdefault("scope", scope)
            self.emit(kind, payload, actor="gates")

        def judge(r: GateResult) -> GateResult:
            return r.model_copy(update={"only_baseline_failures": True}) if self._only_baseline_failures(r) else r

        mark = {**markers(self.state.goal_id), **self._slice_env(scope if scope in self.exec.slices else None)}
        specs = [s.model_copy(update={"env": {**s.env, **mark}}) for s in specs]
        return await run_gates(specs, cwd, self.paths.gate_logs, scope=scope, run_id=run_id, on_event=on_event,
                               cancel=self._interrupted, judge=judge if judged else None)

    async def _baseline(self, specs: list[GateSpec]) -> None:
        self._set_phase(GoalPhase.baseline)
        if not [s for s in specs if not s.skip]:
            raise StopRun("blocked", "verification blocked: no local gates were detected or configured "
                                     "(add .omk/gates.toml with [[gates]] entries, or a test suite)")
        integ = self._integrator()
        async with self._integration_lock:
            cwd = await asyncio.to_thread(integ.materialize)
            results = await self._run_gates(specs, cwd, "baseline", "baseline")
        self._check()  # a pause or cancel cut the gates short: these results are not a baseline
        self.exec.baseline = results
        red = [r.name for r in results if r.blocking]
        self.save()
        self.narrate("baseline", "baseline gates: " + (
            "all required gates pass" if not red else f"red at baseline: {', '.join(red)} (the goal may fix them)"))

    # ------------------------------------------------------------------ plan
    async def _plan(self, specs: list[GateSpec]) -> None:
        self._set_phase(GoalPhase.planning)
        self.exec.rejected_tasks = []  # a plan cut short by a crash is made again, from the start
        self.exec.fallback_for = []
        text = ""
        try:
            result = await self._agent_turn(
                prompts.planner_prompt(self.state.normalized_goal, _repo_summary(self.repo), [s.name for s in specs]),
                cwd=self.repo, scope=[], slice_id=None, task_id=None, role="planner", attempt=1, read_only=True,
                timeout=self._turn_timeout(None),
            )
            text = result.text
            if not result.ok:
                why = result.stop_reason + (f": {result.error}" if result.error else "")
                self.narrate("plan", f"the planner did not finish ({why})")
        except AgentError as exc:
            raise StopRun("blocked", f"agent unavailable: {exc}") from exc
        self._check()
        proposals: list = []
        for block in prompts.extract_json_blocks(text):
            if isinstance(block, dict) and isinstance(block.get("tasks"), list):
                proposals = block["tasks"]
                break
        short: list[Task] = []
        accepted = self._accept_proposals(proposals, existing=set(), over_budget=short)
        if short:
            raise self._short_of_time(short)
        if not accepted:
            self.exec.fallback_for = [r["task_id"] for r in self.exec.rejected_tasks]
            task = fallback_task(self.state.normalized_goal)
            self.emit("task_proposed", {"task": task.model_dump(mode="json")})
            self.emit("task_accepted", {"task_id": task.id, "budget_snapshot": self._budget_snapshot(task)})
            accepted = [task]
            self.narrate("plan", "no usable plan: one task that may write the project files")
        self.graph = TaskGraph(goal_id=self.state.goal_id, generated_at=datetime.now(timezone.utc), tasks=accepted)
        self.graph.validate_graph()
        self.save()  # the rejections first: once the graph exists, a resume does not plan again
        store.save_task_graph(self.paths, self.graph)
        self.narrate("plan", f"task graph: {len(accepted)} task(s) accepted")

    def _short_of_time(self, short: list[Task]) -> StopRun:
        """Planned tasks rejected only because the goal's time left cannot cover their budget_secs: the goal stops
        before executing anything (no task runs with less time than it asked for, and the rejection does not hand
        the work to the fallback task, which may write any file). `budget-add --time`, then `resume`, plans again."""
        left = self.state.budget.remaining_time() or 0.0
        need = max(t.budget_secs or 0.0 for t in short)
        minutes = math.ceil((need - left + 300) / 60)  # beyond the task: planning again, the gates, the review
        names = ", ".join(f"{t.id!r} ({t.budget_secs:.0f}s)" for t in short)
        gid = self.state.goal_id
        reason = (f"not started: the plan's task(s) {names} need more time than the goal has left ({left:.0f}s); "
                  "a task is not run with less time than its budget_secs, nor replaced by a broader one")
        self.narrate("plan", reason)
        return StopRun("short_of_time", reason, next_action=(
            f"omk-tui budget-add {gid} --time {minutes}m, then omk-tui resume {gid} (it plans again with that time)"))

    def _budget_snapshot(self, task: Task) -> dict:
        return {"task_budget_secs": task.budget_secs, "goal_time_left_secs": self.state.budget.remaining_time()}

    def _accept_proposals(self, proposals: list, existing: set[str], over_budget: list[Task] | None = None) -> list[Task]:
        """The accepted tasks; with `over_budget`, the tasks rejected only for the goal's time left are added there."""
        verdicts = review_proposals(proposals, existing_ids=existing, time_left_secs=self.state.budget.remaining_time())
        accepted: list[Task] = []
        for v in verdicts:
            if over_budget is not None and v.task and not v.accepted and v.reason.startswith(OVER_BUDGET):
                over_budget.append(v.task)
            tid = v.task.id if v.task else str(v.raw.get("id", "?"))
            self.emit("task_proposed", {"task": v.task.model_dump(mode="json") if v.task else v.raw})
            if v.accepted and v.task:
                self.emit("task_accepted", {"task_id": tid, "budget_snapshot": self._budget_snapshot(v.task)})
                accepted.append(v.task)
            else:
                self.emit("task_rejected", {"task_id": tid, "reason": v.reason})
                self.emit("task_status", {"task_id": tid, "status": "failed", "reason": v.reason})
                rejection = {"task_id": tid, "reason": v.reason}
                if rejection not in self.exec.rejected_tasks:  # a turn re-run after a crash proposes them again
                    self.exec.rejected_tasks.append(rejection)
        return accepted

    # ------------------------------------------------------------------ agents
    def _turn_timeout(self, task: Task | None) -> float | None:
        left = self.state.budget.remaining_time()
        own = task.budget_secs if task and task.budget_secs else None
        vals = [v for v in (left, own) if v is not None]
        return min(vals) if vals else None

    async def _ask_person(self, req: PermissionRequest) -> str:
        fut: asyncio.Future = asyncio.get_running_loop().create_future()
        self._permission_waiters[req.request_id] = fut
        try:
            return await fut
        finally:
            self._permission_waiters.pop(req.request_id, None)

    def _remove_stale_git_locks(self) -> list[str]:
        """Git lock files in this goal's own refs and worktrees, left by a controller killed mid-update (we hold the
        goal's lock, so none is live)."""
        from omk_tui.git.cleanup import remove_stale_locks
        from omk_tui.git.errors import GitError

        try:
            return remove_stale_locks(self.repo, self.state.goal_id)
        except GitError:
            return []  # the run's own git work says what is wrong with the repository

    @functools.cached_property
    def _agent_tmp_root(self) -> Path | None:
        """Where this goal's confined agents get their private TMPDIRs: beside its worktrees, outside the main tree
        (None, the system's temp, when the worktrees folder is misconfigured: creating a worktree says why).
        Emptied when a run starts (an agent of a controller killed with -9 cannot remove its own)."""
        from omk_tui.git.worktrees import goal_agent_tmp

        return goal_agent_tmp(self.repo, self.state.goal_id)

    def _session_env(self, slice_id: str | None) -> dict[str, str]:
        env = {name: os.environ[name] for name in ("KIMI_SHARE_DIR",) if name in os.environ}
        env.update(markers(self.state.goal_id))
        env.update(self._slice_env(slice_id))
        return env

    def _slice_env(self, slice_id: str | None) -> dict[str, str]:
        """What a slice's agent and gates are told of where they run: the goal, the slice (empty for goal-level
        work) and `OMK_PORT_BASE`, the first of the ports no other slice of the goal is given (`ports`)."""
        from omk_tui.control.ports import port_base

        order = list(self.exec.slices)
        index = order.index(slice_id) + 1 if slice_id in order else 0
        return {"OMK_SLICE_ID": slice_id or "", "OMK_PORT_BASE": str(port_base(self.state.goal_id, index))}

    def _lease_secs(self) -> float:
        """`[agent] lease_secs` of .omk/config.toml when set (read at every run), else the goal's option."""
        return self.config.agent.lease_secs or self.state.options.lease_secs

    async def _agent_turn(
        self, text: str, *, cwd: Path, scope: list[str], slice_id: str | None, task_id: str | None, role: str,
        attempt: int, read_only: bool = False, timeout: float | None = None, reason: str = "",
    ) -> TurnResult:
        from omk_tui.agents.pricing import PriceTable
        from omk_tui.agents.spec import AgentSpecError, open_session

        opts = self.state.options
        cfg = SessionConfig(
            cwd=Path(cwd), approval="never" if read_only else opts.approval, write_scope=list(scope),
            env=self._session_env(slice_id), asker=self._ask_person, ask_timeout_secs=self.config.agent.ask_timeout_secs,
            ask_fallback=self.config.agent.ask_fallback, read_only=read_only, tmp_root=self._agent_tmp_root,
        )
        try:
            session = open_session(opts.agent, cfg, share_env=self.config.agent.env,
                                   grace_secs=self.config.agent.turn_grace_secs, confine=self.config.agent.confine,
                                   writable=self.config.agent.writable)
        except AgentSpecError as exc:
            raise AgentError(str(exc)) from exc
        self._sessions.add(session)
        self.emit("agent_turn_started", {"slice_id": slice_id, "task_id": task_id, "role": role, "reason": reason,
                                         "attempt": attempt, "agent": opts.agent}, actor="agent")
        prices = PriceTable.from_config(self.config.agent)
        counted = {"usage": False}
        transcript: list[str] = []

        def account(inp: int, out: int) -> None:
            b = self.state.budget
            b.spent_tokens += inp + out
            cost = prices.cost(inp, out)
            b.spent_usd += cost
            self.emit("usage", {"slice_id": slice_id, "input_tokens": inp, "output_tokens": out, "usd": cost}, actor="agent")
            if b.exhausted() and self._intent is None:
                self._request_stop("budget")

        def on_update(u: AgentUpdate) -> None:
            try:
                if u.kind == "usage":
                    counted["usage"] = True
                    account(u.input_tokens, u.output_tokens)
                    return
                if u.kind == "permission_decided" and u.decision == "reject" and slice_id:
                    self._rejected.setdefault(slice_id, []).append(u.by or "policy")
                kind, payload = _update_event(u, slice_id, scope)
                if kind:
                    self.emit(kind, payload, actor="agent")
                if u.kind in ("message", "thought"):
                    transcript.append(u.text)
            except StateWriteError as exc:  # never lose events silently: end the turn, then the run
                if self._fatal is None:
                    self._fatal = exc
                    self._request_stop("cancel")

        turn = None
        lease = Lease(self._lease_secs(), lambda: bool(self._permission_waiters), session)
        try:
            await session.start()
            turn = asyncio.create_task(session.prompt(text, lease.wrap(on_update), timeout=timeout))
            stopper = asyncio.create_task(self._interrupted.wait())
            expiry = asyncio.create_task(lease.expired())
            done, _ = await asyncio.wait({turn, stopper, expiry}, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            expiry.cancel()
            if turn not in done:  # pause / cancel / budget / an expired lease: end the turn now
                await session.cancel()
                try:
                    result = await asyncio.wait_for(turn, timeout=self.config.agent.turn_grace_secs)
                except (asyncio.TimeoutError, Exception):
                    turn.cancel()
                    result = TurnResult(stop_reason="cancelled", error=self._intent)
                if expiry in done and not self._intent:
                    result = TurnResult(stop_reason="lease_expired", duration_ms=result.duration_ms,
                                        error=f"no sign of life from the agent for {lease.secs:g}s: its lease expired")
            else:
                result = turn.result()
        except AgentError as exc:
            self.emit("agent_turn_finished", {"slice_id": slice_id, "stop_reason": "error", "error": str(exc)}, actor="agent")
            raise
        finally:
            if turn is not None and not turn.done():
                turn.cancel()
            self._sessions.discard(session)
            try:
                await session.close()
            except Exception:
                pass
        if self._fatal is not None:
            raise self._fatal
        if result.usage_reported and not counted["usage"] and (result.usage.input_tokens or result.usage.output_tokens):
            account(result.usage.input_tokens, result.usage.output_tokens)
        name = f"{slice_id or 'goal'}-{role}-{attempt}.md"
        try:
            (self.paths.agent_logs / name).write_text(text + "\n\n---\n\n" + (result.text or "".join(transcript)),
                                                      encoding="utf-8")
        except OSError:
            pass
        self.emit("agent_turn_finished", {
            "slice_id": slice_id, "stop_reason": result.stop_reason, "error": result.error,
            "duration_ms": result.duration_ms, "input_tokens": result.usage.input_tokens,
            "output_tokens": result.usage.output_tokens,
        }, actor="agent")
        if not result.text:
            result.text = "".join(transcript)
        return result

    async def _close_sessions(self) -> None:
        for s in list(self._sessions):
            try:
                await s.close()
            except Exception:
                pass
        self._sessions.clear()
        if self._agent_tmp_root is not None:
            shutil.rmtree(self._agent_tmp_root, ignore_errors=True)

    # ------------------------------------------------------------------ git helpers
    def _worktrees(self, start: str | None = None):
        from omk_tui.git.worktrees import WorktreeManager

        return WorktreeManager(self.repo, self.state.goal_id, start or self.state.base_commit,
                               copy_files=self.config.worktrees.copy_files)

    def _integrator(self):
        from omk_tui.git.integration import Integrator

        return Integrator(self.repo, self.state.goal_id, self.state.base_commit)

    # ------------------------------------------------------------------ execute
    def _plan_slices(self):
        """The slice plan of the whole accepted graph. Done-ness lives in execution.json, not in the planner's
        input, so a resumed or extended goal gets the same slices, dependencies and order as before."""
        from omk_tui.planning.slices import plan_slices

        wm = self._worktrees()
        graph = self.graph.model_copy(deep=True)
        for t in graph.tasks:
            t.status = TaskStatus.pending
        plan = plan_slices(graph, goal_id=self.state.goal_id)
        for s in plan.slices:
            if s.slice_id not in self.exec.announced_slices:
                task = self.graph.by_id()[s.task_id]
                self.emit("slice_planned", {
                    "slice_id": s.slice_id, "task_id": s.task_id, "title": task.title,
                    "dependencies": list(s.dependencies), "branch": wm.branch_for(s.slice_id),
                    "worktree": str(wm.path_for(s.slice_id)), "gates": list(s.gates),
                    "review_needs": list(s.review_needs), "read_set": list(s.read_set), "write_set": list(s.write_set),
                })
                self.exec.announced_slices.append(s.slice_id)
            self.exec.slices.setdefault(s.slice_id, ex.SliceRecord(slice_id=s.slice_id, task_id=s.task_id))
        for o in plan.overlap_serializations:
            key = f"{o.blocked_slice_id}>{o.serializes_after}"
            if key not in self.exec.announced_overlaps:
                self.emit("overlap_serialized", o.model_dump(mode="json"))
                self.exec.announced_overlaps.append(key)
        self.exec.order = [s.slice_id for s in plan.slices]
        return plan

    async def _execute(self, specs: list[GateSpec]) -> None:
        self._set_phase(GoalPhase.execution)
        for rec in self.exec.slices.values():  # a resume (after a crash) re-runs what was in flight
            if rec.state in ex.IN_FLIGHT:
                self._requeue(rec, "resumed: re-running the slice that was in flight")
        if self.state.execute_passes == 0:
            self.state.execute_passes = 1
        while True:
            plan = self._plan_slices()
            self.save()
            self.narrate("execute", f"execute pass {self.state.execute_passes}: {len(plan.slices)} slice(s)")
            before = len(self.graph.tasks)
            await self._schedule(plan, specs)
            if len(self.graph.tasks) == before or self.state.execute_passes >= self.state.options.max_execute_passes:
                break
            self.state.execute_passes += 1

    async def _schedule(self, plan, specs: list[GateSpec]) -> None:
        by_id = {s.slice_id: s for s in plan.slices}
        running: dict[str, asyncio.Task] = {}
        max_agents = self.state.options.max_agents
        launch_order = critical_path_order(plan.slices, self.graph.by_id())
        try:
            while True:
                self._check()
                for sid in launch_order:
                    rec = self.exec.slices[sid]
                    # a slice just launched is still "pending" until its task has made its worktree: not again
                    if rec.state != "pending" or sid in running:
                        continue
                    deps = [self.exec.slices.get(d) for d in by_id[sid].dependencies]
                    bad = [d for d in deps if d is not None and d.state == "blocked"]
                    if bad:
                        self._slice_state(rec, "blocked", reason=f"dependency {bad[0].slice_id} is blocked")
                        continue
                    if len(running) >= max_agents:
                        continue
                    if all(d is None or d.state in ex.DONE for d in deps):
                        running[sid] = asyncio.create_task(self._run_slice(by_id[sid], specs), name=sid)
                if not running:
                    return
                waiter = asyncio.create_task(self._interrupted.wait())
                done, _ = await asyncio.wait({*running.values(), waiter}, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                for sid, task in list(running.items()):
                    if task in done:
                        del running[sid]
                        exc = task.exception()
                        if exc is not None and not isinstance(exc, StopRun):
                            raise exc
                if self._intent:
                    raise StopRun(self._intent)
        finally:
            for task in running.values():
                task.cancel()
            if running:
                await asyncio.gather(*running.values(), return_exceptions=True)

    def _slice_state(self, rec: ex.SliceRecord, state: str, **extra) -> None:
        rec.state = state
        if "reason" in extra:
            rec.reason = extra["reason"]
        self.emit("slice_state", {"slice_id": rec.slice_id, "state": state, "attempt": rec.attempts, **extra})
        self.save()

    async def _run_slice(self, sl, specs: list[GateSpec]) -> None:
        from omk_tui.control.slice_base import start_point

        rec = self.exec.slices[sl.slice_id]
        task = self.graph.by_id()[sl.task_id]
        deps = [self.exec.slices[d].commit for d in sl.dependencies if d in self.exec.slices and self.exec.slices[d].commit]
        start, note = await asyncio.to_thread(start_point, self.repo, self.state.base_commit, deps)
        if note:
            self.narrate("execute", f"slice {rec.slice_id}: {note}")
        wm = self._worktrees(start)
        wt = Path(await asyncio.to_thread(wm.create, sl.slice_id))
        lease = datetime.now(timezone.utc) + timedelta(seconds=self._lease_secs())
        self.emit("lease_claimed", {"slice_id": rec.slice_id, "expires_at": lease.isoformat(), "pid": os.getpid()})
        self.emit("task_status", {"task_id": task.id, "status": "running"})
        goal = self.state.normalized_goal
        max_rounds = self.state.options.max_attempts
        try:
            while True:
                if rec.feedback_kind == "conflict":
                    role, text = "implementer", prompts.conflict_prompt(goal, task, rec.attempts + 1, rec.feedback)
                elif rec.feedback_kind == "review":
                    role, text = "fixer", prompts.cleanup_prompt(goal, task, rec.attempts + 1, rec.feedback)
                elif rec.feedback_kind == "gates":
                    role, text = "fixer", prompts.fixer_prompt(goal, task, rec.attempts + 1, rec.feedback, rec.advice)
                elif rec.feedback_kind == "baseline":
                    role, text = "fixer", prompts.baseline_prompt(goal, task, rec.attempts + 1,
                                                                  _baseline_red_ids(rec.gates), rec.feedback)
                elif rec.feedback_kind == "no_change":
                    role, text = "implementer", prompts.no_change_prompt(goal, task, wt, rec.attempts + 1,
                                                                         [s.name for s in specs])
                else:
                    role, text = "implementer", prompts.implementer_prompt(goal, task, wt, rec.attempts + 1, [s.name for s in specs])
                if rec.resume_at == "gates":  # resumed after the agent's turn had finished: judge that work
                    rec.resume_at = None
                    result = TurnResult(stop_reason="end_turn")
                else:
                    if rec.interrupted:  # re-run after a pause, a crash or a failed turn: say what is there
                        changes = await asyncio.to_thread(wm.status, rec.slice_id)
                        text += prompts.interrupted_note(rec.interrupted, sorted((c.path, c.status) for c in changes))
                        rec.interrupted = ""
                    rec.attempts += 1
                    self._slice_state(rec, "running", reason="")
                    result = await self._agent_turn(text, cwd=wt, scope=list(task.write_set), slice_id=rec.slice_id,
                                                    task_id=task.id, role=role, attempt=rec.attempts,
                                                    timeout=self._turn_timeout(task), reason=rec.feedback_kind)
                if self._intent:
                    raise StopRun(self._intent)
                if not result.ok:
                    rec.crash_retries += 1
                    why = result.error or result.stop_reason
                    if result.stop_reason == "lease_expired":
                        self.emit("lease_expired", {"slice_id": rec.slice_id})
                    if result.stop_reason == "timeout":
                        why = f"the agent exceeded its time budget of {self._turn_timeout(task) or 0:.0f}s"
                    if rec.crash_retries > CRASH_RETRIES:  # blocked in the attempt that kept failing
                        self._slice_state(rec, "blocked", reason=f"agent failed {rec.crash_retries} times: {why}")
                        self.emit("task_status", {"task_id": task.id, "status": "blocked", "reason": why})
                        return
                    rec.attempts -= 1  # a turn that failed is re-run as the same attempt
                    rec.interrupted = f"the agent's turn failed: {result.stop_reason}"
                    self.narrate("execute", f"slice {rec.slice_id}: agent turn failed ({why}); retrying")
                    continue
                self._collect_follow_ups(result.text)
                if rec.feedback_kind == "baseline" and rec.baseline_tree == await asyncio.to_thread(wm.tree_id,
                                                                                                 rec.slice_id):
                    # the baseline round changed nothing (those tests are outside the task): accepted as before,
                    # judged on the gates it already ran; a turn with no change to judge is not an attempt
                    rec.attempts -= 1
                    rec.feedback_kind, rec.feedback = "", ""
                    self.narrate("execute", f"slice {rec.slice_id}: the agent changed nothing for the tests that were "
                                            "already failing at baseline; the slice is accepted as it was")
                    if not await self._review_and_commit(rec, task, wt, wm):
                        continue
                    return
                if task.write_set and not (await asyncio.to_thread(wm.diff, rec.slice_id, with_patch=False)).files:
                    # Ready only with evidence: a task with files to write whose agent wrote none is not done
                    rec.empty_rounds += 1
                    if rec.empty_rounds > NO_CHANGE_RETRIES:
                        reason = (f"the agent changed no file in {rec.empty_rounds} attempts (its write scope: "
                                  f"{', '.join(task.write_set)}); nothing to verify")
                        if rejected := self._rejected.get(rec.slice_id):  # say why, where the policy was the cause
                            reason += (f"; {len(rejected)} of its permission request(s) were rejected (by "
                                       f"{', '.join(sorted(set(rejected)))})")
                        self._slice_state(rec, "blocked", reason=reason)
                        self.emit("task_status", {"task_id": task.id, "status": "blocked", "reason": reason})
                        return
                    rec.feedback_kind, rec.feedback = "no_change", ""
                    self.narrate("execute", f"slice {rec.slice_id}: the agent changed no file; asking again")
                    continue
                self._slice_state(rec, "gates")
                rec.gates = await self._run_gates(specs, wt, rec.slice_id, f"{rec.slice_id}-a{rec.attempts}")
                self.save()
                if self._intent:
                    raise StopRun(self._intent)
                if not self._slice_gates_ok(rec):
                    rec.failed_gate_rounds += 1
                    rec.feedback_kind, rec.feedback = "gates", _gate_feedback(rec.gates)
                    failing = ", ".join(r.name for r in rec.gates if r.blocking)
                    if rec.failed_gate_rounds == max_rounds and not rec.escalated:
                        rec.escalated = True
                        self.narrate("execute", f"slice {rec.slice_id}: {max_rounds} failed attempts; asking an architect")
                        adv = await self._agent_turn(
                            prompts.architect_prompt(goal, task, rec.failed_gate_rounds, rec.feedback), cwd=wt, scope=[],
                            slice_id=rec.slice_id, task_id=task.id, role="architect", attempt=rec.attempts,
                            read_only=True, timeout=self._turn_timeout(task))
                        rec.advice = adv.text
                    elif rec.failed_gate_rounds > max_rounds:
                        reason = f"gates still failing after {rec.failed_gate_rounds} attempts: {failing}"
                        self._slice_state(rec, "blocked", reason=reason)
                        self.emit("task_status", {"task_id": task.id, "status": "blocked", "reason": reason})
                        return
                    self.narrate("execute", f"slice {rec.slice_id}: gate(s) {failing} failed; attempt {rec.attempts + 1} gets the output")
                    continue
                still_red = [r for r in rec.gates if r.blocking]  # each fails only where the baseline failed
                if still_red and rec.baseline_rounds < BASELINE_ROUNDS:
                    # not the slice's regression, but fixing them may be its task: ask once, then judge
                    rec.baseline_rounds += 1
                    rec.baseline_tree = await asyncio.to_thread(wm.tree_id, rec.slice_id)
                    rec.feedback_kind, rec.feedback = "baseline", _gate_feedback(still_red)
                    self.narrate("execute", f"slice {rec.slice_id}: test(s) already failing at baseline still fail "
                                            f"({', '.join(_baseline_red_ids(rec.gates)[:5])}); asking the agent to "
                                            "fix them if that is its task")
                    continue
                if not await self._review_and_commit(rec, task, wt, wm):
                    continue
                return
        except asyncio.CancelledError:
            raise

    async def _review_and_commit(self, rec: ex.SliceRecord, task: Task, wt: Path, wm) -> bool:
        """The review wall, then the commit. False when the slice goes round again (a cleanup attempt)."""
        blocking = await self._review_slice(rec, task, wt)
        if blocking and rec.review_cleanups < 1:
            rec.review_cleanups += 1
            rec.feedback_kind, rec.feedback = "review", blocking
            self.narrate("review", f"slice {rec.slice_id}: the review wall blocked the change; cleanup attempt")
            return False
        if blocking:
            self._slice_state(rec, "blocked", reason=f"review wall: {blocking.splitlines()[0]}")
            return True
        await self._commit_slice(rec, task, wm)
        return True

    def _only_baseline_failures(self, r: GateResult) -> bool:
        """A failing required gate whose failed test ids all failed at baseline too (a red baseline is the goal's
        to fix, not each slice's)."""
        if not r.blocking or r.timed_out:
            return False
        base = {b.name: b for b in (self.exec.baseline or [])}.get(r.name)
        if base is None or base.passed:
            return False
        mine = failure_ids(r)
        return bool(mine) and mine <= failure_ids(base)

    def _slice_gates_ok(self, rec: ex.SliceRecord) -> bool:
        """Every required gate passes, or fails only where the baseline failed."""
        for r in rec.gates:
            if not r.blocking:
                continue
            if not r.only_baseline_failures:
                return False
            self.narrate("gates", f"slice {rec.slice_id}: gate {r.name} fails only on what failed at baseline "
                                  f"({', '.join(sorted(failure_ids(r)))}); not the slice's regression")
        return True

    async def _commit_slice(self, rec: ex.SliceRecord, task: Task, wm) -> None:
        msg = f"omk: {task.title}\n\ngoal: {self.state.goal_id}\nslice: {rec.slice_id}\n"
        sha = await asyncio.to_thread(wm.commit, rec.slice_id, msg)
        diff = await asyncio.to_thread(wm.diff, rec.slice_id)
        rec.commit = sha or diff.head  # nothing new to commit on a resumed slice: its branch head is the commit
        rec.changed_files = [f.path for f in diff.files]
        rec.insertions = diff.additions
        rec.deletions = diff.deletions
        rec.feedback_kind = rec.feedback = ""
        self.emit("lease_released", {"slice_id": rec.slice_id})
        self._slice_state(rec, "committed", commit=rec.commit, changed_files=rec.changed_files,
                          insertions=rec.insertions, deletions=rec.deletions, reason="")
        self.emit("task_status", {"task_id": task.id, "status": "done"})
        for t in self.graph.tasks:
            if t.id == task.id:
                t.status = TaskStatus.done
                t.completed_at = datetime.now(timezone.utc)
        store.save_task_graph(self.paths, self.graph)

    def _collect_follow_ups(self, text: str) -> None:
        for block in prompts.extract_json_blocks(text or ""):
            if isinstance(block, dict) and isinstance(block.get("follow_up_tasks"), list):
                if self.state.execute_passes >= self.state.options.max_execute_passes:
                    self.narrate("execute", "follow-up tasks ignored: the execute pass limit is reached")
                    return
                accepted = self._accept_proposals(block["follow_up_tasks"], existing={t.id for t in self.graph.tasks})
                self.save()
                if accepted:
                    self.graph.tasks.extend(accepted)
                    store.save_task_graph(self.paths, self.graph)
                    self.emit("task_graph_mutated", {"added": [t.id for t in accepted], "reason": "agent follow-up"})

    # ------------------------------------------------------------------ review
    def _review_available(self) -> bool:
        import importlib.util

        return importlib.util.find_spec("omk_tui.review.wall") is not None

    async def _review_slice(self, rec: ex.SliceRecord, task: Task, wt: Path) -> str:
        """Run the review wall on a slice; return the cleanup findings when it blocks, else ''."""
        if not self._review_available():
            return ""
        from omk_tui.review.wall import review_slice

        self._slice_state(rec, "review")
        try:
            wall = await review_slice(self, rec, task, wt)
        except Exception as exc:  # no review evidence: a known gap in the proof, never a silent pass
            self.exec.review_gap = f"review wall failed on slice {rec.slice_id}: {type(exc).__name__}: {exc}"
            self.narrate("review", self.exec.review_gap)
            return ""
        rec.reviews = wall.results
        for r in wall.results:
            self.emit("review_finished", {"scope": rec.slice_id, "kind": r.kind, "passed": r.passed,
                                          "severity": r.severity, "feedback": r.feedback}, actor="review")
        self.save()
        return wall.cleanup_prompt() if wall.blocking else ""

    async def _review_goal(self) -> None:
        if self.exec.goal_reviews is not None or not self.exec.merged:
            return
        self._set_phase(GoalPhase.review)
        if not self._review_available():
            self.exec.review_gap = "review wall not run"
            self.exec.goal_reviews = []
            self.save()
            return
        from omk_tui.review.wall import review_goal

        try:
            wall = await review_goal(self)
        except Exception as exc:
            self.exec.review_gap = f"review wall failed on the goal: {type(exc).__name__}: {exc}"
            self.exec.goal_reviews = []
            self.narrate("review", self.exec.review_gap)
            self.save()
            return
        self.exec.goal_reviews = wall.results
        for r in wall.results:
            self.emit("review_finished", {"scope": "goal", "kind": r.kind, "passed": r.passed,
                                          "severity": r.severity, "feedback": r.feedback}, actor="review")
        self.save()

    # ------------------------------------------------------------------ integrate
    async def _integrate(self, specs: list[GateSpec]) -> None:
        self._set_phase(GoalPhase.integration)
        integ = self._integrator()
        for sid in self.exec.order:
            rec = self.exec.slices[sid]
            if rec.state != "committed" or sid in self.exec.merged:
                continue
            outcome = await asyncio.to_thread(integ.merge, sid, self._worktrees().branch_for(sid))
            if outcome.conflict is not None:
                ev = outcome.conflict
                detail = _conflict_text(ev)
                self.exec.conflicts.append({"slice_id": sid, "files": list(ev.files), "against": list(getattr(ev, "against", []))})
                self.emit("integration_conflict", {"slice_id": sid, "other_slice_id": ", ".join(getattr(ev, "against", [])) or None,
                                                   "files": list(ev.files), "detail": detail[:4000]})
                if rec.conflict_reruns < 1:
                    rec.conflict_reruns += 1
                    self.narrate("integrate", f"slice {sid} conflicts with integrated work; re-running it on top")
                    from omk_tui.control.slice_base import reset_worktree_to

                    await asyncio.to_thread(reset_worktree_to, self._worktrees().path_for(sid), integ.head)
                    rec.feedback_kind, rec.feedback = "conflict", detail
                    rec.state = "pending"
                    self.save()
                    plan = self._plan_slices()
                    await self._schedule(plan, specs)
                    rec = self.exec.slices[sid]
                    if rec.state == "committed":
                        outcome = await asyncio.to_thread(integ.merge, sid, self._worktrees().branch_for(sid))
                if outcome.conflict is not None:
                    why = f"merge conflict in {', '.join(outcome.conflict.files)}"
                    if outcome.conflict.against:
                        why += f" with {', '.join(outcome.conflict.against)}"
                    if rec.state == "blocked" and rec.reason:
                        why += f"; the re-run on top of the integration result did not finish: {rec.reason}"
                    self._slice_state(rec, "blocked", reason=why)
                    continue
            self.exec.merged.append(sid)
            self.exec.integration_commit = outcome.head
            self.emit("integration_merged", {"slice_id": sid, "commit": outcome.head})
            rec.state = "merged"
            self.save()
        if self.exec.final is None:
            async with self._integration_lock:
                cwd = await asyncio.to_thread(integ.materialize)
                self.exec.integration_commit = integ.head
                final = await self._run_gates(specs, cwd, "final", f"final-{len(self.exec.merged)}")
            self._check()
            self.exec.final = final
            self.save()

    # ------------------------------------------------------------------ finish
    async def _finish(self) -> Proof:
        self._set_phase(GoalPhase.proof)
        blocker, human, next_action = self._readiness_blocker()
        if blocker:
            status = GoalStatus.blocked_on_human if human else GoalStatus.not_ready
            self._set_status(status, blocker, next_action=next_action)
            self.narrate("proof", "not ready: " + blocker)
            return self._write_proof(blocker=blocker)
        proof = self._write_proof()
        self._set_phase(GoalPhase.delivery)
        proof = await self._deliver(proof)
        return proof

    def _readiness_blocker(self) -> tuple[str | None, bool, str]:
        """Why the goal is not ready (None when it is), whether a person decides, and the next step when it is
        not the usual one."""
        blocker, human = self._readiness_reason()
        if blocker is None and (final := self._final_failure()) is not None:
            return final
        return blocker, human, ""

    def _readiness_reason(self) -> tuple[str | None, bool]:
        recs = [self.exec.slices[s] for s in self.exec.order]
        blocked = [r for r in recs if r.state == "blocked"]
        if not recs:
            return "no slice was planned: the task graph has nothing to execute", True
        never = [r.slice_id for r in recs if r.state not in ex.DONE and r.state != "blocked"]
        if never:
            return f"slice(s) {', '.join(never)} never finished (the execute pass limit was reached)", False
        if blocked:
            r = blocked[0]
            human = "conflict" in r.reason or "review" in r.reason
            return f"slice {r.slice_id} is blocked: {r.reason}", human
        final = self.exec.final or []
        base = {r.name: r for r in (self.exec.baseline or [])}
        regressions = [r.name for r in final if r.blocking and base.get(r.name) and base[r.name].passed]
        if regressions:
            return f"regression: gate(s) {', '.join(regressions)} passed at baseline and fail after integration", False
        if any(r.blocking for r in final):
            return None, False  # _final_failure says what failed and what to do
        if not final:
            return "no final gate evidence", False
        if self.exec.review_gap:
            return f"no review evidence: {self.exec.review_gap}", False
        failed_reviews = [r for r in (self.exec.goal_reviews or []) if not r.passed and r.severity in ("high", "critical")]
        if failed_reviews:
            r = failed_reviews[0]
            return f"review wall: {r.kind} failed ({r.severity}): {r.feedback}", True
        if self.exec.rejected_tasks:
            return self._rejected_tasks_blocker(), True
        return None, False

    def _final_failure(self) -> tuple[str, bool, str] | None:
        """Final gates failing on the integrated result (none passed at baseline: that is a regression): what failed,
        whether it was already failing at baseline, and what to do. Failing only on tests red at baseline — every
        slice was asked to fix them if that was its task — is a person's decision: the goal may not be about them."""
        final = [r for r in (self.exec.final or []) if r.blocking]
        if not final:
            return None
        base = {r.name: r for r in (self.exec.baseline or [])}
        gid, parts, as_baseline = self.state.goal_id, [], True
        for r in final:
            b = base.get(r.name)
            mine, before = failure_ids(r), failure_ids(b) if b is not None else set()
            same = bool(mine) and mine <= before and not r.timed_out
            as_baseline = as_baseline and same
            ids = sorted(mine)
            shown = ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
            if same:
                what = f"still failing as at baseline: {shown}"
            elif b is not None and not b.passed:
                new = sorted(mine - before)
                what = (f"already failing at baseline, and now also: {', '.join(new[:5])}" if new
                        else "already failing at baseline" + (f"; failing: {shown}" if shown else ""))
            else:
                what = f"failing: {shown}" if shown else ("timed out" if r.timed_out else f"exit code {r.exit_code}")
            parts.append(f"{r.name} ({what}; log: {r.log_path or 'none'})")
        blocker = "final gate(s) failing on the integrated result: " + "; ".join(parts)
        if as_baseline:
            blocker += (". These tests were already failing before the goal and still fail (a slice whose gates "
                        "showed them was asked once to fix them if that was its task). A person decides: if making "
                        f"them pass is not part of this goal, `omk-tui accept {gid}` takes the work; if it is, "
                        f"`omk-tui reject {gid} --reason ...` and start a new goal that names them")
            return blocker, True, ""
        branch = self.state.integration_branch
        next_action = (f"read the gate log(s) above; the work is on {branch}: fix it there by hand and merge it "
                       f"yourself, or `omk-tui reject {gid} --reason ...` and start a new goal that names the failure")
        return blocker, False, next_action

    def _rejected_tasks_blocker(self) -> str:
        """A rejected task counts as failed: its work was not done, so the goal is not ready; a person decides.
        When intake rejected every planned task, the fallback task did the goal instead: that is said, not that the
        work was not done — a person decides whether the fallback's work is what they wanted."""
        gid = self.state.goal_id

        def shown(rejected: list[dict]) -> str:
            more = f"; and {len(rejected) - 5} more (proof.json known_gaps lists them)" if len(rejected) > 5 else ""
            return "; ".join(f"{r['task_id']!r} ({r['reason']})" for r in rejected[:5]) + more

        planned = [r for r in self.exec.rejected_tasks if r["task_id"] in set(self.exec.fallback_for)]
        others = [r for r in self.exec.rejected_tasks if r not in planned]
        if not planned:
            return (f"{len(others)} proposed task(s) rejected at intake, so their work was not done: {shown(others)}. "
                    f"Take the rest with `omk-tui accept {gid}`, or `omk-tui reject {gid} --reason ...` and start a "
                    "new goal for the missing work")
        text = (f"the {len(planned)} planned task(s) were rejected at intake: {shown(planned)}; the fallback task "
                f"{GOAL_EXECUTE_TASK_ID!r} (which may write any project file) did the goal in one slice instead, and "
                "its gates pass")
        if others:
            text += (f"; {len(others)} follow-up task(s) rejected at intake, so their work was not done: "
                     f"{shown(others)}")
        return (text + f". A person decides: `omk-tui accept {gid}` takes that work, or `omk-tui reject {gid} "
                "--reason ...` and start a new goal")

    def _write_proof(self, blocker: str | None = None) -> Proof:
        from omk_tui.control.proof_builder import build_proof

        proof = build_proof(self, blocker)
        store.save_proof(self.paths, proof)
        self.emit("proof_written", {"status": proof.status.value, "readiness": proof.readiness,
                                    "path": str(self.paths.proof_json), "blocker": proof.blocker}, durable=True)
        return proof

    async def _deliver(self, proof: Proof) -> Proof:
        policy = self.state.options.delivery_policy
        if policy == "local":
            self.exec.delivered = True
            proof = self._mark_ready()
            self.emit("delivery", {"policy": "local", "status": "pending",
                                   "detail": f"integration branch {self.state.integration_branch} is ready; "
                                             f"`omk-tui accept {self.state.goal_id}` merges it"})
            self.narrate("deliver", f"ready: review and run `omk-tui accept {self.state.goal_id}`")
            return proof
        if self.exec.delivered and self.exec.delivery is not None:  # delivered before a crash: only the proof is left
            return self._mark_ready()
        from omk_tui.delivery.github import deliver

        # A pause or cancel must reach the delivery's wait for checks (up to delivery.checks_timeout_secs).
        stop = threading.Event()
        relay = asyncio.create_task(self._interrupted.wait())
        relay.add_done_callback(lambda t: t.cancelled() or stop.set())
        try:
            outcome = await deliver(self, proof, stop=stop)
        finally:
            relay.cancel()
        if outcome.status == "stopped":  # nothing recorded: a resume delivers again, with the same PR(s)
            self._check()
            raise StopRun(self._intent or "pause")
        self.exec.delivery = proof.delivery.model_dump(mode="json")
        self.exec.delivered = outcome.blocker is None  # a blocked delivery is tried again on resume
        self.emit("delivery", {"policy": policy, "status": outcome.status, "detail": outcome.detail,
                               "pr_urls": list(outcome.pr_urls)})
        if outcome.blocker:
            self._set_status(GoalStatus.blocked_on_human if outcome.human_decision else GoalStatus.blocked_on_external,
                             outcome.blocker)
            return self._write_proof(blocker=outcome.blocker)
        return self._mark_ready()

    def _mark_ready(self) -> Proof:
        self._set_status(GoalStatus.ready)
        self.state.completed_at = datetime.now(timezone.utc)
        self._set_phase(GoalPhase.done)
        return self._write_proof()


# ---------------------------------------------------------------------- helpers
def _running_loop():
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def infra_reason(exc: BaseException) -> str:
    """What stopped the run, said plainly: the file system's or our own message (without libgit2's leading object
    id); the exception's type only for what is a bug (the run_failed event always records the type)."""
    if isinstance(exc, OSError) and exc.filename:
        return f"could not use {exc.filename}: {exc.strerror or exc}"
    if isinstance(exc, OSError) or type(exc).__module__.startswith("omk_tui."):
        return re.sub(r"^[0-9a-f]{40}: ", "", str(exc)) or type(exc).__name__
    return f"internal error: {type(exc).__name__}: {exc}"


def apply_budget_add(budget: Budget, time_secs, tokens, usd) -> dict:
    """Raise the limits by positive, finite amounts. An unlimited budget (None) stays unlimited: adding to it
    would only impose a limit. Returns what was added to which limit."""
    added = {}
    for name, amount, kind in (("time_secs", time_secs, float), ("tokens", tokens, int), ("usd", usd, float)):
        if amount is None or not math.isfinite(float(amount)) or float(amount) <= 0:
            continue
        limit = getattr(budget, name)
        if limit is None:
            continue
        setattr(budget, name, limit + kind(amount))
        added[name] = kind(amount)
    return added


# The budget's limits as a person names them.
LIMIT_NAMES = {"time_secs": "time", "tokens": "tokens", "usd": "USD"}


def unlimited_asked(budget: Budget, time_secs, tokens, usd) -> list[str]:
    """The limits a budget request asked to raise that the goal does not have (unlimited: nothing is added)."""
    asked = {"time_secs": time_secs, "tokens": tokens, "usd": usd}
    return [LIMIT_NAMES[name] for name, amount in asked.items() if amount and getattr(budget, name) is None]


def _update_event(u: AgentUpdate, slice_id: str | None, scope: list[str]) -> tuple[str | None, dict]:
    base = {"slice_id": slice_id}
    if u.kind == "message":
        return "agent_message_chunk", {**base, "text": u.text}
    if u.kind == "thought":
        return "agent_thought_chunk", {**base, "text": u.text}
    if u.kind == "stderr":
        return "agent_stderr", {**base, "text": u.text}
    if u.kind == "tool_call":
        return "agent_tool_call", {**base, "tool_call_id": u.tool_call_id, "title": u.title, "kind": u.tool_kind,
                                   "status": u.status, "paths": u.paths, "content": u.content[:2000]}
    if u.kind == "plan":
        return "agent_plan", {**base, "entries": u.entries}
    if u.kind == "permission_asked":
        return "permission_asked", {**base, "request_id": u.request_id, "tool": u.title, "command": u.command,
                                    "paths": u.paths, "diff": u.diff[:8000], "scope": scope, "options": u.options}
    if u.kind == "permission_decided":
        return "permission_decided", {**base, "request_id": u.request_id, "decision": u.decision, "by": u.by or "policy",
                                      "reason": u.reason}
    if u.kind == "scope_refused":
        return "scope_refused", {**base, "path": u.path, "operation": u.operation, "reason": u.reason}
    return None, {}


class Lease:
    """An agent turn holds a lease that every update renews; silence for `secs` expires it (the agent hangs or
    died without closing its pipes). Silence is not always a hang, so these renew it too:
    - waiting for a person's answer to a permission question;
    - a command omk-tui runs for the session that has not exited (a client terminal: a slow test suite), checked
      every tick, so the agent gets a whole lease of silence after the command ends;
    - a tool call the agent reported as started and not yet ended, while a process the agent started (carrying the
      session's mark) still runs — the agent's own shell (Wire) — checked when the lease would expire (a /proc scan).
    A hung agent with no such command loses its lease; one that waits on a command is limited by the task's
    `budget_secs` and the goal's time budget."""

    def __init__(self, secs: float, waiting_for_person, session=None):
        self.secs = secs
        self._waiting = waiting_for_person
        self._session = session
        self._open_tools: set[str] = set()
        self._last = time.monotonic()

    def wrap(self, sink):
        def renewing(update):
            self._last = time.monotonic()
            if getattr(update, "kind", None) == "tool_call" and update.tool_call_id:
                if update.status in ("completed", "failed"):
                    self._open_tools.discard(update.tool_call_id)
                elif update.status in ("pending", "in_progress"):
                    self._open_tools.add(update.tool_call_id)
            sink(update)

        return renewing

    def _command_runs(self) -> bool:
        running = getattr(self._session, "running_command", None)
        return bool(running and running())

    def _tool_process_runs(self) -> bool:
        alive = getattr(self._session, "agent_children_alive", None)
        if not self._open_tools or alive is None:
            return False
        try:
            return bool(alive())
        except Exception:
            return False

    async def expired(self) -> None:
        while True:
            await asyncio.sleep(min(1.0, self.secs / 4))
            if self._waiting() or self._command_runs():
                self._last = time.monotonic()
            elif time.monotonic() - self._last > self.secs:
                if self._tool_process_runs():
                    self._last = time.monotonic()
                else:
                    return


def critical_path_order(slices, tasks: dict[str, Task]) -> list[str]:
    """Slices by the longest chain of work that waits on them (each slice weighs its task's budget_secs, or 1),
    longest first, ties in plan order: a list scheduler that starts the critical path first finishes sooner."""
    weight = {s.slice_id: float(tasks[s.task_id].budget_secs or 1.0) if s.task_id in tasks else 1.0 for s in slices}
    dependents: dict[str, list[str]] = {s.slice_id: [] for s in slices}
    for s in slices:
        for d in s.dependencies:
            if d in dependents:
                dependents[d].append(s.slice_id)
    tail: dict[str, float] = {}
    for s in reversed(slices):  # plan order is topological: dependents come later
        tail[s.slice_id] = weight[s.slice_id] + max((tail[c] for c in dependents[s.slice_id]), default=0.0)
    index = {s.slice_id: i for i, s in enumerate(slices)}
    return sorted(index, key=lambda sid: (-tail[sid], index[sid]))


def failure_ids(result: GateResult) -> set[str]:
    """Test ids a gate reports as failed: pytest's `FAILED x::y - ...` / `ERROR x::y` summary lines and
    unittest's `FAIL: test_x (module.Class.test_x)` / `ERROR: ...` headers."""
    ids: set[str] = set()
    for line in result.summary:
        line = line.strip()
        for prefix in ("FAILED ", "ERROR "):
            if line.startswith(prefix) and not line.startswith(prefix + "("):  # not unittest's `FAILED (failures=1)`
                ids.add(line[len(prefix):].split(" - ", 1)[0].strip())
        for prefix in ("FAIL: ", "ERROR: "):
            if line.startswith(prefix):
                rest = line[len(prefix):]
                ids.add(rest[rest.find("(") + 1:rest.rfind(")")] if rest.endswith(")") else rest)
    return ids


def _baseline_red_ids(results: list[GateResult]) -> list[str]:
    """The failed test ids of a slice's gates that fail only where the baseline failed."""
    return sorted({i for r in results if r.blocking and r.only_baseline_failures for i in failure_ids(r)})


def _gate_feedback(results: list[GateResult]) -> str:
    from omk_tui.gates import trim_for_agent

    parts = [trim_for_agent(r, 3000) for r in results if r.blocking]
    return "\n\n".join(parts)


def _conflict_text(ev) -> str:
    lines = [f"conflicting files: {', '.join(ev.files)}"]
    against = getattr(ev, "against", None)
    if against:
        lines.append(f"already integrated slices that touched them: {', '.join(against)}")
    for f, hunk in (getattr(ev, "hunks", None) or {}).items():
        lines.append(f"--- {f}\n{hunk[:1500]}")
    return "\n".join(lines)


def _repo_summary(repo: Path, limit: int = 200) -> str:
    try:
        import pygit2

        r = pygit2.Repository(str(repo))
        names = sorted(e.path for e in r.index)
    except Exception:
        names = []
    more = f"\n... and {len(names) - limit} more" if len(names) > limit else ""
    return "\n".join(names[:limit]) + more
