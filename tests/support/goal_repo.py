"""Real git repositories and scripted-agent scripts for controller tests."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t.invalid", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t.invalid"}

# A gate that is fast (no pytest start-up): every `*.check` file in the tree must contain "ok".
CHECK_GATE = (
    "import pathlib, sys\n"
    "bad = [str(p) for p in pathlib.Path('.').rglob('*.check') if p.read_text().strip() != 'ok']\n"
    "print('\\n'.join('FAILED ' + b + ' - not ok' for b in bad) or 'all checks ok')\n"
    "sys.exit(1 if bad else 0)\n"
)


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV}
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True, env=env).stdout


def make_repo(root: Path, files: dict[str, str] | None = None, *, gate: str = "check") -> Path:
    repo = Path(root)
    repo.mkdir(parents=True, exist_ok=True)
    for rel, text in (files or {"README.md": "# sample\n", "base.check": "ok\n"}).items():
        p = repo / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
    omk = repo / ".omk"
    omk.mkdir(exist_ok=True)
    (omk / ".gitignore").write_text("*\n")
    if gate == "check":
        (omk / "check_gate.py").write_text(CHECK_GATE)
        cmd = [sys.executable, str(omk / "check_gate.py")]
        (omk / "gates.toml").write_text(f'[[gates]]\nname = "checks"\ncommand = {json.dumps(cmd)}\ntimeout_secs = 60\n')
    return repo


def write_script(path: Path, script: dict) -> str:
    path.write_text(json.dumps(script, indent=2))
    return f"script:{path}"


def task(tid: str, write: list[str], *, deps: list[str] | None = None, read: list[str] | None = None,
         budget: float | None = 120, **extra) -> dict:
    return {"id": tid, "title": f"Task {tid}", "description": f"do {tid}", "dependencies": deps or [],
            "read_set": read or [], "write_set": write, "risk": "low", "acceptance": [f"{tid} done"],
            "budget_secs": budget, "owner_role": "implementer", **extra}


def tree_fingerprint(repo: Path) -> dict:
    """HEAD, index bytes and every file's hash outside .git and .omk: to prove the main tree is untouched."""
    out = {"HEAD": (repo / ".git" / "HEAD").read_text(), "head_sha": git(repo, "rev-parse", "HEAD").strip(),
           "index": hashlib.sha256((repo / ".git" / "index").read_bytes()).hexdigest()}
    for p in sorted(repo.rglob("*")):
        rel = p.relative_to(repo)
        if rel.parts[0] in (".git", ".omk") or not p.is_file():
            continue
        out[str(rel)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def kinds(ctl, kind: str) -> list:
    """The events of `kind` in a controller's goal log."""
    from omk_tui.state.eventlog import read_events

    return [e for e in read_events(ctl.paths.events).events if e.kind == kind]
