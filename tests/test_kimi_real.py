"""The real kimi-cli 1.51.0 over ACP (`kimi acp`), through omk-tui's own session factory and ACP client,
pointed at a fake streaming chat-completions server on 127.0.0.1.

Wire (`kimi --wire`, with token usage) is proven in tests/test_wire.py against the same real kimi.
Skipped, with the reason, only when kimi-cli 1.51.0 cannot be installed (tests/support/kimi_install.py).
"""

from __future__ import annotations

import asyncio
import shlex
import time
from pathlib import Path

import pytest

from omk_tui.agents.base import AgentError, AgentUpdate, SessionConfig
from omk_tui.agents.spec import open_session
from tests.support.fake_model_server import Reply
from tests.support.kimi_env import make_kimi_home, process_group_alive

pytestmark = [pytest.mark.kimi, pytest.mark.timeout(120)]


def _kimi_acp(kimi_bin: Path, kimi_home, cwd: Path, **config):
    spec = f"acp:{shlex.quote(f'{kimi_bin} acp')}"
    return open_session(spec, SessionConfig(cwd=cwd, env=kimi_home.env, **config))


def _of(updates: list[AgentUpdate], kind: str) -> list[AgentUpdate]:
    return [u for u in updates if u.kind == kind]


async def _one_turn(kimi_bin: Path, kimi_home, worktree: Path, text: str, **config):
    """One kimi turn in a session of its own: (result, updates, session), the session closed."""
    updates: list[AgentUpdate] = []
    session = _kimi_acp(kimi_bin, kimi_home, worktree, **config)
    try:
        await session.start()
        result = await session.prompt(text, updates.append, timeout=60)
    finally:
        await session.close()
    return result, updates, session


@pytest.fixture
def worktree(tmp_path: Path) -> Path:
    path = tmp_path / "wt"
    (path / "src").mkdir(parents=True)
    return path


async def test_kimi_writes_through_our_fs_handler(kimi_bin, fake_model, kimi_home, worktree):
    fake_model.add(
        Reply.tool("WriteFile", text="Writing.", path="src/hello.txt", content="hello from kimi\n"),
        Reply.tool("WriteFile", path="README.md", content="not in scope\n"),
        Reply(text="Finished."),
    )
    result, updates, session = await _one_turn(kimi_bin, kimi_home, worktree, "write src/hello.txt",
                                               approval="yolo", write_scope=["src"])

    assert result.stop_reason == "end_turn", result.error
    assert result.text == "Writing.Finished."
    assert (worktree / "src" / "hello.txt").read_text() == "hello from kimi\n"
    done = [u for u in _of(updates, "tool_call") if u.title == "WriteFile: src/hello.txt"]
    assert done and done[-1].status == "completed"
    assert [d.decision for d in _of(updates, "permission_decided")] == ["approve", "approve"]

    # The second write reached OUR fs/write_text_file handler, which refused it (kimi never wrote it itself).
    assert not (worktree / "README.md").exists()
    refused = _of(updates, "scope_refused")
    assert len(refused) == 1 and refused[0].operation == "write" and refused[0].path.endswith("README.md")
    results = fake_model.tool_results()
    assert "write refused by omk-tui" in results[1]["content"]
    assert result.usage_reported is False  # ACP reports no token usage
    assert process_group_alive(session.pid) is False


async def test_never_policy_keeps_the_file_unwritten(kimi_bin, fake_model, kimi_home, worktree):
    fake_model.add(Reply.tool("WriteFile", path="src/nope.txt", content="x\n"))
    result, updates, _ = await _one_turn(kimi_bin, kimi_home, worktree, "write src/nope.txt", approval="never")

    assert result.stop_reason == "end_turn", result.error
    assert not (worktree / "src" / "nope.txt").exists()
    asked = _of(updates, "permission_asked")
    assert len(asked) == 1 and asked[0].title == "WriteFile: src/nope.txt"
    assert [(d.decision, d.by) for d in _of(updates, "permission_decided")] == [("reject", "policy:never")]
    # kimi 1.51.0 ends the turn on a rejection that carries no feedback (ACP has no way to give one).
    assert len(fake_model.requests) == 1


async def test_cancel_ends_the_turn_and_leaves_no_process(kimi_bin, fake_model, kimi_home, worktree):
    fake_model.add(Reply(text="too late", delay=60))
    session = _kimi_acp(kimi_bin, kimi_home, worktree)
    try:
        await session.start()
        turn = asyncio.ensure_future(session.prompt("take your time", lambda u: None, timeout=60))
        assert await asyncio.to_thread(fake_model.wait_for_requests, 1, 30)
        started = time.monotonic()
        await session.cancel()
        result = await asyncio.wait_for(turn, 30)
        assert result.stop_reason == "cancelled", result.error
        assert time.monotonic() - started < 10
    finally:
        await session.close()
    assert process_group_alive(session.pid) is False


async def test_without_login_the_error_says_run_kimi_login(kimi_bin, fake_model, tmp_path, worktree):
    home = make_kimi_home(tmp_path / "nologin", fake_model.base_url, credentials=False)
    session = _kimi_acp(kimi_bin, home, worktree)
    try:
        with pytest.raises(AgentError, match="kimi login"):
            await session.start()
    finally:
        await session.close()
    assert process_group_alive(session.pid) is False


async def test_a_broken_kimi_config_is_named_with_kimis_own_reason(kimi_bin, fake_model, tmp_path, worktree):
    # kimi answers session/new with "Internal error"; the reason (file, line) is only in the error's data
    home = make_kimi_home(tmp_path / "broken", fake_model.base_url)
    home.config_file.write_text('default_model = "fake\n', encoding="utf-8")
    session = _kimi_acp(kimi_bin, home, worktree)
    try:
        with pytest.raises(AgentError) as refused:
            await session.start()
    finally:
        await session.close()
    message = str(refused.value)
    assert "Internal error" in message and "Invalid TOML" in message and str(home.config_file) in message
    assert process_group_alive(session.pid) is False


@pytest.mark.parametrize("status", [500, 429])
async def test_a_failing_model_service_is_a_failed_turn_not_an_empty_success(kimi_bin, fake_model, kimi_home,
                                                                             worktree, status):
    # kimi 1.51.0 ends such a turn as `end_turn` with nothing in it; its log has the reason, which the error quotes
    fake_model.add(*[Reply(status=status)] * 10)  # kimi's provider client retries
    session = _kimi_acp(kimi_bin, kimi_home, worktree)
    try:
        await session.start()
        result = await session.prompt("write src/hello.txt", lambda _u: None, timeout=60)
    finally:
        await session.close()
    assert result.stop_reason == "error"
    log = kimi_home.share_dir / "logs" / "kimi.log"
    assert "without any output" in result.error and f"(in {log})" in result.error, result.error
    assert f"kimi logged: APIStatusError: Error code: {status}" in result.error, result.error


async def test_kimi_writes_and_runs_what_a_pattern_policy_approves(kimi_bin, fake_model, kimi_home, worktree):
    # under a policy other than yolo, a write or command needs an approved request: kimi's own requests count
    fake_model.add(
        Reply.tool("WriteFile", path="src/ok.txt", content="approved\n"),
        Reply.tool("Shell", command="echo ran > src/shell.txt"),
        Reply(text="Finished."),
    )
    result, updates, _ = await _one_turn(kimi_bin, kimi_home, worktree, "write and run",
                                         approval="pattern:^(WriteFile: src/ok|Shell: echo)")
    assert result.stop_reason == "end_turn", result.error
    assert [d.decision for d in _of(updates, "permission_decided")] == ["approve", "approve"]
    assert (worktree / "src" / "ok.txt").read_text() == "approved\n"
    assert (worktree / "src" / "shell.txt").read_text() == "ran\n"
    assert not _of(updates, "scope_refused")
