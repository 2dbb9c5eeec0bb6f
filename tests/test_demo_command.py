"""`omk-tui demo --headless --dir DIR`: the real CLI in a subprocess, the bundled scripted agent, real gates."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(180)


def demo(cwd: Path, *args: str, worktrees: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMK_WORKTREES_DIR": str(worktrees)}
    return subprocess.run([sys.executable, "-m", "omk_tui", "demo", "--headless", "--pace", "0", *args], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=170)


def test_demo_in_a_named_folder_writes_nothing_beside_it_and_records_an_absolute_script(tmp_path):
    parent = tmp_path / "p1"
    parent.mkdir()
    (parent / "demo-agent-script.json").write_text("MY NOTES\n")  # a file of yours, next to the folder named
    res = demo(tmp_path, "--dir", "p1/d", worktrees=tmp_path / "wt")
    assert res.returncode == 0, res.stderr[-2000:]
    assert (parent / "demo-agent-script.json").read_text() == "MY NOTES\n"
    assert sorted(p.name for p in parent.iterdir()) == ["d", "demo-agent-script.json"]
    [goal] = list((parent / "d" / ".omk" / "goals").iterdir())
    agent = json.loads((goal / "goal.json").read_text())["options"]["agent"]
    assert agent.startswith("script:/") and Path(agent.removeprefix("script:")).is_file()  # resumable from anywhere


def test_demo_refuses_a_file_or_a_folder_with_files(tmp_path):
    (tmp_path / "afile").write_text("x\n")
    res = demo(tmp_path, "--dir", "afile", worktrees=tmp_path / "wt")
    assert res.returncode == 2 and "is a file" in res.stderr and "Traceback" not in res.stderr
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("keep\n")
    res = demo(tmp_path, "--dir", "full", worktrees=tmp_path / "wt")
    assert res.returncode == 2 and "is not empty" in res.stderr
    assert (tmp_path / "full" / "keep.txt").read_text() == "keep\n"


def test_demo_refuses_json_without_headless_and_a_bad_pace_before_creating_anything(tmp_path):
    for args, said in ((["--json"], "--json needs --headless"), (["--headless", "--pace", "-1"], "0 or more"),
                       (["--headless", "--pace", "nan"], "finite"), (["--headless", "--pace", "inf"], "finite")):
        res = subprocess.run([sys.executable, "-m", "omk_tui", "demo", "--dir", "d", *args], cwd=tmp_path,
                             capture_output=True, text=True, timeout=60)
        assert res.returncode == 2 and said in res.stderr, (args, res.stderr)
        assert not (tmp_path / "d").exists()
