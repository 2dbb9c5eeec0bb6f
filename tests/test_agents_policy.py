"""Approval policies, write scopes, prices, SPECs and client terminals: the backend-neutral pieces."""

from __future__ import annotations

import asyncio
import sys

import pytest

from omk_tui.agents.base import AgentError, PermissionRequest, SessionConfig
from omk_tui.agents.policy import PolicyError, decide, parse_policy
from omk_tui.agents.pricing import ModelPrice, PriceTable, cost_usd
from omk_tui.agents.scope import WriteScope
from omk_tui.agents.spec import AgentSpecError, canonical_spec, check_executable, open_session, parse_spec
from omk_tui.agents.terminals import TerminalManager
from omk_tui.config import AgentConfig, Price

WRITE = PermissionRequest("r1", "WriteFile: src/a.py", "edit", paths=["src/a.py"])
SHELL = PermissionRequest("r2", "Shell: pytest -q", "execute", command="pytest -q")
READ = PermissionRequest("r3", "ReadFile: a.py", "read")


async def verdicts(tmp_path, **config):
    cfg = SessionConfig(cwd=tmp_path, **config)
    return [(await decide(r, cfg)).decision for r in (WRITE, SHELL, READ)]


async def test_static_policies(tmp_path):
    assert await verdicts(tmp_path, approval="yolo") == ["approve", "approve", "approve"]
    assert await verdicts(tmp_path, approval="never") == ["reject", "reject", "reject"]
    assert await verdicts(tmp_path, approval="safe") == ["reject", "reject", "approve"]
    assert await verdicts(tmp_path, approval="pattern:^Shell: pytest") == ["reject", "approve", "reject"]
    assert await verdicts(tmp_path, approval="pattern:pytest -q$") == ["reject", "approve", "reject"]
    assert await verdicts(tmp_path, approval="yolo", read_only=True) == ["reject", "reject", "approve"]


async def test_ask_policy_paths(tmp_path):
    async def says_session(request):
        return "approve_for_session"

    async def broken(request):
        raise RuntimeError("tui gone")

    async def nonsense(request):
        return "maybe"

    assert await verdicts(tmp_path, approval="ask", asker=says_session) == ["approve_for_session"] * 3
    assert await verdicts(tmp_path, approval="ask", asker=broken) == ["reject"] * 3
    assert await verdicts(tmp_path, approval="ask", asker=nonsense) == ["reject"] * 3
    assert await verdicts(tmp_path, approval="ask") == ["reject"] * 3
    assert await verdicts(tmp_path, approval="ask", ask_fallback="approve") == ["approve"] * 3
    assert await verdicts(tmp_path, approval="ask", ask_fallback="safe") == ["reject", "reject", "approve"]


async def test_ask_timeout(tmp_path):
    async def slow(request):
        await asyncio.sleep(5)
        return "approve"

    result = await decide(WRITE, SessionConfig(cwd=tmp_path, approval="ask", asker=slow, ask_timeout_secs=0.05))
    assert (result.decision, result.by) == ("reject", "timeout")


def test_bad_policies_are_clear_errors():
    with pytest.raises(PolicyError, match="unknown approval policy 'sometimes'"):
        parse_policy("sometimes")
    with pytest.raises(PolicyError, match="bad regular expression"):
        parse_policy("pattern:([")
    with pytest.raises(PolicyError, match="needs a regular expression"):
        parse_policy("pattern:")
    assert parse_policy("pattern:^Shell").label == "pattern:^Shell"


def test_scope_rules(tmp_path):
    root = tmp_path / "wt"
    (root / "src" / "pkg").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "out").symlink_to(outside)
    (root / "inner").symlink_to(root / "src")
    scope = WriteScope(root, ["src/pkg", "docs/*.md", "setup.cfg"])
    assert scope.check_write("src/pkg/mod.py").allowed
    assert scope.check_write(str(root / "src/pkg/deep/x.py")).allowed
    assert scope.check_write("docs/guide.md").allowed
    assert scope.check_write("./setup.cfg").allowed
    assert scope.check_write("inner/pkg/mod.py").allowed  # a symlink that stays inside
    assert scope.check_write("src/pkg/../../src/pkg/a.py").allowed  # '..' that stays inside
    assert "write scope" in scope.check_write("src/other.py").reason
    assert "write scope" in scope.check_write("setup.cfg.bak").reason
    assert "'..'" in scope.check_write("../x.py").reason
    assert "outside the worktree" in scope.check_write("/etc/passwd").reason
    assert "symlink" in scope.check_write("out/x.py").reason
    assert not scope.check_write(".git/config").allowed
    assert not WriteScope(root).check_write(".git/hooks/pre-commit").allowed
    assert WriteScope(root).check_write("anything/at/all.txt").allowed  # "project files"
    assert WriteScope(root, []).check_write("a.txt").allowed is False
    assert scope.check_read("src/other.py").allowed
    assert not scope.check_read("../secret").allowed
    assert not scope.check_cwd(str(outside)).allowed


def test_prices():
    assert cost_usd(1_000_000, 1_000_000) == pytest.approx(10.0)
    table = PriceTable({"big": ModelPrice(10, 30)}, model="big")
    assert table.cost(1_000_000, 0) == pytest.approx(10.0)
    assert table.cost(0, 1_000_000, model="unknown") == pytest.approx(8.0)
    config = AgentConfig(model="k2", prices={"default": Price(), "k2": Price(input_per_million=0.6, output_per_million=2.5)})
    assert PriceTable.from_config(config).cost(2_000_000, 1_000_000) == pytest.approx(3.7)


def test_spec_parsing(tmp_path):
    assert parse_spec("kimi").argv == ("kimi", "acp")
    assert parse_spec("wire").backend == "wire" and parse_spec("wire").argv == ("kimi", "--wire")
    assert parse_spec('acp:"claude-code-acp --verbose"').argv == ("claude-code-acp", "--verbose")
    assert parse_spec("acp:gemini --experimental-acp").argv == ("gemini", "--experimental-acp")
    assert parse_spec('wire:"/opt/kimi/bin/kimi --wire -w ."').argv == ("/opt/kimi/bin/kimi", "--wire", "-w", ".")
    script = tmp_path / "s.json"
    script.write_text("{}")
    spec = parse_spec(f"script:{script}")
    assert spec.scripted and spec.argv == (sys.executable, "-m", "omk_tui.agents.scripted", str(script))
    for bad, message in [("claude", "unknown agent SPEC"), ("acp:", "empty command"), ('acp:"unclosed', "cannot split"),
                         ("script:", "needs the path"), (f"script:{tmp_path}/missing.json", "does not exist")]:
        with pytest.raises(AgentSpecError, match=message):
            parse_spec(bad)


def test_missing_kimi_says_what_to_install(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(AgentError, match=r"kimi-cli==1\.51\.0.*not 1\.52\.0"):
        check_executable(parse_spec("kimi"))


async def test_terminal_output_is_bounded(tmp_path):
    manager = TerminalManager({"PATH": "/usr/bin:/bin"})
    term = await manager.create("printf 'é%.0s' $(seq 1 500); echo; echo tail", None, tmp_path, output_byte_limit=101)
    code, sig = await term.wait()
    assert (code, sig) == (0, None)
    assert term.truncated and len(term.buffer) <= 101
    assert term.output.endswith("tail\n") and "\ufffd" not in term.output
    exec_term = await manager.create("sh", ["-c", "exit 7"], tmp_path)
    assert (await exec_term.wait()) == (7, None)
    await manager.close_all()
    assert manager.terminals == {}


def test_no_write_once_the_worktree_itself_is_gone(tmp_path):
    root = tmp_path / "wt"
    root.mkdir()
    scope = WriteScope(root)
    assert scope.check_write("a.txt").allowed
    root.rmdir()  # deleted while the agent works: a write must not make a folder that is no worktree
    decision = scope.check_write("a.txt")
    assert not decision.allowed and "no longer exists" in decision.reason
    assert not root.exists()


async def test_a_tilde_in_the_agent_executable_is_expanded_and_a_missing_path_is_named(tmp_path, monkeypatch):
    """The README's own form, acp:"~/.kimi-venv/bin/kimi acp": `~` is the home folder; a path that does not exist is
    named (not 'install kimi'); environment variables are not expanded, and the message says so."""
    monkeypatch.setenv("HOME", str(tmp_path))
    kimi = tmp_path / ".kimi-venv" / "bin" / "kimi"
    kimi.parent.mkdir(parents=True)
    kimi.write_text("#!/bin/sh\necho 'kimi-cli is deprecated; install Kimi Code instead'\n")  # 1.52's stub
    kimi.chmod(0o755)
    for spec in ('acp:"~/.kimi-venv/bin/kimi acp"', 'wire:"~/.kimi-venv/bin/kimi --wire"',
                 "acp:~/.kimi-venv/bin/kimi"):
        parsed = parse_spec(spec)
        assert parsed.argv[0] == str(kimi) and check_executable(parsed) == str(kimi)
        assert canonical_spec(spec) == spec  # the goal records what was asked for
    session = open_session('acp:"~/.kimi-venv/bin/kimi acp"', SessionConfig(cwd=tmp_path))
    with pytest.raises(AgentError, match="kimi-cli 1.52"):  # it really ran the expanded path
        await session.start()
    for spec in ('acp:"~/.nope/bin/kimi acp"', 'wire:"~/.nope/bin/kimi --wire"'):
        with pytest.raises(AgentError) as raised:
            check_executable(parse_spec(spec))
        assert str(raised.value) == f"the agent executable '{tmp_path}/.nope/bin/kimi' does not exist"
    with pytest.raises(AgentError, match=r"'\$HOME/\.kimi-venv/bin/kimi' does not exist; omk-tui does not expand "
                                         r"environment variables"):
        check_executable(parse_spec('acp:"$HOME/.kimi-venv/bin/kimi acp"'))
