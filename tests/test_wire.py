"""The Wire backend against the real kimi-cli 1.51.0 (`kimi --wire`) and a fake model server.

Every turn here is a real kimi process speaking real Wire; the fake server only plays the model.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import signal
import sys
import time
from pathlib import Path

import pytest

from omk_tui.agents.base import AgentError, AgentUpdate, SessionConfig
from omk_tui.agents.spec import open_session
from omk_tui.agents.wire import WireSession, wire_error_message
from tests.support.fake_model_server import Reply, ToolCallSpec
from tests.support.kimi_env import process_group_alive

pytestmark = [pytest.mark.kimi, pytest.mark.timeout(120)]


def _session(kimi_bin: Path, kimi_home, cwd: Path, **config) -> WireSession:
    cfg = SessionConfig(cwd=cwd, env=kimi_home.env, **config)
    return WireSession([str(kimi_bin), "--wire"], cfg, config_file=kimi_home.config_file, grace_secs=5.0)


def _of(updates: list[AgentUpdate], kind: str) -> list[AgentUpdate]:
    return [u for u in updates if u.kind == kind]


@pytest.fixture
def worktree(tmp_path: Path) -> Path:
    path = tmp_path / "wt"
    path.mkdir()
    return path


async def test_wire_turn_streams_events_and_sums_usage_including_subagents(kimi_bin, fake_model, kimi_home, worktree):
    fake_model.add(
        Reply.tool("WriteFile", text="Writing it.", path="hello.txt", content="hello wire\n", usage=(1000, 50)),
        # A real subagent: kimi's Agent tool runs a nested turn that asks the same model.
        Reply.tool("Agent", description="check the file", prompt="Say ok.", usage=(300, 7)),
        # The subagent's own step (kimi asks again for a summary shorter than 200 characters).
        Reply(text="The file hello.txt holds one line. " * 8, prompt_tokens=40, completion_tokens=3),
        Reply(text="All done.", think="Checking the result.", prompt_tokens=1500, completion_tokens=20,
              cached_tokens=1200),
    )
    updates: list[AgentUpdate] = []
    # Through the SPEC factory, as `omk-tui prompt --agent wire:"..."` does.
    spec = "wire:" + shlex.quote(f"{kimi_bin} --wire --config-file {kimi_home.config_file}")
    session = open_session(spec, SessionConfig(cwd=worktree, env=kimi_home.env, approval="yolo"))
    assert isinstance(session, WireSession)
    try:
        await session.start()
        assert session.server_info["server"]["version"] == "1.51.0"
        result = await session.prompt("write hello.txt", updates.append, timeout=60)
    finally:
        await session.close()

    assert result.stop_reason == "end_turn", result.error
    assert (worktree / "hello.txt").read_text() == "hello wire\n"
    assert result.text == "Writing it.All done."
    assert any(u.text == "Checking the result." for u in _of(updates, "thought"))

    write_updates = [u for u in _of(updates, "tool_call") if u.title == "WriteFile: hello.txt"]
    assert write_updates[-1].status == "completed"
    assert write_updates[-1].tool_kind == "edit"
    assert "+hello wire" in write_updates[-1].diff
    asked = _of(updates, "permission_asked")
    assert asked[0].title == "WriteFile: hello.txt" and "hello.txt" in asked[0].paths
    decided = _of(updates, "permission_decided")
    assert decided[0].decision == "approve" and decided[0].by == "policy:yolo"

    # Usage: what the fake server put in its usage chunks, summed over every step and the subagent's step
    # (input includes cached tokens).
    served = fake_model.served
    assert len(served) == 4, [r.text for r in served]
    assert result.usage_reported is True
    assert result.usage.input_tokens == sum(r.prompt_tokens for r in served) == 2840
    assert result.usage.output_tokens == sum(r.completion_tokens for r in served) == 80
    usage_updates = _of(updates, "usage")
    assert sum(u.input_tokens for u in usage_updates) == 2840
    assert sum(u.output_tokens for u in usage_updates) == 80
    assert (40, 3) in [(u.input_tokens, u.output_tokens) for u in usage_updates]  # the subagent's step
    assert process_group_alive(session.pid) is False


async def test_wire_scope_and_policy_decide_each_approval(kimi_bin, fake_model, kimi_home, worktree, tmp_path):
    # Kimi writes files itself over Wire: the write scope is enforced when it asks for approval.
    (worktree / "src").mkdir()
    outside = tmp_path / "outside.txt"
    fake_model.add(
        Reply(tool_calls=[ToolCallSpec("WriteFile", {"path": "README.md", "content": "no"})]),
        Reply(tool_calls=[ToolCallSpec("WriteFile", {"path": str(outside), "content": "no"})]),
        Reply(tool_calls=[ToolCallSpec("Shell", {"command": "touch shell-was-here"})]),
        Reply(tool_calls=[ToolCallSpec("WriteFile", {"path": "src/ok.txt", "content": "yes"})]),
        Reply(text="done"),
    )
    updates: list[AgentUpdate] = []
    session = _session(kimi_bin, kimi_home, worktree, approval="pattern:^WriteFile:", write_scope=["src"])
    try:
        result = await session.prompt("write three files", updates.append, timeout=60)
    finally:
        await session.close()

    assert result.stop_reason == "end_turn", result.error
    assert not (worktree / "README.md").exists()
    assert not outside.exists()
    assert not (worktree / "shell-was-here").exists()
    assert (worktree / "src" / "ok.txt").read_text() == "yes"
    refused = _of(updates, "scope_refused")
    assert [r.path for r in refused] == ["README.md", str(outside)]
    assert all(r.operation == "write" for r in refused)
    assert "write scope" in refused[0].reason and "outside the worktree" in refused[1].reason
    decided = [(d.title, d.decision, d.by) for d in _of(updates, "permission_decided")]
    assert decided[1][0].startswith("WriteFile: /")  # long paths are shortened in the middle, as kimi does
    decided[1] = ("WriteFile: <outside>", *decided[1][1:])
    assert decided == [
        ("WriteFile: README.md", "reject", "scope"),
        ("WriteFile: <outside>", "reject", "scope"),
        ("Shell: touch shell-was-here", "reject", "policy:pattern:^WriteFile:"),
        ("WriteFile: src/ok.txt", "approve", "policy:pattern:^WriteFile:"),
    ]
    # kimi told the model each rejection, with our reason as feedback.
    results = [r["content"] for r in fake_model.tool_results()]
    assert len(results) == 4
    assert "write scope" in results[0] and "no match" in results[2]


async def test_wire_cancel_timeout_and_crash_end_the_turn_and_leave_no_process(kimi_bin, fake_model, kimi_home,
                                                                               worktree):
    fake_model.add(Reply(text="too slow", delay=60), Reply(text="too slow", delay=60), Reply(text="back"),
                   Reply(text="never sent", delay=60))
    session = _session(kimi_bin, kimi_home, worktree)
    try:
        await session.start()
        turn = asyncio.ensure_future(session.prompt("slow please", lambda u: None, timeout=60))
        assert await asyncio.to_thread(fake_model.wait_for_requests, 1, 30)
        started = time.monotonic()
        await session.cancel()
        cancelled = await turn
        assert cancelled.stop_reason == "cancelled", cancelled.error
        assert time.monotonic() - started < 5

        timed_out = await session.prompt("slow again", lambda u: None, timeout=2)
        assert timed_out.stop_reason == "timeout"
        assert "time limit of 2 s" in (timed_out.error or "")
        assert 2000 <= timed_out.duration_ms < 8000

        # The process survived both: the next turn works.
        again = await session.prompt("now answer", lambda u: None, timeout=30)
        assert again.stop_reason == "end_turn" and again.text == "back"

        # kimi dies mid-turn: a clear failure, not a hang.
        turn = asyncio.ensure_future(session.prompt("crash", lambda u: None, timeout=60))
        assert await asyncio.to_thread(fake_model.wait_for_requests, 4, 30)
        os.kill(session.pid, signal.SIGKILL)
        crashed = await asyncio.wait_for(turn, 20)
        assert crashed.stop_reason == "crashed"
        assert "exited with code -9 during the turn" in (crashed.error or "")
    finally:
        await session.close()
    assert process_group_alive(session.pid) is False


async def test_wire_model_not_configured_is_a_clear_error(kimi_bin, tmp_path, worktree):
    empty = tmp_path / "empty.toml"
    empty.write_text("telemetry = false\n")
    share = tmp_path / "share"
    share.mkdir()
    cfg = SessionConfig(cwd=worktree, env={"KIMI_SHARE_DIR": str(share)})
    session = WireSession([str(kimi_bin), "--wire"], cfg, config_file=empty)
    try:
        result = await session.prompt("hello", lambda u: None, timeout=60)
    finally:
        await session.close()
    assert result.stop_reason == "error"
    assert "LLM not set" in result.error and "kimi login" in result.error


# ---------------------------------------------------------------- without kimi: start-up failures
@pytest.mark.timeout(30)
async def test_a_missing_executable_says_what_to_install(tmp_path):
    session = WireSession(["/nonexistent/kimi", "--wire"], SessionConfig(cwd=tmp_path))
    with pytest.raises(AgentError, match="kimi-cli 1.51.0"):
        await session.start()


@pytest.mark.timeout(30)
async def test_the_152_stub_is_recognised(tmp_path):
    # What kimi-cli 1.52.0 does: print a deprecation notice and exit 0 without speaking Wire.
    stub = [sys.executable, "-c", "print('kimi-cli is deprecated; use the new Kimi Code CLI')"]
    session = WireSession(stub, SessionConfig(cwd=tmp_path))
    with pytest.raises(AgentError, match="1.52.*install kimi-cli 1.51.0"):
        await session.start()
    assert process_group_alive(session.pid) is False


def test_error_codes_become_clear_messages():
    assert "kimi login" in wire_error_message(-32001, "LLM is not set")
    assert wire_error_message(-32003, "HTTP 500").startswith("the model service failed")
    assert "busy" in wire_error_message(-32000, "An agent turn is already in progress")
    assert wire_error_message(-1, "odd") == "kimi answered error -1: odd"


# ---------------------------------------------------------------- event shapes kimi 1.51.0 sends rarely
def test_todo_lists_plans_and_questions_are_mapped():
    from omk_tui.agents.wire import _answer_questions
    from omk_tui.agents.wire_events import WireTurn

    turn = WireTurn(cwd="/w")
    turn.feed("ToolCall", {"type": "function", "id": "c1",
                           "function": {"name": "SetTodoList", "arguments": "{}"}})
    updates = turn.feed("ToolResult", {"tool_call_id": "c1", "return_value": {
        "is_error": False, "output": "", "message": "Todo list updated", "display": [
            {"type": "todo", "items": [{"title": "write tests", "status": "done"},
                                       {"title": "ship", "status": "in_progress"}]}]}})
    assert [u.kind for u in updates] == ["tool_call", "plan"]
    assert updates[0].tool_kind == "think" and updates[0].status == "completed"
    assert updates[1].entries == [
        {"content": "write tests", "status": "completed", "priority": "medium"},
        {"content": "ship", "status": "in_progress", "priority": "medium"},
    ]
    (plan,) = turn.feed("PlanDisplay", {"content": "# Plan\n1. do it", "file_path": "/w/plan.md"})
    assert plan.kind == "plan" and plan.text.startswith("# Plan")
    nested = turn.feed("SubagentEvent", {"parent_tool_call_id": "c9", "event": {"type": "SubagentEvent", "payload": {
        "event": {"type": "StatusUpdate", "payload": {"token_usage": {
            "input_other": 5, "output": 2, "input_cache_read": 10, "input_cache_creation": 1}}}}}})
    assert [(u.input_tokens, u.output_tokens) for u in nested] == [(16, 2)]
    assert turn.usage.input_tokens == 16 and turn.usage_reported

    answer = _answer_questions({"id": "q1", "tool_call_id": "c2", "questions": [
        {"question": "Which DB?", "options": [{"label": "sqlite"}, {"label": "postgres"}]}]})
    assert answer == {"request_id": "q1", "answers": {"Which DB?": "sqlite"}}


WIRE_THAT_EXITS = """
import json, os, sys
line = sys.stdin.readline()
print(json.dumps({"jsonrpc": "2.0", "id": json.loads(line)["id"], "result": {"protocol_version": "1"}}), flush=True)
sys.stdin.readline()  # the prompt
print("going away", file=sys.stderr, flush=True)
os._exit(5)
"""


@pytest.mark.timeout(60)
async def test_kimi_exiting_while_its_background_child_holds_stdout_is_crashed_not_hung(tmp_path):
    """The exit was noticed at the end of stdout, which a child left in the background keeps open: the turn ran to
    its time limit."""
    from omk_tui.procs import group_alive

    agent = f"(exec sleep 45) & exec {shlex.quote(sys.executable)} -c {shlex.quote(WIRE_THAT_EXITS)}"
    session = WireSession(["/bin/sh", "-c", agent], SessionConfig(cwd=tmp_path), kill_grace=1)
    try:
        await session.start()
        result = await session.prompt("go", lambda u: None, timeout=30)
    finally:
        await session.close()
    assert result.stop_reason == "crashed", result
    assert "5" in (result.error or "") and "going away" in (result.error or "")
    assert not group_alive(session.pid)  # the sleep is ended with kimi's group
