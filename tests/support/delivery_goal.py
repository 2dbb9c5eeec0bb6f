"""Real repositories with a finished goal (goal.json, proof.json, branches, worktrees made with git) for the
review/delivery tests, and a local bare remote for pushes."""

from __future__ import annotations

import subprocess
from pathlib import Path

from omk_tui.git import naming
from omk_tui.models.gates import GateResult
from omk_tui.models.goal import GoalOptions, GoalState, GoalStatus
from omk_tui.models.proof import Proof, ReviewResult, SliceOutcome
from omk_tui.models.tasks import Task, TaskGraph
from omk_tui.state import store

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com"}


def git(repo: Path, *args: str, check: bool = True) -> str:
    import os

    proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV})
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout.strip()


def commit_file(repo: Path, rel: str, text: str, message: str) -> str:
    p = repo / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    git(repo, "add", rel)
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def make_repo(tmp: Path, gate_command: str | None = "python3 check.py") -> Path:
    repo = tmp / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    commit_file(repo, "check.py", "import pathlib, sys\nsys.exit(1 if pathlib.Path('BROKEN').exists() else 0)\n", "init")
    if gate_command:
        (repo / ".omk").mkdir()
        (repo / ".omk" / ".gitignore").write_text("*\n")
        (repo / ".omk" / "gates.toml").write_text(f'[[gates]]\nname = "check"\ncommand = "{gate_command}"\n')
    return repo


def add_bare_remote(tmp: Path, repo: Path, name: str = "origin") -> Path:
    bare = tmp / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    git(repo, "remote", "add", name, str(bare))
    git(repo, "push", "-q", name, "main")
    return bare


def make_goal(repo: Path, *, slices: dict[str, dict[str, str]] | None = None, policy: str = "local",
              merge: str = "disabled", status: GoalStatus = GoalStatus.ready, goal_id: str | None = None) -> store.GoalPaths:
    """A finished goal: one branch per slice (files committed from the base), the integration branch merging them."""
    slices = slices if slices is not None else {"s1": {"src/feature.py": "def feature():\n    return 42\n"}}
    goal_id = goal_id or store.new_goal_id()
    base = git(repo, "rev-parse", "HEAD")
    integration = naming.integration_branch(goal_id)
    git(repo, "branch", integration, base)
    outcomes, tasks = [], []
    for sid, files in slices.items():
        branch = naming.slice_branch(goal_id, sid)
        git(repo, "branch", branch, base)
        wt = repo.parent / f"wt-{sid}"
        git(repo, "worktree", "add", "-q", str(wt), branch)
        for rel, text in files.items():
            commit_file(wt, rel, text, f"slice {sid}")
        sha = git(wt, "rev-parse", "HEAD")
        git(repo, "worktree", "remove", str(wt))
        outcomes.append(SliceOutcome(slice_id=sid, task_id=sid, branch=branch, status="merged", commit=sha,
                                     changed_files=list(files)))
        tasks.append(Task(id=sid, title=f"task {sid}", owner_role="implementer", write_set=sorted({f.split('/')[0] for f in files})))
    iwt = repo.parent / "wt-integration"
    git(repo, "worktree", "add", "-q", str(iwt), integration)
    for o in outcomes:
        git(iwt, "merge", "-q", "--no-ff", "--no-edit", o.branch)
    icommit = git(iwt, "rev-parse", "HEAD")
    git(repo, "worktree", "remove", str(iwt))
    paths = store.goal_paths(repo, goal_id).ensure()
    state = GoalState(goal_id=goal_id, original_goal="add a feature function returning 42",
                      normalized_goal="add a feature function returning 42", status=status, repo=str(repo),
                      base_ref="main", base_commit=base, integration_branch=integration,
                      options=GoalOptions(delivery_policy=policy, merge_policy=merge))
    store.save_goal(paths, state)
    store.save_task_graph(paths, TaskGraph(goal_id=goal_id, tasks=tasks))
    gate = GateResult(name="check", command_line="python3 check.py", passed=True, exit_code=0, duration_ms=120)
    proof = Proof(goal_id=goal_id, status=status, readiness="ready", summary="ready", base_commit=base,
                  integration_branch=integration, integration_commit=icommit, final_gates=[gate],
                  post_mutation_gates_ran=True, slices=outcomes,
                  review_results=[ReviewResult(kind="code", scope="goal", passed=True, severity="info", feedback="ok | fine")],
                  delivery={"policy": policy})
    store.save_proof(paths, proof)
    return paths
