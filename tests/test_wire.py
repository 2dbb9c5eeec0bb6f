"""The Wire backend against the real kimi-cli 1.51.0 (`kimi --wire`) and a fake model server.

Every turn here is a real kimi process speaking real Wire; the fake server only plays the model.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from omk_tui.agents.base import AgentError, AgentUpdate, SessionConfig
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
    session = _session(kimi_bin, kimi_home, worktree, approval="yolo")
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


async def test_wire_never_policy_rejects_the_write(kimi_bin, fake_model, kimi_home, worktree):
    fake_model.add(Reply.tool("WriteFile", path="nope.txt", content="x"), Reply(text="I could not write it."))
    updates: list[AgentUpdate] = []
    session = _session(kimi_bin, kimi_home, worktree, approval="never")
    try:
        result = await session.prompt("write nope.txt", updates.append, timeout=60)
    finally:
        await session.close()

    assert result.stop_reason == "end_turn", result.error
    assert not (worktree / "nope.txt").exists()
    decided = _of(updates, "permission_decided")
    assert [(d.decision, d.by) for d in decided] == [("reject", "policy:never")]
    assert [u.status for u in _of(updates, "tool_call") if u.title == "WriteFile: nope.txt"][-1] == "failed"
    # kimi told the model it was rejected, with our reason as feedback.
    results = fake_model.tool_results()
    assert len(results) == 1 and "never" in results[0]["content"]


async def test_wire_write_scope_is_enforced_at_approval(kimi_bin, fake_model, kimi_home, worktree, tmp_path):
    (worktree / "src").mkdir()
    outside = tmp_path / "outside.txt"
    fake_model.add(
        Reply(tool_calls=[ToolCallSpec("WriteFile", {"path": "README.md", "content": "no"})]),
        Reply(tool_calls=[ToolCallSpec("WriteFile", {"path": str(outside), "content": "no"})]),
        Reply(tool_calls=[ToolCallSpec("WriteFile", {"path": "src/ok.txt", "content": "yes"})]),
        Reply(text="done"),
    )
    updates: list[AgentUpdate] = []
    session = _session(kimi_bin, kimi_home, worktree, approval="yolo", write_scope=["src"])
    try:
        result = await session.prompt("write three files", updates.append, timeout=60)
    finally:
        await session.close()

    assert result.stop_reason == "end_turn", result.error
    assert not (worktree / "README.md").exists()
    assert not outside.exists()
    assert (worktree / "src" / "ok.txt").read_text() == "yes"
    refused = _of(updates, "scope_refused")
    assert [r.path for r in refused] == ["README.md", str(outside)]
    assert all(r.operation == "write" for r in refused)
    assert "write scope" in refused[0].reason and "outside the worktree" in refused[1].reason
    decided = _of(updates, "permission_decided")
    assert [(d.decision, d.by) for d in decided] == [("reject", "scope"), ("reject", "scope"),
                                                     ("approve", "policy:yolo")]


async def test_wire_cancel_and_timeout_end_the_turn_and_close_ends_the_group(kimi_bin, fake_model, kimi_home,
                                                                          worktree):
    fake_model.add(Reply(text="too slow", delay=60), Reply(text="too slow", delay=60), Reply(text="back"))
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
    finally:
        await session.close()
    assert process_group_alive(session.pid) is False


async def test_wire_crash_mid_turn_is_reported_with_stderr(kimi_bin, fake_model, kimi_home, worktree):
    fake_model.add(Reply(text="never sent", delay=60))
    session = _session(kimi_bin, kimi_home, worktree)
    try:
        await session.start()
        turn = asyncio.ensure_future(session.prompt("crash", lambda u: None, timeout=60))
        assert await asyncio.to_thread(fake_model.wait_for_requests, 1, 30)
        os.kill(session.pid, signal.SIGKILL)
        result = await asyncio.wait_for(turn, 20)
    finally:
        await session.close()
    assert result.stop_reason == "crashed"
    assert "exited with code -9 during the turn" in (result.error or "")
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
