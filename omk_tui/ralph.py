"""Ralph (seed 000): a persistent loop over the user stories of a PRD, each verified by the gates.

The agent writes a PRD (`prd.json`); each iteration implements the first story not yet verified in the ralph
worktree, runs the gates there, and marks the story verified (committed on the ralph branch) or failed.
Three consecutive failures of a story escalate to an architect prompt and, without `--yolo`, stop.
`done-contract.json` records the gates, the changed files and whether it passed. State lives in
`<repo>/.omk/ralph/<slug>/`; the main working tree is never touched.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from pydantic import BaseModel, Field

from omk_tui.agents.base import SessionConfig, prompt_header
from omk_tui.control.prompts import extract_json_blocks
from omk_tui.models.gates import GateResult, gates_passed
from omk_tui.state.atomic import atomic_write_model
from omk_tui.state.store import omk_dir

MAX_CONSECUTIVE_FAILURES = 3


class UserStory(BaseModel):
    id: str
    title: str = ""
    description: str = ""
    acceptance_criteria: list[str] = Field(default_factory=list)
    status: str = "not_started"  # not_started | in_progress | implemented | verified | failed
    failures: int = 0
    commit: str | None = None


class Prd(BaseModel):
    task: str
    user_stories: list[UserStory] = Field(default_factory=list)


class RalphState(BaseModel):
    version: int = 1
    task: str
    slug: str
    iteration: int = 0
    max_iterations: int = 10
    base_commit: str
    prd: Prd
    gate_results: list[GateResult] = Field(default_factory=list)
    guidance: dict[str, str] = Field(default_factory=dict)
    consecutive_failures: dict[str, int] = Field(default_factory=dict)


class DoneContract(BaseModel):
    id: str
    mode: str = "ralph"
    started_at: datetime
    finished_at: datetime
    passed: bool
    reason: str = ""
    branch: str
    worktree: str
    gates: list[GateResult] = Field(default_factory=list)
    changed_files: list[str] = Field(default_factory=list)
    stories: list[UserStory] = Field(default_factory=list)


class RalphError(RuntimeError):
    pass


def slugify_task(task: str) -> str:
    words = re.sub(r"[^a-z0-9]+", "-", task.lower()).strip("-")[:40].strip("-") or "task"
    return f"{words}-{hashlib.sha1(task.encode()).hexdigest()[:6]}"


def parse_prd(text: str, task: str) -> Prd:
    """User stories from the agent's answer: `{"user_stories": [...]}` or a plan's `{"tasks": [...]}`."""
    for block in extract_json_blocks(text):
        if not isinstance(block, dict):
            continue
        items = block.get("user_stories") or block.get("stories") or block.get("tasks")
        if not isinstance(items, list):
            continue
        stories = []
        for i, item in enumerate(items, start=1):
            if not isinstance(item, dict):
                continue
            stories.append(UserStory(
                id=str(item.get("id") or f"US-{i:03d}"),
                title=str(item.get("title", "")),
                description=str(item.get("description") or item.get("title") or ""),
                acceptance_criteria=[str(a) for a in (item.get("acceptance_criteria") or item.get("acceptance") or [])],
            ))
        if stories:
            return Prd(task=task, user_stories=stories)
    return Prd(task=task, user_stories=[UserStory(id="US-001", title=task, description=task,
                                                  acceptance_criteria=["the verification gates pass"])])


class Ralph:
    def __init__(self, repo: Path, task: str, *, agent: str, max_iterations: int = 10, yolo: bool = False,
                 approval: str = "yolo", say: Callable[[str], None] = print):
        self.repo = Path(repo)
        self.task = task
        self.agent = agent
        self.max_iterations = max_iterations
        self.yolo = yolo
        self.approval = approval
        self.say = say
        self.slug = slugify_task(task)
        self.dir = omk_dir(self.repo) / "ralph" / self.slug
        self.started = datetime.now(timezone.utc)

    @property
    def state_path(self) -> Path:
        return self.dir / "state.json"

    def _save(self, state: RalphState) -> None:
        atomic_write_model(self.state_path, state)
        atomic_write_model(self.dir / "prd.json", state.prd)

    def _worktrees(self, base_commit: str):
        from omk_tui.config import load_config
        from omk_tui.git.worktrees import WorktreeManager

        cfg = load_config(self.repo)
        return WorktreeManager(self.repo, f"ralph-{self.slug}", base_commit, copy_files=cfg.worktrees.copy_files)

    async def _turn(self, text: str, cwd: Path, *, read_only: bool = False) -> str:
        from omk_tui.agents.spec import open_session
        from omk_tui.config import load_config

        agent_config = load_config(self.repo).agent
        session = open_session(self.agent, SessionConfig(cwd=cwd, approval="never" if read_only else self.approval,
                                                         write_scope=["project files"], read_only=read_only),
                               confine=agent_config.confine, writable=agent_config.writable)
        chunks: list[str] = []

        def on_update(u) -> None:
            if u.kind == "message":
                chunks.append(u.text)

        try:
            await session.start()
            result = await session.prompt(text, on_update)
        finally:
            await session.close()
        if not result.ok:
            self.say(f"  agent turn ended: {result.stop_reason} {result.error or ''}".rstrip())
        return result.text or "".join(chunks)

    async def run(self, *, resume: bool = False) -> DoneContract:
        from omk_tui.gates import resolve_gates, run_gates
        from omk_tui.git.repo import open_base

        self.dir.mkdir(parents=True, exist_ok=True)
        if self.state_path.exists():
            if not resume:
                raise RalphError(f"ralph state exists for this task at {self.dir}; pass --resume to continue it "
                                 "(or delete that folder to start over)")
            from omk_tui.state.store import load_state_file

            state = load_state_file(self.state_path, RalphState)  # unreadable: StateFileError naming the file
            state.max_iterations = self.max_iterations
        elif resume:
            raise RalphError(f"no ralph state for this task at {self.dir}; run without --resume to start")
        else:
            base = open_base(self.repo)
            state = RalphState(task=self.task, slug=self.slug, max_iterations=self.max_iterations,
                               base_commit=base.base_commit, prd=Prd(task=self.task))
        specs = resolve_gates(self.repo).specs
        if not [s for s in specs if not s.skip]:
            raise RalphError("verification blocked: no local gates were detected or configured")
        wm = self._worktrees(state.base_commit)
        wt = Path(await asyncio.to_thread(wm.create, "work"))
        if not state.prd.user_stories:
            self.say("ralph: asking the agent for a PRD of user stories")
            answer = await self._turn("\n".join([
                prompt_header("planner", None, 1, kind="prd"),
                f"Write a PRD for this task as user stories with acceptance criteria. Task: {self.task}",
                'Answer with one fenced ```json block: {"user_stories": [{"id": "US-001", "title": "...", '
                '"description": "...", "acceptance_criteria": ["..."]}]}',
            ]), wt, read_only=True)
            state.prd = parse_prd(answer, self.task)
            self._save(state)
        self.say(f"ralph: {len(state.prd.user_stories)} stories, at most {state.max_iterations} iterations, "
                 f"worktree {wt}")
        passed, reason = False, ""
        while True:
            story = next((s for s in state.prd.user_stories if s.status != "verified"), None)
            if story is None:
                passed, reason = True, "all user stories verified"
                break
            if state.iteration >= state.max_iterations:
                reason = f"max iterations ({state.max_iterations}) reached before every story was verified"
                break
            state.iteration += 1
            story.status = "in_progress"
            self._save(state)
            self.say(f"[{state.iteration}/{state.max_iterations}] story {story.id}: {story.title or story.description}")
            prompt = [
                prompt_header("implementer", story.id, story.failures + 1),
                "Implement the following user story precisely. Make minimal, focused changes.",
                f"Story {story.id}: {story.description}",
                "Acceptance criteria:", *[f"- {a}" for a in story.acceptance_criteria],
            ]
            if story.id in state.guidance:
                prompt += ["", "An architect's plan for this story:", state.guidance[story.id]]
            await self._turn("\n".join(prompt), wt)
            story.status = "implemented"
            results = await run_gates(specs, wt, self.dir / "gates", scope="ralph",
                                      run_id=f"iter-{state.iteration:03d}")
            state.gate_results = results
            if gates_passed(results):
                story.status = "verified"
                story.commit = await asyncio.to_thread(wm.commit, "work", f"ralph: {story.id} {story.title}".strip())
                state.consecutive_failures[story.id] = 0
                self.say(f"  ✔ {story.id} verified")
            else:
                story.status = "failed"
                story.failures += 1
                n = state.consecutive_failures.get(story.id, 0) + 1
                state.consecutive_failures[story.id] = n
                failing = ", ".join(r.name for r in results if r.blocking)
                self.say(f"  ✘ {story.id} failed ({failing}; attempt {n}/{MAX_CONSECUTIVE_FAILURES})")
                if n >= MAX_CONSECUTIVE_FAILURES:
                    self.say(f"  ⚠ escalating {story.id} to an architect after {n} failures")
                    from omk_tui.gates import trim_for_agent

                    state.guidance[story.id] = await self._turn("\n".join([
                        prompt_header("architect", story.id, n + 1),
                        f"Architect review needed for story {story.id}: {story.description}. Previous "
                        f"implementation attempts failed {n} times. Provide a detailed implementation plan.",
                        "Latest gate output:", *[trim_for_agent(r, 3000) for r in results if r.blocking],
                    ]), wt, read_only=True)
                    state.consecutive_failures[story.id] = 0
                    if not self.yolo:
                        reason = f"story {story.id} failed {n} times in a row; use --yolo to keep going"
                        self._save(state)
                        break
            self._save(state)
        self._save(state)
        diff = await asyncio.to_thread(wm.diff, "work", with_patch=False)
        if passed and not diff.paths:
            # the gates passed on the untouched tree: that verifies nothing the agent did
            passed, reason = False, "every story passed its gates, but the agent changed no file: nothing was done"
        contract = DoneContract(
            id=f"ralph-{self.slug}", started_at=self.started, finished_at=datetime.now(timezone.utc),
            passed=passed, reason=reason, branch=wm.branch_for("work"), worktree=str(wt),
            gates=state.gate_results, changed_files=diff.paths, stories=state.prd.user_stories,
        )
        atomic_write_model(self.dir / "done-contract.json", contract)
        return contract
