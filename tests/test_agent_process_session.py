"""What the ACP and Wire sessions share (`agents.process_session`), on a real child process."""

from __future__ import annotations

import asyncio
import sys

import pytest

from omk_tui.agents.acp_client import AcpSession
from omk_tui.agents.base import AgentError, AgentUpdate, SessionConfig
from omk_tui.agents.process_session import STDERR_KEEP, STDERR_LINE_MAX, STDERR_UPDATES_PER_TURN
from omk_tui.agents.wire import WireSession
from omk_tui.procs import process_alive

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize("backend", [AcpSession, WireSession])
async def test_a_turn_streams_at_most_so_many_stderr_lines_and_keeps_the_last_for_errors(tmp_path, backend):
    session = backend(["unused"], SessionConfig(cwd=tmp_path))
    lines = STDERR_UPDATES_PER_TURN + 500
    script = (f"import sys\nfor i in range({lines}): print(f'line {{i}}', file=sys.stderr)\n"
              f"print('', file=sys.stderr)\nprint('x' * {STDERR_LINE_MAX * 3}, file=sys.stderr)\n")
    session._proc = await asyncio.create_subprocess_exec(sys.executable, "-c", script,
                                                         stderr=asyncio.subprocess.PIPE)
    updates: list[AgentUpdate] = []
    session._sink = updates.append  # a turn is running
    await session._read_stderr()  # returns when the process closes its stderr
    await session._proc.wait()
    texts = [u.text for u in updates]
    assert {u.kind for u in updates} == {"stderr"}
    assert texts[:2] == ["line 0", "line 1"] and len(texts) == STDERR_UPDATES_PER_TURN + 1
    assert texts[-1] == "(omk-tui: further stderr lines of this turn dropped)"
    tail = list(session._stderr_tail)  # blank lines are not kept; a long line is cut
    assert len(tail) == STDERR_KEEP and tail[-1] == "x" * STDERR_LINE_MAX and tail[-2] == f"line {lines - 1}"


@pytest.mark.parametrize("backend", [AcpSession, WireSession])
async def test_a_bad_policy_or_a_missing_folder_is_refused_before_anything_starts(tmp_path, backend):
    with pytest.raises(AgentError, match="does not exist"):
        await backend(["unused"], SessionConfig(cwd=tmp_path / "gone")).start()
    with pytest.raises(AgentError, match="pattern:"):
        await backend(["unused"], SessionConfig(cwd=tmp_path, approval="pattern:")).start()
    session = backend(["unused"], SessionConfig(cwd=tmp_path))
    session.private_tmp = tmp_path / "never-made"
    with pytest.raises(AgentError, match="does not exist"):
        session._prepare_start(tmp_path / "gone")
    assert not session.private_tmp.exists() and session.pid is None


@pytest.mark.parametrize("backend", [AcpSession, WireSession])
async def test_ending_the_agent_ends_what_it_started_outside_its_process_group(tmp_path, backend):
    # an agent that starts a process in a new session (setsid) and exits at start: the process group kill misses
    # it; the session's environment mark finds it
    away = tmp_path / "away.pid"
    agent = (f"setsid sh -c 'echo $$ > {away}; exec sleep 3028' >/dev/null 2>&1 </dev/null & "
             f"while [ ! -s {away} ]; do sleep 0.02; done; exit 3")
    session = backend(["sh", "-c", agent], SessionConfig(cwd=tmp_path), start_timeout=20)
    with pytest.raises(AgentError):
        await session.start()
    await session.close()
    assert not process_alive(int(away.read_text()))
