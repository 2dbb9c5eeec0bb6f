"""Every command a message or the README tells a person to run (`omk-tui SUBCOMMAND --option ...` in backticks)
names a subcommand and options that exist."""

from __future__ import annotations

import re
from pathlib import Path

from omk_tui.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]


def subcommands() -> dict:
    parser = build_parser()
    return next(a.choices for a in parser._actions if isinstance(getattr(a, "choices", None), dict))


def quoted_commands():
    files = sorted((ROOT / "omk_tui").rglob("*.py")) + sorted((ROOT / "docs" / "readme").glob("*.md"))
    for path in files:
        for match in re.finditer(r"`omk-tui ([^`]*)`", path.read_text(encoding="utf-8")):
            words = match.group(1).split()
            if words and not words[0].startswith(("-", "<")):
                yield path.relative_to(ROOT), words


def test_every_quoted_command_names_a_real_subcommand_and_real_options():
    subs = subcommands()
    seen = 0
    for path, words in quoted_commands():
        for name in words[0].split("|"):
            assert name in subs, (str(path), " ".join(words))
            options = {o for a in subs[name]._actions for o in a.option_strings}
            for word in words[1:]:
                flag = word.split("=")[0].rstrip(".,;:)")
                if flag.startswith("--"):
                    assert flag in options, (str(path), " ".join(words), flag)
            seen += 1
    assert seen > 50  # the scan found the commands (a broken pattern would pass vacuously)


def test_state_write_advice_names_the_cause_and_how_to_go_on():
    import argparse
    import errno

    from omk_tui.cli import state_write_advice

    full = OSError(errno.ENOSPC, "No space left on device")
    assert state_write_advice(full, argparse.Namespace(command="run")) == \
        "free some disk space, then continue with `omk-tui resume latest`"
    denied = OSError(errno.EACCES, "Permission denied")
    assert state_write_advice(denied, argparse.Namespace(command="resume", goal="abc123")) == \
        "fix the folder's permissions, then continue with `omk-tui resume abc123`"
    assert state_write_advice(OSError(errno.EISDIR, "Is a directory"), argparse.Namespace(command="budget-add")) \
        == "fix what the error names, then run the command again"


def test_an_unreadable_state_file_is_named_not_an_internal_error(tmp_path):
    import subprocess
    import sys
    from datetime import datetime, timezone

    from tests.support.sample_goal import write_minimal_goal

    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    paths = write_minimal_goal(repo, "goal-20261122-100000-000-aaaaaaaa", datetime.now(timezone.utc), "paused")
    paths.goal_json.write_text("{")
    for command in ("pause", "cancel", "resume", "budget-add"):
        extra = ["--tokens", "5"] if command == "budget-add" else []
        res = subprocess.run([sys.executable, "-m", "omk_tui", command, "latest", *extra, "--repo", str(repo)],
                             capture_output=True, text=True, timeout=60)
        assert res.returncode == 1, (command, res.stderr)
        assert "goal.json is not a valid GoalState" in res.stderr and "internal error" not in res.stderr, res.stderr
        assert paths.goal_json.read_text() == "{"  # nothing changed


def test_a_path_the_file_system_refuses_is_named_not_an_internal_error(tmp_path):
    import subprocess
    import sys

    from tests.support.goal_repo import make_repo, write_script

    repo = make_repo(tmp_path / "repo")
    (repo / ".omk" / "goals").write_text("a file where the goals folder belongs\n")
    agent = write_script(tmp_path / "s.json", {"plan": {"tasks": []}})
    res = subprocess.run([sys.executable, "-m", "omk_tui", "run", "add the t1 check file so the gate passes",
                          "--agent", agent, "--repo", str(repo)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 1 and "internal error" not in res.stderr
    assert "cannot use" in res.stderr and ".omk/goals" in res.stderr and "Not a directory" in res.stderr
    assert (repo / ".omk" / "goals").read_text() == "a file where the goals folder belongs\n"


def test_an_unknown_option_is_reported_with_the_subcommands_usage(tmp_path):
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-m", "omk_tui", "show", "x", "--reason", "y"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 2
    assert res.stderr.startswith("usage: omk-tui show ") and "unrecognized arguments: --reason y" in res.stderr


def test_a_reader_that_went_away_ends_the_command_quietly(tmp_path):
    """`omk-tui ... | head`: stdout closed early is not an internal error and prints no traceback."""
    import os
    import subprocess
    import sys

    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "s.json").write_text('{"default": [{"say": "hi"}, {"say": "there"}]}')
    agent = f"script:{tmp_path / 's.json'}"
    for args in (["clean", "--all", "--dry-run"], ["doctor", "--json"], ["goals", "--json"],
                 ["prompt", "--agent", agent, "--json", "go"]):
        read, write = os.pipe()
        os.close(read)  # the reader is gone before the first line is written
        try:
            res = subprocess.run([sys.executable, "-m", "omk_tui", *args], cwd=tmp_path, stdout=write,
                                 stderr=subprocess.PIPE, text=True, timeout=60)
        finally:
            os.close(write)
        assert res.returncode in (1, 2), (args, res.stderr)
        assert "Error" not in res.stderr and "Traceback" not in res.stderr, (args, res.stderr)


def test_goal_help_says_what_matches_and_clean_needs_a_goal_or_all():
    subs = subcommands()
    for name in ("accept", "reject", "deliver", "clean", "show", "proof", "pause", "resume", "cancel", "budget-add"):
        text = " ".join(subs[name].format_help().split())
        assert "a unique prefix or suffix of one" in text and "unique part" not in text, name
    assert subs["clean"].format_usage().startswith("usage: omk-tui clean [-h] (GOAL | --all)")


def test_an_error_message_reaches_the_terminal_with_its_control_characters_escaped(tmp_path, capsys, monkeypatch):
    """An error may quote a path or an agent's text; its lines stay lines."""
    import omk_tui.commands.goals as goals
    from omk_tui.cli import UsageError, main

    assert main(["goals", "--repo", str(tmp_path / "no\x1b[2Jrepo")]) == 2
    err = capsys.readouterr().err
    assert "no\\x1b[2Jrepo" in err and "\x1b" not in err

    def fail(args):
        raise UsageError("the agent said \x1b]0;title\x07\n  fix it")

    monkeypatch.setattr(goals, "run", fail)
    assert main(["goals"]) == 2
    assert capsys.readouterr().err == "omk-tui: error: the agent said \\x1b]0;title\\x07\n  fix it\n"
