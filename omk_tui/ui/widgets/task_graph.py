"""The task graph as an ordered table: dependencies first, indented by depth, with overlap serializations."""

from __future__ import annotations

from rich.text import Text

from omk_tui.projection import GoalView, TaskView
from omk_tui.ui.format import SLICE_STYLE, TASK_ICON
from omk_tui.ui.widgets.row_table import RowTable


def ordered_tasks(tasks: dict[str, TaskView]) -> list[tuple[TaskView, int]]:
    """Tasks in dependency order (stable by id), each with its depth in the graph."""
    depth: dict[str, int] = {}

    def depth_of(tid: str, seen: frozenset = frozenset()) -> int:
        if tid in depth:
            return depth[tid]
        t = tasks.get(tid)
        if t is None or tid in seen:
            return 0
        d = 1 + max((depth_of(dep, seen | {tid}) for dep in t.dependencies if dep in tasks), default=-1)
        depth[tid] = d
        return d

    for tid in tasks:
        depth_of(tid)
    out: list[tuple[TaskView, int]] = []
    placed: set[str] = set()

    def place(t: TaskView) -> None:
        if t.id in placed:
            return
        placed.add(t.id)
        out.append((t, depth[t.id]))
        for child in sorted(tasks.values(), key=lambda c: c.id):
            if t.id in child.dependencies and all(d in placed or d not in tasks for d in child.dependencies):
                place(child)

    for t in sorted(tasks.values(), key=lambda t: (depth[t.id], t.id)):
        if depth[t.id] == 0:
            place(t)
    for t in sorted(tasks.values(), key=lambda t: (depth[t.id], t.id)):
        place(t)
    return out


class TaskGraphTable(RowTable):
    COLUMNS = (("icon", " "), ("id", "task"), ("title", "title"), ("deps", "needs"), ("waits", "serialized after"),
               ("attempts", "try"), ("slice", "slice"))

    def show_view(self, view: GoalView) -> None:
        waits: dict[str, list[str]] = {}
        for o in view.overlaps:
            waits.setdefault(o.get("blocked_slice_id", ""), []).append(
                f"{o.get('serializes_after')} ({o.get('kind')} {o.get('path', '').rsplit('/', 1)[-1]})")
        rows = []
        for t, depth in ordered_tasks(view.tasks):
            icon, style = TASK_ICON.get(t.status, ("·", ""))
            indent = "  " * depth + ("└ " if depth else "")
            title = Text(indent + t.title, no_wrap=True, overflow="ellipsis",
                         style="dim" if t.status in ("rejected", "done") else "")
            sl = view.slices.get(t.slice_id or "")
            slice_cell = Text(t.slice_id or "-", style=SLICE_STYLE.get(sl.state, "") if sl else "dim")
            rows.append((t.id, [Text(icon, style=style), t.id, title, ",".join(t.dependencies) or "-",
                                Text("; ".join(waits.get(t.slice_id or "", [])) or "-", style="yellow"
                                     if waits.get(t.slice_id or "") else "dim"),
                                str(t.attempts or "-"), slice_cell]))
        self.set_rows(rows)
