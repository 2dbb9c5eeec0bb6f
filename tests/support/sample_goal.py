"""A realistic recorded goal for UI, replay and snapshot tests (before a real controller run exists).

`write_sample_goal(repo)` makes `repo` a real git repository (pygit2) with a base commit and one branch per
slice carrying that slice's change, then writes a goal folder exactly as the controller does: `goal.json`
(`omk_tui.state.store`), `task-graph.json`, `events.jsonl` written through `EventLog` with events built by
`make_event`, and gate logs under `artifacts/gates/` (one of them a failing pytest run with ANSI colours).

Every timestamp is fixed (`SAMPLE_T0` plus offsets), so renderings are the same on every run.
`stage="mid"` stops in the middle of execution (a slice streaming, a gate running, a permission pending);
`stage="done"` continues to integration, final gates, reviews and a ready proof.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pygit2

from omk_tui.models.events import make_event
from omk_tui.models.gates import GateResult
from omk_tui.models.goal import Budget, GoalOptions, GoalPhase, GoalState, GoalStatus
from omk_tui.models.tasks import Task, TaskGraph, TaskStatus
from omk_tui.state.atomic import atomic_write_model
from omk_tui.state.eventlog import EventLog
from omk_tui.state.store import GoalPaths, goal_paths, omk_dir

SAMPLE_T0 = datetime(2026, 11, 22, 10, 0, 0, tzinfo=timezone.utc)
SAMPLE_NOW = SAMPLE_T0 + timedelta(minutes=7)
SAMPLE_GOAL_ID = "goal-20261122-100000-000-5a4d91e2"
SAMPLE_GOAL_TEXT = "Fix the failing slugify test and add a --json flag to the CLI, with docs and tests"

BASE_FILES = {
    "README.md": "# slugger\n\nTurns titles into URL slugs.\n\n    slugger \"Hello World\"\n",
    "src/slugger/__init__.py": "",
    "src/slugger/slug.py": (
        "import re\n\n\ndef slugify(text: str) -> str:\n"
        "    text = text.lower()\n"
        "    return re.sub(r\"[^a-z0-9]+\", \"-\", text)\n"
    ),
    "src/slugger/cli.py": (
        "import sys\n\nfrom slugger.slug import slugify\n\n\ndef main(argv=None):\n"
        "    args = sys.argv[1:] if argv is None else argv\n"
        "    print(slugify(\" \".join(args)))\n"
    ),
    "tests/test_slug.py": (
        "from slugger.slug import slugify\n\n\ndef test_basic():\n    assert slugify(\"Hello World\") == \"hello-world\"\n\n\n"
        "def test_strips_edges():\n    assert slugify(\"  Hello!  \") == \"hello\"\n"
    ),
}

SLICE_CHANGES = {
    "s1": {
        "src/slugger/slug.py": (
            "import re\nimport unicodedata\n\n\ndef slugify(text: str) -> str:\n"
            "    text = unicodedata.normalize(\"NFKD\", text).encode(\"ascii\", \"ignore\").decode()\n"
            "    text = text.lower()\n"
            "    return re.sub(r\"[^a-z0-9]+\", \"-\", text).strip(\"-\")\n"
        ),
    },
    "s2": {
        "src/slugger/cli.py": (
            "import argparse\nimport json\n\nfrom slugger.slug import slugify\n\n\ndef main(argv=None):\n"
            "    parser = argparse.ArgumentParser(prog=\"slugger\")\n"
            "    parser.add_argument(\"words\", nargs=\"+\")\n"
            "    parser.add_argument(\"--json\", action=\"store_true\", help=\"print a JSON object\")\n"
            "    args = parser.parse_args(argv)\n"
            "    slug = slugify(\" \".join(args.words))\n"
            "    print(json.dumps({\"slug\": slug}) if args.json else slug)\n"
        ),
    },
    "s3": {
        "README.md": (
            "# slugger\n\nTurns titles into URL slugs.\n\n    slugger \"Hello World\"\n\n"
            "Add `--json` to get `{\"slug\": \"hello-world\"}`.\n"
        ),
    },
    "s4": {},
}

TASKS = [
    ("t1", "Fix slugify edge handling", [], ["src/slugger/slug.py"], ["tests/test_slug.py"], "low"),
    ("t2", "Add a --json flag to the CLI", [], ["src/slugger/cli.py"], [], "medium"),
    ("t3", "Document the --json flag", ["t2"], ["README.md"], ["src/slugger/cli.py"], "low"),
    ("t4", "Test the CLI JSON output", ["t2"], ["tests/test_cli.py"], ["src/slugger/cli.py"], "low"),
]

FAILING_PYTEST_LOG = (
    "\x1b[1m============================= test session starts ==============================\x1b[0m\n"
    "platform linux -- Python 3.11.9, pytest-8.3.3, pluggy-1.5.0\n"
    "rootdir: /work/slugger\n"
    "collected 2 items\n\n"
    "tests/test_slug.py \x1b[32m.\x1b[0m\x1b[31mF\x1b[0m\x1b[31m                                                     [100%]\x1b[0m\n\n"
    "=================================== FAILURES ===================================\n"
    "\x1b[31m\x1b[1m______________________________ test_strips_edges _______________________________\x1b[0m\n\n"
    "    def test_strips_edges():\n"
    "\x1b[1m\x1b[31m>       assert slugify(\"  Hello!  \") == \"hello\"\x1b[0m\n"
    "\x1b[1m\x1b[31mE       AssertionError: assert '-hello-' == 'hello'\x1b[0m\n"
    "\x1b[1m\x1b[31mE         - hello\x1b[0m\n"
    "\x1b[1m\x1b[31mE         + -hello-\x1b[0m\n\n"
    "\x1b[1m\x1b[31mtests/test_slug.py\x1b[0m:9: AssertionError\n"
    "\x1b[36m\x1b[1m=========================== short test summary info ============================\x1b[0m\n"
    "\x1b[31mFAILED\x1b[0m tests/test_slug.py::\x1b[1mtest_strips_edges\x1b[0m - AssertionError: assert '-hello-' == 'hello'\n"
    "\x1b[31m========================= \x1b[31m\x1b[1m1 failed\x1b[0m, \x1b[32m1 passed\x1b[0m\x1b[31m in 0.04s\x1b[0m\x1b[31m ==========================\x1b[0m\n"
)

PASSING_PYTEST_LOG = (
    "\x1b[1m============================= test session starts ==============================\x1b[0m\n"
    "platform linux -- Python 3.11.9, pytest-8.3.3, pluggy-1.5.0\n"
    "collected {n} items\n\n"
    "tests/test_slug.py \x1b[32m..\x1b[0m\x1b[32m                                                     [100%]\x1b[0m\n\n"
    "\x1b[32m============================== \x1b[32m\x1b[1m{n} passed\x1b[0m\x1b[32m in 0.03s\x1b[0m\x1b[32m ===============================\x1b[0m\n"
)

RUFF_LOG = "All checks passed!\n"


def _commit_files(repo: pygit2.Repository, parent: pygit2.Oid | None, files: dict[str, str], message: str,
                  ref: str | None, when: int) -> pygit2.Oid:
    base_tree = repo[parent].tree if parent is not None else None
    index = pygit2.Index()
    if base_tree is not None:
        index.read_tree(base_tree)
    for path, text in files.items():
        blob = repo.create_blob(text.encode())
        index.add(pygit2.IndexEntry(path, blob, pygit2.GIT_FILEMODE_BLOB))
    tree = index.write_tree(repo)
    sig = pygit2.Signature("omk sample", "sample@omk.invalid", when, 0)
    return repo.create_commit(ref, sig, sig, message, tree, [parent] if parent is not None else [])


def make_sample_repo(repo_dir: Path, goal_id: str = SAMPLE_GOAL_ID) -> tuple[str, dict[str, str]]:
    """A git repository with a base commit and a branch per slice; returns (base commit, {slice: branch})."""
    repo_dir.mkdir(parents=True, exist_ok=True)
    repo = pygit2.init_repository(str(repo_dir), initial_head="main")
    when = int(SAMPLE_T0.timestamp()) - 3600
    base = _commit_files(repo, None, BASE_FILES, "Initial slugger\n", "refs/heads/main", when)
    repo.checkout_head(strategy=pygit2.GIT_CHECKOUT_FORCE)
    branches = {}
    short = goal_id.rsplit("-", 1)[-1]
    for i, (sid, files) in enumerate(SLICE_CHANGES.items()):
        name = f"omk/{short}/{sid}"
        branches[sid] = name
        if files:
            _commit_files(repo, base, files, f"{sid}: slice change\n", f"refs/heads/{name}", when + 60 * (i + 1))
        else:
            repo.create_branch(name, repo[base])
    return str(base), branches


class _Writer:
    def __init__(self, paths: GoalPaths, goal_id: str):
        self.log = EventLog(paths.events)
        self.goal_id = goal_id
        self.t = SAMPLE_T0
        self.paths = paths

    def at(self, secs: float) -> None:
        self.t = SAMPLE_T0 + timedelta(seconds=secs)

    def emit(self, kind: str, payload: dict | None = None, *, dt: float = 0.2, actor: str = "controller") -> None:
        ev = make_event(self.goal_id, kind, payload or {}, actor=actor)
        self.t += timedelta(seconds=dt)
        ev.ts = self.t
        self.log.append(ev)

    def gate(self, scope: str, name: str, command: str, log_text: str, exit_code: int, secs: float,
             attempt: int = 1, *, finish: bool = True) -> None:
        log_path = self.paths.gate_logs / f"{scope}-{name}-{attempt}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.write_text(log_text, encoding="utf-8")
        self.emit("gate_started", {"scope": scope, "name": name, "command_line": command, "log_path": str(log_path),
                                   "run": f"{scope}-{attempt}"})
        if not finish:
            return
        lines = log_text.count("\n")
        summary = [ln for ln in log_text.splitlines() if "FAILED" in ln or " passed" in ln][:3]
        result = GateResult(name=name, command_line=command, passed=exit_code == 0, exit_code=exit_code,
                            duration_ms=int(secs * 1000), log_path=str(log_path), line_count=lines, summary=summary)
        self.emit("gate_finished", {"scope": scope, "result": result.model_dump(mode="json"),
                                    "run": f"{scope}-{attempt}"}, dt=secs)

    def stream(self, sid: str | None, text: str, kind: str = "agent_message_chunk", dt: float = 0.05) -> None:
        self.emit(kind, {"slice_id": sid, "text": text}, dt=dt, actor="agent")

    def tool(self, sid: str | None, call_id: str, title: str, status: str, kind: str = "read",
             paths: list[str] | None = None, dt: float = 0.1) -> None:
        self.emit("agent_tool_call", {"slice_id": sid, "tool_call_id": call_id, "title": title, "kind": kind,
                                      "status": status, "paths": paths or []}, dt=dt, actor="agent")


def write_sample_goal(repo: Path, *, stage: str = "mid", goal_id: str = SAMPLE_GOAL_ID,
                      make_repo: bool = True) -> GoalPaths:
    """Write the sample goal into `repo/.omk/goals/<goal_id>` and return its paths."""
    repo = Path(repo)
    base, branches = make_sample_repo(repo, goal_id) if make_repo else ("0" * 40, {
        sid: f"omk/{goal_id[-8:]}/{sid}" for sid in SLICE_CHANGES})
    omk_dir(repo)
    paths = goal_paths(repo, goal_id).ensure()
    done = stage == "done"
    budget = Budget(time_secs=1800, tokens=2_000_000, usd=5.0)
    options = GoalOptions(agent="scripted", max_agents=2, approval="ask", delivery_policy="local")
    state = GoalState(
        goal_id=goal_id, original_goal=SAMPLE_GOAL_TEXT, normalized_goal=SAMPLE_GOAL_TEXT,
        status=GoalStatus.ready if done else GoalStatus.running,
        phase=GoalPhase.done if done else GoalPhase.execution,
        created_at=SAMPLE_T0, updated_at=SAMPLE_T0, repo=str(repo), base_ref="main", base_commit=base,
        integration_branch=f"omk/{goal_id[-8:]}/integration", options=options, budget=budget,
    )
    atomic_write_model(paths.goal_json, state)

    w = _Writer(paths, goal_id)
    worktrees = repo.parent / f"{repo.name}-worktrees" / goal_id
    w.emit("goal_created", {"goal": SAMPLE_GOAL_TEXT, "repo": str(repo), "options": options.model_dump(mode="json"),
                            "budget": budget.model_dump(mode="json")}, dt=0)
    w.emit("run_started", {"pid": 4242})
    w.emit("phase_changed", {"phase": "planning"})
    w.emit("agent_turn_started", {"slice_id": None, "role": "planner", "attempt": 1, "agent": "scripted"})
    w.stream(None, "Reading the repository to plan the goal.", "agent_thought_chunk")
    w.tool(None, "plan-1", "Read src/slugger/slug.py", "completed", paths=["src/slugger/slug.py"])
    w.stream(None, "Four tasks: fix slugify, add --json, document it, test it.")
    w.emit("agent_turn_finished", {"slice_id": None, "stop_reason": "end_turn", "duration_ms": 4100,
                                   "input_tokens": 5200, "output_tokens": 800})
    w.emit("usage", {"slice_id": None, "input_tokens": 5200, "output_tokens": 800, "usd": 0.021})
    graph_tasks = []
    for tid, title, deps, writes, reads, risk in TASKS:
        task = Task(id=tid, title=title, dependencies=deps, write_set=writes, read_set=reads, risk=risk)
        graph_tasks.append(task)
        w.emit("task_proposed", {"task": task.model_dump(mode="json")})
        w.emit("task_accepted", {"task_id": tid})
    w.emit("narrative", {"step": "plan", "summary": "4 tasks accepted"})
    for i, (tid, title, deps, writes, reads, _risk) in enumerate(TASKS, start=1):
        sid = f"s{i}"
        w.emit("slice_planned", {
            "slice_id": sid, "task_id": tid, "title": title, "dependencies": [f"s{TASKS.index(next(t for t in TASKS if t[0] == d)) + 1}" for d in deps],
            "branch": branches[sid], "worktree": str(worktrees / sid), "gates": ["pytest", "ruff"],
            "review_needs": ["code", "test"], "read_set": reads, "write_set": writes})
    w.emit("overlap_serialized", {"blocked_slice_id": "s3", "serializes_after": "s2", "kind": "read/write",
                                  "path": "src/slugger/cli.py"})
    w.emit("overlap_serialized", {"blocked_slice_id": "s4", "serializes_after": "s2", "kind": "read/write",
                                  "path": "src/slugger/cli.py"})

    w.emit("phase_changed", {"phase": "baseline"})
    w.gate("baseline", "pytest", "python -m pytest -q", FAILING_PYTEST_LOG, 1, 1.8)
    w.gate("baseline", "ruff", "ruff check .", RUFF_LOG, 0, 0.4)
    w.emit("narrative", {"step": "baseline", "summary": "baseline pytest red: the goal is to fix it"})
    w.emit("phase_changed", {"phase": "execution"})

    # s1 and s2 in parallel
    for sid in ("s1", "s2"):
        w.emit("slice_state", {"slice_id": sid, "state": "running", "attempt": 1})
        w.emit("lease_claimed", {"slice_id": sid, "expires_at": (w.t + timedelta(minutes=5)).isoformat(), "pid": 4242})
        w.emit("agent_turn_started", {"slice_id": sid, "role": "implementer", "attempt": 1, "agent": "scripted"})
    w.emit("agent_plan", {"slice_id": "s1", "entries": [
        {"content": "Read slug.py and the failing test", "status": "completed", "priority": "high"},
        {"content": "Strip leading and trailing dashes", "status": "in_progress", "priority": "high"},
        {"content": "Run the tests", "status": "pending", "priority": "medium"}]})
    w.stream("s1", "The test expects no leading/trailing dashes.", "agent_thought_chunk")
    w.tool("s1", "s1-t1", "Read src/slugger/slug.py", "in_progress", paths=["src/slugger/slug.py"])
    w.tool("s1", "s1-t1", "Read src/slugger/slug.py", "completed", paths=["src/slugger/slug.py"])
    w.stream("s2", "I'll switch the CLI to argparse and add --json.")
    w.tool("s2", "s2-t1", "Edit src/slugger/cli.py", "completed", kind="edit", paths=["src/slugger/cli.py"])
    w.stream("s1", "I normalise unicode to ASCII ")
    w.stream("s1", "and strip the dashes at both ends.")
    w.tool("s1", "s1-t2", "Edit src/slugger/slug.py", "completed", kind="edit", paths=["src/slugger/slug.py"])
    w.emit("agent_turn_finished", {"slice_id": "s1", "stop_reason": "end_turn", "duration_ms": 9000,
                                   "input_tokens": 12000, "output_tokens": 1500})
    w.emit("usage", {"slice_id": "s1", "input_tokens": 12000, "output_tokens": 1500, "usd": 0.052})
    w.emit("slice_state", {"slice_id": "s1", "state": "gates", "attempt": 1})
    w.gate("s1", "pytest", "python -m pytest -q", FAILING_PYTEST_LOG, 1, 1.6, attempt=1)
    w.emit("narrative", {"step": "s1", "summary": "pytest failed on attempt 1; feeding the failure back"})
    w.emit("slice_state", {"slice_id": "s1", "state": "running", "attempt": 2, "reason": "gate pytest failed"})
    w.emit("agent_turn_started", {"slice_id": "s1", "role": "implementer", "attempt": 2, "agent": "scripted"})
    w.stream("s1", "The edge case still fails: the strip ran before the substitution. Fixing the order.")
    w.tool("s1", "s1-t3", "Edit src/slugger/slug.py", "completed", kind="edit", paths=["src/slugger/slug.py"])
    w.tool("s1", "s1-t4", "Run python -m pytest -q", "completed", kind="execute")
    w.emit("agent_turn_finished", {"slice_id": "s1", "stop_reason": "end_turn", "duration_ms": 6000,
                                   "input_tokens": 9000, "output_tokens": 700})
    w.emit("usage", {"slice_id": "s1", "input_tokens": 9000, "output_tokens": 700, "usd": 0.037})
    w.emit("slice_state", {"slice_id": "s1", "state": "gates", "attempt": 2})
    w.gate("s1", "pytest", "python -m pytest -q", PASSING_PYTEST_LOG.format(n=2), 0, 1.2, attempt=2)
    w.gate("s1", "ruff", "ruff check .", RUFF_LOG, 0, 0.3, attempt=2)
    w.emit("slice_state", {"slice_id": "s1", "state": "committed", "attempt": 2, "commit": "a1b2c3d4e5f6",
                           "changed_files": ["src/slugger/slug.py"], "insertions": 3, "deletions": 1})
    w.emit("lease_released", {"slice_id": "s1"})
    w.emit("review_finished", {"scope": "s1", "kind": "code", "passed": True, "severity": "low",
                               "feedback": "Small, focused change."})

    w.stream("s2", "The flag prints a JSON object with the slug.")
    w.emit("agent_turn_finished", {"slice_id": "s2", "stop_reason": "end_turn", "duration_ms": 11000,
                                   "input_tokens": 14000, "output_tokens": 2100})
    w.emit("usage", {"slice_id": "s2", "input_tokens": 14000, "output_tokens": 2100, "usd": 0.064})
    w.emit("slice_state", {"slice_id": "s2", "state": "gates", "attempt": 1})
    w.gate("s2", "pytest", "python -m pytest -q", PASSING_PYTEST_LOG.format(n=2), 0, 1.3)
    w.gate("s2", "ruff", "ruff check .", RUFF_LOG, 0, 0.3)
    w.emit("slice_state", {"slice_id": "s2", "state": "committed", "attempt": 1, "commit": "b2c3d4e5f6a7",
                           "changed_files": ["src/slugger/cli.py"], "insertions": 8, "deletions": 2})
    w.emit("lease_released", {"slice_id": "s2"})

    # s3 streams and asks for a permission; s4 is running its gates
    w.emit("slice_state", {"slice_id": "s3", "state": "running", "attempt": 1})
    w.emit("lease_claimed", {"slice_id": "s3", "expires_at": (w.t + timedelta(minutes=5)).isoformat(), "pid": 4242})
    w.emit("agent_turn_started", {"slice_id": "s3", "role": "implementer", "attempt": 1, "agent": "scripted"})
    w.emit("agent_plan", {"slice_id": "s3", "entries": [
        {"content": "Read the new CLI", "status": "completed", "priority": "medium"},
        {"content": "Add a --json section to the README", "status": "in_progress", "priority": "medium"}]})
    w.stream("s3", "Checking how --json prints before documenting it.", "agent_thought_chunk")
    w.tool("s3", "s3-t1", "Read src/slugger/cli.py", "completed", paths=["src/slugger/cli.py"])
    w.stream("s3", "I'll run the CLI once to show real output in the README.")
    w.tool("s3", "s3-t2", "Run slugger --json Hello World", "pending", kind="execute")
    w.emit("permission_asked", {"slice_id": "s3", "request_id": "perm-s3-1", "tool": "execute",
                                "command": "python -m slugger.cli --json Hello World", "paths": [],
                                "scope": ["README.md"], "options": ["approve", "approve_for_session", "reject"]},
           actor="agent")
    w.emit("slice_state", {"slice_id": "s4", "state": "running", "attempt": 1})
    w.emit("agent_turn_started", {"slice_id": "s4", "role": "implementer", "attempt": 1, "agent": "scripted"})
    w.stream("s4", "Writing tests/test_cli.py for the JSON output.")
    w.tool("s4", "s4-t1", "Write tests/test_cli.py", "completed", kind="edit", paths=["tests/test_cli.py"])
    w.emit("agent_turn_finished", {"slice_id": "s4", "stop_reason": "end_turn", "duration_ms": 5000,
                                   "input_tokens": 8000, "output_tokens": 900})
    w.emit("usage", {"slice_id": "s4", "input_tokens": 8000, "output_tokens": 900, "usd": 0.033})
    w.emit("slice_state", {"slice_id": "s4", "state": "gates", "attempt": 1})
    w.emit("budget_checkpoint", {"budget": Budget(time_secs=1800, tokens=2_000_000, usd=5.0, spent_time_secs=412,
                                                  spent_tokens=53_900, spent_usd=0.207).model_dump(mode="json")})
    if not done:
        w.gate("s4", "pytest", "python -m pytest -q", PASSING_PYTEST_LOG.format(n=3)[:180], 0, 0, finish=False)
        w.emit("gate_progress", {"scope": "s4", "name": "pytest", "line_count": 3})
        w.log.close()
        _write_graph(paths, goal_id, graph_tasks, {"t1": "done", "t2": "done", "t3": "running", "t4": "running"})
        return paths

    w.gate("s4", "pytest", "python -m pytest -q", PASSING_PYTEST_LOG.format(n=3), 0, 1.4)
    w.emit("slice_state", {"slice_id": "s4", "state": "committed", "attempt": 1, "commit": "d4e5f6a7b8c9",
                           "changed_files": ["tests/test_cli.py"], "insertions": 12, "deletions": 0})
    w.emit("permission_decided", {"slice_id": "s3", "request_id": "perm-s3-1", "decision": "approve", "by": "user"})
    w.tool("s3", "s3-t2", "Run slugger --json Hello World", "completed", kind="execute")
    w.tool("s3", "s3-t3", "Edit README.md", "completed", kind="edit", paths=["README.md"])
    w.emit("agent_turn_finished", {"slice_id": "s3", "stop_reason": "end_turn", "duration_ms": 7000,
                                   "input_tokens": 7000, "output_tokens": 600})
    w.emit("usage", {"slice_id": "s3", "input_tokens": 7000, "output_tokens": 600, "usd": 0.028})
    w.gate("s3", "pytest", "python -m pytest -q", PASSING_PYTEST_LOG.format(n=3), 0, 1.2)
    w.emit("slice_state", {"slice_id": "s3", "state": "committed", "attempt": 1, "commit": "c3d4e5f6a7b8",
                           "changed_files": ["README.md"], "insertions": 2, "deletions": 0})
    w.emit("phase_changed", {"phase": "integration"})
    for sid in ("s1", "s2", "s3", "s4"):
        w.emit("integration_merged", {"slice_id": sid, "commit": f"{sid}merge"})
    w.gate("final", "pytest", "python -m pytest -q", PASSING_PYTEST_LOG.format(n=3), 0, 1.5)
    w.gate("final", "ruff", "ruff check .", RUFF_LOG, 0, 0.3)
    w.emit("phase_changed", {"phase": "review"})
    for kind in ("architect", "code", "test", "security", "anti_slop"):
        w.emit("review_finished", {"scope": "goal", "kind": kind, "passed": True, "severity": "low"})
    w.emit("phase_changed", {"phase": "proof"})
    w.emit("proof_written", {"status": "ready", "readiness": "ready", "path": str(paths.proof_json)})
    w.emit("delivery", {"policy": "local", "status": "pending", "detail": "integration branch left for accept"})
    w.emit("phase_changed", {"phase": "done"})
    w.emit("run_finished", {"status": "ready", "readiness": "ready"})
    w.log.close()
    _write_graph(paths, goal_id, graph_tasks, {t[0]: "done" for t in TASKS})
    return paths


def _write_graph(paths: GoalPaths, goal_id: str, tasks: list[Task], statuses: dict[str, str]) -> None:
    for t in tasks:
        t.status = TaskStatus(statuses.get(t.id, "pending"))
    atomic_write_model(paths.task_graph_json, TaskGraph(goal_id=goal_id, generated_at=SAMPLE_T0, tasks=tasks))


def write_minimal_goal(repo: Path, goal_id: str, created_at: datetime, status: str = "ready",
                       goal_text: str = "An earlier goal") -> GoalPaths:
    """A small finished goal (goal.json, task-graph.json, a short log) for goal-list tests and benchmarks."""
    paths = goal_paths(repo, goal_id).ensure()
    state = GoalState(goal_id=goal_id, original_goal=goal_text, normalized_goal=goal_text, status=GoalStatus(status),
                      phase=GoalPhase.done if status == "ready" else GoalPhase.execution, created_at=created_at,
                      updated_at=created_at, repo=str(repo))
    atomic_write_model(paths.goal_json, state)
    tasks = [Task(id="t1", title="Only task", status=TaskStatus.done if status == "ready" else TaskStatus.pending)]
    atomic_write_model(paths.task_graph_json, TaskGraph(goal_id=goal_id, tasks=tasks))
    log = EventLog(paths.events)
    for kind, payload in (("goal_created", {"goal": goal_text, "repo": str(repo)}),
                          ("run_finished", {"status": status})):
        ev = make_event(goal_id, kind, payload)
        ev.ts = created_at
        log.append(ev)
    log.close()
    return paths


def dump_events(paths: GoalPaths) -> list[dict]:
    return [json.loads(line) for line in paths.events.read_text().splitlines() if line.strip()]
