"""Which gates run for a repository: `.omk/gates.toml` when it exists, otherwise detection."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from omk_tui.gates.config import gates_file, load_gates_file
from omk_tui.gates.detect import detect_gates
from omk_tui.models.gates import GateSpec

NO_GATES_MESSAGE = "no local gates were detected or configured"


@dataclass
class GatePlan:
    specs: list[GateSpec]
    source: Literal["config", "detected", "none"]
    notes: list[str] = field(default_factory=list)  # what a person should know: a tool not on PATH, a skipped gate

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.specs]


def resolve_gates(repo: Path) -> GatePlan:
    """The gates of `repo`. Raises GateConfigError for a malformed `.omk/gates.toml` (no fallback)."""
    configured = load_gates_file(repo)
    if configured is not None:
        if not configured:
            return GatePlan([], "config", [f"{gates_file(repo)} declares no [[gates]]: {NO_GATES_MESSAGE}"])
        return GatePlan(configured, "config")
    specs, notes = detect_gates(repo)
    if not specs:
        return GatePlan([], "none", notes + [NO_GATES_MESSAGE])
    return GatePlan(specs, "detected", notes)
