"""Headless progress: a rich status line and narrative lines on stderr while a controller runs."""

from __future__ import annotations

import sys

from rich.console import Console

from omk_tui.models.events import Event


class HeadlessPrinter:
    """Subscribes to a controller's events and prints what a person needs to follow the run."""

    def __init__(self, quiet: bool = False):
        self.console = Console(stderr=True, highlight=False, soft_wrap=True)
        self.quiet = quiet

    def __call__(self, ev: Event) -> None:
        if self.quiet:
            return
        p, k = ev.payload, ev.kind
        line = None
        if k == "phase_changed":
            line = f"[bold cyan]▶ {p['phase']}[/]"
        elif k == "narrative":
            line = f"  [dim]{p.get('step', '')}:[/] {p.get('summary', '')}"
        elif k == "task_rejected":
            line = f"  [yellow]task {p.get('task_id')} rejected:[/] {p.get('reason')}"
        elif k == "slice_state":
            colour = {"committed": "green", "merged": "green", "blocked": "red", "running": "cyan"}.get(p["state"], "white")
            extra = f" — {p['reason']}" if p.get("reason") else ""
            line = f"  slice [bold]{p['slice_id']}[/] [{colour}]{p['state']}[/] (attempt {p.get('attempt', 0)}){extra}"
        elif k == "gate_finished":
            r = p["result"]
            mark = "[green]✔[/]" if r["passed"] else ("[yellow]⏱[/]" if r.get("timed_out") else "[red]✘[/]")
            line = f"  {mark} gate {r['name']} [{p.get('scope', '')}] {r.get('duration_ms', 0) / 1000:.1f}s"
        elif k == "integration_conflict":
            line = f"  [red]conflict[/] slice {p['slice_id']}: {', '.join(p.get('files', []))}"
        elif k == "permission_asked":
            line = f"  [magenta]permission[/] {p.get('tool')} {p.get('command', '')}"
        elif k == "status_changed" and p["status"] != "running":
            line = f"[bold]■ {p['status']}[/] {p.get('reason', '')}"
        if line:
            self.console.print(line, markup=True)


def print_proof_json(proof) -> None:
    sys.stdout.write(proof.model_dump_json(indent=2) + "\n")
    sys.stdout.flush()
