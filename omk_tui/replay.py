"""Replay of a recorded goal: a paced clock over the event log, seeking, and a deterministic text rendering.

No textual here: the TUI drives a `ReplayClock` from a timer and folds the events it hands out with
`omk_tui.projection.apply` (the same fold as a live run); a seek takes `Recording.view_at`, which folds forward
from the nearest checkpoint of the view. `omk-tui replay --headless` folds the whole log (`final_view`) and
prints `render_text()` / `render_json()`, which depend only on the log's content (no wall clock, stable order).
"""

from __future__ import annotations

import bisect
import pickle
import threading
import zlib
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from omk_tui.models.events import Event
from omk_tui.projection import GOAL_SCOPE, GoalView, apply, load_view
from omk_tui.render.text import fit
from omk_tui.state.envelope import line_blocks
from omk_tui.state.eventlog import iter_events, parse_line, read_record

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
MAX_IDLE_SECS = 2.0  # recorded pauses longer than this are shortened, so a replay never sits still for minutes
# A checkpoint of the folded view is kept every this many events (more on a long log: at most MAX_CHECKPOINTS),
# so a seek folds at most that many events forward from the nearest one instead of the whole log from its start.
CHECKPOINT_EVERY = 2000
MAX_CHECKPOINTS = 128
_MICROSECOND = timedelta(microseconds=1)


class RecordedEvents(Sequence[Event]):
    """A recording's events, parsed from their lines when asked for (`len`, index, slice, iteration): holding
    every parsed Event of a 160,000-event log took about 310 MB, its lines take about as much as the file."""

    def __init__(self, lines: list[bytes]) -> None:
        self._lines = lines

    def __len__(self) -> int:
        return len(self._lines)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [parse_line(raw) for raw in self._lines[index]]
        return parse_line(self._lines[index])

    def __iter__(self) -> Iterator[Event]:
        for raw in self._lines:
            yield parse_line(raw)


class Recording:
    """A goal's recorded events: the line of each readable event, kept as bytes and parsed again when handed out,
    and each event's time. `view_at` folds forward from the nearest checkpoint of the view (a compressed pickle,
    kept every `checkpoint_every` events as folds pass them), so a seek, or a step back, costs at most that
    many events; `build_checkpoints` makes them all in one pass (the TUI runs it in a worker)."""

    def __init__(self, goal_id: str, lines: list[bytes], stamps: Sequence[int], gaps: int = 0) -> None:
        self.goal_id = goal_id
        self.lines = lines
        self.stamps = stamps  # each event's time, in microseconds after the first event's
        self.gaps = gaps
        self.events = RecordedEvents(lines)
        self.checkpoint_every = max(CHECKPOINT_EVERY, -(-len(lines) // MAX_CHECKPOINTS))
        self._checkpoints: dict[int, bytes] = {}
        self._lock = threading.Lock()

    @classmethod
    def load(cls, events_path: Path, goal_id: str | None = None) -> "Recording":
        lines: list[bytes] = []
        stamps = array("q")
        gaps = 0
        first = None
        gid = goal_id
        try:
            for block, _end in line_blocks(Path(events_path)):
                for raw in block:
                    record = read_record(raw)
                    if record is None:
                        if raw and not raw.isspace():
                            gaps += 1
                        continue
                    ts = record.ts
                    if first is None:
                        first = ts
                        if gid is None:
                            gid = record.goal_id
                    try:
                        stamp = (ts - first) // _MICROSECOND
                    except TypeError:  # a time without a zone among times with one: no pause before it
                        stamp = stamps[-1] if stamps else 0
                    lines.append(raw)
                    stamps.append(stamp)
        except FileNotFoundError:
            pass
        return cls(goal_id=gid or Path(events_path).parent.name, lines=lines, stamps=stamps, gaps=gaps)

    def __len__(self) -> int:
        return len(self.lines)

    # ------------------------------------------------------------ folding
    def checkpoint_at(self, position: int) -> int:
        """The position of the checkpoint a fold to `position` starts from (0: the start)."""
        every = self.checkpoint_every
        at = min(position, len(self.lines)) // every * every
        while at and at not in self._checkpoints:
            at -= every
        return at

    def fold_cost(self, position: int) -> int:
        """How many events `view_at(position)` folds."""
        position = max(0, min(position, len(self.lines)))
        return position - self.checkpoint_at(position)

    def view_at(self, position: int, *, between_blocks: Callable[[], None] | None = None) -> GoalView:
        """The view after the first `position` events (a fresh object each time: the caller may change it)."""
        position = max(0, min(position, len(self.lines)))
        at = self.checkpoint_at(position)
        view = pickle.loads(zlib.decompress(self._checkpoints[at])) if at else GoalView(goal_id=self.goal_id,
                                                                                       gaps=self.gaps)
        every = self.checkpoint_every
        lines = self.lines
        for i in range(at, position):
            record = read_record(lines[i])
            if record is not None:  # always: only readable lines are kept
                apply(view, record)
            done = i + 1
            if done % every == 0:
                if done not in self._checkpoints:
                    blob = zlib.compress(pickle.dumps(view, protocol=pickle.HIGHEST_PROTOCOL), 1)
                    with self._lock:
                        self._checkpoints.setdefault(done, blob)
                if between_blocks is not None:
                    between_blocks()
        return view

    def build_checkpoints(self, between_blocks: Callable[[], None] | None = None) -> None:
        """Fold the whole recording once, keeping every checkpoint (seeks are then cheap everywhere)."""
        self.view_at(len(self.lines), between_blocks=between_blocks)


def final_view(events_path: Path, goal_id: str | None = None) -> GoalView:
    """The view after every event of a log: `Recording.load(...).view_at(len)`, folded by the engine's fast
    streaming fold (`projection.load_view`) without keeping the log's lines."""
    path = Path(events_path)
    if goal_id is None:  # the goal the first readable event names, as `Recording.load` takes it
        goal_id = next((ev.goal_id for ev in iter_events(path)), None)
    return load_view(path, goal_id)


@dataclass
class ReplayClock:
    """Hands out recorded events paced by their timestamps (scaled by `speed`, long pauses shortened)."""

    recording: Recording
    speed: float = 1.0
    playing: bool = True
    position: int = 0  # events handed out so far
    virtual: float = 0.0  # seconds into the replay
    times: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        t = 0.0
        prev = None
        times = []
        for stamp in self.recording.stamps:
            if prev is not None:
                t += min(max((stamp - prev) / 1_000_000, 0.0), MAX_IDLE_SECS)
            times.append(t)
            prev = stamp
        self.times = times

    @property
    def total(self) -> int:
        return len(self.recording)

    @property
    def duration(self) -> float:
        return self.times[-1] if self.times else 0.0

    @property
    def fraction(self) -> float:
        return self.position / self.total if self.total else 1.0

    @property
    def at_end(self) -> bool:
        return self.position >= self.total

    def tick(self, wall_dt: float) -> list[Event]:
        """Advance by `wall_dt` real seconds; return the events now due."""
        if not self.playing or self.at_end:
            return []
        self.virtual += wall_dt * self.speed
        end = bisect.bisect_right(self.times, self.virtual, lo=self.position)
        return self._take(end)

    def step(self) -> list[Event]:
        """Exactly one more event (pauses the clock)."""
        self.playing = False
        return self._take(min(self.position + 1, self.total))

    def _take(self, end: int) -> list[Event]:
        out = self.recording.events[self.position:end]
        self.position = end
        if out:
            self.virtual = max(self.virtual, self.times[end - 1])
        if self.at_end:
            self.playing = False
        return out

    def seek(self, position: int) -> None:
        """Jump to just after `position` events; the caller refolds (`recording.view_at(position)`)."""
        self.position = max(0, min(position, self.total))
        self.virtual = self.times[self.position - 1] if self.position else 0.0

    def seek_fraction(self, fraction: float) -> None:
        self.seek(round(max(0.0, min(1.0, fraction)) * self.total))

    def toggle(self) -> bool:
        """Play or pause; at the end, play again from the start (the caller refolds at position 0)."""
        if self.at_end:
            self.seek(0)
            self.playing = True
        else:
            self.playing = not self.playing
        return self.playing

    def faster(self) -> float:
        bigger = [s for s in SPEEDS if s > self.speed]
        self.speed = bigger[0] if bigger else self.speed
        return self.speed

    def slower(self) -> float:
        smaller = [s for s in SPEEDS if s < self.speed]
        self.speed = smaller[-1] if smaller else self.speed
        return self.speed


# ---------------------------------------------------------------- deterministic rendering
def _gate_line(g) -> dict:
    r = g.result
    return {
        "scope": g.scope, "name": g.name, "status": g.status,
        "exit_code": r.exit_code if r else None, "duration_ms": r.duration_ms if r else None,
        "lines": g.line_count, "log": g.log_path,
    }


def _gate_order(key: tuple[str, str]) -> tuple:
    scope, name = key
    rank = 0 if scope == "baseline" else (2 if scope == "final" else 1)
    return (rank, scope, name)


def render_json(view: GoalView, events: int | None = None) -> dict:
    """A plain, stable dict of what the view shows (sorted keys; no wall-clock values)."""
    done, total = view.progress
    budget = view.budget or {}
    spent = view.spent(view.last_ts)
    return {
        "goal_id": view.goal_id,
        "goal": view.goal,
        "status": view.status,
        "phase": view.phase,
        "readiness": view.readiness,
        "blocker": view.blocker,
        "progress": {"done": done, "total": total},
        "events": view.events_applied if events is None else events,
        "known_gaps": view.gaps,
        "recorded_secs": round(spent["spent_time_secs"], 3),  # the time run up to the last event
        "tokens": {"input": view.tokens_in, "output": view.tokens_out},
        "usd": round(view.usd, 6),
        # the recorded limits; spent as the TUI's status line counts it (the fold's tokens/USD when more than
        # recorded, the time run up to the last event): the same figures as `tokens`, `usd` and `recorded_secs`
        "budget": {k: budget.get(k) for k in sorted(budget)} | {
            "spent_time_secs": round(spent["spent_time_secs"], 3), "spent_tokens": spent["spent_tokens"],
            "spent_usd": round(spent["spent_usd"], 6)},
        "tasks": [
            {"id": t.id, "title": t.title, "status": t.status, "dependencies": list(t.dependencies),
             "attempts": t.attempts, "slice": t.slice_id}
            for t in sorted(view.tasks.values(), key=lambda t: t.id)
        ],
        "overlaps": [dict(o) for o in view.overlaps],
        "slices": [
            {"id": s.slice_id, "task": s.task_id, "state": s.state, "attempt": s.attempt, "branch": s.branch,
             "changed_files": list(s.changed_files), "insertions": s.insertions, "deletions": s.deletions,
             "commit": s.commit}
            for s in sorted(view.slices.values(), key=lambda s: s.slice_id)
        ],
        "gates": [_gate_line(view.gates[k]) for k in sorted(view.gates, key=_gate_order)],
        "reviews": [
            {"scope": scope, "kind": kind, "passed": r.get("passed"), "severity": r.get("severity")}
            for (scope, kind), r in sorted(view.reviews.items())
        ],
        "pending_permissions": sorted(view.permissions),
        "proof": view.proof_path,
        "narrative": [{"step": step, "summary": summary} for _ts, step, summary in view.narrative],
    }


def render_text(view: GoalView) -> str:
    """A readable, deterministic rendering of the final view (control characters escaped)."""
    from omk_tui.render.safe import printable_data

    d = printable_data(render_json(view))
    out: list[str] = []
    out.append(f"goal {d['goal_id']}")
    out.append(f"  {d['goal']}")
    status = d["status"] + (f" ({d['readiness']})" if d["readiness"] and d["readiness"] != d["status"] else "")
    out.append(f"status {status} · phase {d['phase']} · slices {d['progress']['done']}/{d['progress']['total']}")
    if d["blocker"]:
        out.append(f"blocker: {d['blocker']}")
    out.append(f"events {d['events']} · known gaps {d['known_gaps']} · recorded {d['recorded_secs']:.1f}s")
    out.append(f"tokens in {d['tokens']['input']} out {d['tokens']['output']} · usd {d['usd']:.4f}")
    out.append("")
    out.append("tasks")
    wid, wst, wsl = fit(d["tasks"], "id", 8), fit(d["tasks"], "status", 9), fit(d["tasks"], "slice", 5)
    for t in d["tasks"]:
        deps = ",".join(t["dependencies"]) or "-"
        out.append(f"  {t['id']:<{wid}} {t['status']:<{wst}} deps {deps:<10} slice {t['slice'] or '-':<{wsl}} "
                   f"attempts {t['attempts']}  {t['title']}")
    for o in d["overlaps"]:
        out.append(f"  overlap: {o.get('blocked_slice_id')} after {o.get('serializes_after')} "
                   f"({o.get('kind')} {o.get('path')})")
    out.append("slices")
    wid, wst = fit(d["slices"], "id", 8), fit(d["slices"], "state", 9)
    for s in d["slices"]:
        out.append(f"  {s['id']:<{wid}} {s['state']:<{wst}} attempt {s['attempt']}  {s['branch']}  "
                   f"+{s['insertions']}/-{s['deletions']}  {', '.join(s['changed_files'])}".rstrip())
    out.append("gates")
    ws, wn, wst = fit(d["gates"], "scope", 9), fit(d["gates"], "name", 12), fit(d["gates"], "status", 9)
    for g in d["gates"]:
        code = "-" if g["exit_code"] is None else g["exit_code"]
        dur = "-" if g["duration_ms"] is None else f"{g['duration_ms'] / 1000:.1f}s"
        out.append(f"  {g['scope']:<{ws}} {g['name']:<{wn}} {g['status']:<{wst}} exit {code!s:<4} {dur:>7}  "
                   f"{g['lines']} lines")
    if d["reviews"]:
        out.append("reviews")
        wsc, wk = fit(d["reviews"], "scope", 9), fit(d["reviews"], "kind", 10)
        for r in d["reviews"]:
            out.append(f"  {r['scope']:<{wsc}} {r['kind']:<{wk}} {'passed' if r['passed'] else 'failed'} "
                       f"({r['severity']})")
    if d["pending_permissions"]:
        out.append("pending permissions: " + ", ".join(d["pending_permissions"]))
    if d["proof"]:
        out.append(f"proof {d['proof']}")
    return "\n".join(out) + "\n"


def stream_scopes(view: GoalView) -> list[str]:
    """Stream scopes in display order: the goal-level stream first, then slices by id."""
    return [GOAL_SCOPE] + sorted(k for k in view.streams if k != GOAL_SCOPE)
