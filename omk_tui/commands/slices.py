"""`omk-tui slices GRAPH.json`: show how a task graph will run as slices."""

from __future__ import annotations

HELP = "show the slice plan of a task-graph file (order, dependencies, overlaps, gates, branches)"


def register(sub) -> None:
    parser = sub.add_parser(
        "slices",
        help=HELP,
        description="Plan the slices of a task-graph file (task-graph.json of a goal, or any file of the same "
        "shape) and print them in execution order: dependencies, overlap serializations (kind and path), gates, "
        "review needs, branch and worktree names. Nothing is created or changed. Exit 2 when the file cannot be "
        "read or the graph cannot be planned, with the reasons.",
    )
    parser.add_argument("graph", metavar="GRAPH.json", help="the task-graph file")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")
    parser.add_argument("--goal-id", metavar="ID", help="the goal id used in branch and worktree names "
                        "(default: the graph's goal_id)")
    parser.set_defaults(func=run)


def run(args) -> int:
    from pathlib import Path

    from pydantic import ValidationError

    from omk_tui.cli import UsageError
    from omk_tui.models.tasks import TaskGraph
    from omk_tui.planning.slices import SlicePlanError, plan_slices

    path = Path(args.graph)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file; pass the path of a task-graph JSON file") from None
    except IsADirectoryError:
        raise UsageError(f"{path} is a folder; pass the path of a task-graph JSON file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    try:
        graph = TaskGraph.model_validate_json(text)
    except ValidationError as exc:
        raise UsageError(_invalid(path, [_describe(err) for err in exc.errors()])) from None
    try:
        plan = plan_slices(graph, goal_id=args.goal_id)
    except SlicePlanError as exc:
        raise UsageError(_invalid(path, exc.reasons)) from None

    if args.json:
        from omk_tui.commands._common import print_json

        print_json(plan)
    else:
        _print_plan(plan)
    return 0


def _describe(err: dict) -> str:
    if err.get("type") == "json_invalid":
        return f"not valid JSON ({err.get('ctx', {}).get('error', err['msg'])})"
    where = ".".join(str(part) for part in err.get("loc", ())) or "the file"
    return f"{where}: {err['msg']}"


def _invalid(path, reasons: list[str]) -> str:
    lines = [f"{path} is not a plannable task graph:"]
    lines += [f"  - {reason}" for reason in reasons]
    return "\n".join(lines)


def _print_plan(plan) -> None:
    from rich.console import Console
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    from omk_tui.render.safe import printable_data

    plan = type(plan).model_validate(printable_data(plan.model_dump()))  # titles are the file's text
    console = Console(highlight=False)
    console.print(Text.assemble(
        ("Slice plan", "bold"), f" for goal {plan.goal_id}: {len(plan.slices)} slices, "
        f"{len(plan.overlap_serializations)} overlap serializations",
    ))
    if not plan.slices:
        console.print("No task becomes a slice (a slice needs a task that is not done, writes something, and "
                      "has an owner role or writes `project files`).")
    for number, s in enumerate(plan.slices, 1):
        console.print()
        console.print(Text.assemble((f"{number}. {s.slice_id}", "bold"), f"  {s.title}",
                                    (f"  (owner {s.owner_role}, risk {s.risk})", "dim")))
        rows = [
            ("after", ", ".join(s.dependencies) or "-"),
            ("writes", ", ".join(s.write_set) or "-"),
            ("reads", ", ".join(s.read_set) or "-"),
            ("gates", ", ".join(s.gates)),
            ("reviews", ", ".join(s.review_needs)),
            ("branch", s.branch),
            ("worktree", s.worktree_path or s.worktree),
        ]
        grid = Table.grid(padding=(0, 1), pad_edge=True)
        grid.add_column(style="cyan", no_wrap=True)
        grid.add_column(overflow="fold")
        for label, value in rows:
            grid.add_row(label, Text(value))
        console.print(Padding(grid, (0, 0, 0, 2), expand=False))
    if plan.overlap_serializations:
        console.print()
        table = Table(title="Overlap serializations", title_justify="left", title_style="bold")
        table.add_column("slice")
        table.add_column("waits for")
        table.add_column("kind")
        table.add_column("path", overflow="fold")
        for o in plan.overlap_serializations:
            table.add_row(Text(o.blocked_slice_id), Text(o.serializes_after), o.kind, Text(o.path))
        console.print(table)
