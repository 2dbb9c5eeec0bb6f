"""Property-based fuzzing of what people and agents hand the engine: gates.toml, task graphs, plan answers.

Event-log lines, control requests and `TaskGraph` validation alone are fuzzed in tests/test_fuzz_state.py; here
the layers above them: gate config parsing (only `GateConfigError` naming file, line and field), slice planning
of a validated graph (only `SlicePlanError` with reasons), an agent's plan answer through the same intake the
controller uses (every proposal gets a verdict with a reason), and the `omk-tui slices` command on garbage files
(exit 2, a message, no traceback).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from omk_tui.control.plan_intake import review_proposals
from omk_tui.control.prompts import extract_json_blocks
from omk_tui.gates.config import GateConfigError, parse_gates_toml
from omk_tui.gates.plan import resolve_gates
from omk_tui.models.gates import GateSpec
from omk_tui.models.tasks import Task, TaskGraph, TaskGraphError
from omk_tui.planning.slices import SlicePlanError, plan_slices

FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
GOAL = "goal-20261122-120000-000-abcdef01"

json_scalars = st.none() | st.booleans() | st.integers(-10**6, 10**12) | st.floats(allow_nan=False) | st.text(max_size=12)
json_values = st.recursive(json_scalars, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c,
                                                                                             max_size=4), max_leaves=10)

# --------------------------------------------------------------------------- gates.toml

GATE_KEYS = ["name", "command", "timeout_secs", "required", "env", "cwd", "fail_on_output", "bogus", "gates"]
toml_values = st.sampled_from([
    '"pytest -q"', '["python", "-m", "pytest"]', "[]", '[""]', "[1, 2]", "true", "false", "0", "-5", "30",
    "1e9", "3.5", '""', '"../x"', '"/abs"', '"sub/dir"', "{ A = \"1\" }", "{ A = 1 }", "inf", "nan",
    '"\\u00e9t\\u00e9"', "'''multi\nline'''", '"unterminated', "[[", "{", "2026-11-22",
])
toml_line = st.one_of(
    st.builds(lambda k, v: f"{k} = {v}", st.sampled_from(GATE_KEYS), toml_values),
    st.sampled_from(["[[gates]]", "[gates]", "[[ gates ]]", "[other]", "[[gates.sub]]", "gates = 3", "# c", "",
                     "= 1", "[[gates]] x", "\x00", "name = \"a\"\nname = \"b\""]),
    st.text(max_size=30),
)
toml_text = st.lists(toml_line, max_size=14).map("\n".join)


def _check_gate_error(exc: GateConfigError, path: Path, text: str) -> None:
    assert exc.path == path
    assert exc.message and str(exc).startswith(str(path))
    assert exc.line is None or 1 <= exc.line <= text.count("\n") + 2
    assert exc.field is None or isinstance(exc.field, str)


@FUZZ
@given(toml_text)
def test_gates_toml_only_ever_fails_with_a_located_gate_config_error(text):
    path = Path("/repo/.omk/gates.toml")
    try:
        specs = parse_gates_toml(text, path)
    except GateConfigError as exc:
        _check_gate_error(exc, path, text)
        return
    assert isinstance(specs, list) and all(isinstance(s, GateSpec) and s.name and s.command for s in specs)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300) | toml_text.map(str.encode))
def test_resolve_gates_reads_any_bytes_without_crashing(raw):
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp)
        (repo / ".omk").mkdir()
        (repo / ".omk" / "gates.toml").write_bytes(raw)
        try:
            plan = resolve_gates(repo)
        except GateConfigError as exc:
            assert exc.path == repo / ".omk" / "gates.toml" and exc.message
            return
        assert plan.source == "config"


# --------------------------------------------------------------------------- task graphs -> slices

paths = st.sampled_from(["a.py", "b.py", "src/", "src/x.py", "docs/*.md", "project files", "../up", "/etc/x",
                         ".git/config", "", " ", "a.py/", "**", "src/**/*.py", "ünï.txt", "a\x00b"])
ids = st.sampled_from(["a", "b", "c", "d", "e", "", " ", "a/b", "..", "x" * 80, "é", "goal-execute"])
task_doc = st.fixed_dictionaries(
    {"id": ids, "title": st.sampled_from(["T", "", " "])},
    optional={"dependencies": st.lists(ids, max_size=3), "write_set": st.lists(paths, max_size=3),
              "read_set": st.lists(paths, max_size=3), "budget_secs": st.none() | st.floats(-5, 1e6) | st.just(0),
              "risk": st.sampled_from(["low", "high", "nope"]), "status": st.sampled_from(["pending", "done", "x"]),
              "owner_role": st.sampled_from(["implementer", "", "wizard"])},
)
graph_doc = st.fixed_dictionaries({"goal_id": st.sampled_from([GOAL, "", "bad id/../x"]),
                                   "tasks": st.lists(task_doc, max_size=6)})


@FUZZ
@given(graph_doc)
def test_plan_slices_of_any_graph_plans_or_names_every_problem(doc):
    try:
        graph = TaskGraph.model_validate_json(json.dumps(doc))
    except ValidationError:
        return  # the documented error of the model layer (fuzzed in tests/test_fuzz_state.py)
    try:
        plan = plan_slices(graph, goal_id=GOAL)
    except SlicePlanError as exc:
        assert exc.reasons and all(isinstance(r, str) and r for r in exc.reasons)
        return
    try:
        graph.validate_graph()
    except TaskGraphError as exc:  # planning accepted it, so validation must agree
        pytest.fail(f"plan_slices accepted a graph that validate_graph rejects: {exc}")
    planned = {s.task_id for s in plan.slices}
    assert planned <= {t.id for t in graph.tasks}
    for s in plan.slices:
        assert set(s.dependencies) <= {x.slice_id for x in plan.slices}


# --------------------------------------------------------------------------- plan answers from agents

def _answer(blocks: list, prose: str, fenced: bool) -> str:
    parts = [prose]
    for b in blocks:
        body = b if isinstance(b, str) else json.dumps(b)
        parts.append(f"```json\n{body}\n```" if fenced else body)
    return "\n".join(parts)


proposal = task_doc | json_values
plan_block = st.one_of(st.fixed_dictionaries({"tasks": st.lists(proposal, max_size=6)}), json_values,
                       st.sampled_from(['{"tasks": [', "{'tasks': []}", "```", "json", "{}"]))


@FUZZ
@given(st.lists(plan_block, max_size=3), st.text(max_size=40), st.booleans(),
       st.none() | st.floats(0, 5000), st.sets(st.sampled_from(["a", "b", "goal-execute", "x" * 80]), max_size=2))
# an id that cannot name a branch: once accepted, and the goal failed when its slices were planned
@example([{"tasks": [{"id": "bad id/..", "title": "T", "write_set": ["b.py"]}]}], "", True, None, set())
@example([{"tasks": [{"id": "c", "title": "T", "write_set": ["c.py"], "dependencies": ["a"]},
                     {"id": "a/b", "title": "T", "write_set": ["a.py"]}]}], "", False, None, {"a"})
def test_any_plan_answer_gives_every_proposal_a_verdict_with_a_reason(blocks, prose, fenced, time_left, existing):
    text = _answer(blocks, prose, fenced)
    found = extract_json_blocks(text)
    assert isinstance(found, list)
    # the controller's own rule: the first block that is an object with a list of tasks is the plan
    proposals = next((b["tasks"] for b in found if isinstance(b, dict) and isinstance(b.get("tasks"), list)), [])
    verdicts = review_proposals(proposals, existing_ids=set(existing), time_left_secs=time_left)
    assert len(verdicts) == len(proposals)
    accepted = [v.task for v in verdicts if v.accepted]
    for v in verdicts:
        assert v.accepted or (isinstance(v.reason, str) and v.reason.strip()), v
        if v.accepted:
            assert v.task is not None
            assert set(v.task.dependencies) <= {t.id for t in accepted} | set(existing)
    if accepted:  # what the controller then does with them: plan them with the tasks the goal already has
        done = [Task(id=tid, title="done before", write_set=["done.py"], status="done") for tid in sorted(existing)]
        graph = TaskGraph(goal_id=GOAL, tasks=done + accepted)
        graph.validate_graph()
        plan_slices(graph, goal_id=GOAL)


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=200))
def test_extract_json_blocks_never_raises_on_any_text(text):
    assert isinstance(extract_json_blocks(text), list)


# --------------------------------------------------------------------------- `omk-tui slices` on garbage

GARBAGE_FILES = [
    b"",
    b"\xff\xfe\x00garbage",
    b"{",
    b"[]",
    b"null",
    b'{"goal_id": 3, "tasks": "no"}',
    json.dumps({"goal_id": GOAL, "tasks": [{"id": "a", "title": "A", "dependencies": ["a"]}]}).encode(),
    json.dumps({"goal_id": GOAL, "tasks": [{"id": "a", "title": "A", "write_set": ["../../etc/passwd"]}]}).encode(),
    b"[" * 100_000,
]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("raw", GARBAGE_FILES, ids=range(len(GARBAGE_FILES)))
def test_slices_command_on_garbage_exits_2_with_a_message_and_no_traceback(tmp_path, raw):
    path = tmp_path / "graph.json"
    path.write_bytes(raw)
    res = subprocess.run([sys.executable, "-m", "omk_tui", "slices", str(path)], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 2, (res.stdout, res.stderr)
    assert "Traceback" not in res.stderr and "Traceback" not in res.stdout
    assert str(path) in res.stderr or "graph.json" in res.stderr, res.stderr
