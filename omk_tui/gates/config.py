"""`<repo>/.omk/gates.toml`: the gates a project declares, replacing detection.

A malformed file is an error naming the file, the line and the field. It never falls back to detection
(omk did, so a typo silently replaced the project's gates with guessed ones).
"""

from __future__ import annotations

import posixpath
import re
import tomllib
from pathlib import Path

from omk_tui.models.gates import GateSpec

GATES_FILE = "gates.toml"
DEFAULT_TIMEOUT_SECS = 600.0
MAX_TIMEOUT_SECS = 86400.0
_FIELDS = ("name", "command", "required", "timeout_secs", "allow_fail", "skip", "env", "cwd", "fail_on_output")
_TOML_POSITION = re.compile(r"\(at line (\d+), column \d+\)")
_GATES_HEADER = re.compile(r"^\s*\[\[\s*gates\s*\]\]")
_ANY_HEADER = re.compile(r"^\s*\[")


class GateConfigError(ValueError):
    """A `.omk/gates.toml` that cannot be used. `line` is 1-based, or None when unknown."""

    advice = "fix the file (or remove it to use the detected gates)"

    def __init__(self, path: Path, line: int | None, field: str | None, message: str) -> None:
        self.path = Path(path)
        self.line = line
        self.field = field
        self.message = message
        where = f"{self.path}" + (f", line {line}" if line else "")
        what = f"{field}: " if field else ""
        super().__init__(f"{where}: {what}{message}")


def gates_file(repo: Path) -> Path:
    return Path(repo) / ".omk" / GATES_FILE


def load_gates_file(repo: Path) -> list[GateSpec] | None:
    """The gates declared in `<repo>/.omk/gates.toml`, or None when there is no such file."""
    path = gates_file(repo)
    if not path.is_file():
        return None
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise GateConfigError(path, None, None, f"cannot be read: {exc.strerror or exc}") from None
    text = raw.decode("utf-8", errors="replace")
    return parse_gates_toml(text, path)


def parse_gates_toml(text: str, path: Path) -> list[GateSpec]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = _TOML_POSITION.search(str(exc))
        message = _TOML_POSITION.sub("", str(exc)).strip()
        raise GateConfigError(path, int(m.group(1)) if m else None, None, f"invalid TOML: {message}") from None
    locate = _Locator(text)
    for key in data:
        if key != "gates":
            raise GateConfigError(
                path, locate.top_level_key(key), key, "unknown top-level key; the file holds `[[gates]]` entries only"
            )
    entries = data.get("gates", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise GateConfigError(path, locate.top_level_key("gates"), "gates", "must be `[[gates]]` tables")
    specs: list[GateSpec] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        spec = _parse_entry(entry, index, path, locate)
        if spec.name in seen:
            raise GateConfigError(
                path, locate.key(index, "name"), f"gates[{index}].name",
                f"duplicate gate name {spec.name!r} (also gates[{seen[spec.name]}]); names must be unique",
            )
        seen[spec.name] = index
        specs.append(spec)
    return specs


def _parse_entry(entry: dict, index: int, path: Path, locate: "_Locator") -> GateSpec:
    def fail(field: str, message: str, *, line_of: str | None = None) -> GateConfigError:
        line = locate.key(index, line_of or field)
        return GateConfigError(path, line, f"gates[{index}].{field}", message)

    for key in entry:
        if key not in _FIELDS:
            raise fail(key, f"unknown field; known fields: {', '.join(_FIELDS)}")
    if "name" not in entry:
        raise GateConfigError(path, locate.entry(index), f"gates[{index}].name", "missing; every gate needs a name")
    name = entry["name"]
    if not isinstance(name, str) or not name.strip():
        raise fail("name", "must be a non-empty string")
    if "command" not in entry:
        raise GateConfigError(
            path, locate.entry(index), f"gates[{index}].command",
            "missing; give a shell string or an argv list, e.g. command = \"pytest -q\"",
        )
    command = entry["command"]
    if isinstance(command, str):
        if not command.strip():
            raise fail("command", "must not be empty")
    elif isinstance(command, list):
        if not command or not all(isinstance(a, str) for a in command) or not command[0]:
            raise fail("command", "an argv list must be non-empty and hold strings only")
    else:
        raise fail("command", f"must be a string (run by the shell) or a list of strings, not {_type(command)}")
    for flag in ("required", "allow_fail", "skip", "fail_on_output"):
        if flag in entry and not isinstance(entry[flag], bool):
            raise fail(flag, f"must be true or false, not {_type(entry[flag])}")
    timeout = entry.get("timeout_secs", DEFAULT_TIMEOUT_SECS)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise fail("timeout_secs", f"must be a number of seconds, not {_type(timeout)}")
    if not 0 < timeout <= MAX_TIMEOUT_SECS:
        raise fail("timeout_secs", f"must be more than 0 and at most {MAX_TIMEOUT_SECS:g} seconds (got {timeout})")
    env = entry.get("env", {})
    if not isinstance(env, dict):
        raise fail("env", f"must be a table of strings, e.g. env = {{ RUST_BACKTRACE = \"1\" }}, not {_type(env)}")
    for key, value in env.items():
        if not isinstance(value, str):
            raise fail(f"env.{key}", f"must be a string, not {_type(value)}", line_of="env")
        # what the operating system accepts in an environment (else the gate could not even start)
        if not key or "=" in key or "\0" in key:
            raise fail(f"env.{key!r}", "is not a valid environment variable name (no `=`, no NUL, not empty)",
                       line_of="env")
        if "\0" in value:
            raise fail(f"env.{key}", "must not contain a NUL character", line_of="env")
    cwd = entry.get("cwd")
    if cwd is not None:
        if not isinstance(cwd, str) or not cwd.strip():
            raise fail("cwd", "must be a non-empty relative path string")
        problem = cwd_problem(cwd)
        if problem:
            raise fail("cwd", problem)
    return GateSpec(
        name=name.strip(),
        command=command,
        required=entry.get("required", True),
        timeout_secs=float(timeout),
        allow_fail=entry.get("allow_fail", False),
        skip=entry.get("skip", False),
        env=dict(env),
        cwd=cwd,
        fail_on_output=entry.get("fail_on_output", False),
        source="config",
    )


def cwd_problem(cwd: str) -> str | None:
    """Why `cwd` is not a relative path that stays inside the repository, or None when it is fine."""
    if cwd.startswith(("/", "~")) or re.match(r"^[A-Za-z]:[\\/]", cwd):
        return f"{cwd!r} must be relative to the repository"
    norm = posixpath.normpath(cwd.replace("\\", "/"))
    if norm == ".." or norm.startswith("../"):
        return f"{cwd!r} leaves the repository; it must stay inside it"
    return None


def _type(value) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "an array",
            dict: "a table"}.get(type(value), type(value).__name__)


class _Locator:
    """Finds the line of a `[[gates]]` entry or of one of its keys in the file's text (tomllib gives none)."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.starts = [i for i, line in enumerate(self.lines) if _GATES_HEADER.match(line)]

    def entry(self, index: int) -> int | None:
        if index < len(self.starts):
            return self.starts[index] + 1
        return self.top_level_key("gates")  # inline `gates = [...]`

    def key(self, index: int, field: str) -> int | None:
        if index >= len(self.starts):
            return self.entry(index)
        start = self.starts[index]
        end = self.starts[index + 1] if index + 1 < len(self.starts) else len(self.lines)
        pattern = re.compile(rf"""^\s*(?:{re.escape(field)}|"{re.escape(field)}"|'{re.escape(field)}')\s*[.=]""")
        subtable = re.compile(rf"^\s*\[\s*gates\s*\.\s*{re.escape(field)}\s*\]")
        for i in range(start + 1, end):
            if pattern.match(self.lines[i]) or subtable.match(self.lines[i]):
                return i + 1
        return start + 1

    def top_level_key(self, key: str) -> int | None:
        pattern = re.compile(rf"""^\s*(?:{re.escape(key)}|"{re.escape(key)}")\s*[.=]""")
        header = re.compile(rf"^\s*\[+\s*{re.escape(key)}\s*[\].]")
        in_table = False
        for i, line in enumerate(self.lines):
            if header.match(line):
                return i + 1
            if _ANY_HEADER.match(line):
                in_table = True
            elif not in_table and pattern.match(line):
                return i + 1
        return None
