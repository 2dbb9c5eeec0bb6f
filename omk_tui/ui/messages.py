"""Messages from the engine side (workers, threads) to the widgets.

Progress-only messages declare `can_replace`, so a newer one replaces an older one still in the queue.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from textual.message import Message

from omk_tui.projection import GoalView
from omk_tui.state.summary import GoalSummary


class GoalsScanned(Message):
    def __init__(self, goals: list[GoalSummary]) -> None:
        super().__init__()
        self.goals = goals


class GoalFolded(Message):
    """The selected goal's log was read and folded (in a worker); following starts at `view.log_offset`."""

    def __init__(self, goal_id: str, view: GoalView) -> None:
        super().__init__()
        self.goal_id = goal_id
        self.view = view


class ControllerStarted(Message):
    def __init__(self, goal_id: str) -> None:
        super().__init__()
        self.goal_id = goal_id


class ControllerStopped(Message):
    """A controller in this process ended (or never started: `error` says why; `note` says why it was not run)."""

    def __init__(self, goal_id: str, status: str, error: str | None = None, *, note: str | None = None,
                 blocker: str | None = None) -> None:
        super().__init__()
        self.goal_id = goal_id
        self.status = status
        self.error = error
        self.note = note
        self.blocker = blocker  # the proof's blocker of a run that ended other than ready


class LogIndexed(Message):
    """The gate log's line index grew (progress only)."""

    def __init__(self, line_count: int, done: bool) -> None:
        super().__init__()
        self.line_count = line_count
        self.done = done

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, LogIndexed)


@dataclass
class DiffFile:
    path: str
    insertions: int
    deletions: int
    patch: str


@dataclass
class SliceDiff:
    slice_id: str
    source: str  # "worktree" or the branch name
    files: list[DiffFile] = field(default_factory=list)
    error: str = ""

    @property
    def patch(self) -> str:
        return "".join(f.patch for f in self.files)


class DiffReady(Message):
    def __init__(self, diff: SliceDiff) -> None:
        super().__init__()
        self.diff = diff


class ReplayFolded(Message):
    """A replay seek folded in a worker (a long way from the nearest checkpoint): the view at `position`."""

    def __init__(self, seek: int, position: int, view: GoalView) -> None:
        super().__init__()
        self.seek = seek  # which seek this answers: a later one makes it stale
        self.position = position
        self.view = view


class ReplayMoved(Message):
    """The replay position changed (progress only)."""

    def __init__(self, position: int, total: int, playing: bool, speed: float) -> None:
        super().__init__()
        self.position = position
        self.total = total
        self.playing = playing
        self.speed = speed

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ReplayMoved)
