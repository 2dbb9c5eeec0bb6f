"""The scripted agent over real ACP: a real agent subprocess, our real client, real files in tmp dirs."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

import pytest

from omk_tui.agents.base import AgentError, AgentUpdate, PermissionRequest, SessionConfig, prompt_header
from omk_tui.agents.spec import open_session
from omk_tui.agents.terminals import TerminalManager
from omk_tui.procs import process_alive

pytestmark = pytest.mark.timeout(60)
SCRIPTS = Path(__file__).parent / "support" / "scripts"


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


async def turn(tmp_path: Path, script: dict | Path, text: str = "go", *, timeout: float | None = 20,
               grace: float = 5.0, worktree: Path | None = None, **config):
    """Start a scripted session, run one turn, close it. Returns (result, updates, worktree, pid)."""
    if isinstance(script, dict):
        path = tmp_path / f"script-{time.monotonic_ns()}.json"
        path.write_text(json.dumps(script))
    else:
        path = script
    wt = worktree or tmp_path / "wt"
    wt.mkdir(exist_ok=True)
    session = open_session(f"script:{path}", SessionConfig(cwd=wt, **config), grace_secs=grace)
    updates: list[AgentUpdate] = []
    await session.start()
    pid = session.pid
    try:
        result = await session.prompt(text, updates.append, timeout=timeout)
    finally:
        await session.close()
    return result, updates, wt, pid


def kinds(updates, kind):
    return [u for u in updates if u.kind == kind]


# ---------------------------------------------------------------- streaming and actions
async def test_message_text_streams_in_chunks(tmp_path):
    text = "The quick brown fox jumps over the lazy dog, and then it writes a long sentence."
    result, updates, _, _ = await turn(tmp_path, {"default": [{"think": "thinking about the fox"}, {"say": text}]})
    messages = kinds(updates, "message")
    assert len(messages) >= 2
    assert "".join(u.text for u in messages) == text
    assert result.text == text
    assert "".join(u.text for u in kinds(updates, "thought")) == "thinking about the fox"
    assert result.stop_reason == "end_turn" and result.ok
    assert result.usage_reported is False


async def test_every_action_goes_through_the_client(tmp_path):
    result, updates, wt, _ = await turn(tmp_path, SCRIPTS / "all_actions.json")
    assert result.ok, result.error
    assert (wt / "notes.txt").read_text() == "one\ntwo\n"
    assert (wt / "ran.txt").read_text() == "shell-ran\n"
    assert not (wt / "tmp.txt").exists()  # delete ran as `rm` in a client terminal
    tools = kinds(updates, "tool_call")
    final = {u.title: u for u in tools if u.status in ("completed", "failed")}
    assert final["WriteFile: notes.txt"].status == "completed"
    assert "+one" in final["WriteFile: notes.txt"].diff
    assert "+two" in final["AppendFile: notes.txt"].diff
    assert final["ReadFile: notes.txt"].content == "one\ntwo\n"
    shell = final["Shell: echo shell-ran > ran.txt && cat notes.txt"]
    assert shell.status == "completed" and shell.tool_kind == "execute"
    assert "one\ntwo" in shell.content
    assert final["Delete: tmp.txt"].tool_kind == "delete"
    assert any(u.content.startswith("[terminal ") for u in tools)
    assert [e["content"] for e in kinds(updates, "plan")[0].entries] == ["write notes", "run a check"]
    assert kinds(updates, "plan")[0].entries[1]["status"] == "in_progress"
    assert any(u.text == "a warning on stderr" for u in kinds(updates, "stderr"))
    assert result.usage.input_tokens == 1200 and result.usage.output_tokens == 300
    assert result.text.endswith("Done.")


async def test_permission_is_asked_before_the_write_and_decided(tmp_path):
    _, updates, wt, _ = await turn(tmp_path, {"default": [{"write": "a.txt", "content": "A"}]})
    order = [(u.kind, u.status) for u in updates]
    asked = order.index(("permission_asked", ""))
    decided = order.index(("permission_decided", ""))
    completed = order.index(("tool_call", "completed"))
    assert order[0] == ("tool_call", "pending") and asked < decided < completed
    ask, dec = kinds(updates, "permission_asked")[0], kinds(updates, "permission_decided")[0]
    assert ask.request_id == dec.request_id
    assert ask.title == "WriteFile: a.txt" and ask.tool_kind == "edit"
    assert ask.options == ["approve", "approve_for_session", "reject"]
    assert ask.paths == [str(wt / "a.txt")] and "+A" in ask.diff
    assert dec.decision == "approve" and dec.by == "policy:yolo"
    assert (wt / "a.txt").read_text() == "A"


async def test_usage_is_summed_and_reported(tmp_path):
    script = {"default": [{"usage": {"input": 100, "output": 10}}, {"say": "x"}, {"usage": {"input": 50, "output": 5}}]}
    result, updates, _, _ = await turn(tmp_path, script)
    assert [(u.input_tokens, u.output_tokens) for u in kinds(updates, "usage")] == [(100, 10), (50, 5)]
    assert result.usage_reported and (result.usage.input_tokens, result.usage.output_tokens) == (150, 15)


# ---------------------------------------------------------------- policies, end to end
POLICY_SCRIPT = {"default": [
    {"write": "edit.txt", "content": "edited"},
    {"shell": "echo ran > shell.txt"},
    {"read": "seed.txt", "ask": True},
]}


async def _policy_turn(tmp_path: Path, name: str, **config):
    wt = tmp_path / name.replace(":", "_").replace("^", "").replace(" ", "_")
    wt.mkdir()
    (wt / "seed.txt").write_text("seed content")
    result, updates, _, _ = await turn(tmp_path, POLICY_SCRIPT, worktree=wt, **config)
    final = {u.title.split(":")[0]: u.status for u in kinds(updates, "tool_call") if u.status in ("completed", "failed")}
    return result, updates, wt, final


async def test_each_static_policy_is_really_applied(tmp_path):
    runs = await asyncio.gather(
        _policy_turn(tmp_path, "yolo", approval="yolo"),
        _policy_turn(tmp_path, "never", approval="never"),
        _policy_turn(tmp_path, "safe", approval="safe"),
        _policy_turn(tmp_path, "pattern", approval="pattern:^Shell: echo"),
        _policy_turn(tmp_path, "readonly", approval="yolo", read_only=True),
    )
    (yolo, never, safe, pattern, readonly) = runs
    for result, *_ in runs:
        assert result.ok, result.error  # a rejected tool does not end the turn
    _, _, wt, final = yolo
    assert (wt / "edit.txt").exists() and (wt / "shell.txt").exists() and final["ReadFile"] == "completed"
    _, updates, wt, final = never
    assert not (wt / "edit.txt").exists() and not (wt / "shell.txt").exists()
    assert final == {"WriteFile": "failed", "Shell": "failed", "ReadFile": "failed"}
    assert {u.by for u in kinds(updates, "permission_decided")} == {"policy:never"}
    _, _, wt, final = safe
    assert not (wt / "edit.txt").exists() and not (wt / "shell.txt").exists()
    assert final == {"WriteFile": "failed", "Shell": "failed", "ReadFile": "completed"}
    _, _, wt, final = pattern
    assert not (wt / "edit.txt").exists() and (wt / "shell.txt").read_text() == "ran\n"
    _, updates, wt, final = readonly
    assert not (wt / "edit.txt").exists() and not (wt / "shell.txt").exists()
    assert final["ReadFile"] == "completed"
    assert {u.by for u in kinds(updates, "permission_decided") if u.decision == "reject"} == {"read_only"}


UNASKED_SCRIPT = {"default": [
    {"write": "unasked.txt", "content": "written without asking\n", "unasked": True},
    {"shell": "echo ran > unasked-shell.txt", "unasked": True},
    {"write": "asked.txt", "content": "asked first\n"},
    {"say": "done"},
]}


async def test_an_agent_that_does_not_ask_cannot_get_around_the_policy(tmp_path):
    """Writes and commands need an approved permission request: an agent that skips asking is refused under every
    policy but yolo (the policy answers only the requests an agent sends)."""
    for approval, read_only in (("never", False), ("safe", False), ("pattern:^WriteFile: asked", False),
                                ("yolo", True)):
        wt = tmp_path / f"{approval.replace(':', '_').replace('^', '')}-{read_only}"
        wt.mkdir()
        result, updates, _, _ = await turn(tmp_path, UNASKED_SCRIPT, worktree=wt, approval=approval,
                                           read_only=read_only)
        assert result.ok, result.error
        assert not (wt / "unasked.txt").exists() and not (wt / "unasked-shell.txt").exists(), approval
        refused = {u.operation: u.reason for u in kinds(updates, "scope_refused")}
        assert ("this session is read-only" if read_only else "no approved permission request covers it") \
            in refused["write"]
        assert "an agent must ask before it runs a command" in refused["terminal"]
        # asking works as before: the pattern approves the asked write, and only that one
        assert (wt / "asked.txt").exists() == (approval == "pattern:^WriteFile: asked")
    wt = tmp_path / "yolo"
    wt.mkdir()
    result, _, _, _ = await turn(tmp_path, UNASKED_SCRIPT, worktree=wt, approval="yolo")
    assert (wt / "unasked.txt").exists() and (wt / "unasked-shell.txt").read_text() == "ran\n"


async def test_text_that_is_not_unicode_is_refused_and_the_file_kept(tmp_path):
    wt = tmp_path / "wt"
    wt.mkdir()
    (wt / "README.md").write_text("keep me\n")
    script = {"default": [{"write": "README.md", "content": "new \ud800 content"}, {"say": "done"}]}
    result, updates, _, _ = await turn(tmp_path, script, worktree=wt, approval="yolo")
    assert result.ok, result.error
    assert (wt / "README.md").read_text() == "keep me\n"  # not truncated
    failed = [u for u in kinds(updates, "tool_call") if u.status == "failed"]
    assert failed and "not valid Unicode" in failed[-1].content


async def test_ask_policy_asks_the_person(tmp_path):
    asked: list[PermissionRequest] = []

    async def person(request: PermissionRequest):
        asked.append(request)
        await asyncio.sleep(0.01)
        return "approve" if request.tool_kind == "edit" else "reject"

    result, updates, wt, final = await _policy_turn(tmp_path, "ask", approval="ask", asker=person)
    assert result.ok
    assert [r.title for r in asked] == ["WriteFile: edit.txt", "Shell: echo ran > shell.txt", "ReadFile: seed.txt"]
    assert asked[1].command == "echo ran > shell.txt"
    assert (wt / "edit.txt").read_text() == "edited" and not (wt / "shell.txt").exists()
    assert {u.by for u in kinds(updates, "permission_decided")} == {"person"}


async def test_ask_timeout_rejects(tmp_path):
    async def absent_person(request):
        await asyncio.sleep(30)
        return "approve"

    started = time.monotonic()
    result, updates, wt, final = await _policy_turn(tmp_path, "asktimeout", approval="ask", asker=absent_person,
                                                    ask_timeout_secs=0.2)
    assert time.monotonic() - started < 10
    assert result.ok and not (wt / "edit.txt").exists()
    decided = kinds(updates, "permission_decided")
    assert {(u.decision, u.by) for u in decided} == {("reject", "timeout")}


async def test_ask_headless_uses_the_fallback(tmp_path):
    approved, rejected, policy = await asyncio.gather(
        _policy_turn(tmp_path, "fb_approve", approval="ask", ask_fallback="approve"),
        _policy_turn(tmp_path, "fb_reject", approval="ask"),
        _policy_turn(tmp_path, "fb_safe", approval="ask", ask_fallback="safe"),
    )
    assert (approved[2] / "edit.txt").exists()
    assert {u.by for u in kinds(approved[1], "permission_decided")} == {"fallback:approve"}
    assert not (rejected[2] / "edit.txt").exists()
    assert {u.by for u in kinds(rejected[1], "permission_decided")} == {"fallback:reject"}
    assert policy[3] == {"WriteFile": "failed", "Shell": "failed", "ReadFile": "completed"}


async def test_approve_for_session_is_remembered_by_the_agent(tmp_path):
    calls = []

    async def person(request):
        calls.append(request.title)
        return "approve_for_session"

    script = {"default": [{"write": "a.txt", "content": "1"}, {"write": "b.txt", "content": "2"}]}
    result, _, wt, _ = await turn(tmp_path, script, approval="ask", asker=person)
    assert result.ok and (wt / "a.txt").exists() and (wt / "b.txt").exists()
    assert calls == ["WriteFile: a.txt"]


# ---------------------------------------------------------------- write scope
async def test_writes_outside_the_scope_or_the_worktree_are_refused(tmp_path):
    wt = tmp_path / "wt"
    (wt / "src").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (wt / "link").symlink_to(outside)
    script = {"default": [
        {"write": "src/ok.py", "content": "ok"},
        {"write": "README.md", "content": "not in scope"},
        {"write": "../escape.txt", "content": "x"},
        {"write": str(outside / "abs.txt"), "content": "x"},
        {"write": "link/through-symlink.txt", "content": "x"},
        {"append": "src/../../escape2.txt", "content": "x"},
    ]}
    result, updates, _, _ = await turn(tmp_path, script, worktree=wt, write_scope=["src"])
    assert result.ok
    assert (wt / "src" / "ok.py").read_text() == "ok"
    assert not (wt / "README.md").exists()
    assert list(outside.iterdir()) == []
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "escape2.txt").exists()
    refused = [u for u in kinds(updates, "scope_refused") if u.operation == "write"]
    reasons = " | ".join(u.reason for u in refused)
    assert len(refused) == 5
    assert "outside this slice's write scope" in reasons
    assert "through '..'" in reasons
    assert "outside the worktree" in reasons
    assert "symlink" in reasons
    failed = [u for u in kinds(updates, "tool_call") if u.status == "failed"]
    assert len(failed) == 5 and all("refused by omk-tui" in u.content for u in failed)


async def test_read_only_session_refuses_writes_at_the_fs_too(tmp_path):
    # even if a policy approved, the fs handler refuses writes of a read-only session
    wt = tmp_path / "wt"
    wt.mkdir()
    session = open_session(f"script:{SCRIPTS / 'roles.json'}", SessionConfig(cwd=wt, read_only=True))
    assert session.scope.check_write("a.txt").allowed is False
    assert "read-only" in session.scope.check_write("a.txt").reason


# ---------------------------------------------------------------- failures: crash, hang, garbage, cancel
async def test_crash_is_a_clear_failure_not_a_hang(tmp_path):
    started = time.monotonic()
    result, updates, _, pid = await turn(tmp_path, {"default": [{"say": "about to fail"}, {"crash": 3}]})
    assert time.monotonic() - started < 10
    assert result.stop_reason == "crashed" and not result.ok
    assert "exit code 3" in result.error and "crashing with exit code 3" in result.error
    assert result.text == "about to fail"
    assert not group_alive(pid)


async def test_hang_is_ended_by_the_timeout_and_no_process_is_left(tmp_path):
    started = time.monotonic()
    result, _, _, pid = await turn(tmp_path, {"default": [{"say": "working"}, {"hang": True}]}, timeout=0.5, grace=0.5)
    assert result.stop_reason == "timeout"
    assert "time limit" in result.error and "killed" in result.error
    assert time.monotonic() - started < 10
    assert not group_alive(pid)


async def test_timeout_during_a_shell_command_kills_the_terminal(tmp_path):
    # a sleep no other process runs: `ps` lists the whole machine's processes
    result, updates, _, pid = await turn(tmp_path, {"default": [{"shell": "sleep 3021"}]}, timeout=0.6, grace=2)
    assert result.stop_reason == "timeout"  # the agent honoured the cancel and killed its terminal
    assert not group_alive(pid)
    out = os.popen("ps -eo args").read()
    assert "sleep 3021" not in out


def pid_in(path: Path) -> int:
    return int(path.read_text())


async def test_a_terminal_command_has_exited_when_its_process_exits_and_leaves_nothing(tmp_path):
    # a background child that holds the output pipe, and one that left the process group (setsid), as a dev
    # server started in the background: the command is done when its own process exits, the output they print
    # at once is kept, then both are ended
    terms = TerminalManager({"PATH": os.environ["PATH"]})
    command = ("(sleep 3023 & echo $! > held.pid); setsid sh -c 'echo $$ > away.pid; echo from-away; exec sleep 3024' & "
               "while [ ! -s away.pid ]; do sleep 0.02; done; echo main-done; exit 3")
    term = await terms.create(command, None, tmp_path)
    try:
        assert await asyncio.wait_for(term.wait(), timeout=10) == (3, None)  # it used to wait for sleep 3023
        assert "main-done" in term.output and "from-away" in term.output
        assert not process_alive(pid_in(tmp_path / "held.pid")) and not process_alive(pid_in(tmp_path / "away.pid"))
    finally:
        await terms.close_all()


async def test_releasing_a_running_terminal_ends_what_left_its_process_group(tmp_path):
    terms = TerminalManager({"PATH": os.environ["PATH"]})
    term = await terms.create("setsid sh -c 'echo $$ > away.pid; exec sleep 3025' >/dev/null & sleep 3026", None,
                              tmp_path)
    while not (tmp_path / "away.pid").exists() or not (tmp_path / "away.pid").read_text():
        await asyncio.sleep(0.02)
    await terms.release(term.terminal_id)
    assert term.exit_status() is not None
    assert not process_alive(pid_in(tmp_path / "away.pid"))


async def test_a_shell_command_leaving_a_background_child_completes_the_turn(tmp_path):
    started = time.monotonic()
    result, updates, _, _ = await turn(tmp_path, {"default": [{"shell": "(sleep 3027 &); echo bg"}, {"say": "done"}]},
                                       timeout=30)
    assert result.stop_reason == "end_turn" and result.text == "done", result.error
    shell = [u for u in kinds(updates, "tool_call") if u.status == "completed"]
    assert shell and "bg" in shell[0].content
    assert time.monotonic() - started < 20  # not the turn's 30 s time limit
    assert "sleep 3027" not in os.popen("ps -eo args").read()


async def test_garbage_on_stdout_is_a_failure_not_our_crash(tmp_path):
    result, _, _, pid = await turn(tmp_path, {"default": [{"say": "hi"}, {"garbage": "Traceback: not json"},
                                                          {"sleep": 20}]})
    assert result.stop_reason == "error"
    assert "not ACP" in result.error and "Traceback: not json" in result.error
    assert not group_alive(pid)


async def test_cancel_ends_the_turn(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"default": [{"say": "starting"}, {"sleep": 20}, {"write": "late.txt", "content": "x"}]}))
    wt = tmp_path / "wt"
    wt.mkdir()
    session = open_session(f"script:{path}", SessionConfig(cwd=wt))
    await session.start()
    try:
        def on_update(update):
            if update.kind == "message":
                asyncio.get_running_loop().create_task(session.cancel())

        started = time.monotonic()
        result = await session.prompt("go", on_update, timeout=30)
        assert result.stop_reason == "cancelled" and time.monotonic() - started < 5
        assert not (wt / "late.txt").exists()
        # the session stays usable after a cancelled turn
        again = await session.prompt("go", lambda u: None, timeout=0.3)
        assert again.stop_reason == "timeout"
    finally:
        await session.close()


# ---------------------------------------------------------------- roles and the prompt header
async def test_roles_follow_the_script_across_turns(tmp_path):
    wt = tmp_path / "wt"
    wt.mkdir()
    session = open_session(f"script:{SCRIPTS / 'roles.json'}", SessionConfig(cwd=wt))
    await session.start()
    try:
        plan = await session.prompt(prompt_header("planner") + "\nPlan it.", lambda u: None)
        block = plan.text.split("```json", 1)[1].split("```", 1)[0]
        assert json.loads(block)["tasks"][0]["id"] == "add-greeting"

        first = await session.prompt(prompt_header("implementer", "add-greeting", 1) + "\nDo it.", lambda u: None)
        assert first.text == "First attempt." and "def greet" in (wt / "greet.py").read_text()
        third = await session.prompt(prompt_header("fixer", "add-greeting", 3) + "\nFix it.", lambda u: None)
        assert third.text == "Second attempt, fixing the gate."  # the last attempt repeats
        assert (wt / "greet.py").read_text().endswith("# fixed\n")

        review = await session.prompt(prompt_header("reviewer", "add-greeting", 1, review="security"), lambda u: None)
        verdict = json.loads(review.text.split("```json", 1)[1].split("```", 1)[0])
        assert verdict == {"kind": "security", "passed": False, "severity": "high", "feedback": "a secret is committed"}
        code = await session.prompt(prompt_header("reviewer", None, 1, review="code"), lambda u: None)
        assert json.loads(code.text.split("```json", 1)[1].split("```", 1)[0])["passed"] is True

        advice = await session.prompt(prompt_header("architect", "add-greeting", 4), lambda u: None)
        assert advice.text.startswith("Root cause")
        other = await session.prompt("no header at all", lambda u: None)
        assert other.text == "Nothing scripted for this prompt."
    finally:
        await session.close()


# ---------------------------------------------------------------- starting agents
async def test_missing_executable_names_it(tmp_path):
    with pytest.raises(AgentError, match="no-such-agent-xyz"):
        open_session('acp:"no-such-agent-xyz --flag"', SessionConfig(cwd=tmp_path))


async def test_agent_that_exits_at_start_is_a_clear_error(tmp_path):
    spec = f'acp:"{sys.executable} -c \'import sys; print(\\"boom\\", file=sys.stderr); sys.exit(4)\'"'
    session = open_session(spec, SessionConfig(cwd=tmp_path))
    with pytest.raises(AgentError, match=r"exit code 4.*boom"):
        await session.start()
    assert not group_alive(session.pid)


AUTH_AGENT = '''
import asyncio
from acp import RequestError, run_agent
from acp.schema import InitializeResponse

class NeedsLogin:
    async def initialize(self, protocol_version, client_capabilities=None, client_info=None, **kw):
        return InitializeResponse(protocol_version=protocol_version)
    async def new_session(self, cwd, mcp_servers=None, **kw):
        raise RequestError.auth_required({"authMethods": [{"id": "login", "name": "kimi login"}]})

asyncio.run(run_agent(NeedsLogin()))
'''


async def test_authentication_required_says_to_log_in(tmp_path):
    agent = tmp_path / "needs_login.py"
    agent.write_text(AUTH_AGENT)
    session = open_session(f'acp:"{sys.executable} {agent}"', SessionConfig(cwd=tmp_path))
    with pytest.raises(AgentError, match="kimi login"):
        await session.start()
    assert not group_alive(session.pid)


async def test_child_environment_is_trimmed_and_explicit(tmp_path, monkeypatch):
    monkeypatch.setenv("OMK_TEST_SECRET", "should-not-pass")
    monkeypatch.setenv("OMK_TEST_SHARED", "shared-value")
    monkeypatch.setenv("KIMI_SHARE_DIR", str(tmp_path / "share"))
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"default": [{"shell": "env | grep -E '^(OMK_TEST|KIMI_SHARE|EXTRA)' | sort"}]}))
    wt = tmp_path / "wt"
    wt.mkdir()
    session = open_session(f"script:{path}", SessionConfig(cwd=wt, env={"EXTRA": "1"}), share_env=["OMK_TEST_SHARED"])
    updates = []
    await session.start()
    try:
        await session.prompt("go", updates.append)
    finally:
        await session.close()
    out = [u for u in updates if u.kind == "tool_call" and u.status == "completed"][0].content
    assert "OMK_TEST_SHARED=shared-value" in out and "EXTRA=1" in out
    assert f"KIMI_SHARE_DIR={tmp_path / 'share'}" in out
    assert "should-not-pass" not in out


async def test_malformed_script_is_refused_at_start(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"default": [{"dance": True}]}))
    session = open_session(f"script:{path}", SessionConfig(cwd=tmp_path))
    with pytest.raises(AgentError, match=r"exit code 2.*default action 1.*dance"):
        await session.start()


async def test_an_agent_that_exits_while_its_background_child_holds_its_stdout_is_crashed_not_hung(tmp_path):
    """The exit was awaited with `Process.wait()`, which (Python 3.11) also waits for the pipes to close: a child
    the agent left in the background holding its stdout made the turn run to its time limit."""
    script = tmp_path / "crash.json"
    script.write_text(json.dumps({"default": [{"say": "about to fail"}, {"crash": 4}]}))
    wrapper = tmp_path / "agent.sh"
    wrapper.write_text(f"#!/bin/sh\n(exec sleep 45) &\nexec {sys.executable} -m omk_tui.agents.scripted {script}\n")
    wrapper.chmod(0o755)
    wt = tmp_path / "wt"
    wt.mkdir()
    session = open_session(f"acp:{wrapper}", SessionConfig(cwd=wt), grace_secs=2)
    await session.start()
    pid = session.pid
    try:
        result = await session.prompt("go", [].append, timeout=30)
    finally:
        await session.close()
    assert result.stop_reason == "crashed", result
    assert "exit code 4" in result.error
    # the background sleep (same process group) was ended too; nobody may reap it at once (it left its parent)
    from omk_tui.procs import group_alive as group_has_live_member

    assert not group_has_live_member(pid)


# ---------------------------------------------------------------- kimi-cli 1.52, the stub
KIMI_152 = """#!/bin/sh
case "$1" in
  --version) echo "kimi, version 1.52.0" ;;
  *) echo "kimi-cli is deprecated; install Kimi Code instead" ;;
esac
exit 0
"""


@pytest.mark.timeout(30)
async def test_the_152_stub_is_recognised_over_acp_too(tmp_path):
    """As over Wire (tests/test_wire.py): the notice says which kimi to install, not 'not ACP'."""
    kimi = tmp_path / "bin" / "kimi"
    kimi.parent.mkdir()
    kimi.write_text(KIMI_152)
    kimi.chmod(0o755)
    session = open_session(f'acp:"{kimi} acp"', SessionConfig(cwd=tmp_path))
    with pytest.raises(AgentError) as raised:
        await session.start()
    message = str(raised.value)
    assert message.startswith("the agent (kimi) exited at start-up with a deprecation notice: this is kimi-cli 1.52")
    assert "install kimi-cli 1.51.0" in message and "kimi-cli is deprecated; install Kimi Code instead" in message
    assert "not ACP" not in message
    assert not group_alive(session.pid)


@pytest.mark.timeout(30)
async def test_another_agent_printing_deprecated_is_not_taken_for_kimi(tmp_path):
    agent = tmp_path / "other-agent"
    agent.write_text("#!/bin/sh\necho 'option --foo is deprecated'\nexit 0\n")
    agent.chmod(0o755)
    session = open_session(f'acp:"{agent}"', SessionConfig(cwd=tmp_path))
    with pytest.raises(AgentError, match="not ACP") as raised:
        await session.start()
    assert "1.52" not in str(raised.value)


# ---------------------------------------------------------------- kimi's log, quoted when its model failed
def test_the_last_error_kimi_logged_in_the_turn_is_quoted(tmp_path):
    from omk_tui.agents.kimi import LOG_REASON_MAX, last_log_error, log_path, log_size, model_failure_hint

    env = {"KIMI_SHARE_DIR": str(tmp_path / "share"), "HOME": str(tmp_path / "home")}
    log = log_path(env)
    assert log == tmp_path / "share" / "logs" / "kimi.log"
    assert log_path({"HOME": str(tmp_path / "home")}) == tmp_path / "home" / ".kimi" / "logs" / "kimi.log"
    assert model_failure_hint(env, 0) == f"kimi logs the reason in {log}"  # no log at all: its real path
    log.parent.mkdir(parents=True)
    t = "2026-11-22 20:48:18.558"
    log.write_text(f"{t} | ERROR    | kimi_cli.soul.kimisoul:_agent_loop:1049 | s1 - Agent step 1 failed: "
                   "APIStatusError: Error code: 500 - before this turn\n")
    start = log_size(log)
    with log.open("a") as fh:
        fh.write(f"{t} | INFO     | kimi_cli.acp.server:prompt:403 |  - Received prompt request for session: s1\n"
                 f"{t} | WARNING  | kimi_cli.soul.kimisoul:_retry_log:1748 | s1 - Retrying step (last error: "
                 "APIStatusError: Error code: 429 - {}). Waiting 0.5 seconds.\n"
                 f"{t} | ERROR    | kimi_cli.soul.kimisoul:_agent_loop:1049 | s1 - Agent step 1 failed: "
                 "APIStatusError: Error code: 429 - {'error': {'message': 'fake error 429'}}\n"
                 f"{t} | ERROR    | threading:run:992 |  -     raise APIEmptyResponseError(\"x\")\n")
    assert last_log_error(log, start, "s1") == "APIStatusError: Error code: 429 - {'error': {'message': 'fake error 429'}}"
    assert model_failure_hint(env, start, "s1") == (
        f"kimi logged: APIStatusError: Error code: 429 - {{'error': {{'message': 'fake error 429'}}}} (in {log})")
    with log.open("a") as fh:  # a traceback's last line; then another session's error, which is not ours
        fh.write(f"{t} | ERROR    | threading:run:992 |  - json.decoder.JSONDecodeError: Expecting value: line 1\n"
                 f"{t} | ERROR    | kimi_cli.soul.kimisoul:_agent_loop:1049 | s2 - Agent step 1 failed: "
                 "APIEmptyResponseError: The API returned an empty response.\n")
    assert last_log_error(log, start, "s1") == "JSONDecodeError: Expecting value: line 1"
    assert last_log_error(log, start, "s2") == "APIEmptyResponseError: The API returned an empty response."
    with log.open("a") as fh:  # control characters are escaped, a long reason is cut
        fh.write(f"{t} | ERROR    | x:y:1 | s1 - Agent step 2 failed: APIStatusError: \x1b]0;pwned\x07"
                 + "y" * 1000 + "\n")
    quoted = last_log_error(log, start, "s1")
    assert quoted.startswith("APIStatusError: \\x1b]0;pwned\\x07yyy") and "\x1b" not in quoted
    assert len(quoted) <= LOG_REASON_MAX + 12 and quoted.endswith("…")
    log.write_text(f"{t} | INFO     | a:b:1 |  - rotated\n")  # smaller than where the turn began
    assert last_log_error(log, start, "s1") is None
