"""The dashboard: goals, task graph, worktrees, agent stream, gates and a status bar.

One code path for every source of events: a controller in this process (its log's subscriber pushes into
`inbox`), a run in another process (an exclusive async worker follows `events.jsonl` with watchfiles), or a
replay (a `ReplayClock` hands out recorded events). Each source only appends events to `inbox` (a deque:
appending is thread-safe, and no message crosses threads per event); ONE timer on the UI drains it `FLUSH_HZ`
times a second, folds the batch with `projection.apply`, and redraws only what changed: tables compare row
signatures, the agent pane wraps only new or changed entries and draws only visible lines, static texts are
set only when their text differs (a Static update re-lays out the whole screen).
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from omk_tui.control.client import ControlClient, FileControl, LocalControl
from omk_tui.control.lock import INTERRUPTED
from omk_tui.models.events import EPHEMERAL_KINDS, Event
from omk_tui.projection import GOAL_SCOPE, GoalView, apply, load_view, permission_label
from omk_tui.render.safe import printable, printable_data
from omk_tui.replay import ReplayClock
from omk_tui.state.eventlog import follow
from omk_tui.state.store import GoalPaths, goal_paths
from omk_tui.state.summary import GoalSummary, scan_goals
from omk_tui.ui.messages import (
    ControllerStarted,
    ControllerStopped,
    GoalFolded,
    GoalsScanned,
    ReplayFolded,
)
from omk_tui.ui.screens.modals import (
    BudgetModal,
    BudgetRequest,
    ConfirmModal,
    NewGoalModal,
    NewGoalRequest,
    PermissionModal,
)
from omk_tui.ui.widgets.agent_stream import AgentStreamView, plan_text
from omk_tui.ui.widgets.gates_table import GatesTable, split_gate_key
from omk_tui.ui.widgets.goals_table import GoalsTable
from omk_tui.ui.widgets.status_bar import StatusBar, status_text
from omk_tui.ui.widgets.task_graph import TaskGraphTable
from omk_tui.ui.widgets.timeline import Timeline
from omk_tui.ui.widgets.worktrees_table import WorktreesTable

FLUSH_HZ = 20
RESCAN_SECS = 2.0
SELECT_DELAY_SECS = 0.12
FREEZE_AFTER_EVENTS = 20_000
# A replay seek that folds at most this many events (from the nearest checkpoint) is folded on the UI (tens of
# milliseconds); a longer one, before the checkpoints are made, in a worker
SYNC_SEEK_EVENTS = 5_000
PERMISSION_ARM_SECS = 0.5  # a permission request that opens by itself takes no answer this long
LIVE_ACTIONS = {"new_goal", "pause", "resume", "cancel", "add_budget", "run_gates"}
REPLAY_ACTIONS = {"play_pause", "faster", "slower", "step", "step_back", "replay_home", "replay_end"}


class DashboardScreen(Screen):
    BINDINGS = [
        Binding("n", "new_goal", "New", tooltip="Start a new goal"),
        Binding("p", "pause", "Pause", tooltip="Pause the selected goal"),
        Binding("r", "resume", "Resume", tooltip="Resume the selected goal"),
        Binding("c", "cancel", "Cancel", tooltip="Cancel the selected goal (asks first)"),
        Binding("b", "add_budget", "Budget", tooltip="Add time, tokens or dollars to the budget"),
        Binding("a", "answer_permission", "Allow?", tooltip="Answer the pending permission request"),
        Binding("g", "run_gates", "Gates", tooltip="Run the gates now"),
        Binding("d", "diff", "Diff", tooltip="The selected slice's diff"),
        Binding("tab", "app.focus_next", "Pane", key_display="⇥", tooltip="Next pane"),
        Binding("shift+tab", "app.focus_previous", "Pane", key_display="⇤", tooltip="Previous pane"),
        # Replay keys work whichever pane has focus (priority: before a table's own home/end/left/right); in a
        # live dashboard check_action turns them off, and the key goes on to the focused pane.
        Binding("space", "play_pause", "Play/pause", priority=True, tooltip="Play or pause the replay"),
        Binding("plus,equals_sign", "faster", "Faster", key_display="+", priority=True,
                tooltip="Replay faster"),
        Binding("minus", "slower", "Slower", key_display="-", priority=True, tooltip="Replay slower"),
        Binding("right", "step", "Step", priority=True, tooltip="Step the replay one event forward"),
        Binding("left", "step_back", "Back", show=False, priority=True, tooltip="Step the replay one event back"),
        Binding("home", "replay_home", "Start", show=False, priority=True, tooltip="Replay from the start"),
        Binding("end", "replay_end", "End", show=False, priority=True, tooltip="Jump to the end of the replay"),
    ]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]

    def __init__(self, repo: Path | None, *, clock: ReplayClock | None = None, goal_id: str | None = None,
                 now: Callable[[], datetime] | None = None) -> None:
        super().__init__()
        self.repo = repo
        self.clock = clock
        self.replay = clock is not None
        self.goal_id: str | None = clock.recording.goal_id if clock else goal_id
        self.view: GoalView | None = GoalView(goal_id=self.goal_id) if clock else None
        self._now = now
        self.goals: list[GoalSummary] = []
        self.inbox: deque[tuple[str, Event]] = deque()
        self.scope: str = GOAL_SCOPE
        self._scope_chosen = False
        self._last_tick = 0.0
        self._asked: set[str] = set()
        self._deferred: list[str] = []  # requests that came while another screen was on top
        # a permission request's id as the agent sent it, by the id shown (escaped like all an agent's text): an
        # answer must name the request exactly
        self._request_ids: dict[str, str] = {}
        self._fold_error: str | None = None  # the last log read that failed (said once)
        self.flushes = 0
        self._select_timer = None
        self._shown_summary: tuple | None = None
        self._status_shown = ""  # the status the panes were last drawn with (see shown_status)
        self._interrupted: set[str] = set()  # goals the last scan found recorded as running with no controller
        self._shown: dict[str, object] = {}  # what each static text shows now, to skip identical updates
        self._seek = 0  # replay: seeks made; one folding in a worker is `_seeking`
        self._seeking: int | None = None

    # ------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        with Vertical(id="main"):
            yield GoalsTable(id="goals")
            with Horizontal(id="upper"):
                yield TaskGraphTable(id="tasks")
                yield WorktreesTable(id="worktrees")
            with Horizontal(id="lower"):
                with Vertical(id="agent-pane"):
                    yield Static(id="plan")
                    yield AgentStreamView(id="stream")
                yield GatesTable(id="gates")
        if self.replay:
            yield Timeline(id="timeline")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        titles = {"#goals": "goals", "#tasks": "task graph", "#worktrees": "worktrees", "#agent-pane": "agent",
                  "#gates": "gates"}
        for sel, title in titles.items():
            self.query_one(sel).border_title = title
        if self.replay:
            assert self.clock is not None
            rec = self.clock.recording
            first = rec.events[0] if rec.events else None
            goal = first.payload.get("goal", "") if first and first.kind == "goal_created" else ""
            self.goals = [GoalSummary(rec.goal_id, goal, "running", "replay", first.ts if first else None)]
            self.query_one(GoalsTable).show_goals(self.goals, self.now())
            self._last_tick = time.monotonic()
            self.set_interval(1 / FLUSH_HZ, self._replay_tick)
            self._index_replay()
            self.refresh_panes(reset_stream=True)
            self.query_one("#stream").focus()
        else:
            self.query_one(StatusBar).update(status_text(None, 0))
            self.scan()
            self.set_interval(RESCAN_SECS, self.scan)
            self.set_interval(1 / FLUSH_HZ, self.flush)

    async def _on_idle(self, event: events.Idle) -> None:
        # Textual 8.2.8: a screen under a modal (help, a permission request) that changed while covered repaints in
        # full on every idle from then on (its compositor refresh sets `_repaint_required` again each time), and the
        # modal over it is redrawn with it: 25 KB/s to the terminal with nothing happening, for as long as the modal
        # stays. Our widgets' own refreshes still reach the modal's frame (they are dirty widgets, not this flag), and
        # the dashboard repaints in full when it is back on top (`Screen._on_screen_resume`).
        if getattr(self, "_repaint_required", False) and self.app.screen is not self:  # private: absent elsewhere
            self._repaint_required = False
        await super()._on_idle(event)

    def now(self) -> datetime:
        if self._now is not None:
            return self._now()
        if self.replay and self.view is not None and self.view.last_ts is not None:
            return self.view.last_ts
        return datetime.now(timezone.utc)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in LIVE_ACTIONS:
            return not self.replay
        if action in REPLAY_ACTIONS:
            return self.replay
        if action == "answer_permission":
            return not self.replay  # with none waiting, `a` says so
        return True

    # ------------------------------------------------------------ goals
    @work(thread=True, exclusive=True, group="scan", exit_on_error=False)
    def scan(self) -> None:
        if self.repo is not None:
            self.post_message(GoalsScanned(scan_goals(self.repo)))

    def on_goals_scanned(self, message: GoalsScanned) -> None:
        self.goals = printable_data(message.goals, newlines=True)
        self._interrupted = {g.goal_id for g in message.goals if g.status == INTERRUPTED}
        self._merge_selected_summary()
        if self.view is not None and self.shown_status() != self._status_shown:
            self.refresh_panes()  # a controller that died shows as `interrupted` within a scan
        table = self.query_one(GoalsTable)
        listed = self.goal_id in table.row_keys
        table.show_goals(self.goals, self.now())  # keeps the cursor on its row: where the person moved it
        if self.goal_id is None and self.goals:
            self.select_goal(self.goals[0].goal_id)
        elif self.goal_id is not None:
            if not listed:  # the selected goal's row is new (a goal just started): the cursor goes to it
                table.select_key(self.goal_id)
            if self.view is None and self.goal_id in table.row_keys:
                self.select_goal(self.goal_id, force=True)

    def _merge_selected_summary(self) -> None:
        """The selected goal's row shows the live fold, which is newer than its snapshots."""
        if self.view is None:
            return
        for g in self.goals:
            if g.goal_id == self.view.goal_id:
                g.status, g.phase = self.shown_status(), self.view.phase
                if self.view.tasks:
                    g.done, g.total = self.view.task_progress

    def shown_status(self) -> str:
        """The selected goal's status as shown: `interrupted` when it is recorded as running but no controller holds
        it, as the last scan found (`control.lock.shown_status`, checked in the scan worker, never on the UI's event
        loop); a replay shows the recorded status."""
        view = self.view
        if view is None:
            return ""
        if not self.replay and view.status == "running" and view.goal_id in self._interrupted:
            return INTERRUPTED
        return view.status

    @on(DataTable.RowHighlighted, "#goals")
    def _goal_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        if self.replay:
            return
        # moving through the list quickly folds only the goal the cursor stops on; back on the selected goal
        # (or put there: `--goal`, a goal just started), nothing else is selected
        if self._select_timer is not None:
            self._select_timer.stop()
            self._select_timer = None
        if key and key != self.goal_id:
            self._select_timer = self.set_timer(SELECT_DELAY_SECS, lambda: self.select_goal(key))

    def goal_paths(self, goal_id: str | None = None) -> GoalPaths | None:
        gid = goal_id or self.goal_id
        if gid is None or self.repo is None:
            return None
        return goal_paths(self.repo, gid)

    def select_goal(self, goal_id: str, *, force: bool = False) -> None:
        if goal_id == self.goal_id and self.view is not None and not force:
            return
        self.goal_id = goal_id
        self.view = None
        self.inbox.clear()
        self._scope_chosen = False
        self._asked.clear()
        self._deferred.clear()
        self._request_ids.clear()
        self.workers.cancel_group(self, "follow")
        self.query_one(GoalsTable).select_key(goal_id)
        self._fold(goal_id)

    @work(thread=True, exclusive=True, group="fold", exit_on_error=False)
    def _fold(self, goal_id: str) -> None:
        paths = self.goal_paths(goal_id)
        assert paths is not None
        # the engine's fast fold; an instant's sleep between blocks lets the UI's event loop take the interpreter
        # lock, so keys stay responsive while a long goal loads
        try:
            # what agents wrote is shown with its control characters escaped: Textual would pass ESC sequences
            # (a task title's, a message's) to the terminal as they are
            view = load_view(paths.events, goal_id, between_blocks=lambda: time.sleep(0.0005))
            self._request_ids.update({printable(rid, newlines=True): rid for rid in view.permissions})
            view = printable_data(view, newlines=True)
        except OSError as exc:  # a log that cannot be read (a folder, no permission): said (once), not a blank goal
            message = f"could not read the event log of {goal_id}: {exc}"
            if message != self._fold_error:
                self._fold_error = message
                self.notify(message, severity="error", timeout=10)
            return
        self._fold_error = None
        if goal_id != self.goal_id:
            return  # another goal was selected meanwhile
        self.post_message(GoalFolded(goal_id, view))

    def on_goal_folded(self, message: GoalFolded) -> None:
        if message.goal_id != self.goal_id:
            return
        self.view = message.view
        if self.view.events_applied >= FREEZE_AFTER_EVENTS:
            # a long goal's fold is hundreds of thousands of objects that live as long as the view: moved out of
            # the collector's reach, a full collection no longer stalls the UI for a few hundred milliseconds
            gc.collect()
            gc.freeze()
        self._asked.update(self.view.permissions)  # known before we looked: shown, not popped up
        self.refresh_panes(reset_stream=True)
        if message.goal_id not in self.app.controllers:
            paths = self.goal_paths(message.goal_id)
            assert paths is not None
            self._follow(message.goal_id, paths.events, message.view.log_offset)
        self.flush()

    @work(exclusive=True, group="follow", exit_on_error=False)
    async def _follow(self, goal_id: str, path: Path, offset: int) -> None:
        async for batch in follow(path, offset, debounce_ms=50):
            if goal_id != self.goal_id:
                return
            for ev in batch.events:
                self.inbox.append((goal_id, ev))
            if batch.gaps and self.view is not None:
                self.view.gaps += batch.gaps

    def push_event(self, goal_id: str, event: Event) -> None:
        """Thread-safe: queue an event from any thread (an in-process controller's log subscriber)."""
        self.inbox.append((goal_id, event))

    # ------------------------------------------------------------ batching
    def flush(self) -> None:
        """Fold every queued event, then redraw once (the UI timer calls this `FLUSH_HZ` times a second)."""
        view = self.view
        if view is None or not self.inbox or self._seeking is not None:
            return  # (a replay seek folding in a worker: what the clock hands out meanwhile waits for its view)
        applied = 0
        new_permissions: list[str] = []
        while self.inbox:
            gid, ev = self.inbox.popleft()
            if gid != view.goal_id:
                continue
            if ev.kind not in EPHEMERAL_KINDS and ev.seq and ev.seq <= view.last_seq:
                continue  # already folded (the log was read after this event was queued)
            payload = printable_data(ev.payload, newlines=True)
            apply(view, ev.model_copy(update={"payload": payload}))
            applied += 1
            if ev.kind == "permission_asked" and isinstance(rid := ev.payload.get("request_id"), str):
                self._request_ids[payload["request_id"]] = rid
                new_permissions.append(payload["request_id"])
        if applied:
            self.flushes += 1
            self.refresh_panes()
        for rid in new_permissions:
            if rid in view.permissions and rid not in self._asked and not self.replay:
                self._asked.add(rid)
                self._pop_permission(rid)

    def _pop_permission(self, request_id: str) -> None:
        """Open a new permission request by itself, but only over the dashboard: over a dialog, a search box or
        the gate log it would take the keys being typed there; it then waits (and says so) until the dashboard is
        back on top."""
        if self.app.screen is self:
            self.action_answer_permission(request_id, arm_secs=PERMISSION_ARM_SECS)
        elif request_id not in self._deferred:
            self._deferred.append(request_id)
            request = self.view.permissions[request_id] if self.view is not None else None
            who = (request.slice_id or "the goal") if request is not None else "an agent"
            self.notify(f"permission requested by {who}: it opens when you are back on the dashboard (or press a "
                        "there)", severity="warning")

    def on_screen_resume(self) -> None:
        view = self.view
        while self._deferred:
            rid = self._deferred.pop(0)
            if view is not None and rid in view.permissions:
                self.call_after_refresh(self._pop_permission, rid)
                return

    # ------------------------------------------------------------ drawing
    def elapsed(self, status: str) -> float:
        """The time the goal has run (its time budget spent); it goes on with the clock only while the goal is
        shown as running (not while paused, nor while recorded as running by a controller that died). A replay
        shows it as it was at the moment replayed."""
        v = self.view
        if v is None:
            return 0.0
        if self.replay:
            return v.time_spent(v.last_ts)
        return v.time_spent(self.now() if status == "running" else None)

    def show_status(self, status: str) -> None:
        if self.view is None:
            return
        self._set_text("#status", status_text(self.view, self.elapsed(status), mode="REPLAY" if self.replay else "",
                                              status=status))

    def refresh_panes(self, *, reset_stream: bool = False) -> None:
        view = self.view
        if view is None:
            return
        if not self._scope_chosen:
            running = sorted(s for s in view.running_turns if s != GOAL_SCOPE)
            self.scope = running[0] if running else (GOAL_SCOPE if GOAL_SCOPE in view.streams or not view.slices
                                                     else sorted(view.slices)[0])
        status = self._status_shown = self.shown_status()
        self.show_status(status)
        self.query_one(TaskGraphTable).show_view(view)
        worktrees = self.query_one(WorktreesTable)
        worktrees.show_view(view, self.now(), live=status == "running")  # else what the log said is over
        if not self._scope_chosen:
            worktrees.select_key(self.scope)
        self.query_one(GatesTable).show_view(view)
        self._show_stream(reset=reset_stream)
        summary = (view.goal_id, view.status, view.phase, view.task_progress)
        if self.goals and summary != self._shown_summary:
            # the goals list only changes with the selected goal's status, phase or progress
            self._shown_summary = summary
            self._merge_selected_summary()
            self.query_one(GoalsTable).show_goals(self.goals, self.now())
        if self.replay and self.clock is not None:
            tl = self.query_one(Timeline)
            tl.position, tl.total, tl.playing, tl.speed = (self.clock.position, self.clock.total,
                                                           self.clock.playing, self.clock.speed)

    def _show_stream(self, *, reset: bool = False) -> None:
        view = self.view
        if view is None:
            return
        stream = view.streams.get(self.scope)
        pane = self.query_one("#agent-pane")
        title = "agent · goal (planning, reviews)" if self.scope == GOAL_SCOPE else f"agent · {self.scope}"
        sl = view.slices.get(self.scope)
        if sl is not None:
            title += f" · {sl.title}"
        if self._shown.get("#agent-pane:title") != title:
            self._shown["#agent-pane:title"] = title
            pane.border_title = Content(title)  # literal: a slice's title comes from the agent's plan
        self._set_text("#plan", plan_text(stream))
        self.query_one(AgentStreamView).show(stream, reset=reset)

    def _set_text(self, selector: str, text: Text) -> None:
        key = (text.plain, tuple(text.spans))
        if self._shown.get(selector) == key:
            return
        self._shown[selector] = key
        widget = self.query_one(selector, Static)
        # a layout (the whole screen, ~20 ms) only when the text's height changes: the status bar is one docked
        # line; the plan is as tall as its wrapped text
        height = 1 if selector == "#status" else len(text.wrap(self.app.console, max(1, widget.content_size.width)))
        layout = self._shown.get(selector + ":height") != height
        self._shown[selector + ":height"] = height
        widget.update(text, layout=layout)

    def set_scope(self, scope: str) -> None:
        self._scope_chosen = True
        if scope != self.scope:
            self.scope = scope
            self._show_stream(reset=True)

    @on(DataTable.RowHighlighted, "#worktrees")
    def _slice_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value and event.data_table.has_focus:
            self.set_scope(event.row_key.value)

    @on(DataTable.RowHighlighted, "#tasks")
    def _task_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self.view is None or not event.data_table.has_focus:
            return
        task = self.view.tasks.get(event.row_key.value or "")
        if task is not None:
            # a task not planned into a slice yet shows the goal's stream (the planner that proposed it), not
            # whichever slice was selected before
            self.set_scope(task.slice_id or GOAL_SCOPE)

    @on(DataTable.RowHighlighted, "#gates")
    def _gate_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self.view is None or not event.data_table.has_focus:
            return
        scope, _ = split_gate_key(event.row_key.value or "")
        if scope in self.view.slices:
            self.set_scope(scope)

    def on_resize(self) -> None:
        self._show_stream()

    # ------------------------------------------------------------ open / diff
    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        table_id = event.data_table.id
        key = event.row_key.value or ""
        if table_id == "goals":
            if not self.replay:
                self.select_goal(key)
            self.query_one("#tasks").focus()
        elif table_id == "gates":
            self.open_gate_log(*split_gate_key(key))
        elif table_id == "tasks" and self.view is not None and (task := self.view.tasks.get(key)) is not None \
                and not task.slice_id:
            self.notify(f"task {key} has no slice yet: there is no diff to show", severity="warning")
        elif table_id in ("tasks", "worktrees"):
            self.action_diff()

    def open_gate_log(self, scope: str, name: str) -> None:
        from omk_tui.ui.screens.gate_log import GateLogScreen

        gate = self.view.gates.get((scope, name)) if self.view else None
        if gate is None:
            return
        if not gate.log_path:
            self.notify(f"gate {name} ({scope}) has no log file", severity="warning")
            return
        self.app.push_screen(GateLogScreen(
            gate, current=lambda: self.view.gates.get((scope, name)) if self.view is not None else None))

    def action_diff(self) -> None:
        from omk_tui.ui.screens.diff import DiffScreen

        if self.view is None or self.scope not in self.view.slices:
            self.notify("select a slice (worktrees or task graph) to see its diff", severity="warning")
            return
        base = None
        paths = self.goal_paths()
        if paths is not None:
            try:
                from omk_tui.state.store import load_goal

                base = load_goal(paths).base_commit
            except Exception:  # no readable goal.json: diff against HEAD
                base = None
        repo = self.repo or Path(self.view.repo or ".")
        self.app.push_screen(DiffScreen(repo, self.view.slices[self.scope], base, self.view.goal_id))

    # ------------------------------------------------------------ control
    def intents(self) -> ControlClient | None:
        if self.goal_id is None:
            self.notify("no goal selected", severity="warning")
            return None
        controller = self.app.controllers.get(self.goal_id)
        if controller is not None:
            # no resume callback: a controller running here is not paused (a paused one has stopped and left
            # `app.controllers`; action_resume restarts it)
            return LocalControl(controller)
        paths = self.goal_paths()
        return FileControl(paths, self.repo) if paths is not None else None

    def _runs_nowhere(self) -> GoalPaths | None:
        """The selected goal's paths when no controller runs it, here or in another process (else None): a request
        file would wait for the goal's next run and act then, so what needs a controller says so instead, and
        cancel and budget are applied to the snapshots directly, as the command line does."""
        if self.goal_id is None or self.goal_id in self.app.controllers:
            return None
        paths = self.goal_paths()
        if paths is None or FileControl(paths, self.repo).controller_alive():
            return None
        return paths

    def _nothing_to(self, what: str) -> bool:
        if self._runs_nowhere() is None:
            return False
        status = self.view.status if self.view is not None and self.view.goal_id == self.goal_id else ""
        if status in ("ready", "cancelled"):
            self.notify(f"{self.goal_id} is {status}: nothing to {what}", severity="warning")
        else:
            self.notify(f"no controller is running {self.goal_id}: nothing to {what} (r resumes it)",
                        severity="warning")
        return True

    def action_pause(self) -> None:
        if not self._nothing_to("pause") and (intents := self.intents()) is not None:
            intents.pause()
            self.notify(f"pause requested for {self.goal_id}")

    def action_resume(self) -> None:
        if self.goal_id is None:
            self.notify("no goal selected", severity="warning")
            return
        if self.goal_id in self.app.controllers:
            self.notify("this goal is already running here")
            return
        paths = self.goal_paths()
        assert paths is not None
        control = FileControl(paths, self.repo)
        if not control.controller_alive() and self.app.start_controller(self, goal_id=self.goal_id):
            return
        control.resume()
        self.notify(f"resume requested for {self.goal_id}")

    def action_cancel(self) -> None:
        if self.goal_id is None:
            self.notify("no goal selected", severity="warning")
            return

        def confirmed(yes: bool | None) -> None:
            if not yes:
                return
            if (paths := self._runs_nowhere()) is not None:
                self._offline(paths, "cancel")
            elif (intents := self.intents()) is not None:
                intents.cancel()
                self.notify(f"cancel requested for {self.goal_id}")

        self.app.push_screen(ConfirmModal(f"Cancel {self.goal_id}?", "Running agents and gates are stopped; the "
                                          "record stays and the goal can be inspected and replayed."), confirmed)

    def action_add_budget(self) -> None:
        def added(req: BudgetRequest | None) -> None:
            if not req:
                return
            if (paths := self._runs_nowhere()) is not None:
                self._offline(paths, "budget", req)
            elif (intents := self.intents()) is not None:
                intents.add_budget(time_secs=req.time_secs, tokens=req.tokens, usd=req.usd)
                self.notify("budget added")

        if self.goal_id is None:
            self.notify("no goal selected", severity="warning")
            return
        status = self.view.status if self.view is not None and self.view.goal_id == self.goal_id else ""
        if status in ("ready", "cancelled"):  # settled: no run of it will ever spend more
            self.notify(f"{self.goal_id} is {status}: no budget to add", severity="warning")
            return
        self.app.push_screen(BudgetModal(), added)

    @work(thread=True, group="offline", exit_on_error=False)
    def _offline(self, paths: GoalPaths, what: str, req: BudgetRequest | None = None) -> None:
        """Cancel, or add budget to, a goal no controller runs (under its lock, like `omk-tui cancel|budget-add`), in
        a worker: the record's durable writes (fsync) never hold up the UI's event loop."""
        from omk_tui.control.offline import budget_add_offline, budget_summary, cancel_offline, offline_or_request
        from omk_tui.state.store import StateFileError, load_goal

        gid = paths.goal_id
        control = FileControl(paths, self.repo)
        sent = f"{gid}: {what} request sent to the controller that has just started it"
        try:
            if what == "budget":
                assert req is not None
                state = offline_or_request(
                    control, lambda: budget_add_offline(paths, req.time_secs, req.tokens, req.usd),
                    lambda: control.add_budget(time_secs=req.time_secs, tokens=req.tokens, usd=req.usd))
                if state is None:
                    self.notify(sent)
                else:
                    summary = budget_summary(state, req.time_secs, req.tokens, req.usd, resume="r resumes it")
                    self.notify(f"{gid} (no controller was running): {summary}")
            elif (status := load_goal(paths).settled) is not None:
                self.notify(f"{gid} is {status}: nothing to cancel")
            elif (done := offline_or_request(control, lambda: cancel_offline(self.repo, paths), control.cancel)):
                self.notify(f"{gid} {done.status.value} (no controller was running)")
            else:
                self.notify(sent)
        except (StateFileError, OSError) as exc:
            self.notify(f"could not {what} {gid}: {exc}", severity="error")
        self.app.call_from_thread(self.scan)

    def action_run_gates(self) -> None:
        if self._nothing_to("run gates"):
            return
        if (intents := self.intents()) is not None:
            intents.run_gates()
            self.notify("gates requested")

    def action_answer_permission(self, request_id: str | None = None, arm_secs: float = 0.0) -> None:
        view = self.view
        if view is None or not view.permissions:
            self.notify("no permission request is waiting")
            return
        if request_id is None:
            mine = [p for p in view.permissions.values() if (p.slice_id or GOAL_SCOPE) == self.scope]
            request = (mine or list(view.permissions.values()))[0]
        else:
            request = view.permissions[request_id]
        goal_id = self.goal_id

        def answered(decision: str | None) -> None:
            if decision and goal_id == self.goal_id and (intents := self.intents()) is not None:
                intents.answer_permission(self._request_ids.get(request.request_id, request.request_id), decision)
                self.notify(f"{decision.replace('_', ' ')}: {permission_label(request.tool, request.command)}".strip())

        def waiting() -> bool:
            view = self.view
            return view is not None and view.goal_id == goal_id and request.request_id in view.permissions

        self.app.push_screen(PermissionModal(request, arm_secs=arm_secs, waiting=waiting), answered)

    def action_new_goal(self) -> None:
        def submitted(req: NewGoalRequest | None) -> None:
            if req is not None:
                self.app.start_controller(self, request=req)

        agent, approval = "kimi", "ask"  # with no repository (replay), the dialog's own defaults
        if self.repo is not None:
            from omk_tui.config import CONFIG_FIX, ConfigError, load_config

            try:
                config = load_config(self.repo)
            except ConfigError as exc:  # a goal could not start with it: said now, not after the dialog
                self.notify(f"{exc}\n{CONFIG_FIX}, then press n again",
                            severity="error", timeout=15)
                return
            agent = config.agent.default
            if "approval" in config.agent.model_fields_set:  # else `ask`: a person is at the keyboard here
                approval = config.agent.approval
        self.app.push_screen(NewGoalModal(agent, approval), submitted)

    # ------------------------------------------------------------ in-process controller
    @work(thread=True, group="controller", exit_on_error=False)
    def run_controller(self, make_controller: Callable[[], object], *, resuming: str | None = None) -> None:
        """Create/open the controller and run it to its end in this thread (git and files never block the UI).

        `resuming` is the goal id when an existing goal is opened. A controller that cannot start (no commits, a
        dirty tree, an unreadable goal.json, a held lock) is reported in a notification with its reason; a goal
        that is cancelled, or ready with its proof written, is not run again (as `omk-tui resume` does)."""
        what = f"resume {resuming}" if resuming else "start the goal"
        try:
            controller = make_controller()
        except Exception as exc:  # noqa: BLE001 - every reason is the person's to read
            self.post_message(ControllerStopped(resuming or "", "not started", f"could not {what}: {exc}"))
            return
        if resuming:
            state = controller.state  # type: ignore[attr-defined]
            refusal = None
            if (why := controller.not_resumable()) is not None:  # type: ignore[attr-defined]
                refusal = f"{why}: it cannot be resumed; press n to start a new goal"
            elif state.status.value == "ready" and controller.proof_is_current():  # type: ignore[attr-defined]
                refusal = f"{resuming} is already ready; proof: {controller.paths.proof_json}"  # type: ignore[attr-defined]
            elif (problem := controller.config_problem()) is not None:  # type: ignore[attr-defined]
                refusal = f"could not resume {resuming}: {problem}"
            if refusal is not None:
                controller.close()  # type: ignore[attr-defined]
                self.post_message(ControllerStopped(resuming, state.status.value, note=refusal))
                return
        gid = controller.paths.goal_id  # type: ignore[attr-defined]
        unsubscribe = controller.log.subscribe(lambda ev: self.push_event(gid, ev))  # type: ignore[attr-defined]
        self.app.controllers[gid] = controller
        self.post_message(ControllerStarted(gid))
        status, error, blocker = "stopped", None, None
        try:
            proof = asyncio.run(controller.run())  # type: ignore[attr-defined]
            status = getattr(getattr(proof, "status", None), "value", str(getattr(proof, "status", "stopped")))
            blocker = getattr(proof, "blocker", None)
        except Exception as exc:  # shown to the person; the record on disk says the rest
            status, error = "failed_infra", f"{type(exc).__name__}: {exc}"
        finally:
            unsubscribe()
            self.app.controllers.pop(gid, None)
        self.post_message(ControllerStopped(gid, status, error, blocker=blocker))

    def on_controller_started(self, message: ControllerStarted) -> None:
        self.scan()
        self.select_goal(message.goal_id)

    def on_controller_stopped(self, message: ControllerStopped) -> None:
        if message.error:
            where = f"{message.goal_id}: " if message.goal_id and message.goal_id not in message.error else ""
            self.notify(f"{where}{message.error}", severity="error", timeout=10)
        elif message.note:
            self.notify(message.note)
        elif message.status in ("ready", "paused"):
            self.notify(f"{message.goal_id} {message.status}" + (" (r resumes it)" if message.status == "paused" else ""))
        else:  # blocked, out of budget, failed: why, as the proof says it
            why = f": {message.blocker}" if message.blocker else ""
            self.notify(f"{message.goal_id} stopped, {message.status}{why}", severity="warning", timeout=10)
        self.scan()

    # ------------------------------------------------------------ replay
    def _replay_tick(self) -> None:
        assert self.clock is not None
        now = time.monotonic()
        dt, self._last_tick = now - self._last_tick, now
        events = self.clock.tick(dt)
        if events:
            for ev in events:
                self.inbox.append((self.clock.recording.goal_id, ev))
            self.flush()

    @work(thread=True, exclusive=True, group="replay-index", exit_on_error=False)
    def _index_replay(self) -> None:
        """Fold the recording once in the background, keeping its checkpoints, so every later seek folds at most a
        checkpoint's stretch of events (an instant's sleep per stretch lets the UI's event loop in)."""
        assert self.clock is not None
        self.clock.recording.build_checkpoints(between_blocks=lambda: time.sleep(0.0005))

    def _replay_seek(self, position: int) -> None:
        """Show the replay after `position` events: folded from the recording's nearest checkpoint, here when that is
        a short way, else in a worker (the panes show the view there when it is folded; keys keep working)."""
        assert self.clock is not None
        self.clock.seek(position)
        self.inbox.clear()
        self._seek += 1
        recording = self.clock.recording
        if recording.fold_cost(self.clock.position) <= SYNC_SEEK_EVENTS:
            self._seeking = None
            self.view = printable_data(recording.view_at(self.clock.position), newlines=True)
            self.refresh_panes(reset_stream=True)
        else:
            self._seeking = self._seek
            self._fold_replay(self._seek, self.clock.position)
            self.refresh_panes()  # the timeline moves now

    @work(thread=True, exclusive=True, group="replay-seek", exit_on_error=False)
    def _fold_replay(self, seek: int, position: int) -> None:
        assert self.clock is not None
        view = self.clock.recording.view_at(position, between_blocks=lambda: time.sleep(0.0005))
        if seek == self._seek:
            self.post_message(ReplayFolded(seek, position, printable_data(view, newlines=True)))

    def on_replay_folded(self, message: ReplayFolded) -> None:
        if message.seek != self._seek:
            return  # a later seek was made meanwhile
        self._seeking = None
        self.view = message.view
        self.refresh_panes(reset_stream=True)
        self.flush()  # what the clock handed out since

    def action_play_pause(self) -> None:
        if self.clock is None:
            return
        restart = self.clock.at_end
        self.clock.toggle()
        if restart:  # the clock went back to the start: the panes refold there, as the timeline shows
            self._replay_seek(0)
        self._last_tick = time.monotonic()
        self.refresh_panes()

    def action_faster(self) -> None:
        if self.clock is not None:
            self.clock.faster()
            self.refresh_panes()

    def action_slower(self) -> None:
        if self.clock is not None:
            self.clock.slower()
            self.refresh_panes()

    def action_step(self) -> None:
        if self.clock is not None:
            for ev in self.clock.step():
                self.inbox.append((self.clock.recording.goal_id, ev))
            self.flush()
            self.refresh_panes()

    def action_step_back(self) -> None:
        if self.clock is not None:
            self.clock.playing = False
            self._replay_seek(self.clock.position - 1)

    def action_replay_home(self) -> None:
        if self.clock is not None:
            self._replay_seek(0)

    def action_replay_end(self) -> None:
        if self.clock is not None:
            self.clock.playing = False  # at the end there is nothing left to play
            self._replay_seek(self.clock.total)

    def on_timeline_seek(self, message: Timeline.Seek) -> None:
        if self.clock is not None:
            self._replay_seek(round(message.fraction * self.clock.total))
