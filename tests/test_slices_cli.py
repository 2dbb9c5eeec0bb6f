"""`omk-tui slices GRAPH.json`, run as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(60)

GRAPH = {
    "goal_id": "goal-demo",
    "tasks": [
        {"id": "api", "title": "Add the API", "owner_role": "implementer", "write_set": ["src/api"],
         "read_set": ["docs"], "risk": "high"},
        {"id": "ui", "title": "Add the [bold]UI[/bold]", "owner_role": "implementer",
         "write_set": ["src/api/routes.py", "ui"], "risk": "low"},
        {"id": "docs", "title": "Document it", "owner_role": "writer", "write_set": ["docs/api.md"],
         "read_set": ["bench/results.csv"], "dependencies": ["api"], "risk": "medium"},
        {"id": "cli", "title": "Wire the CLI\x1b]0;pwned\x07\r\nFAKE", "owner_role": "implementer",
         "write_set": ["cli.py"],
         "read_set": ["ui/view.py"], "risk": "low"},
        {"id": "plan", "title": "Plan", "status": "done", "write_set": ["notes"]},
    ],
}


def slices_cmd(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "omk_tui", "slices", *args],
        cwd=cwd, capture_output=True, text=True, timeout=60,
    )


@pytest.fixture
def graph_file(tmp_path: Path) -> Path:
    path = tmp_path / "task-graph.json"
    path.write_text(json.dumps(GRAPH), encoding="utf-8")
    return path


def test_prints_a_readable_plan(graph_file: Path):
    result = slices_cmd(str(graph_file), cwd=graph_file.parent)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Slice plan for goal goal-demo: 4 slices, 2 overlap serializations" in out
    # Execution order, numbered: api, cli, docs, ui (ties by id; ui waits for api and cli).
    positions = [out.index(f"{n}. {sid}") for n, sid in enumerate(["api", "cli", "docs", "ui"], 1)]
    assert positions == sorted(positions)
    assert "Add the [bold]UI[/bold]" in out  # titles are shown literally, never as markup
    assert "Wire the CLI\\x1b]0;pwned\\x07\\r\\nFAKE" in out and "\x1b" not in out  # and controls escaped
    assert "omk/goal-demo/ui" in out and "goal-demo/ui" in out
    assert "security_review_gate" in out and "performance_review" in out
    assert "Overlap serializations" in out
    assert "write_write" in out and "src/api/routes.py" in out
    assert "write_read" in out and "ui" in out
    assert "omk/goal-demo/plan" not in out  # a done task is no slice
    assert result.stderr == ""


def test_json_output_is_the_slice_plan(graph_file: Path):
    result = slices_cmd(str(graph_file), "--json", cwd=graph_file.parent)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["goal_id"] == "goal-demo"
    assert data["order"] == ["api", "cli", "docs", "ui"]
    by_id = {s["slice_id"]: s for s in data["slices"]}
    assert by_id["ui"]["dependencies"] == ["api", "cli"]
    assert by_id["docs"]["dependencies"] == ["api"]
    assert by_id["ui"]["branch"] == "omk/goal-demo/ui"
    assert by_id["ui"]["worktree"] == "goal-demo/ui"
    assert data["overlap_serializations"] == [
        {"blocked_slice_id": "ui", "serializes_after": "api", "kind": "write_write", "path": "src/api/routes.py"},
        {"blocked_slice_id": "ui", "serializes_after": "cli", "kind": "write_read", "path": "ui"},
    ]


def test_goal_id_option_names_branches(graph_file: Path):
    result = slices_cmd(str(graph_file), "--json", "--goal-id", "goal-other", cwd=graph_file.parent)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["goal_id"] == "goal-other"
    assert data["slices"][0]["branch"] == "omk/goal-other/api"


def bad_exit(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    return result.stderr


def test_missing_file_exits_2(tmp_path: Path):
    err = bad_exit(slices_cmd(str(tmp_path / "nope.json"), cwd=tmp_path))
    assert "nope.json: no such file" in err


def test_a_folder_exits_2(tmp_path: Path):
    err = bad_exit(slices_cmd(str(tmp_path), cwd=tmp_path))
    assert "is a folder" in err


def test_invalid_json_exits_2(tmp_path: Path):
    path = tmp_path / "g.json"
    path.write_text('{"tasks": [', encoding="utf-8")
    err = bad_exit(slices_cmd(str(path), cwd=tmp_path))
    assert "not a plannable task graph" in err and "not valid JSON" in err


def test_a_wrongly_shaped_graph_exits_2_with_the_fields(tmp_path: Path):
    path = tmp_path / "g.json"
    path.write_text('{"goal_id": "g", "tasks": [{"id": 3}]}', encoding="utf-8")
    err = bad_exit(slices_cmd(str(path), cwd=tmp_path))
    assert "tasks.0.id" in err and "tasks.0.title" in err


def test_an_invalid_graph_exits_2_with_every_reason(tmp_path: Path):
    path = tmp_path / "g.json"
    path.write_text(json.dumps({"goal_id": "g", "tasks": [
        {"id": "a", "title": "A", "owner_role": "x", "write_set": ["/etc/hosts", ".gitignore"],
         "dependencies": ["b"]},
        {"id": "b", "title": "B", "owner_role": "x", "write_set": ["y"], "dependencies": ["a"]},
    ]}), encoding="utf-8")
    err = bad_exit(slices_cmd(str(path), cwd=tmp_path))
    assert "dependency cycle: a -> b -> a" in err
    assert "outside the allowed goal policy roots: task 'a': path '/etc/hosts'" in err
    assert "'.gitignore'" in err


def test_a_graph_without_goal_id_asks_for_one(tmp_path: Path):
    path = tmp_path / "g.json"
    path.write_text(json.dumps({"tasks": [{"id": "a", "title": "A", "owner_role": "x", "write_set": ["y"]}]}),
                    encoding="utf-8")
    err = bad_exit(slices_cmd(str(path), cwd=tmp_path))
    assert "--goal-id" in err
    ok = slices_cmd(str(path), "--goal-id", "g7", cwd=tmp_path)
    assert ok.returncode == 0 and "omk/g7/a" in ok.stdout


def test_usage_error_exits_2(tmp_path: Path):
    result = slices_cmd(cwd=tmp_path)
    assert result.returncode == 2
    assert "GRAPH.json" in result.stderr


def test_a_graph_with_no_slices_says_so(tmp_path: Path):
    path = tmp_path / "g.json"
    path.write_text(json.dumps({"goal_id": "g", "tasks": [{"id": "a", "title": "A", "read_set": ["x"]}]}),
                    encoding="utf-8")
    result = slices_cmd(str(path), cwd=tmp_path)
    assert result.returncode == 0
    assert "0 slices" in result.stdout and "No task becomes a slice" in result.stdout
