"""Gate specifications and results. Pure data, no I/O."""

from __future__ import annotations

from pydantic import BaseModel, Field


class GateSpec(BaseModel):
    name: str
    command: str | list[str]
    required: bool = True
    timeout_secs: float = 600
    allow_fail: bool = False
    skip: bool = False
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    source: str = "config"  # "config" (gates.toml) or "detected"
    # `gofmt -l` exits 0 even when it lists unformatted files: such a gate fails when it prints anything.
    fail_on_output: bool = False

    @property
    def command_line(self) -> str:
        if isinstance(self.command, str):
            return self.command
        import shlex

        return shlex.join(self.command)


class GateResult(BaseModel):
    name: str
    command_line: str
    passed: bool
    required: bool = True
    exit_code: int | None = None
    timed_out: bool = False
    skipped: bool = False
    allow_fail: bool = False  # failed, but gates.toml says the failure must not block
    cancelled: bool = False  # ended because the run was cancelled, not by its own outcome
    duration_ms: int = 0
    timeout_secs: float = 600
    log_path: str | None = None
    line_count: int = 0
    summary: list[str] = Field(default_factory=list)
    # set by the controller on a slice's gate: it fails only on failures that were already red at baseline
    only_baseline_failures: bool = False

    @property
    def blocking(self) -> bool:
        """A failure that makes the run fail (required and not allowed to fail)."""
        return self.required and not self.passed and not self.allow_fail


def gates_passed(results: list[GateResult]) -> bool:
    return not any(r.blocking for r in results)
