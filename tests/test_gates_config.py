"""`.omk/gates.toml`: valid files, and malformed ones naming the file, the line and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from omk_tui.gates import GateConfigError, resolve_gates


def write_gates(repo: Path, text: str) -> Path:
    path = repo / ".omk" / "gates.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def config_error(repo: Path, text: str) -> GateConfigError:
    path = write_gates(repo, text)
    with pytest.raises(GateConfigError) as info:
        resolve_gates(repo)
    assert info.value.path == path
    assert str(path) in str(info.value)
    return info.value


def test_valid_file_overrides_detection(tmp_path):
    (tmp_path / "Cargo.toml").write_text("[package]\nname='x'\n")
    (tmp_path / "sub").mkdir()
    write_gates(tmp_path, '''
[[gates]]
name = "unit"
command = "pytest -q"

[[gates]]
name = "lint"
command = ["ruff", "check", "."]
required = false
timeout_secs = 30
allow_fail = true
skip = true
env = { RUFF_CACHE_DIR = "/tmp/x" }
cwd = "sub"
fail_on_output = true
''')
    plan = resolve_gates(tmp_path)
    assert plan.source == "config"
    unit, lint = plan.specs
    assert (unit.name, unit.command, unit.required, unit.timeout_secs, unit.skip) == ("unit", "pytest -q", True, 600, False)
    assert lint.command == ["ruff", "check", "."] and lint.command_line == "ruff check ."
    assert (lint.required, lint.timeout_secs, lint.allow_fail, lint.skip, lint.cwd) == (False, 30, True, True, "sub")
    assert lint.env == {"RUFF_CACHE_DIR": "/tmp/x"} and lint.fail_on_output
    assert all(s.source == "config" for s in plan.specs)


def test_empty_file_means_no_gates_not_detection(tmp_path):
    (tmp_path / "Cargo.toml").write_text("[package]\nname='x'\n")
    write_gates(tmp_path, "# nothing yet\n")
    plan = resolve_gates(tmp_path)
    assert plan.specs == [] and plan.source == "config"


def test_syntax_error_names_line(tmp_path):
    err = config_error(tmp_path, '[[gates]]\nname = "a"\ncommand = "true\n')
    assert err.line == 3
    assert "line 3" in str(err) and "invalid TOML" in str(err)


def test_wrong_type_names_line_and_field(tmp_path):
    err = config_error(tmp_path, '''[[gates]]
name = "a"
command = "true"

[[gates]]
name = "b"
command = "true"
timeout_secs = "ten"
''')
    assert (err.line, err.field) == (8, "gates[1].timeout_secs")
    assert "line 8" in str(err) and "number of seconds" in str(err)


def test_unknown_field(tmp_path):
    err = config_error(tmp_path, '[[gates]]\nname = "a"\ncommand = "true"\nretries = 3\n')
    assert (err.line, err.field) == (4, "gates[0].retries")
    assert "unknown field" in str(err) and "timeout_secs" in str(err)


def test_unknown_top_level_key(tmp_path):
    err = config_error(tmp_path, 'detect = true\n\n[[gates]]\nname = "a"\ncommand = "true"\n')
    assert (err.line, err.field) == (1, "detect")


@pytest.mark.parametrize("cwd", ["../elsewhere", "a/../../b", "/etc", "~/x"])
def test_cwd_must_stay_inside(tmp_path, cwd):
    err = config_error(tmp_path, f'[[gates]]\nname = "a"\ncommand = "true"\n\ncwd = "{cwd}"\n')
    assert (err.line, err.field) == (5, "gates[0].cwd")


def test_missing_command_and_bad_values(tmp_path):
    err = config_error(tmp_path, '\n\n[[gates]]\nname = "a"\n')
    assert (err.line, err.field) == (3, "gates[0].command")
    err = config_error(tmp_path, '[[gates]]\nname = "a"\ncommand = []\n')
    assert err.field == "gates[0].command"
    err = config_error(tmp_path, '[[gates]]\nname = "a"\ncommand = "x"\nrequired = "yes"\n')
    assert (err.line, err.field) == (4, "gates[0].required")
    err = config_error(tmp_path, '[[gates]]\nname = "a"\ncommand = "x"\ntimeout_secs = 0\n')
    assert err.field == "gates[0].timeout_secs"


def test_env_values_must_be_strings_even_in_a_subtable(tmp_path):
    err = config_error(tmp_path, '[[gates]]\nname = "a"\ncommand = "x"\n[gates.env]\nDEBUG = 1\n')
    assert err.field == "gates[0].env.DEBUG" and err.line == 4


@pytest.mark.parametrize("env,field", [('{ "A=B" = "1" }', "env.'A=B'"), ('{ "" = "1" }', "env.''"),
                                       ('{ A = "x\\u0000y" }', "env.A")])
def test_env_names_and_values_the_system_refuses_are_config_errors(tmp_path, env, field):
    err = config_error(tmp_path, f'[[gates]]\nname = "a"\ncommand = "x"\nenv = {env}\n')
    assert err.field == f"gates[0].{field}" and err.line == 4


def test_duplicate_names(tmp_path):
    err = config_error(tmp_path, '[[gates]]\nname = "a"\ncommand = "x"\n[[gates]]\nname = "a"\ncommand = "y"\n')
    assert (err.line, err.field) == (5, "gates[1].name")
    assert "duplicate" in str(err)


def test_gates_not_an_array_of_tables(tmp_path):
    err = config_error(tmp_path, 'gates = "pytest"\n')
    assert (err.line, err.field) == (1, "gates")
