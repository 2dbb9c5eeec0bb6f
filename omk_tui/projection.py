"""The one fold from events to what a person sees (`GoalView`).

The live TUI, a TUI attached to another process's run, `show`, and replay all call :func:`apply` on the same
events, so they cannot disagree. Bounded: each slice keeps at most `STREAM_LIMIT` stream entries.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from omk_tui.models.events import Event
from omk_tui.models.gates import GateResult
from omk_tui.state.envelope import Envelope

Record = Event | Envelope  # an event as a fold reads it (attributes only): from the writer, or decoded from the log

STREAM_LIMIT = 2000
# A streamed message longer than this continues in a new entry (`continued=True`) at the next line break, and
# at the hard limit even without one, so appending a chunk costs O(limit), never O(message).
ENTRY_TEXT_LIMIT = 4000
ENTRY_TEXT_HARD_LIMIT = 16000
NARRATIVE_LIMIT = 500
GOAL_SCOPE = "goal"  # stream scope for agent turns that belong to no slice (planning, reviews)


@dataclass(slots=True)
class StreamEntry:
    """One line of an agent pane: kind is message | thought | tool | plan | permission | stderr | turn."""

    kind: str
    text: str = ""
    status: str = ""
    key: str = ""  # tool_call_id / request_id: entries with the same key update in place
    continued: bool = False  # the rest of the previous entry's text (split at ENTRY_TEXT_LIMIT)
    serial: int = 0  # position in the stream's history; tells whether the entry is still in `entries`


@dataclass
class AgentStream:
    entries: deque = field(default_factory=lambda: deque(maxlen=STREAM_LIMIT))
    by_key: dict[str, StreamEntry] = field(default_factory=dict)
    plan: list[dict] = field(default_factory=list)
    version: int = 0  # bumped on every change, so a widget can tell it must redraw
    appended: int = 0  # entries ever appended (the deque keeps the last STREAM_LIMIT)

    def _append(self, entry: StreamEntry) -> None:
        entry.serial = self.appended
        self.appended += 1
        self.entries.append(entry)

    def _alive(self, entry: StreamEntry) -> bool:
        return entry.serial >= self.appended - len(self.entries)

    def add_text(self, kind: str, text: str) -> None:
        # The hottest path of a fold (most events are message chunks): locals, and one length check that
        # decides the usual case.
        entries = self.entries
        if entries and (kind == "message" or kind == "thought"):
            last = entries[-1]
            if last.kind == kind and not last.key:
                last_text = last.text
                if not last_text.endswith("\n\n"):
                    size = len(last_text) + len(text)
                    if size <= ENTRY_TEXT_LIMIT or (size <= ENTRY_TEXT_HARD_LIMIT and not last_text.endswith("\n")
                                                     and not text.startswith("\n")):
                        # Appended in place: with the entry's reference dropped, `+=` on the only reference
                        # grows the string where it is (CPython), instead of copying up to the limit per chunk.
                        last.text = ""
                        last_text += text
                        last.text = last_text
                    else:
                        self._append(StreamEntry(kind=kind, text=text, continued=True))
                    self.version += 1
                    return
        self._append(StreamEntry(kind=kind, text=text))
        self.version += 1

    def upsert(self, kind: str, key: str, text: str, status: str) -> None:
        entry = self.by_key.get(key)
        if entry is None or entry.serial < self.appended - len(self.entries):  # new, or fallen out of the deque
            old_text = entry.text if entry is not None else ""
            entry = StreamEntry(kind=kind, text=text or old_text or kind, status=status, key=key)
            self._append(entry)
            self.by_key[key] = entry
            if len(self.by_key) > STREAM_LIMIT * 2:
                self.by_key = {k: v for k, v in self.by_key.items() if self._alive(v)}
        else:
            if text:
                entry.text = text
            if status:
                entry.status = status
        self.version += 1


@dataclass
class TaskView:
    id: str
    title: str
    status: str = "proposed"
    dependencies: list[str] = field(default_factory=list)
    write_set: list[str] = field(default_factory=list)
    read_set: list[str] = field(default_factory=list)
    risk: str = "low"
    reason: str = ""
    slice_id: str | None = None
    attempts: int = 0


@dataclass
class GateView:
    scope: str
    name: str
    command_line: str = ""
    running: bool = True
    line_count: int = 0
    log_path: str | None = None
    result: GateResult | None = None
    started_at: datetime | None = None

    @property
    def status(self) -> str:
        if self.running:
            return "running"
        assert self.result is not None
        if self.result.skipped:
            return "skipped"
        if self.result.timed_out:
            return "timeout"
        if self.result.passed:
            return "passed"
        if self.result.only_baseline_failures:
            return "as baseline"  # red only where the base commit was red: not the slice's doing
        return "failed" if self.result.required else "failed (optional)"


@dataclass
class SliceView:
    slice_id: str
    task_id: str
    title: str = ""
    branch: str = ""
    worktree: str | None = None
    dependencies: list[str] = field(default_factory=list)
    gates: list[str] = field(default_factory=list)
    review_needs: list[str] = field(default_factory=list)
    write_set: list[str] = field(default_factory=list)
    state: str = "planned"
    attempt: int = 0
    reason: str = ""
    commit: str | None = None
    changed_files: list[str] = field(default_factory=list)
    insertions: int = 0
    deletions: int = 0
    lease_expires_at: datetime | None = None
    agent_alive: bool = False


@dataclass
class PermissionView:
    request_id: str
    slice_id: str | None
    tool: str
    command: str = ""
    paths: list[str] = field(default_factory=list)
    diff: str = ""
    scope: list[str] = field(default_factory=list)


@dataclass
class GoalView:
    goal_id: str
    goal: str = ""
    repo: str = ""
    status: str = "running"
    phase: str = "intake"
    created_at: datetime | None = None
    last_ts: datetime | None = None
    first_ts: datetime | None = None
    options: dict = field(default_factory=dict)
    budget: dict = field(default_factory=dict)
    tasks: dict[str, TaskView] = field(default_factory=dict)
    slices: dict[str, SliceView] = field(default_factory=dict)
    overlaps: list[dict] = field(default_factory=list)
    gates: dict[tuple[str, str], GateView] = field(default_factory=dict)
    streams: dict[str, AgentStream] = field(default_factory=dict)
    permissions: dict[str, PermissionView] = field(default_factory=dict)
    reviews: dict[tuple[str, str], dict] = field(default_factory=dict)
    narrative: deque = field(default_factory=lambda: deque(maxlen=NARRATIVE_LIMIT))
    conflicts: list[dict] = field(default_factory=list)
    scope_refusals: list[dict] = field(default_factory=list)
    tokens_in: int = 0
    tokens_out: int = 0
    usd: float = 0.0
    blocker: str | None = None
    readiness: str = ""
    proof_path: str | None = None
    delivery: dict = field(default_factory=dict)
    controller_pid: int | None = None
    running_turns: set[str] = field(default_factory=set)
    last_seq: int = 0
    events_applied: int = 0
    gaps: int = 0
    log_offset: int = field(default=0, compare=False)  # `load_view`: the log's byte offset after the last line read
    payload_errors: int = 0  # events whose payload did not have the fields its kind needs (skipped)
    overlap_keys: set = field(default_factory=set)
    # When the budget's spent time was last recorded while the goal ran (its run's start, a budget checkpoint):
    # the time since then is spent too, as long as the run goes on.
    clock_ts: datetime | None = None

    # ------------------------------------------------------------ derived
    @property
    def progress(self) -> tuple[int, int]:
        """Slices committed or merged, and slices planned."""
        done = sum(1 for s in self.slices.values() if s.state in ("committed", "merged"))
        return done, len(self.slices)

    @property
    def task_progress(self) -> tuple[int, int]:
        """Tasks done, and tasks accepted (the goals list's measure, as `state.summary` reads it from the graph)."""
        accepted = [t for t in self.tasks.values() if t.status not in ("proposed", "rejected")]
        return sum(1 for t in accepted if t.status == "done"), len(accepted)

    def stream(self, scope: str | None) -> AgentStream:
        key = scope or GOAL_SCOPE
        s = self.streams.get(key)
        if s is None:
            s = self.streams[key] = AgentStream()
        return s

    @property
    def elapsed_secs(self) -> float:
        """The time the goal has run, as recorded (paused and crashed spells are not counted)."""
        spent = self.budget.get("spent_time_secs")
        if spent or self.clock_ts is not None:
            return float(spent or 0.0)
        if self.first_ts and self.last_ts:  # a log from before runs recorded their time
            return (self.last_ts - self.first_ts).total_seconds()
        return 0.0

    def spent(self, now: datetime | None = None, budget: dict | None = None) -> dict:
        """What the goal spent: `spent_time_secs` (`time_spent(now)`), and the tokens and USD of `budget` (default
        the recorded one), or what the fold counted when that is more (usage reported after the last record)."""
        b = (self.budget if budget is None else budget) or {}
        return {"spent_time_secs": self.time_spent(now),
                "spent_tokens": max(int(b.get("spent_tokens") or 0), self.tokens_in + self.tokens_out),
                "spent_usd": max(float(b.get("spent_usd") or 0.0), self.usd)}

    def time_spent(self, now: datetime | None = None) -> float:
        """`elapsed_secs`, and with `now` (the goal's run going on) the time since it was last recorded."""
        spent = self.elapsed_secs
        if now is not None and self.status == "running" and self.clock_ts is not None:
            spent += max(0.0, (now - self.clock_ts).total_seconds())
        return spent


# What a handler raises for a payload missing what its kind needs (counted in `payload_errors`).
_PAYLOAD_ERRORS = (KeyError, TypeError, ValueError, AttributeError)


def _slice_of(p: dict) -> str:
    return p.get("slice_id") or GOAL_SCOPE


def apply(view: GoalView, ev: Record) -> GoalView:
    """Fold one event into the view (mutates and returns it). `ev` is an Event or, as a large log's fast read gives
    it, an `Envelope`: both have the envelope's fields as attributes."""
    if ev.seq > view.last_seq:
        view.last_seq = ev.seq
    view.events_applied += 1
    view.last_ts = ev.ts
    if view.first_ts is None:
        view.first_ts = ev.ts
    handler = _HANDLERS.get(ev.kind)
    if handler is not None:
        try:
            handler(view, ev.payload, ev)
        except _PAYLOAD_ERRORS:
            # A well-formed envelope with a payload missing what its kind needs: the view skips it rather
            # than crash the UI, and says how many were skipped.
            view.payload_errors += 1
    return view


def fold(goal_id: str, events, gaps: int = 0) -> GoalView:
    view = GoalView(goal_id=goal_id, gaps=gaps)
    for ev in events:
        apply(view, ev)
    return view


def load_view(path, goal_id: str | None = None, *, between_blocks=None) -> GoalView:
    """Fold a whole event log file into a view, streaming (constant memory); unreadable lines count as gaps.

    The same view as ``fold(goal_id, iter_events(path))`` with the gaps counted, built faster: the log is
    decoded a block at a time (see `iter_record_blocks`), and the envelope fields every event sets (seq, ts, the
    count) are kept in locals and written to the view once at the end (no handler reads them). `between_blocks`
    is called after each block of about 250 events (a UI thread worker sleeps an instant there, so the UI's event
    loop gets the interpreter lock); `log_offset` says where following the log goes on.
    """
    import gc
    from pathlib import Path

    from omk_tui.state.eventlog import ReadResult, iter_record_blocks

    path = Path(path)
    counter = ReadResult()
    view = GoalView(goal_id=goal_id or path.parent.name)
    get_handler = _HANDLERS.get
    skipped = _PAYLOAD_ERRORS
    last_seq = view.last_seq
    applied = 0
    first = last = None
    # The fold allocates millions of short-lived objects and no cycles; the cyclic GC would only rescan them.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for block in iter_record_blocks(path, 0, counter):
            if not block:
                continue
            if first is None:
                first = block[0]
            last = block[-1]
            applied += len(block)
            for ev in block:
                seq = ev.seq
                if seq > last_seq:
                    last_seq = seq
                handler = get_handler(ev.kind)
                if handler is not None:
                    try:
                        handler(view, ev.payload, ev)
                    except skipped:
                        view.payload_errors += 1
            if between_blocks is not None:
                between_blocks()
    finally:
        if was_enabled:
            gc.enable()
    view.log_offset = counter.offset
    view.last_seq = last_seq
    view.events_applied = applied
    if first is not None:
        view.first_ts = first.ts
        view.last_ts = last.ts
    view.gaps = counter.gaps
    return view


# ---------------------------------------------------------------- handlers
def _goal_created(v: GoalView, p: dict, ev: Record) -> None:
    v.goal = p.get("goal", "")
    v.repo = p.get("repo", "")
    v.options = p.get("options", {})
    v.budget = p.get("budget", {})
    v.created_at = ev.ts


def _run_started(v: GoalView, p: dict, ev: Record) -> None:
    v.clock_ts = ev.ts
    v.controller_pid = p.get("pid")
    v.status = "running"
    v.blocker = None


def _run_finished(v: GoalView, p: dict, ev: Record) -> None:
    v.status = p.get("status", v.status)
    v.readiness = p.get("readiness", v.readiness)
    if p.get("reason") and v.status != "ready":
        v.blocker = p["reason"]
    v.controller_pid = None
    budget = p.get("budget")
    if budget and isinstance(budget, dict):  # with the time spent, to the run's end
        v.budget = dict(budget)
    _no_agent_runs(v)


def _run_failed(v: GoalView, p: dict, ev: Record) -> None:
    v.status = "failed_infra"
    v.blocker = p.get("error")
    v.controller_pid = None


def _phase(v: GoalView, p: dict, ev: Record) -> None:
    v.phase = p.get("phase", v.phase)


def _status(v: GoalView, p: dict, ev: Record) -> None:
    v.status = p.get("status", v.status)
    if v.status == "ready":
        v.blocker = None  # e.g. a delivery blocked on GitHub, then switched to local: nothing blocks it now
    elif p.get("reason") and v.status != "running":
        v.blocker = p["reason"]
    if v.status != "running":
        # Only a run's end leaves `running` (a controller's stop, or `cancel` of a goal whose controller died,
        # where no turn_finished was ever written): no agent of the goal runs any more.
        _no_agent_runs(v)


def _no_agent_runs(v: GoalView) -> None:
    v.running_turns.clear()
    v.permissions.clear()  # a question of a run that ended has no one left to answer it
    for s in v.slices.values():
        s.agent_alive = False


def _narrative(v: GoalView, p: dict, ev: Record) -> None:
    v.narrative.append((ev.ts, p.get("step", ""), p.get("summary", "")))


def _task_proposed(v: GoalView, p: dict, ev: Record) -> None:
    t = p.get("task", {})
    tid = str(t.get("id", "?"))
    v.tasks[tid] = TaskView(
        id=tid,
        title=str(t.get("title", "")),
        dependencies=list(t.get("dependencies", []) or []),
        write_set=list(t.get("write_set", []) or []),
        read_set=list(t.get("read_set", []) or []),
        risk=str(t.get("risk", "low")),
    )


def _task_accepted(v: GoalView, p: dict, ev: Record) -> None:
    t = v.tasks.get(p.get("task_id", ""))
    if t:
        t.status = "pending"


def _task_rejected(v: GoalView, p: dict, ev: Record) -> None:
    tid = p.get("task_id", "?")
    t = v.tasks.setdefault(tid, TaskView(id=tid, title=tid))
    t.status = "rejected"
    t.reason = p.get("reason", "")


def _task_status(v: GoalView, p: dict, ev: Record) -> None:
    tid = p.get("task_id", "?")
    t = v.tasks.setdefault(tid, TaskView(id=tid, title=tid))
    t.status = p.get("status", t.status)
    if p.get("reason"):
        t.reason = p["reason"]


def _slice_planned(v: GoalView, p: dict, ev: Record) -> None:
    sid = p["slice_id"]
    s = v.slices.get(sid)
    if s is None:
        s = v.slices[sid] = SliceView(slice_id=sid, task_id=p.get("task_id", sid))
    s.title = p.get("title", s.title)
    s.branch = p.get("branch", s.branch)
    s.worktree = p.get("worktree", s.worktree)
    s.dependencies = list(p.get("dependencies", []))
    s.gates = list(p.get("gates", []))
    s.review_needs = list(p.get("review_needs", []))
    s.write_set = list(p.get("write_set", []))
    t = v.tasks.get(s.task_id)
    if t:
        t.slice_id = sid


def _overlap(v: GoalView, p: dict, ev: Record) -> None:
    key = (p.get("blocked_slice_id"), p.get("serializes_after"), p.get("kind"), p.get("path"))
    if key not in v.overlap_keys:
        v.overlap_keys.add(key)
        v.overlaps.append(dict(p))


def _slice_state(v: GoalView, p: dict, ev: Record) -> None:
    sid = p["slice_id"]
    s = v.slices.setdefault(sid, SliceView(slice_id=sid, task_id=sid))
    s.state = p.get("state", s.state)
    s.attempt = p.get("attempt") or s.attempt
    s.reason = p.get("reason", "")
    if p.get("commit"):
        s.commit = p["commit"]
    if p.get("changed_files"):
        s.changed_files = list(p["changed_files"])
        s.insertions = p.get("insertions", 0)
        s.deletions = p.get("deletions", 0)
    t = v.tasks.get(s.task_id)
    if t:
        t.attempts = max(t.attempts, s.attempt)
        t.status = _TASK_STATUS_OF_SLICE.get(s.state, t.status)


_TASK_STATUS_OF_SLICE = {"running": "running", "gates": "running", "committed": "done", "merged": "done",
                         "blocked": "blocked", "failed": "failed", "pending": "pending"}


def _lease(v: GoalView, p: dict, ev: Record) -> None:
    s = v.slices.get(p.get("slice_id", ""))
    if s:
        when = p.get("expires_at") if ev.kind == "lease_claimed" else None
        s.lease_expires_at = datetime.fromisoformat(when) if isinstance(when, str) else when


def _turn_started(v: GoalView, p: dict, ev: Record) -> None:
    scope = _slice_of(p)
    v.running_turns.add(scope)
    if scope in v.slices:
        v.slices[scope].agent_alive = True
    role = p.get("role", "agent")
    why = {"gates": " · after a gate failure", "review": " · review cleanup", "conflict": " · after a merge conflict",
           "baseline": " · tests red at baseline", "no_change": " · after a turn that changed nothing"}
    v.stream(scope).add_text(
        "turn", f"── {role} · attempt {p.get('attempt', 1)}{why.get(p.get('reason', ''), '')} · {p.get('agent', '')}")


def _turn_finished(v: GoalView, p: dict, ev: Record) -> None:
    scope = _slice_of(p)
    v.running_turns.discard(scope)
    if scope in v.slices:
        v.slices[scope].agent_alive = False
    text = f"── turn ended: {p.get('stop_reason', '?')}"
    if p.get("error"):
        text += f" — {p['error']}"
    v.stream(scope).add_text("turn", text)


def _text(p: dict) -> str:
    text = p.get("text", "")
    if type(text) is not str:  # an entry's text is always a string (the agent pane draws it)
        raise TypeError("the text is not a string")
    return text


def _message(v: GoalView, p: dict, ev: Record) -> None:
    # the hottest handler (most events of a run are message chunks): one dict lookup for the stream
    scope = p.get("slice_id") or GOAL_SCOPE
    stream = v.streams.get(scope) or v.stream(scope)
    stream.add_text("message", _text(p))


def _thought(v: GoalView, p: dict, ev: Record) -> None:
    v.stream(_slice_of(p)).add_text("thought", _text(p))


def _stderr(v: GoalView, p: dict, ev: Record) -> None:
    v.stream(_slice_of(p)).add_text("stderr", _text(p))


def _tool(v: GoalView, p: dict, ev: Record) -> None:
    # An update that only carries a status keeps the text the call started with.
    title = p.get("title") or p.get("kind") or ""
    paths = p.get("paths")
    if paths and not any(x in title for x in paths):
        text = f"{title or 'tool'} ({', '.join(paths)})"
    else:
        text = title or ("tool" if paths else "")
    v.stream(_slice_of(p)).upsert("tool", "tool:" + p.get("tool_call_id", ""), text, p.get("status", ""))


def _plan(v: GoalView, p: dict, ev: Record) -> None:
    st = v.stream(_slice_of(p))
    st.plan = list(p.get("entries", []))
    st.version += 1


def permission_label(tool: str, command: str) -> str:
    """A permission request in one line: the tool's title and the command, which the title often already holds
    (kimi's and the scripted agent's titles are like ``Shell: mkdir -p docs``)."""
    tool, command = str(tool or ""), str(command or "")
    if not command or command in tool:
        return tool
    return f"{tool} {command}".strip()


def _perm_asked(v: GoalView, p: dict, ev: Record) -> None:
    rid = p["request_id"]
    v.permissions[rid] = PermissionView(
        request_id=rid, slice_id=p.get("slice_id"), tool=p.get("tool", ""), command=p.get("command", ""),
        paths=list(p.get("paths", [])), diff=p.get("diff", ""), scope=list(p.get("scope", [])),
    )
    text = f"permission? {permission_label(p.get('tool', ''), p.get('command', ''))}".rstrip()
    v.stream(_slice_of(p)).upsert("permission", "perm:" + rid, text, "asked")


def _perm_decided(v: GoalView, p: dict, ev: Record) -> None:
    rid = p["request_id"]
    v.permissions.pop(rid, None)
    v.stream(_slice_of(p)).upsert("permission", "perm:" + rid, "", f"{p.get('decision', '')} by {p.get('by', '')}")


def _scope_refused(v: GoalView, p: dict, ev: Record) -> None:
    v.scope_refusals.append(dict(p))
    text = f"refused {p.get('operation', '')} {p.get('path', '')}: {p.get('reason', '')}"
    v.stream(_slice_of(p)).add_text("stderr", text)


def _usage(v: GoalView, p: dict, ev: Record) -> None:
    v.tokens_in += int(p.get("input_tokens", 0))
    v.tokens_out += int(p.get("output_tokens", 0))
    v.usd += float(p.get("usd", 0.0))


def _gate_started(v: GoalView, p: dict, ev: Record) -> None:
    key = (p["scope"], p["name"])
    v.gates[key] = GateView(scope=p["scope"], name=p["name"], command_line=p.get("command_line", ""),
                            log_path=p.get("log_path"), started_at=ev.ts)
    if p["scope"] in v.slices and v.slices[p["scope"]].state == "running":
        v.slices[p["scope"]].state = "gates"


def _gate_progress(v: GoalView, p: dict, ev: Record) -> None:
    g = v.gates.get((p["scope"], p["name"]))
    if g and g.running:
        g.line_count = p.get("line_count", g.line_count)


def _gate_finished(v: GoalView, p: dict, ev: Record) -> None:
    result = GateResult.model_validate(p["result"])
    key = (p["scope"], result.name)
    g = v.gates.get(key) or GateView(scope=p["scope"], name=result.name)
    g.running = False
    g.result = result
    g.line_count = result.line_count
    g.log_path = result.log_path or g.log_path
    g.command_line = result.command_line
    v.gates[key] = g


def _merged(v: GoalView, p: dict, ev: Record) -> None:
    s = v.slices.get(p.get("slice_id", ""))
    if s:
        s.state = "merged"


def _conflict(v: GoalView, p: dict, ev: Record) -> None:
    v.conflicts.append(dict(p))


def _review(v: GoalView, p: dict, ev: Record) -> None:
    v.reviews[(p.get("scope", "goal"), p.get("kind", "?"))] = dict(p)


def _budget(v: GoalView, p: dict, ev: Record) -> None:
    v.budget = dict(p.get("budget", v.budget))
    v.clock_ts = ev.ts


def _paused(v: GoalView, p: dict, ev: Record) -> None:
    v.status = "paused"


def _cancelled(v: GoalView, p: dict, ev: Record) -> None:
    v.status = "cancelled"


def _resumed(v: GoalView, p: dict, ev: Record) -> None:
    v.status = "running"
    v.blocker = None


def _proof(v: GoalView, p: dict, ev: Record) -> None:
    v.proof_path = p.get("path")
    v.readiness = p.get("readiness", "")
    v.blocker = p.get("blocker") or (None if p.get("readiness") == "ready" else v.blocker)


def _delivery(v: GoalView, p: dict, ev: Record) -> None:
    v.delivery = dict(p)


_HANDLERS = {
    "goal_created": _goal_created,
    "run_started": _run_started,
    "run_finished": _run_finished,
    "run_failed": _run_failed,
    "phase_changed": _phase,
    "status_changed": _status,
    "narrative": _narrative,
    "task_proposed": _task_proposed,
    "task_accepted": _task_accepted,
    "task_rejected": _task_rejected,
    "task_status": _task_status,
    "slice_planned": _slice_planned,
    "overlap_serialized": _overlap,
    "slice_state": _slice_state,
    "lease_claimed": _lease,
    "lease_released": _lease,
    "lease_expired": _lease,
    "agent_turn_started": _turn_started,
    "agent_turn_finished": _turn_finished,
    "agent_message_chunk": _message,
    "agent_thought_chunk": _thought,
    "agent_stderr": _stderr,
    "agent_tool_call": _tool,
    "agent_plan": _plan,
    "permission_asked": _perm_asked,
    "permission_decided": _perm_decided,
    "scope_refused": _scope_refused,
    "usage": _usage,
    "gate_started": _gate_started,
    "gate_progress": _gate_progress,
    "gate_finished": _gate_finished,
    "integration_merged": _merged,
    "integration_conflict": _conflict,
    "review_finished": _review,
    "budget_checkpoint": _budget,
    "budget_exhausted": _budget,
    "budget_extended": _budget,
    "goal_paused": _paused,
    "goal_resumed": _resumed,
    "goal_cancelled": _cancelled,
    "proof_written": _proof,
    "delivery": _delivery,
}
