"""The README is assembled from docs/readme/*.md and opens with the two commands a fresh machine needs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_is_current():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_readme.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_readme_opens_with_the_demo_and_test_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = text.split("```")
    assert "omk-tui demo" in blocks[1] and "pip install -e ." in blocks[1]
    assert "pytest" in blocks[3] and "'.[test]'" in blocks[3]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "python -m pytest -q" in ci and "python -m pytest -q" in blocks[3]
