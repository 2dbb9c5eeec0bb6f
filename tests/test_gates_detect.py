"""Gate detection from real project files in temp folders (the toolchains need not be installed)."""

from __future__ import annotations

import json
from pathlib import Path

from omk_tui.gates import NO_GATES_MESSAGE, detect_gates, resolve_gates


def names(repo: Path) -> list[str]:
    return [s.name for s in detect_gates(repo)[0]]


def commands(repo: Path) -> dict[str, str]:
    return {s.name: s.command_line for s in detect_gates(repo)[0]}


def write(repo: Path, rel: str, text: str) -> None:
    path = repo / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_empty_folder_has_no_gates(tmp_path):
    plan = resolve_gates(tmp_path)
    assert plan.specs == [] and plan.source == "none"
    assert NO_GATES_MESSAGE in plan.notes


def test_python_pytest_only_with_tests_or_config(tmp_path):
    write(tmp_path, "pyproject.toml", "[project]\nname='x'\n")
    assert names(tmp_path) == []
    assert any("no pytest gate" in n for n in detect_gates(tmp_path)[1])
    write(tmp_path, "tests/test_x.py", "def test_x():\n    pass\n")
    assert names(tmp_path) == ["pytest"]
    assert commands(tmp_path)["pytest"].endswith("-m pytest -q")


def test_python_pytest_from_config_ruff_and_mypy(tmp_path):
    write(tmp_path, "pyproject.toml", "[tool.pytest.ini_options]\n[tool.ruff]\nline-length = 100\n[tool.mypy]\n")
    assert names(tmp_path) == ["pytest", "ruff", "mypy"]
    cmds = commands(tmp_path)
    assert cmds["ruff"] == "ruff check"
    assert cmds["mypy"] == "mypy ."  # no `files` configured: mypy needs a target


def test_python_tool_config_files_and_project_venv(tmp_path):
    write(tmp_path, "setup.cfg", "[tool:pytest]\n[mypy]\nfiles = src\n")
    write(tmp_path, "ruff.toml", "line-length = 90\n")
    for tool in ("python", "ruff"):
        write(tmp_path, f".venv/bin/{tool}", "")
    cmds = commands(tmp_path)
    assert cmds == {"pytest": ".venv/bin/python -m pytest -q", "ruff": ".venv/bin/ruff check", "mypy": "mypy"}


def test_node_scripts(tmp_path):
    write(tmp_path, "package.json", json.dumps({"scripts": {"test": "jest", "lint": "eslint ."}}))
    assert commands(tmp_path) == {"npm-test": "npm test", "npm-lint": "npm run lint"}


def test_node_placeholder_test_script_and_no_lint(tmp_path):
    placeholder = 'echo "Error: no test specified" && exit 1'
    write(tmp_path, "package.json", json.dumps({"scripts": {"test": placeholder, "build": "tsc"}}))
    specs, notes = detect_gates(tmp_path)
    assert specs == []
    assert any("placeholder" in n for n in notes)


def test_node_invalid_package_json_is_a_note(tmp_path):
    write(tmp_path, "package.json", '{\n  "scripts": {,\n}')
    specs, notes = detect_gates(tmp_path)
    assert specs == [] and any("package.json is not valid JSON (line 2)" in n for n in notes)


def test_rust(tmp_path):
    write(tmp_path, "Cargo.toml", "[package]\nname = 'x'\nversion = '0.1.0'\n")
    assert commands(tmp_path) == {
        "cargo-fmt": "cargo fmt --check",
        "cargo-clippy": "cargo clippy -- -D warnings",
        "cargo-test": "cargo test",
    }


def test_go_gofmt_fails_on_output(tmp_path):
    write(tmp_path, "go.mod", "module example.com/x\n\ngo 1.22\n")
    specs, _ = detect_gates(tmp_path)
    assert [s.command_line for s in specs] == ["gofmt -l .", "go vet ./...", "go test ./..."]
    assert specs[0].fail_on_output and not specs[1].fail_on_output


def test_makefile_test_target(tmp_path):
    write(tmp_path, "Makefile", "TEST := 1\nbuild:\n\tcc x.c\n")
    assert names(tmp_path) == []
    write(tmp_path, "Makefile", "build:\n\tcc x.c\ntest: build\n\t./run-tests\n")
    assert commands(tmp_path) == {"make-test": "make test"}


def test_several_ecosystems_in_one_repo(tmp_path):
    write(tmp_path, "go.mod", "module x\n")
    write(tmp_path, "package.json", json.dumps({"scripts": {"lint": "eslint ."}}))
    write(tmp_path, "pytest.ini", "[pytest]\n")
    plan = resolve_gates(tmp_path)
    assert plan.source == "detected"
    assert plan.names == ["pytest", "npm-lint", "gofmt", "go-vet", "go-test"]
    assert all(s.source == "detected" for s in plan.specs)
