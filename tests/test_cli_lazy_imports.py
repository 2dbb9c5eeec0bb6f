"""`omk-tui --help`, every subcommand's --help and headless commands never import textual; nor does the engine."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from omk_tui.models.events import make_event
from omk_tui.models.goal import GoalState
from omk_tui.state.eventlog import EventLog
from omk_tui.state.store import create_goal_paths, save_goal

PKG = Path(__file__).resolve().parents[1] / "omk_tui"


def run_py(code: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], capture_output=True, text=True,
                          timeout=timeout)


HELP_ALL = """
    import contextlib, io, json, sys
    import omk_tui.cli as cli
    report = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            cli.main(["--help"])
        except SystemExit:
            pass
    report["--help"] = "textual" in sys.modules
    names = sorted(cli.build_parser()._subparsers._group_actions[0].choices)
    for name in names:
        with contextlib.redirect_stdout(out):
            try:
                cli.main([name, "--help"])
            except SystemExit:
                pass
        report[name] = "textual" in sys.modules
    print(json.dumps({"report": report, "names": names, "help": out.getvalue()[:200]}))
"""


@pytest.mark.timeout(120)
def test_help_of_every_subcommand_does_not_import_textual():
    proc = run_py(HELP_ALL)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "usage: omk-tui" in data["help"]
    for name in ("goals", "show", "proof"):
        assert name in data["names"]
    offenders = [name for name, imported in data["report"].items() if imported]
    # the first one listed is the one that imported it (the flag stays set after)
    assert offenders == [], f"`omk-tui {offenders[0]} --help` imported textual"


@pytest.mark.timeout(60)
def test_console_help_and_version_do_not_import_textual():
    proc = run_py("""
        import runpy, sys
        sys.argv = ["omk-tui", "--version"]
        try:
            runpy.run_module("omk_tui", run_name="__main__")
        except SystemExit as exc:
            assert exc.code in (0, None), exc.code
        assert "textual" not in sys.modules, "python -m omk_tui --version imported textual"
    """)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("omk-tui ")


HEADLESS = """
    import contextlib, io, json, sys
    import omk_tui.cli as cli
    codes = {}
    repo = sys.argv[1]
    for argv in (["goals", "--repo", repo], ["goals", "--repo", repo, "--json"], ["show", "latest", "--repo", repo],
                 ["show", "--repo", repo, "--json"], ["proof", "--repo", repo, "--format", "md"]):
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            codes[" ".join(argv[:2])] = cli.main(argv)
        assert "textual" not in sys.modules, f"omk-tui {' '.join(argv)} imported textual"
    print(json.dumps(codes))
"""


@pytest.mark.timeout(120)
def test_headless_read_commands_do_not_import_textual(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    paths = create_goal_paths(tmp_path)
    save_goal(paths, GoalState(goal_id=paths.goal_id, original_goal="g", normalized_goal="g", repo=str(tmp_path)))
    with EventLog(paths.events) as log:
        log.append(make_event(paths.goal_id, "goal_created", {"goal": "g", "repo": str(tmp_path)}))
    proc = run_py(HEADLESS, str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    codes = json.loads(proc.stdout)
    assert codes["goals --repo"] == 0 and codes["show latest"] == 0
    assert codes["proof --repo"] == 2  # no proof yet: a clear message and exit 2, still without textual


def engine_modules() -> list[str]:
    mods = []
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG.parent).with_suffix("")
        parts = rel.parts
        if parts[1:2] == ("ui",) or parts[-1] == "__main__":
            continue
        mods.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return mods


def imports_textual(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        else:
            continue
        if any(n == "textual" or n.startswith("textual.") or n.startswith("omk_tui.ui") for n in names):
            lines.append(node.lineno)
    return lines


def test_no_engine_source_imports_textual_or_the_ui():
    engine_files = [p for p in PKG.rglob("*.py") if "ui" not in p.relative_to(PKG).parts[:1]]
    assert len(engine_files) > 10
    offenders = {str(p.relative_to(PKG.parent)): lines for p in engine_files if (lines := imports_textual(p))}
    # the dashboard/demo commands may open the TUI, but only inside run() (checked by importing below)
    allowed_lazily = {k: v for k, v in offenders.items() if k.startswith("omk_tui/commands/")}
    for name, lines in allowed_lazily.items():
        tree = ast.parse((PKG.parent / name).read_text(encoding="utf-8"))
        top = {n.lineno for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))}
        assert not set(lines) & top, f"{name} imports textual/the UI at module level (line {sorted(set(lines) & top)})"
    rest = {k: v for k, v in offenders.items() if k not in allowed_lazily}
    assert rest == {}, f"engine modules import textual or omk_tui.ui: {rest}"


IMPORT_ALL = """
    import importlib, json, sys
    failed = {}
    first = None
    for name in sys.argv[1:]:
        try:
            importlib.import_module(name)
        except Exception as exc:
            failed[name] = f"{type(exc).__name__}: {exc}"
        if first is None and "textual" in sys.modules:
            first = name
    print(json.dumps({"first": first, "failed": failed}))
"""


@pytest.mark.timeout(120)
def test_importing_every_engine_module_does_not_import_textual():
    mods = engine_modules()
    assert "omk_tui.state.eventlog" in mods and "omk_tui.projection" in mods
    proc = run_py(IMPORT_ALL, *mods)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    assert data["failed"] == {}, f"engine modules that do not import: {data['failed']}"
    assert data["first"] is None, f"importing {data['first']} imported textual"
