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
