"""Headless progress: a rich status line and narrative lines on stderr while a controller runs."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.markup import escape

from omk_tui.models.events import Event
from omk_tui.projection import permission_label
from omk_tui.render.safe import printable


def _e(value) -> str:
    """A value from an event (agent, gate or user text) as literal text in rich markup: `[` is not a tag, and
    control characters are shown escaped."""
    return escape(printable(str(value)))


class HeadlessPrinter:
    """Subscribes to a controller's events and prints what a person needs to follow the run."""

    def __init__(self, quiet: bool = False, *, ask_hint: str | None = None):
        """`ask_hint`: under the `ask` policy, how a person answers a question (said after each one)."""
        self.console = Console(stderr=True, highlight=False, soft_wrap=True)
        self.quiet = quiet
        self.ask_hint = ask_hint

    def __call__(self, ev: Event) -> None:
        if self.quiet:
            return
        p, k = ev.payload, ev.kind
        line = None
        if k == "phase_changed":
            line = f"[bold cyan]▶ {_e(p['phase'])}[/]"
        elif k == "narrative":
            line = f"  [dim]{_e(p.get('step', ''))}:[/] {_e(p.get('summary', ''))}"
        elif k == "task_rejected":
            line = f"  [yellow]task {_e(p.get('task_id'))} rejected:[/] {_e(p.get('reason'))}"
        elif k == "slice_state":
            colour = {"committed": "green", "merged": "green", "blocked": "red", "running": "cyan"}.get(p["state"], "white")
            extra = f" — {_e(p['reason'])}" if p.get("reason") else ""
            line = (f"  slice [bold]{_e(p['slice_id'])}[/] [{colour}]{_e(p['state'])}[/] "
                    f"(attempt {_e(p.get('attempt', 0))}){extra}")
        elif k == "gate_finished":
            r = p["result"]
            mark = "[green]✔[/]" if r["passed"] else ("[yellow]⏱[/]" if r.get("timed_out") else "[red]✘[/]")
            line = f"  {mark} gate {_e(r['name'])} {_e('[' + str(p.get('scope', '')) + ']')} " \
                   f"{r.get('duration_ms', 0) / 1000:.1f}s"
        elif k == "integration_conflict":
            line = f"  [red]conflict[/] slice {_e(p['slice_id'])}: {_e(', '.join(p.get('files', [])))}"
        elif k == "permission_asked":
            line = f"  [magenta]permission?[/] {_e(permission_label(p.get('tool', ''), p.get('command', '')))}"
            if self.ask_hint:
                line += f" [dim]— {_e(self.ask_hint)}[/]"
        elif k == "permission_decided":
            reason = f": {p['reason']}" if p.get("reason") else ""
            line = f"  [magenta]permission {_e(p.get('decision', ''))}[/] by {_e(p.get('by', ''))}{_e(reason)}"
        elif k == "scope_refused":  # after a permission an approval policy granted, the path may still be refused
            where = f" [{p['slice_id']}]" if p.get("slice_id") else ""
            line = (f"  [red]refused[/] {_e(p.get('operation', ''))} {_e(p.get('path', ''))}{_e(where)}: "
                    f"{_e(p.get('reason', ''))}")
        elif k == "status_changed" and p["status"] != "running":
            line = f"[bold]■ {_e(p['status'])}[/] {_e(p.get('reason', ''))}"
        if line:
            self.console.print(line, markup=True)


def print_proof_json(proof) -> None:
    sys.stdout.write(proof.model_dump_json(indent=2) + "\n")
    sys.stdout.flush()
