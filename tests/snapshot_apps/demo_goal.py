"""The recorded `omk-tui demo` goal (tests/data/demo-goal/), replayed into a fixed folder for screenshots.

The recording is a real demo run (`python -m tests.snapshot_apps.demo_goal --record` makes a new one): its event
log, goal and task-graph snapshots and the gate logs the screens open, with the recording's root folder written
as `@ROOT@`. `materialize` writes it under a fixed folder, cut after a chosen event, next to a sample repository
whose commits have fixed dates (so the base commit and the slice branch of the diff screen are the same every
time); the dashboard's clock is pinned to just after the last kept event.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data" / "demo-goal"
RECORD_ROOT = Path("/tmp/omk-demo-record")
PLACEHOLDER = "@ROOT@"
FIXED_DATE = "2026-11-22T09:00:00+00:00"

# cut points (number of events kept) of the screens
MID_RUN = 101  # fix-divide committed; add-stats on its 2nd attempt after a gate failure; ops-docs running
PERMISSION_PENDING = 128  # add-stats (2nd attempt) has asked to write calc/stats.py and waits for an answer


def _fixed_dates() -> dict[str, str]:
    return {**os.environ, "GIT_AUTHOR_DATE": FIXED_DATE, "GIT_COMMITTER_DATE": FIXED_DATE,
            "GIT_AUTHOR_NAME": "omk demo", "GIT_AUTHOR_EMAIL": "demo@omk.invalid",
            "GIT_COMMITTER_NAME": "omk demo", "GIT_COMMITTER_EMAIL": "demo@omk.invalid"}


def _git(repo: Path, *args: str) -> str:
    out = subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True, env=_fixed_dates())
    return out.stdout.strip()


def _sample_repo(repo: Path) -> str:
    """The demo's sample repository with fixed commit dates; returns the base commit."""
    from omk_tui.demo import sample

    saved = dict(os.environ)
    os.environ.update(_fixed_dates())
    try:
        sample.create_sample_repo(repo, python="python")
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return _git(repo, "rev-parse", "HEAD")


def _slice_branch(repo: Path, branch: str, files: dict[str, str], message: str) -> None:
    """A slice branch with the slice's files committed on top of the base (for the diff screen)."""
    _git(repo, "checkout", "-q", "-b", branch)
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text, encoding="utf-8")
    _git(repo, "add", "--", *files)  # the slice's files only (.omk/gates.toml is not ignored: a project's setting)
    _git(repo, "commit", "-q", "-m", message)
    _git(repo, "checkout", "-q", "main")


def goal_id() -> str:
    return json.loads((DATA / "goal.json").read_text(encoding="utf-8"))["goal_id"]


def materialize(root: Path, cut: int | None = None) -> tuple[Path, str, datetime]:
    """Write the demo repo and its goal (events cut after `cut` events) under `root`.
    Returns (repo, goal id, the clock to pin the dashboard to)."""
    from omk_tui.demo.sample import OPS_FIXED
    from omk_tui.projection import fold
    from omk_tui.state.eventlog import read_events

    if root.exists():
        shutil.rmtree(root)
    repo = root / "calc"
    base = _sample_repo(repo)
    gid = goal_id()
    _slice_branch(repo, f"omk/{gid}/fix-divide", {"calc/ops.py": OPS_FIXED}, "fix-divide: true division")
    folder = repo / ".omk" / "goals" / gid
    folder.mkdir(parents=True)

    def place(text: str) -> str:
        return text.replace(PLACEHOLDER, str(root))

    lines = place((DATA / "events.jsonl").read_text(encoding="utf-8")).splitlines(keepends=True)
    kept = lines if cut is None else lines[:cut]
    (folder / "events.jsonl").write_text("".join(kept), encoding="utf-8")
    view = fold(gid, read_events(folder / "events.jsonl").events)
    state = json.loads(place((DATA / "goal.json").read_text(encoding="utf-8")))
    state["base_commit"] = base
    if cut is not None:
        state.update(status=view.status, phase=view.phase, completed_at=None)
    (folder / "goal.json").write_text(json.dumps(state, indent=2), encoding="utf-8")
    shutil.copy(DATA / "task-graph.json", folder / "task-graph.json")
    for log in sorted((DATA / "gates").rglob("*.log")):
        target = folder / "artifacts" / "gates" / log.relative_to(DATA / "gates")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(place(log.read_text(encoding="utf-8")), encoding="utf-8")
    assert view.last_ts is not None
    return repo, gid, view.last_ts + timedelta(seconds=2)


def record() -> int:
    """Run the demo (headless, pace 0.5) in RECORD_ROOT and copy what the screens need into tests/data/."""
    if RECORD_ROOT.exists():
        shutil.rmtree(RECORD_ROOT)
    RECORD_ROOT.mkdir(parents=True)
    env = {**os.environ, "OMK_WORKTREES_DIR": str(RECORD_ROOT / "worktrees")}
    subprocess.run([sys.executable, "-m", "omk_tui", "demo", "--headless", "--pace", "0.5", "--dir",
                    str(RECORD_ROOT / "calc")], check=True, env=env, cwd=RECORD_ROOT)
    capture(next((RECORD_ROOT / "calc" / ".omk" / "goals").iterdir()))
    return 0


def capture(folder: Path) -> None:
    """Copy a recorded goal folder (under RECORD_ROOT) into tests/data/demo-goal/."""
    if DATA.exists():
        shutil.rmtree(DATA)
    (DATA / "gates").mkdir(parents=True)

    def hide(text: str) -> str:
        return text.replace(str(RECORD_ROOT), PLACEHOLDER)

    for name in ("events.jsonl", "goal.json", "task-graph.json"):
        (DATA / name).write_text(hide((folder / name).read_text(encoding="utf-8")), encoding="utf-8")
    gates = folder / "artifacts" / "gates"
    for log in sorted(gates.rglob("*.log")):
        target = DATA / "gates" / log.relative_to(gates)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(hide(log.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"recorded {folder.name} into {DATA}")


if __name__ == "__main__":
    if sys.argv[1:] != ["--record"]:
        print("usage: python -m tests.snapshot_apps.demo_goal --record", file=sys.stderr)
        raise SystemExit(2)
    raise SystemExit(record())
