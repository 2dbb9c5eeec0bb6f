"""Hostile scripted agents through the whole goal controller.

Each misbehaviour — writes outside the scope, `..` and absolute paths, `.git`, symlink escapes, floods of output,
garbage on the protocol, a crash mid-write, a hang — must end in a recorded, explained outcome (events, slice
state, proof blocker), and nothing outside the slice's worktree may change: the main working tree, a sentinel
folder outside every repository and the worktrees root are fingerprinted before and after.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path

import pytest

from omk_tui.agents.confine import landlock_abi
from omk_tui.control.controller import GoalController
from omk_tui.control.orphans import marked_processes
from omk_tui.models.goal import Budget, GoalOptions, GoalStatus
from omk_tui.state.eventlog import read_events

from tests.support.goal_repo import git, make_repo, task, tree_fingerprint, write_script

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(autouse=True)
def _worktrees(tmp_path, monkeypatch):
    monkeypatch.setenv("OMK_WORKTREES_DIR", str(tmp_path / "worktrees"))


def folder_fingerprint(root: Path) -> dict[str, str]:
    """Every entry under root (files hashed, symlinks by target), not following symlinks."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            if p.is_symlink():
                out[rel] = "-> " + os.readlink(p)
            elif p.is_file():
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
            else:
                out[rel] = "dir"
    return out


def events_of(ctl, kind: str) -> list[dict]:
    return [e.payload for e in read_events(ctl.paths.events).events if e.kind == kind]


class RssSampler:
    """Peak resident memory of this process (the controller runs in it) while a goal runs."""

    def __init__(self, interval: float = 0.02):
        self.interval = interval
        self.base = self.peak = self._rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    @staticmethod
    def _rss() -> int:
        return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, self._rss())

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.base) / 2**20


async def run_goal(tmp_path: Path, repo: Path, script: dict, *, max_agents: int = 4, budget: Budget | None = None):
    agent = write_script(tmp_path / "script.json", script)
    ctl = GoalController.create(repo, "write the check files so the gate passes",
                                GoalOptions(agent=agent, max_agents=max_agents), budget or Budget())
    proof = await ctl.run()
    return ctl, proof


def make_sentinel(tmp_path: Path) -> Path:
    """A folder outside every repository, with a file no agent may touch."""
    sentinel = tmp_path / "sentinel"
    sentinel.mkdir()
    (sentinel / "target.txt").write_text("precious\n")
    return sentinel


def _fast_grace(repo: Path) -> None:
    (repo / ".omk" / "config.toml").write_text("[agent]\nturn_grace_secs = 1\n")


async def test_writes_outside_the_scope_or_worktree_are_refused_recorded_and_change_nothing(tmp_path):
    sentinel = make_sentinel(tmp_path)
    repo = make_repo(tmp_path / "repo")
    # committed symlinks pointing outside the repository: a folder and a file
    os.symlink(sentinel, repo / "linkdir")
    os.symlink(sentinel / "target.txt", repo / "linkfile")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "symlinks out")
    _fast_grace(repo)
    worktrees = tmp_path / "worktrees"
    before_repo, before_sentinel = tree_fingerprint(repo), folder_fingerprint(sentinel)

    script = {
        "plan": {"tasks": [
            task("outside", ["outside.check"]),
            task("dotdot", ["dotdot.check"]),
            task("absolute", ["absolute.check"]),
            # the symlinks are inside the write scope: only resolving them shows they lead out
            task("symlink", ["symlink.check", "linkdir/pwned.txt", "linkfile"]),
        ]},
        "tasks": {
            "outside": [[{"write": "not-mine.txt", "content": "x\n"}, {"write": "base.check", "content": "bad\n"},
                         {"write": "outside.check", "content": "ok\n"}]],
            "dotdot": [[{"write": "../escape.txt", "content": "x\n"},
                        {"write": "../../sentinel/dotdot.txt", "content": "x\n"},
                        {"write": ".git/config", "content": "[core]\n"},
                        {"write": "dotdot.check", "content": "ok\n"}]],
            "absolute": [[{"write": str(sentinel / "abs.txt"), "content": "x\n"},
                          {"write": str(repo / "absolute.check"), "content": "ok\n"},
                          {"write": "absolute.check", "content": "ok\n"}]],
            "symlink": [[{"write": "linkdir/pwned.txt", "content": "x\n"},
                         {"write": "linkfile", "content": "overwritten\n"},
                         {"append": "linkfile", "content": "more\n"},
                         {"write": "symlink.check", "content": "ok\n"}]],
        },
    }
    ctl, proof = await run_goal(tmp_path, repo, script)

    refused = events_of(ctl, "scope_refused")
    by_slice: dict[str, list[str]] = {}
    for r in refused:
        assert r["reason"], r  # every refusal says why
        by_slice.setdefault(r["slice_id"], []).append(r["path"])
    # paths are recorded as the agent's absolute path: compare their ends
    assert {Path(p).name for p in by_slice["outside"]} >= {"not-mine.txt", "base.check"}, by_slice
    assert len(by_slice["dotdot"]) == 3 and any(".git" in p for p in by_slice["dotdot"])
    assert len(by_slice["absolute"]) == 2
    assert len(by_slice["symlink"]) >= 3, by_slice["symlink"]
    # the refusals reached the agent as failed tool calls and the slices went on to a proper result
    assert proof.status is GoalStatus.ready, proof.blocker
    assert {s.slice_id: s.status for s in proof.slices} == dict.fromkeys(["outside", "dotdot", "absolute", "symlink"],
                                                                         "merged")
    changed = set(proof.changed_files)
    assert {"outside.check", "dotdot.check", "absolute.check", "symlink.check"} <= changed
    assert not changed & {"not-mine.txt", "linkfile", "linkdir/pwned.txt", "escape.txt"}
    # nothing outside the worktrees changed: main tree, sentinel, the worktrees root itself
    assert tree_fingerprint(repo) == before_repo
    assert folder_fingerprint(sentinel) == before_sentinel
    assert not (tmp_path / "escape.txt").exists() and not (worktrees / "escape.txt").exists()
    assert all(p.is_dir() for p in worktrees.rglob("*") if p.parent == worktrees), "stray file in the worktrees root"
    assert not marked_processes(ctl.state.goal_id)
    ctl.close()


async def test_protocol_failures_crash_and_hang_end_recorded_and_explained(tmp_path):
    sentinel = tmp_path / "sentinel"
    sentinel.mkdir()
    (sentinel / "keep.txt").write_text("keep\n")
    repo = make_repo(tmp_path / "repo")
    _fast_grace(repo)
    before_repo, before_sentinel = tree_fingerprint(repo), folder_fingerprint(sentinel)
    script = {
        "plan": {"tasks": [
            task("fine", ["fine.check"]),
            task("garbage", ["garbage.check"]),
            task("crashmid", ["crashmid.check", "partial.txt"]),
            task("hang", ["hang.check"], budget=1.5),
        ]},
        "tasks": {
            "fine": [[{"write": "fine.check", "content": "ok\n"}]],
            "garbage": [[{"say": "about to misbehave"}, {"garbage": "{\"jsonrpc\": \"2.0\", \"broken"}]],
            "crashmid": [[{"write": "partial.txt", "content": "half of the change\n"}, {"crash": 9}]],
            "hang": [[{"say": "thinking forever"}, {"hang": True}]],
        },
    }
    ctl, proof = await run_goal(tmp_path, repo, script)

    by = {s.slice_id: s for s in proof.slices}
    assert by["fine"].status == "merged"
    assert {sid: by[sid].status for sid in ("garbage", "crashmid", "hang")} == dict.fromkeys(
        ["garbage", "crashmid", "hang"], "blocked")
    assert proof.status is GoalStatus.not_ready
    # the proof's blocker names one blocked slice with its reason (the others' reasons are on their records)
    assert any(f"slice {sid} is blocked: agent failed" in proof.blocker for sid in ("garbage", "crashmid", "hang")), \
        proof.blocker
    finished: dict[str, set] = {}
    errors: dict[str, list] = {}
    for p in events_of(ctl, "agent_turn_finished"):
        if p.get("slice_id"):
            finished.setdefault(p["slice_id"], set()).add(p["stop_reason"])
            errors.setdefault(p["slice_id"], []).append(p.get("error") or "")
    assert finished["garbage"] == {"error"} and any("broken" in e or "JSON" in e for e in errors["garbage"]), errors
    assert finished["crashmid"] == {"crashed"} and any("9" in e for e in errors["crashmid"]), errors
    assert finished["hang"] == {"timeout"}
    # each failing slice was retried, then blocked with the reason recorded on the slice and the task
    reasons = {p["slice_id"]: p.get("reason", "") for p in events_of(ctl, "slice_state") if p["state"] == "blocked"}
    assert "agent failed 3 times" in reasons["garbage"]
    assert "agent failed 3 times" in reasons["crashmid"]
    assert "exceeded its time budget" in reasons["hang"]
    recorded = ctl.exec.slices
    assert all(recorded[sid].state == "blocked" and recorded[sid].reason for sid in ("garbage", "crashmid", "hang"))
    task_blocked = {p["task_id"] for p in events_of(ctl, "task_status") if p["status"] == "blocked"}
    assert task_blocked == {"garbage", "crashmid", "hang"}
    # the half-done write of the crashed agent never reached the integrated result or the main tree
    assert "partial.txt" not in proof.changed_files and not (repo / "partial.txt").exists()
    assert tree_fingerprint(repo) == before_repo
    assert folder_fingerprint(sentinel) == before_sentinel
    assert not marked_processes(ctl.state.goal_id)
    ctl.close()


async def test_shell_commands_that_leave_background_processes_finish_and_leave_nothing(tmp_path):
    # a dev server started in the background holding the command's output, and one started with setsid: each
    # command is done when its shell exits (it used to run the turn into its time budget, 3 times), and both are
    # ended with the command
    repo = make_repo(tmp_path / "repo")
    before = tree_fingerprint(repo)
    script = {
        "plan": {"tasks": [task("bg", ["bg.check"], budget=20)]},
        "tasks": {"bg": [[
            {"shell": "(sleep 3063 &); echo started in the background"},
            {"shell": "setsid sleep 3064 >/dev/null 2>&1 </dev/null & setsid sleep 3065 & echo started a daemon"},
            {"write": "bg.check", "content": "ok\n"},
        ]]},
    }
    ctl, proof = await run_goal(tmp_path, repo, script)
    assert proof.status is GoalStatus.ready, proof.blocker
    turns = [p for p in events_of(ctl, "agent_turn_finished") if p.get("slice_id") == "bg"]
    assert [t["stop_reason"] for t in turns] == ["end_turn"], turns
    assert "sleep 306" not in os.popen("ps -eo args").read()
    assert not marked_processes(ctl.state.goal_id)
    assert tree_fingerprint(repo) == before
    ctl.close()


async def test_a_flood_of_output_keeps_the_controller_bounded_and_the_record_proportionate(tmp_path):
    repo = make_repo(tmp_path / "repo")
    before = tree_fingerprint(repo)
    big = 8 * 2**20  # one 8 MB message
    many = 3000  # and 3,000 small messages (9,000 chunks)
    script = {
        "plan": {"tasks": [task("big", ["big.check"]), task("many", ["many.check"])]},
        "tasks": {
            "big": [[{"say": ("flood " * (big // 6))}, {"think": "z" * 2**20}, {"stderr": "e" * 2**20},
                     {"write": "big.check", "content": "ok\n"}]],
            "many": [[*({"say": f"line {i} of the flood"} for i in range(many)), {"write": "many.check", "content": "ok\n"}]],
        },
    }
    t0 = time.monotonic()
    with RssSampler() as rss:
        ctl, proof = await run_goal(tmp_path, repo, script, max_agents=2)
    wall = time.monotonic() - t0
    assert proof.status is GoalStatus.ready, proof.blocker
    events = read_events(ctl.paths.events)
    chunks = [e for e in events.events if e.kind == "agent_message_chunk"]
    said = sum(len(e.payload["text"]) for e in chunks)
    assert said >= big + many * 10  # the whole message was recorded, not silently dropped
    log_size = ctl.paths.events.stat().st_size
    # the record is proportionate to what the agent said (JSON framing, no copies of the flood)
    assert log_size < 2 * (big + 2 * 2**20) + 4 * 2**20, log_size
    # the controller held at most a few copies of the flood in memory at once
    assert rss.growth_mb < 200, f"controller RSS grew {rss.growth_mb:.0f} MB"
    assert wall < 120
    assert tree_fingerprint(repo) == before
    print(f"flood: {log_size / 2**20:.1f} MB event log, RSS +{rss.growth_mb:.0f} MB, {wall:.1f} s")
    ctl.close()


@pytest.mark.skipif(landlock_abi() < 1, reason="this kernel has no Landlock (Linux 5.13+): shell commands are "
                    "governed by the approval policy only")
async def test_shell_commands_cannot_write_outside_the_worktree(tmp_path):
    # The agent's shell commands write by themselves, past the ACP write checks: Landlock refuses them.
    sentinel = make_sentinel(tmp_path)
    repo = make_repo(tmp_path / "repo")
    _fast_grace(repo)
    worktrees = tmp_path / "worktrees"
    before_repo, before_sentinel = tree_fingerprint(repo), folder_fingerprint(sentinel)
    git_config = (repo / ".git" / "config").read_bytes()
    script = {
        "plan": {"tasks": [task("shell", ["shell.check", "tmpdir.txt"])]},
        "tasks": {"shell": [[
            {"shell": f"echo x > {sentinel}/shell.txt; rm -f {sentinel}/target.txt"},
            {"shell": f"echo x > {repo}/main.txt; echo x >> {repo}/.git/config"},
            {"shell": "echo x > ../escape.txt"},
            {"shell": 'echo ok > shell.check && echo "$TMPDIR" > tmpdir.txt && touch "$TMPDIR/scratch"'},
        ]]},
    }
    ctl, proof = await run_goal(tmp_path, repo, script)
    assert proof.status is GoalStatus.ready, proof.blocker
    assert "shell.check" in proof.changed_files
    assert tree_fingerprint(repo) == before_repo
    assert (repo / ".git" / "config").read_bytes() == git_config
    assert folder_fingerprint(sentinel) == before_sentinel
    assert not (worktrees / "escape.txt").exists()
    # its TMPDIR was private, beside the goal's worktrees, and is gone with the run
    tmpdir = Path(git(repo, "show", f"{proof.integration_commit}:tmpdir.txt").strip())
    assert worktrees in tmpdir.parents and tmpdir.parent.name == ".agent-tmp" and not tmpdir.parent.exists()
    failed = [p for p in events_of(ctl, "agent_tool_call") if p.get("status") == "failed"]
    assert len(failed) >= 3, failed
    ctl.close()
