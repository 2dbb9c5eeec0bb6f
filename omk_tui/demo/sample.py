"""A small Python project with a failing test to fix and a feature to add."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

DEMO_GOAL = "Fix the failing divide test in tests/test_ops.py and add a mean/median stats module with tests"

FILES = {
    "README.md": "# calc\n\nA tiny calculator library.\n",
    "calc/__init__.py": '"""A tiny calculator library."""\n',
    "calc/ops.py": (
        '"""Arithmetic operations."""\n\n\n'
        "def add(a: float, b: float) -> float:\n    return a + b\n\n\n"
        "def divide(a: float, b: float) -> float:\n"
        '    """Divide a by b; dividing by zero raises ZeroDivisionError."""\n'
        "    return a // b\n"
    ),
    "tests/__init__.py": "",
    "tests/test_ops.py": (
        "import unittest\n\nfrom calc.ops import add, divide\n\n\n"
        "class OpsTest(unittest.TestCase):\n"
        "    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n\n"
        "    def test_divide(self):\n        self.assertEqual(divide(7, 2), 3.5)\n\n"
        "    def test_divide_by_zero(self):\n        with self.assertRaises(ZeroDivisionError):\n            divide(1, 0)\n"
    ),
    "pyproject.toml": '[project]\nname = "calc"\nversion = "0.1.0"\n',
    "AGENTS.md": "# Notes for agents\n\nKeep functions small and typed. Every feature has tests under tests/.\n",
}

STATS_BUGGY = (
    '"""Descriptive statistics."""\n\n\n'
    "def mean(values: list[float]) -> float:\n    return sum(values) / len(values)\n\n\n"
    "def median(values: list[float]) -> float:\n"
    "    ordered = sorted(values)\n"
    "    return ordered[len(ordered) // 2]\n"
)
STATS_FIXED = (
    '"""Descriptive statistics."""\n\n\n'
    "def mean(values: list[float]) -> float:\n"
    '    if not values:\n        raise ValueError("mean of an empty list")\n'
    "    return sum(values) / len(values)\n\n\n"
    "def median(values: list[float]) -> float:\n"
    '    if not values:\n        raise ValueError("median of an empty list")\n'
    "    ordered = sorted(values)\n"
    "    mid = len(ordered) // 2\n"
    "    if len(ordered) % 2:\n        return ordered[mid]\n"
    "    return (ordered[mid - 1] + ordered[mid]) / 2\n"
)
STATS_TESTS = (
    "import unittest\n\nfrom calc.stats import mean, median\n\n\n"
    "class StatsTest(unittest.TestCase):\n"
    "    def test_mean(self):\n        self.assertEqual(mean([1, 2, 3, 4]), 2.5)\n\n"
    "    def test_median_odd(self):\n        self.assertEqual(median([3, 1, 2]), 2)\n\n"
    "    def test_median_even(self):\n        self.assertEqual(median([4, 1, 3, 2]), 2.5)\n\n"
    "    def test_empty(self):\n        with self.assertRaises(ValueError):\n            mean([])\n"
)
OPS_FIXED = FILES["calc/ops.py"].replace("return a // b", "return a / b")


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def create_sample_repo(root: Path, *, python: str | None = None) -> Path:
    """Create the sample repository at `root` (a new folder) with one commit and a gates.toml."""
    repo = Path(root)
    repo.mkdir(parents=True, exist_ok=True)
    for rel, text in FILES.items():
        p = repo / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "-c", "user.name=omk demo", "-c", "user.email=demo@omk.invalid", "add", "-A")
    _git(repo, "-c", "user.name=omk demo", "-c", "user.email=demo@omk.invalid", "commit", "-q", "-m", "calc: initial")
    omk = repo / ".omk"
    omk.mkdir(exist_ok=True)
    from omk_tui.state.store import OMK_GITIGNORE

    (omk / ".gitignore").write_text(OMK_GITIGNORE, encoding="utf-8")
    py = python or sys.executable
    # The standard library's unittest: the demo needs nothing installed beyond omk-tui itself.
    (omk / "gates.toml").write_text(
        "[[gates]]\n"
        'name = "unittest"\n'
        f"command = {json.dumps([py, '-m', 'unittest', 'discover', '-s', 'tests', '-t', '.'])}\n"
        "timeout_secs = 120\n",
        encoding="utf-8",
    )
    return repo


def demo_script(pace: float = 1.0) -> dict:
    """The scripted agent's script: 4 tasks, two in parallel, one gate failure fixed on the second attempt."""

    def nap(secs: float) -> dict:
        return {"sleep": round(secs * pace, 3)}

    return {
        "plan": {"tasks": [
            {"id": "fix-divide", "title": "Fix true division in calc.ops.divide", "owner_role": "implementer",
             "description": "divide() uses floor division; test_divide expects 3.5 for 7/2.",
             "dependencies": [], "read_set": ["tests/test_ops.py"], "write_set": ["calc/ops.py"], "risk": "low",
             "acceptance": ["tests/test_ops.py passes"], "budget_secs": 300},
            {"id": "add-stats", "title": "Add calc.stats with mean and median", "owner_role": "implementer",
             "description": "A stats module with mean() and median(), with tests.",
             "dependencies": [], "read_set": [], "write_set": ["calc/stats.py", "tests/test_stats.py"],
             "risk": "medium", "acceptance": ["tests/test_stats.py passes"], "budget_secs": 300},
            {"id": "ops-docs", "title": "Document division semantics", "owner_role": "implementer",
             "description": "Explain in the README how divide behaves.",
             "dependencies": [], "read_set": ["calc/ops.py"], "write_set": ["README.md"], "risk": "low",
             "acceptance": ["README mentions divide"], "budget_secs": 300},
            {"id": "stats-docs", "title": "Document the stats module", "owner_role": "implementer",
             "description": "Add a stats section to the README.",
             "dependencies": ["add-stats"], "read_set": ["calc/stats.py"], "write_set": ["docs/stats.md"],
             "risk": "low", "acceptance": ["docs/stats.md exists"], "budget_secs": 300},
        ]},
        "tasks": {
            "fix-divide": [[
                {"think": "test_divide expects 3.5, so divide must use true division."}, nap(0.6),
                {"say": "The bug is floor division (`//`). Switching to true division keeps ZeroDivisionError."},
                {"write": "calc/ops.py", "content": OPS_FIXED}, nap(0.4),
                {"usage": {"input": 1800, "output": 240}},
                {"say": "Done: divide(7, 2) now returns 3.5."},
            ]],
            "add-stats": [
                [
                    {"think": "mean is easy; median needs the middle element."}, nap(0.6),
                    {"say": "Adding calc/stats.py with mean() and median(), and tests."},
                    {"write": "calc/stats.py", "content": STATS_BUGGY}, nap(0.3),
                    {"write": "tests/test_stats.py", "content": STATS_TESTS}, nap(0.3),
                    {"usage": {"input": 2400, "output": 610}},
                    {"say": "Stats module written."},
                ],
                [
                    {"think": "median of an even list must average the two middle values; empty lists must raise."},
                    nap(0.6),
                    {"say": "Fixing median for even-length lists and rejecting empty input."},
                    {"write": "calc/stats.py", "content": STATS_FIXED}, nap(0.3),
                    {"usage": {"input": 3100, "output": 420}},
                    {"say": "Fixed: both median tests and the empty-list test should pass now."},
                ],
            ],
            "ops-docs": [[
                {"say": "Documenting divide in the README."}, nap(0.4),
                {"append": "README.md", "content": "\n## Division\n\n`divide(a, b)` is true division; dividing by zero raises `ZeroDivisionError`.\n"},
                {"usage": {"input": 900, "output": 120}},
            ]],
            "stats-docs": [[
                {"say": "Writing docs/stats.md."}, nap(0.4),
                {"shell": "mkdir -p docs"},
                {"write": "docs/stats.md", "content": "# Statistics\n\n- `mean(values)`: the arithmetic mean.\n- `median(values)`: the middle value (average of the two middle values for even lengths).\n\nBoth raise `ValueError` on an empty list.\n"},
                {"usage": {"input": 800, "output": 150}},
            ]],
        },
        "default": [{"say": "Nothing scripted for this prompt; no changes."}],
    }
