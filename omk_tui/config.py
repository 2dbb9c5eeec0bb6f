"""`<repo>/.omk/config.toml`: project settings. A malformed file is an error naming the file and the field."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

CONFIG_FILE = "config.toml"


class ConfigError(ValueError):
    pass


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WorktreesConfig(_Section):
    dir: str | None = None  # default: $XDG_DATA_HOME/omk-tui/worktrees (OMK_WORKTREES_DIR overrides)
    copy_files: list[str] = Field(default_factory=list)


class Price(_Section):
    input_per_million: float = Field(2.0, ge=0, allow_inf_nan=False)
    output_per_million: float = Field(8.0, ge=0, allow_inf_nan=False)


def _checked(check, value: str) -> str:
    """`value` if `check` (a policy parser) takes it; its PolicyError as the ValueError pydantic reports."""
    from omk_tui.agents.policy import PolicyError

    try:
        check(value)
    except PolicyError as exc:
        raise ValueError(str(exc)) from None
    return value


class AgentConfig(_Section):
    default: str = "kimi"  # agent SPEC: kimi | acp:"cmd" | wire | wire:"cmd" | script:PATH
    approval: str = "yolo"
    ask_fallback: str = "reject"  # reject | approve | approve_for_session | never | safe | yolo | pattern:<regex>
    ask_timeout_secs: float = Field(300.0, gt=0, allow_inf_nan=False)
    env: list[str] = Field(default_factory=list)  # names of environment variables passed to agents
    model: str = "default"
    prices: dict[str, Price] = Field(default_factory=lambda: {"default": Price()})
    turn_grace_secs: float = Field(5.0, ge=0, allow_inf_nan=False)
    # An agent turn's lease: silence this long (no update, no command of the session running) ends the turn as
    # stuck. None: the goal's own `lease_secs` (300 s). Read at every run, so it applies to a resumed goal too.
    lease_secs: float | None = Field(None, gt=0, allow_inf_nan=False)
    # Landlock: "auto" confines the agent's writes (its shell commands too) to its worktree where the kernel can,
    # "on" refuses to run an agent unconfined, "off" does not confine. `writable`: more folders it may write to.
    confine: Literal["auto", "on", "off"] = "auto"
    writable: list[str] = Field(default_factory=list)

    @field_validator("approval")
    @classmethod
    def _known_policy(cls, value: str) -> str:
        from omk_tui.agents.policy import check_policy

        return _checked(check_policy, value)

    @field_validator("ask_fallback")
    @classmethod
    def _known_fallback(cls, value: str) -> str:
        from omk_tui.agents.policy import parse_fallback

        return _checked(parse_fallback, value).strip()

    def price(self, model: str | None = None) -> Price:
        return self.prices.get(model or self.model) or self.prices.get("default") or Price()


class ReviewConfig(_Section):
    agent_reviewers: bool | None = None  # None: on unless the agent is a scripted one with no review entries
    anti_slop_threshold: float = 0.5
    # "warn": writes outside a task's declared write scope are reported (severity medium) and do not block
    scope_violations: Literal["block", "warn"] = "block"


class DeliveryConfig(_Section):
    pr_per: str = "integration"  # integration | slice
    remote: str = "origin"
    base_branch: str | None = None
    checks_timeout_secs: float = Field(1800.0, gt=0, allow_inf_nan=False)


class OmkConfig(_Section):
    worktrees: WorktreesConfig = Field(default_factory=WorktreesConfig)
    agent: AgentConfig = Field(default_factory=AgentConfig)
    review: ReviewConfig = Field(default_factory=ReviewConfig)
    delivery: DeliveryConfig = Field(default_factory=DeliveryConfig)


# What to do about a malformed .omk/config.toml (every command that reads it says so).
CONFIG_FIX = "fix .omk/config.toml (or remove it for the defaults)"


def load_config(repo: Path) -> OmkConfig:
    path = Path(repo) / ".omk" / CONFIG_FILE
    if not path.exists():
        return OmkConfig()
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc})") from exc
    try:
        return OmkConfig.model_validate(data)
    except ValidationError as exc:
        lines = text.splitlines()
        found = []
        for err in exc.errors():
            loc = [str(x) for x in err["loc"]]
            found.append((_line_of(lines, loc), f"{'.'.join(loc)}: {_message(err)}"))
        found.sort(key=lambda item: item[0] or len(lines) + 1)  # in the file's order
        problems = [(f"line {line}: " if line else "") + what for line, what in found]
        # as `file, line N: field: message` (the form of gates.toml's errors), the other problems after it
        raise ConfigError(f"{path}{', ' if problems[0].startswith('line ') else ': '}{'; '.join(problems)}") from exc


def _message(err: dict) -> str:
    """pydantic's message in the file's terms: an unknown key names the known ones; a validator's own message
    without pydantic's "Value error, " before it."""
    if err["type"] == "extra_forbidden":
        model = OmkConfig
        for part in err["loc"][:-1]:
            field = model.model_fields.get(str(part))
            model = field.annotation if field is not None else None
            if not (isinstance(model, type) and issubclass(model, BaseModel)):
                return "unknown key"
        return f"unknown key; known keys: {', '.join(model.model_fields)}"
    if err["type"] in ("model_type", "dict_type"):
        return f"must be a table ([{'.'.join(str(x) for x in err['loc'])}] and its keys)"
    return err["msg"].removeprefix("Value error, ")


def _line_of(lines: list[str], loc: list[str]) -> int | None:
    """The 1-based line that sets `loc` (e.g. ["agent", "approval"]), or of its table; None when not found (tomllib
    gives no positions). Finds `[table]` headers and `key =` lines, the forms a person writes."""
    def key_line(start: int, key: str) -> int | None:
        pattern = re.compile(rf"""^\s*(?:{re.escape(key)}|"{re.escape(key)}"|'{re.escape(key)}')\s*[.=]""")
        for i in range(start, len(lines)):
            if _HEADER.match(lines[i]):
                return None
            if pattern.match(lines[i]):
                return i + 1
        return None

    for depth in range(len(loc), 0, -1):  # the deepest table header that names a prefix of loc
        table = r"\s*\.\s*".join(re.escape(part) for part in loc[:depth])
        header = re.compile(rf"^\s*\[\s*{table}\s*\]")
        for i, text in enumerate(lines):
            if header.match(text):
                if depth == len(loc):
                    return i + 1
                return key_line(i + 1, loc[depth]) or i + 1
    return key_line(0, loc[0]) if loc else None


_HEADER = re.compile(r"^\s*\[")


def agent_settings(repo: Path, config: OmkConfig, agent: str | None = None,
                   approval: str | None = None) -> tuple[str, str]:
    """The agent SPEC (checked; a `script:` path made absolute) and the approval policy a run uses: `agent` and
    `approval` when given (command-line options), else the config's. What `run`, `ralph`, `prompt` and `doctor`
    check: a ConfigError saying what is wrong and, for a value from the config file, where it is set."""
    from omk_tui.agents.policy import PolicyError, check_policy
    from omk_tui.agents.spec import AgentSpecError, canonical_spec

    where = f"{Path(repo) / '.omk' / CONFIG_FILE}: agent."
    if approval:  # the config file's own was checked as it was read (`AgentConfig._known_policy`)
        try:
            check_policy(approval)
        except PolicyError as exc:
            raise ConfigError(str(exc)) from None
    try:
        spec = canonical_spec(agent or config.agent.default)
    except AgentSpecError as exc:
        raise ConfigError(str(exc) if agent else f"{where}default: {exc}") from None
    return spec, approval or config.agent.approval


def data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "omk-tui"
