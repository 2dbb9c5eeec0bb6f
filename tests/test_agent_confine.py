"""Landlock confinement of agents: an agent's own shell commands, and the client terminals it asks for, can write
only beneath its worktree, its private TMPDIR and its state folder.

Real processes under the real kernel restriction: the launcher, the scripted ACP agent (its shell commands run in
our client terminals), an agent process that writes by itself, and the real kimi-cli 1.51.0 running its Shell tool
over Wire. Skipped, with the reason, only where the kernel has no Landlock.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from omk_tui.agents import spec as spec_module
from omk_tui.agents.base import AgentError, AgentUpdate, SessionConfig
from omk_tui.agents.confine import landlock_abi, launcher
from omk_tui.agents.spec import confinement, open_session
from tests.support.fake_model_server import Reply, ToolCallSpec

needs_landlock = pytest.mark.skipif(landlock_abi() < 1, reason="this kernel has no Landlock (Linux 5.13+)")


@pytest.fixture
def places(tmp_path: Path):
    """A worktree, a precious file next to it, and a sentinel folder elsewhere."""
    wt = tmp_path / "wt"
    wt.mkdir()
    sentinel = tmp_path / "sentinel"
    sentinel.mkdir()
    (sentinel / "precious.txt").write_text("precious\n")
    return wt, sentinel


@needs_landlock
def test_the_launcher_confines_writes_and_leaves_reads_and_devices(places):
    wt, sentinel = places
    script = (f"echo in > {wt}/inside.txt; echo rc-in=$?; "
              f"echo out > {sentinel}/new.txt; echo rc-new=$?; "
              f"echo out > {sentinel}/precious.txt; echo rc-over=$?; "
              f"rm {sentinel}/precious.txt; echo rc-rm=$?; "
              f"mv {wt}/inside.txt {sentinel}/moved.txt; echo rc-mv=$?; "
              f"cat {sentinel}/precious.txt; echo hi > /dev/null; echo rc-null=$?")
    out = subprocess.run(launcher(["/bin/sh", "-c", script], [str(wt)]), capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "rc-in=0" in lines and "rc-null=0" in lines
    for refused in ("rc-new", "rc-over", "rc-rm", "rc-mv"):
        assert f"{refused}=0" not in lines, out.stdout
    assert "precious" in lines  # reading outside stays allowed
    assert "Permission denied" in out.stderr
    assert (wt / "inside.txt").read_text() == "in\n"
    assert sorted(p.name for p in sentinel.iterdir()) == ["precious.txt"]
    assert (sentinel / "precious.txt").read_text() == "precious\n"


def test_launcher_usage_and_a_missing_command_say_what_went_wrong(tmp_path):
    bad = subprocess.run(launcher([], [str(tmp_path)])[:-1], capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2 and "usage" in bad.stderr
    if landlock_abi() >= 1:
        missing = subprocess.run(launcher(["no-such-program-xyz"], [str(tmp_path)]), capture_output=True, text=True,
                                 timeout=30)
        assert missing.returncode == 127 and "no-such-program-xyz" in missing.stderr


def test_confinement_modes(tmp_path, monkeypatch):
    config = SessionConfig(cwd=tmp_path)
    assert confinement("off", config, {}) is None
    with pytest.raises(AgentError, match="confine = 'sometimes'"):
        confinement("sometimes", config, {})
    # Where confinement cannot work (no Landlock, or the kernel refuses it): auto runs the agent unconfined, on
    # refuses to start it and says why.
    monkeypatch.setattr(spec_module, "confinement_problem", lambda: spec_module.NO_LANDLOCK)
    assert confinement("auto", config, {}) is None
    with pytest.raises(AgentError, match="no Landlock.*confine = \"auto\" or \"off\""):
        confinement("on", config, {})


def test_the_launcher_is_tried_before_it_is_trusted(tmp_path):
    from omk_tui.agents.spec import confinement_problem, launcher_problem

    assert confinement_problem() == (None if landlock_abi() >= 1 else spec_module.NO_LANDLOCK)
    failing = launcher([sys.executable, "-S", "-c", "raise SystemExit(3)"], [str(tmp_path)])
    if landlock_abi() >= 1:
        assert launcher_problem(failing) == "the confinement launcher exited with code 3"
    else:
        assert "cannot confine the agent's writes" in launcher_problem(failing)
    assert "usage" in launcher_problem(launcher([], [str(tmp_path)])[:-1])


@needs_landlock
def test_what_a_confined_agent_may_write(tmp_path):
    env = {"HOME": str(tmp_path / "home"), "KIMI_SHARE_DIR": str(tmp_path / "kimi-share")}
    config = SessionConfig(cwd=tmp_path, tmp_root=tmp_path / "tmp-root")
    allowed = confinement("on", config, env, ["~/extra"], kimi=True)
    tmp = env["TMPDIR"]
    assert Path(tmp).parent == tmp_path / "tmp-root" and Path(tmp).name.startswith("omk-agent-")
    assert allowed == [str(tmp_path.resolve()), tmp, str(tmp_path / "kimi-share"), str(Path("~/extra").expanduser())]
    assert (tmp_path / "kimi-share").is_dir()  # kimi's state folder exists before kimi starts, so it can be allowed
    assert not Path(tmp).exists()  # made when the session starts, not before
    read_only = confinement("on", SessionConfig(cwd=tmp_path, read_only=True), {"HOME": str(tmp_path)})
    assert str(tmp_path.resolve()) not in read_only and len(read_only) == 1  # only its private TMPDIR


@needs_landlock
def test_a_session_never_started_leaves_no_temporary_folder(tmp_path):
    wt = tmp_path / "wt"
    wt.mkdir()
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"default": [{"say": "hi"}]}))
    session = open_session(f"script:{script}", SessionConfig(cwd=wt, tmp_root=tmp_path / "tmp-root"), confine="on")
    assert session.private_tmp is not None and session.private_tmp.parent == tmp_path / "tmp-root"
    assert not (tmp_path / "tmp-root").exists()


async def _scripted_turn(tmp_path: Path, wt: Path, actions: list, *, command: list[str] | None = None):
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"default": actions}))
    spec = f"script:{script}"
    if command is not None:
        spec = "acp:" + shlex.quote(shlex.join(command + [sys.executable, "-m", "omk_tui.agents.scripted",
                                                             str(script)]))
    session = open_session(spec, SessionConfig(cwd=wt, approval="yolo", tmp_root=tmp_path / "tmp-root"),
                           confine="on")
    updates: list[AgentUpdate] = []
    await session.start()
    tmp = session.private_tmp
    assert tmp is not None and tmp.is_dir()
    try:
        result = await session.prompt("go", updates.append, timeout=30)
    finally:
        await session.close()
    return result, updates, tmp


@needs_landlock
async def test_a_scripted_agents_shell_commands_cannot_write_outside_the_worktree(tmp_path, places):
    wt, sentinel = places
    result, updates, tmp = await _scripted_turn(tmp_path, wt, [
        {"shell": f"echo x > {sentinel}/shell.txt"},
        {"shell": "echo x > ../escape.txt"},
        {"shell": f"rm -f {sentinel}/precious.txt"},
        {"shell": 'echo t > "$TMPDIR/scratch.txt" && echo ok > made-by-shell.txt'},
    ])
    assert result.ok, result.error
    tools = [u for u in updates if u.kind == "tool_call" and u.status in ("completed", "failed")]
    assert [u.status for u in tools] == ["failed", "failed", "failed", "completed"], tools
    assert all("Permission denied" in u.content for u in tools[:3]), [u.content for u in tools]
    assert (wt / "made-by-shell.txt").read_text() == "ok\n"
    assert sorted(p.name for p in sentinel.iterdir()) == ["precious.txt"]
    assert not (tmp_path / "escape.txt").exists()
    assert tmp is not None and not tmp.exists()  # the private TMPDIR is gone with the session


@needs_landlock
async def test_the_agent_process_itself_is_confined(tmp_path, places):
    wt, sentinel = places
    # The agent command writes before it starts the scripted agent: the write outside fails, the agent runs.
    before = ["/bin/sh", "-c", f'echo x > {sentinel}/agent.txt; echo y > "$TMPDIR/ok.txt" || exit 3; exec "$@"',
              "sh"]
    result, updates, _ = await _scripted_turn(tmp_path, wt, [{"say": "started"}], command=before)
    assert result.ok and result.text == "started", result.error
    assert sorted(p.name for p in sentinel.iterdir()) == ["precious.txt"]


@needs_landlock
@pytest.mark.kimi
@pytest.mark.timeout(120)
async def test_kimis_own_shell_tool_cannot_write_outside_the_worktree(kimi_bin, fake_model, kimi_home, places):
    # Over Wire kimi runs its Shell tool itself, in its own process: only the kernel can stop this write.
    wt, sentinel = places
    fake_model.add(
        Reply(tool_calls=[ToolCallSpec("Shell", {"command": f"echo x > {sentinel}/kimi.txt; echo ok > inside.txt"})]),
        Reply(text="done"),
    )
    command = shlex.join([str(kimi_bin), "--wire", "--config-file", str(kimi_home.config_file)])
    session = open_session(f"wire:{shlex.quote(command)}", SessionConfig(cwd=wt, env=kimi_home.env, approval="yolo"),
                           confine="on")
    try:
        result = await session.prompt("run the shell", lambda _u: None, timeout=60)
    finally:
        await session.close()
    assert result.stop_reason == "end_turn", result.error
    assert (wt / "inside.txt").read_text() == "ok\n"
    assert sorted(p.name for p in sentinel.iterdir()) == ["precious.txt"]
    assert "Permission denied" in fake_model.tool_results()[0]["content"]
