"""The prompts the controller sends. Every prompt starts with the machine-readable header line."""

from __future__ import annotations

import json
from pathlib import Path

from omk_tui.agents.base import prompt_header
from omk_tui.models.tasks import Task

PLAN_SCHEMA = (
    '{"tasks": [{"id": "short-kebab-id", "title": "...", "description": "...", "dependencies": ["other-id"], '
    '"read_set": ["src/pkg"], "write_set": ["src/pkg/mod.py", "tests/test_mod.py"], "risk": "low|medium|high", '
    '"acceptance": ["what a test or command shows"], "budget_secs": 600, "owner_role": "implementer"}]}'
)
MAX_FEEDBACK_CHARS = 6000


def agents_md(worktree: Path) -> str:
    path = Path(worktree) / "AGENTS.md"
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return text[:8000]


def planner_prompt(goal: str, repo_summary: str, gates: list[str]) -> str:
    return "\n".join([
        prompt_header("planner", None, 1),
        "You are planning an engineering goal on this repository. Do not change any file.",
        f"Goal: {goal}",
        "",
        "Repository files (truncated):",
        repo_summary,
        "",
        f"Verification gates that will judge the work: {', '.join(gates) or 'none detected'}",
        "",
        "Answer with a task graph as one fenced ```json block of this shape:",
        PLAN_SCHEMA,
        "Rules: paths are relative to the repository root; write_set lists every file or folder the task may "
        "change (\"project files\" means anything); tasks whose write sets overlap will run one after another; "
        "keep tasks small and independent so they can run in parallel.",
    ])


def _scope_lines(task: Task) -> list[str]:
    return [
        f"You may change only: {', '.join(task.write_set) or 'nothing'}",
        f"You may read: {', '.join(task.read_set) or 'anything'}",
    ]


def implementer_prompt(goal: str, task: Task, worktree: Path, attempt: int, gates: list[str]) -> str:
    lines = [
        prompt_header("implementer", task.id, attempt),
        f"Goal: {goal}",
        f"Task {task.id}: {task.title}",
        task.description,
        "",
        "Acceptance criteria:",
        *[f"- {a}" for a in task.acceptance or ["the verification gates pass"]],
        "",
        *_scope_lines(task),
        f"When you are done these gates run in your working directory: {', '.join(gates) or 'none'}.",
        "If you find work outside this task that must be done, end your answer with a fenced ```json block "
        '{"follow_up_tasks": [...]} using the same task fields as the plan.',
    ]
    guide = agents_md(worktree)
    if guide:
        lines += ["", "The project's AGENTS.md:", guide]
    return "\n".join(lines)


def interrupted_note(why: str, changes: list[tuple[str, str]], limit: int = 50) -> str:
    """What a re-run turn is told when the turn before it did not finish and left uncommitted work in the worktree
    (`changes`: (path, status) in path order). Empty when the worktree is clean: nothing to continue from."""
    if not changes:
        return ""
    shown = [f"- {path} ({status})" for path, status in changes[:limit]]
    if len(changes) > limit:
        shown.append(f"- ... and {len(changes) - limit} more")
    return "\n".join([
        "",
        f"This task was interrupted ({why}) before its last turn finished; the worktree already holds partial "
        "work from it (uncommitted):",
        *shown,
        "Continue from it: look at what is there before you write anything, keep what is right, finish the rest.",
    ])


def fixer_prompt(goal: str, task: Task, attempt: int, failures: str, advice: str = "") -> str:
    lines = [
        prompt_header("fixer", task.id, attempt),
        f"Goal: {goal}",
        f"Task {task.id}: {task.title}",
        f"Attempt {attempt}: the verification gates failed after your last change. Fix the cause; do not weaken "
        "or skip tests.",
        *_scope_lines(task),
        "",
        "Gate output (trimmed):",
        failures[-MAX_FEEDBACK_CHARS:],
    ]
    if advice:
        lines += ["", "An architect reviewed the repeated failures and advises:", advice[-MAX_FEEDBACK_CHARS:]]
    return "\n".join(lines)


def baseline_prompt(goal: str, task: Task, attempt: int, tests: list[str], output: str) -> str:
    """Once per slice: tests that failed at the goal's baseline still fail with the slice's change. They are not the
    slice's regression, but making them pass may be its task (a red test to fix, a new feature's test)."""
    shown = tests[:20] + ([f"... and {len(tests) - 20} more"] if len(tests) > 20 else [])
    return "\n".join([
        prompt_header("fixer", task.id, attempt, reason="baseline"),
        f"Goal: {goal}",
        f"Task {task.id}: {task.title}",
        f"Attempt {attempt}: these tests were already failing before your change (at the goal's baseline) and "
        "still fail with it:",
        *(f"- {t}" for t in shown),
        "If making them pass is part of your task, fix them now (do not weaken or skip tests). If they are outside "
        "your task, change nothing for them and say so: your change is then accepted as it is.",
        *_scope_lines(task),
        "",
        "Gate output (trimmed):",
        output[-MAX_FEEDBACK_CHARS:],
    ])


def no_change_prompt(goal: str, task: Task, worktree: Path, attempt: int, gates: list[str]) -> str:
    """The implementer's prompt again, after a turn that changed no file although the task has files to write."""
    return "\n".join([
        implementer_prompt(goal, task, worktree, attempt, gates),
        "",
        f"Attempt {attempt}: your last turn changed no file in your working directory, so there was nothing to "
        "verify. Make the change now by writing the files. If you are sure no change is needed, say why: the "
        "slice is then blocked for a person to decide.",
    ])


def architect_prompt(goal: str, task: Task, attempts: int, failures: str) -> str:
    return "\n".join([
        prompt_header("architect", task.id, attempts + 1),
        f"Goal: {goal}",
        f"Task {task.id}: {task.title}",
        f"The implementer failed the verification gates {attempts} times in a row. Do not change files. "
        "Explain the root cause and give a concrete plan for one last attempt.",
        "",
        "Latest gate output (trimmed):",
        failures[-MAX_FEEDBACK_CHARS:],
    ])


def cleanup_prompt(goal: str, task: Task, attempt: int, findings: str) -> str:
    return "\n".join([
        prompt_header("fixer", task.id, attempt, reason="review"),
        f"Goal: {goal}",
        f"Task {task.id}: {task.title}",
        "The review wall blocked your change. Clean it up without changing its behaviour:",
        findings[-MAX_FEEDBACK_CHARS:],
        *_scope_lines(task),
    ])


def conflict_prompt(goal: str, task: Task, attempt: int, evidence: str) -> str:
    return "\n".join([
        prompt_header("implementer", task.id, attempt, reason="conflict"),
        f"Goal: {goal}",
        f"Task {task.id}: {task.title}",
        task.description,
        "Your earlier change conflicted with work that was integrated before it. Your working directory now "
        "holds the integrated result; make your change again on top of it.",
        "Conflict evidence:",
        evidence[-MAX_FEEDBACK_CHARS:],
        *_scope_lines(task),
    ])


def extract_json_blocks(text: str) -> list[object]:
    """Every parseable fenced ```json block (or bare JSON object answer) in an agent's text."""
    out: list[object] = []
    parts = text.split("```")
    for i in range(1, len(parts), 2):
        block = parts[i]
        if block.startswith("json"):
            block = block[4:]
        try:
            out.append(json.loads(block))
        except ValueError:
            continue
    if not out:
        stripped = text.strip()
        if stripped.startswith("{"):
            try:
                out.append(json.loads(stripped))
            except ValueError:
                pass
    return out
