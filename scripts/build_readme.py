"""Assemble README.md from docs/readme/_intro.md and the section files, in reading order.

    python scripts/build_readme.py          # write README.md
    python scripts/build_readme.py --check  # exit 1 when README.md is out of date (a test runs this)
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = [
    "_intro.md", "tui.md", "controller.md", "goals-commands.md", "slices.md", "worktrees.md", "agents.md",
    "kimi.md", "gates.md", "review-and-delivery.md", "doctor.md", "state-files.md", "performance.md",
    "reliability.md", "_development.md",
]


def build() -> str:
    parts = []
    for name in SECTIONS:
        path = ROOT / "docs" / "readme" / name
        if path.exists():
            parts.append(path.read_text(encoding="utf-8").strip() + "\n")
    return "\n".join(parts)


def main(argv: list[str]) -> int:
    text = build()
    target = ROOT / "README.md"
    if "--check" in argv:
        if target.read_text(encoding="utf-8") != text:
            print("README.md is out of date: run python scripts/build_readme.py", file=sys.stderr)
            return 1
        return 0
    target.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
