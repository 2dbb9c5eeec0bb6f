"""Gates detected from a repository's project files, only for tools the project configures or uses.

Detection reads files only (no subprocess), so it is instant. A toolchain missing from PATH does not hide
the gate: the gate then fails with "command not found", which is the truth about that machine, and a note
says so up front.
"""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from pathlib import Path

from omk_tui.models.gates import GateSpec

# The script `npm init` writes: present, but it only says that there are no tests.
NPM_PLACEHOLDER_TEST = 'echo "Error: no test specified" && exit 1'
PYTHON_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", "requirements.txt", "tox.ini", "pytest.ini")
MAKEFILES = ("GNUmakefile", "makefile", "Makefile")
_VENV_DIRS = (".venv", "venv")
_MAKE_TEST_TARGET = re.compile(r"^test\s*:(?!=)", re.MULTILINE)


def detect_gates(repo: Path) -> tuple[list[GateSpec], list[str]]:
    """The gates a person would run in `repo`, in a sensible order, and notes explaining the choices."""
    repo = Path(repo)
    specs: list[GateSpec] = []
    notes: list[str] = []
    for detector in (_python, _node, _rust, _go, _make):
        found, why = detector(repo)
        specs.extend(found)
        notes.extend(why)
    return specs, notes


def _gate(name: str, command: list[str], **extra) -> GateSpec:
    return GateSpec(name=name, command=command, source="detected", **extra)


def _missing_tool_note(tool: str, gates: str) -> list[str]:
    if shutil.which(tool) is None:
        return [f"`{tool}` is not on PATH: the {gates} gates will fail until it is installed"]
    return []


# ---------------------------------------------------------------- Python
def _python(repo: Path) -> tuple[list[GateSpec], list[str]]:
    if not any((repo / m).is_file() for m in PYTHON_MARKERS) and not (repo / "conftest.py").is_file():
        if not _has_python_tests(repo):
            return [], []
    notes: list[str] = []
    pyproject = _read_pyproject(repo, notes)
    tool = pyproject.get("tool", {}) if isinstance(pyproject.get("tool"), dict) else {}
    setup_cfg = _read_text(repo / "setup.cfg")
    tox_ini = _read_text(repo / "tox.ini")
    python = _python_command(repo)
    specs: list[GateSpec] = []

    pytest_configured = (
        (repo / "pytest.ini").is_file()
        or (repo / "conftest.py").is_file()
        or "pytest" in tool
        or "[tool:pytest]" in setup_cfg
        or "[pytest]" in tox_ini
    )
    if pytest_configured or _has_python_tests(repo):
        specs.append(_gate("pytest", [python, "-m", "pytest", "-q"]))
    else:
        notes.append("Python project without tests or pytest configuration: no pytest gate")

    if "ruff" in tool or (repo / "ruff.toml").is_file() or (repo / ".ruff.toml").is_file():
        specs.append(_gate("ruff", [_venv_tool(repo, "ruff"), "check"]))
        notes.extend(_missing_tool_note("ruff", "ruff") if not _in_venv(repo, "ruff") else [])

    mypy_files = None
    mypy_configured = False
    if isinstance(tool.get("mypy"), dict):
        mypy_configured = True
        mypy_files = tool["mypy"].get("files")
    elif (repo / "mypy.ini").is_file() or (repo / ".mypy.ini").is_file() or "[mypy]" in setup_cfg:
        mypy_configured = True
        ini = _read_text(repo / "mypy.ini") or _read_text(repo / ".mypy.ini") or setup_cfg
        mypy_files = re.search(r"^files\s*=", ini, re.MULTILINE)
    if mypy_configured:
        # Without `files` in its configuration, mypy needs a target on the command line.
        command = [_venv_tool(repo, "mypy")] + ([] if mypy_files else ["."])
        specs.append(_gate("mypy", command))
        notes.extend(_missing_tool_note("mypy", "mypy") if not _in_venv(repo, "mypy") else [])
    return specs, notes


def _read_pyproject(repo: Path, notes: list[str]) -> dict:
    path = repo / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8", errors="replace"))
    except tomllib.TOMLDecodeError as exc:
        notes.append(f"pyproject.toml is not valid TOML ({exc}): its tool settings were not read")
        return {}


def _has_python_tests(repo: Path) -> bool:
    for folder in ("tests", "test"):
        d = repo / folder
        if d.is_dir() and any(d.rglob("*.py")):
            return True
    return any(repo.glob("test_*.py")) or any(repo.glob("*_test.py"))


def _python_command(repo: Path) -> str:
    """The interpreter a person would use: the project's own virtualenv first, then `python` or `python3`."""
    for venv in _VENV_DIRS:
        if (repo / venv / "bin" / "python").exists():
            return f"{venv}/bin/python"
    return "python" if shutil.which("python") else "python3"


def _in_venv(repo: Path, tool: str) -> bool:
    return any((repo / venv / "bin" / tool).exists() for venv in _VENV_DIRS)


def _venv_tool(repo: Path, tool: str) -> str:
    for venv in _VENV_DIRS:
        if (repo / venv / "bin" / tool).exists():
            return f"{venv}/bin/{tool}"
    return tool


# ---------------------------------------------------------------- Node
def _node(repo: Path) -> tuple[list[GateSpec], list[str]]:
    path = repo / "package.json"
    if not path.is_file():
        return [], []
    try:
        data = json.loads(path.read_text(encoding="utf-8", errors="replace"))
    except json.JSONDecodeError as exc:
        return [], [f"package.json is not valid JSON (line {exc.lineno}): no Node gates detected"]
    scripts = data.get("scripts") if isinstance(data, dict) else None
    if not isinstance(scripts, dict):
        return [], ["package.json has no scripts: no Node gates detected"]
    specs: list[GateSpec] = []
    notes: list[str] = []
    test = scripts.get("test")
    if isinstance(test, str) and test.strip() == NPM_PLACEHOLDER_TEST:
        notes.append("package.json's test script is npm's placeholder: no npm-test gate")
    elif isinstance(test, str) and test.strip():
        specs.append(_gate("npm-test", ["npm", "test"]))
    if isinstance(scripts.get("lint"), str) and scripts["lint"].strip():
        specs.append(_gate("npm-lint", ["npm", "run", "lint"]))
    if specs:
        notes.extend(_missing_tool_note("npm", "Node"))
    return specs, notes


# ---------------------------------------------------------------- Rust
def _rust(repo: Path) -> tuple[list[GateSpec], list[str]]:
    if not (repo / "Cargo.toml").is_file():
        return [], []
    specs = [
        _gate("cargo-fmt", ["cargo", "fmt", "--check"]),
        _gate("cargo-clippy", ["cargo", "clippy", "--", "-D", "warnings"]),
        _gate("cargo-test", ["cargo", "test"]),
    ]
    return specs, _missing_tool_note("cargo", "Rust")


# ---------------------------------------------------------------- Go
def _go(repo: Path) -> tuple[list[GateSpec], list[str]]:
    if not (repo / "go.mod").is_file():
        return [], []
    specs = [
        _gate("gofmt", ["gofmt", "-l", "."], fail_on_output=True),
        _gate("go-vet", ["go", "vet", "./..."]),
        _gate("go-test", ["go", "test", "./..."]),
    ]
    return specs, _missing_tool_note("go", "Go")


# ---------------------------------------------------------------- make
def _make(repo: Path) -> tuple[list[GateSpec], list[str]]:
    for name in MAKEFILES:
        path = repo / name
        if path.is_file():
            if _MAKE_TEST_TARGET.search(_read_text(path)):
                return [_gate("make-test", ["make", "test"])], _missing_tool_note("make", "make")
            return [], []
    return [], []


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
