"""Where a repository's omk-tui state lives, and loading/saving a goal's snapshots.

`<repo>/.omk/` ignores itself (its `.gitignore`), so our files never make the repository dirty — except the
project's own settings, `gates.toml` and `config.toml`, which a team commits.
"""

from __future__ import annotations

import json
import secrets
import shutil
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from pydantic import ValidationError

from omk_tui.models.goal import GoalState
from omk_tui.models.proof import Proof
from omk_tui.models.tasks import TaskGraph
from omk_tui.state.atomic import atomic_write_model, atomic_write_text, fsync_dir

OMK_DIR = ".omk"


class GoalNotFound(LookupError):
    pass


class StateFileError(ValueError):
    """A state file exists but cannot be read."""


# Everything of omk-tui's own, but not the project's settings (`git add .omk/gates.toml` was refused as ignored).
OMK_GITIGNORE = "*\n!gates.toml\n!config.toml\n"


def omk_dir(repo: Path, *, create: bool = True) -> Path:
    d = Path(repo) / OMK_DIR
    if create:
        d.mkdir(parents=True, exist_ok=True)
        ignore = d / ".gitignore"
        try:
            old = ignore.read_text(encoding="utf-8")
        except (FileNotFoundError, UnicodeDecodeError):
            old = None if not ignore.exists() else ""
        if old is None or old == "*\n":  # missing, or the one earlier versions wrote (a person's own is kept)
            atomic_write_text(ignore, OMK_GITIGNORE)
    return d


def new_goal_id(now: datetime | None = None) -> str:
    now = now or datetime.now(timezone.utc)
    return f"goal-{now:%Y%m%d-%H%M%S}-{now.microsecond // 1000:03d}-{secrets.token_hex(4)}"


@dataclass(frozen=True)
class GoalPaths:
    root: Path

    @property
    def goal_id(self) -> str:
        return self.root.name

    @property
    def goal_json(self) -> Path:
        return self.root / "goal.json"

    @property
    def task_graph_json(self) -> Path:
        return self.root / "task-graph.json"

    @property
    def events(self) -> Path:
        return self.root / "events.jsonl"

    @property
    def proof_json(self) -> Path:
        return self.root / "proof.json"

    @property
    def control(self) -> Path:
        return self.root / "control"

    @property
    def lock(self) -> Path:
        return self.root / "controller.lock"

    @property
    def procs(self) -> Path:
        """Records of the processes a running controller started (proc_records)."""
        return self.root / "procs"

    @property
    def artifacts(self) -> Path:
        return self.root / "artifacts"

    @property
    def gate_logs(self) -> Path:
        return self.artifacts / "gates"

    @property
    def agent_logs(self) -> Path:
        return self.artifacts / "agents"

    @property
    def reviews(self) -> Path:
        return self.artifacts / "reviews"

    def ensure(self) -> "GoalPaths":
        """Create the goal folder (and `.omk/` with its self-ignoring `.gitignore` when it is missing)."""
        if self.root.parent.name == "goals" and self.root.parent.parent.name == OMK_DIR:
            omk_dir(self.root.parent.parent.parent)
        for d in (self.root, self.control, self.gate_logs, self.agent_logs, self.reviews):
            d.mkdir(parents=True, exist_ok=True)
        return self


def goals_dir(repo: Path, *, create: bool = False) -> Path:
    return omk_dir(repo, create=create) / "goals"


def goal_paths(repo: Path, goal_id: str) -> GoalPaths:
    return GoalPaths(goals_dir(repo) / goal_id)


GOAL_ID_PATTERN = r"goal-\d{8}-\d{6}-\d{3}-[0-9a-f]{8}"


def create_goal_paths(repo: Path, goal_id: str | None = None) -> GoalPaths:
    """A new goal's folder, created (with `.omk/.gitignore` the first time)."""
    omk_dir(repo)
    return goal_paths(repo, goal_id or new_goal_id()).ensure()


def list_goal_ids(repo: Path) -> list[str]:
    """Goal ids of a repository, newest first (ids sort by creation time)."""
    d = goals_dir(repo)
    if not d.is_dir():
        return []
    return sorted((p.name for p in d.iterdir() if p.is_dir() and p.name.startswith("goal-")), reverse=True)


def resolve_goal(repo: Path, ref: str) -> GoalPaths:
    """`latest`, a full goal id, or a unique prefix/suffix of one."""
    ids = list_goal_ids(repo)
    if not ids:
        raise GoalNotFound(f"no goals in {Path(repo) / OMK_DIR / 'goals'}; start one with: omk-tui run \"GOAL\"")
    if ref in ("latest", "last"):
        return goal_paths(repo, ids[0])
    if ref in ids:
        return goal_paths(repo, ref)
    matches = [i for i in ids if i.startswith(ref) or i.endswith(ref)]
    if len(matches) == 1:
        return goal_paths(repo, matches[0])
    if not matches:
        raise GoalNotFound(f"no goal matches {ref!r}; `omk-tui goals` lists them")
    more = f" and {len(matches) - 5} more" if len(matches) > 5 else ""
    raise GoalNotFound(f"{ref!r} matches {len(matches)} goals: {', '.join(matches[:5])}{more}; give more of the id")


def load_state_file(path: Path, model):
    """A state file as `model`; None when it does not exist; StateFileError naming the file when unreadable."""
    try:
        return model.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        return None
    except (ValidationError, ValueError, RecursionError) as exc:
        raise StateFileError(f"{path} is not a valid {model.__name__}: {_first_line(exc)}") from exc
    except OSError as exc:
        raise StateFileError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _first_line(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        errs = exc.errors()
        parts = [f"{'.'.join(str(x) for x in e['loc']) or '(top)'}: {e['msg']}" for e in errs[:3]]
        more = f" (and {len(errs) - 3} more)" if len(errs) > 3 else ""
        return "; ".join(parts) + more
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def load_goal(paths: GoalPaths) -> GoalState:
    state = load_state_file(paths.goal_json, GoalState)
    if state is None:
        raise GoalNotFound(
            f"goal {paths.goal_id} has no goal.json ({paths.goal_json} does not exist: the file was removed, or the "
            "goal was never fully created); restore the file, or remove the folder and start a new goal with "
            "`omk-tui run`")
    return state


STALE_CREATION_SECS = 600.0  # a staging folder this old belongs to no creation in progress (those take < 1 s)


def create_goal(repo: Path, state: GoalState) -> GoalPaths:
    """A new goal's folder with its `goal.json`: made under a staging name (not a goal id, so nothing lists it)
    and renamed into place, so a run killed while it creates the goal never leaves a goal without `goal.json`.
    The staging folders such killed creations left behind are removed here."""
    final = goal_paths(repo, state.goal_id)
    _remove_stale_creations(final.root.parent)
    staging = GoalPaths(final.root.with_name(".creating-" + final.root.name)).ensure()
    save_goal(staging, state)
    staging.root.rename(final.root)
    fsync_dir(final.root.parent)
    return final


def _remove_stale_creations(goals: Path) -> None:
    now = time.time()
    for staging in goals.glob(".creating-goal-*"):
        try:
            if now - staging.stat().st_mtime > STALE_CREATION_SECS:
                shutil.rmtree(staging, ignore_errors=True)
        except OSError:
            pass  # gone meanwhile


def save_goal(paths: GoalPaths, state: GoalState) -> None:
    state.updated_at = datetime.now(timezone.utc)
    atomic_write_model(paths.goal_json, state)


def load_task_graph(paths: GoalPaths) -> TaskGraph | None:
    return load_state_file(paths.task_graph_json, TaskGraph)


def save_task_graph(paths: GoalPaths, graph: TaskGraph) -> None:
    atomic_write_model(paths.task_graph_json, graph)


def load_proof(paths: GoalPaths) -> Proof | None:
    return load_state_file(paths.proof_json, Proof)


def save_proof(paths: GoalPaths, proof: Proof) -> None:
    atomic_write_model(paths.proof_json, proof)


def write_json_artifact(path: Path, data) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, default=str) + "\n")
