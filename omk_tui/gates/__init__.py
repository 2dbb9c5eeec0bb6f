"""Verification gates: which gates a repository has (gates.toml or detection) and running them."""

from omk_tui.gates.config import GATES_FILE, GateConfigError, gates_file, load_gates_file
from omk_tui.gates.detect import detect_gates
from omk_tui.gates.plan import NO_GATES_MESSAGE, GatePlan, resolve_gates
from omk_tui.gates.runner import log_file_name, run_gate, run_gates
from omk_tui.gates.summary import build_summary, trim_for_agent

__all__ = [
    "GATES_FILE", "GateConfigError", "GatePlan", "NO_GATES_MESSAGE", "build_summary", "detect_gates",
    "gates_file", "load_gates_file", "log_file_name", "resolve_gates", "run_gate", "run_gates", "trim_for_agent",
]
