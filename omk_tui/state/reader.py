"""Read a goal folder without writing anything: what `goals`, `show`, `proof` (and an attaching viewer) need.

Tolerant by design: a controller may be writing the folder right now, and a file may be missing or damaged.
Every snapshot is read independently; a problem with one is reported in `problems` and the rest still shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from omk_tui.control.lock import shown_status
from omk_tui.models.goal import GoalState
from omk_tui.models.proof import Proof
from omk_tui.models.tasks import TaskGraph
from omk_tui.projection import GoalView, load_view
from omk_tui.state.store import GoalPaths, StateFileError, load_goal, load_proof, load_task_graph


@dataclass
class GoalBundle:
    paths: GoalPaths
    state: GoalState | None = None
    graph: TaskGraph | None = None
    proof: Proof | None = None
    view: GoalView | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def goal_id(self) -> str:
        return self.paths.goal_id

    @property
    def status(self) -> str:
        """goal.json's status (the controller's snapshot), else what the event log says; `interrupted` for a goal
        recorded as running that no controller holds (see `control.lock.shown_status`)."""
        if self.state is not None:
            recorded = self.state.status.value
        else:
            recorded = self.view.status if self.view is not None else "unknown"
        return shown_status(recorded, self.paths.lock)

    @property
    def phase(self) -> str:
        if self.state is not None:
            return self.state.phase.value
        return self.view.phase if self.view is not None else "unknown"

    @property
    def goal_text(self) -> str:
        if self.state is not None:
            return self.state.original_goal
        return self.view.goal if self.view is not None else ""

    @property
    def progress(self) -> tuple[int, int]:
        return self.view.progress if self.view is not None else (0, 0)


def load_bundle(paths: GoalPaths, *, proof: bool = True, graph: bool = True) -> GoalBundle:
    """Load what exists of a goal: goal.json, task-graph.json, proof.json and the fold of events.jsonl."""
    b = GoalBundle(paths=paths)
    try:
        b.state = load_goal(paths)
    except (StateFileError, LookupError) as exc:
        b.problems.append(str(exc))
    if graph:
        try:
            b.graph = load_task_graph(paths)
        except StateFileError as exc:
            b.problems.append(str(exc))
    if proof:
        try:
            b.proof = load_proof(paths)
        except StateFileError as exc:
            b.problems.append(str(exc))
    try:
        b.view = load_view(paths.events, paths.goal_id)
    except OSError as exc:
        b.problems.append(f"cannot read {paths.events}: {exc.strerror or exc}")
        b.view = GoalView(goal_id=paths.goal_id)
    if b.view.gaps:
        b.problems.append(f"{paths.events}: {b.view.gaps} unreadable line(s) skipped")
    if b.view.payload_errors:
        b.problems.append(f"{paths.events}: {b.view.payload_errors} event(s) with an unusable payload skipped")
    return b
