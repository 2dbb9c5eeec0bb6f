"""Whole goals through the controller with GitHub delivery (a local bare remote, the fake `gh` on PATH) and
through the review wall (a slice that trips it gets one cleanup attempt)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from omk_tui.control.controller import GoalController
from omk_tui.models.goal import GoalOptions, GoalStatus
from omk_tui.state.eventlog import read_events
from omk_tui.state.store import load_goal, load_proof
from tests.support import fake_gh
from tests.support.goal_repo import git, make_repo, task, write_script

pytestmark = pytest.mark.timeout(180)

PR_URL = "https://github.com/owner/repo/pull/1"
ONE_TASK = {"plan": {"tasks": [task("feat", ["feat.check"])]},
            "tasks": {"feat": [[{"write": "feat.check", "content": "ok\n"}]]}}


@pytest.fixture(autouse=True)
def _worktrees(tmp_path, monkeypatch):
    monkeypatch.setenv("OMK_WORKTREES_DIR", str(tmp_path / "worktrees"))


@pytest.fixture
def gh(tmp_path: Path, monkeypatch):
    fake_gh.install(tmp_path / "bin")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    log, state = tmp_path / "gh.jsonl", tmp_path / "gh-state.json"
    monkeypatch.setenv("FAKE_GH_LOG", str(log))
    monkeypatch.setenv("FAKE_GH_STATE", str(state))
    for name in ("FAKE_GH_AUTH", "FAKE_GH_CHECKS", "FAKE_GH_FAIL"):
        monkeypatch.delenv(name, raising=False)

    class GH:
        def calls(self) -> list[list[str]]:
            return [c["argv"] for c in fake_gh.read_calls(log)]

        def prs(self) -> list[dict]:
            return fake_gh.load_state()["prs"] if state.exists() else []

    return GH()


def repo_with_remote(tmp_path: Path) -> tuple[Path, Path]:
    repo = make_repo(tmp_path / "repo")
    bare = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    git(repo, "remote", "add", "origin", str(bare))
    git(repo, "push", "-q", "origin", "main")
    return repo, bare


async def run_goal(repo: Path, tmp_path: Path, script: dict, **opts):
    agent = write_script(tmp_path / "script.json", script)
    ctl = GoalController.create(repo, "add feat.check so the gate passes", GoalOptions(agent=agent, **opts))
    proof = await ctl.run()
    return ctl, proof


def events(ctl, kind: str) -> list[dict]:
    return [e.payload for e in read_events(ctl.paths.events).events if e.kind == kind]


def remote_branches(bare: Path) -> str:
    return git(bare, "branch", "--list")


async def test_draft_pr_with_merging_disabled_is_ready_with_the_pr(tmp_path, gh):
    repo, bare = repo_with_remote(tmp_path)
    ctl, proof = await run_goal(repo, tmp_path, ONE_TASK, delivery_policy="draft-pr", merge_policy="disabled")
    assert proof.status is GoalStatus.ready and proof.readiness == "ready", proof.blocker
    assert proof.delivery.policy == "draft-pr" and proof.delivery.status == "pr_opened"
    assert proof.delivery.pr_urls == [PR_URL]
    branch = ctl.state.integration_branch
    assert git(bare, "rev-parse", branch).strip() == git(repo, "rev-parse", branch).strip()
    pr = gh.prs()[0]
    assert pr["isDraft"] and pr["headRefName"] == branch and pr["baseRefName"] == "main"
    assert "| feat | implementer | feat.check |" in pr["body"] and "| Pass | Status | Severity | Feedback |" in pr["body"]
    assert events(ctl, "delivery")[-1] == {"policy": "draft-pr", "status": "ready", "detail": proof.delivery.detail,
                                           "pr_urls": [PR_URL]}
    assert load_goal(ctl.paths).status is GoalStatus.ready
    assert load_proof(ctl.paths).delivery.pr_urls == [PR_URL]  # the proof on disk, not only the returned one
    ctl.close()


async def test_auto_pr_gated_with_passing_checks_is_merged(tmp_path, gh):
    repo, bare = repo_with_remote(tmp_path)
    ctl, proof = await run_goal(repo, tmp_path, ONE_TASK, delivery_policy="auto-pr", merge_policy="gated")
    assert proof.status is GoalStatus.ready, proof.blocker
    assert proof.delivery.status == "merged" and proof.delivery.pr_urls == [PR_URL]
    pr = gh.prs()[0]
    assert not pr["isDraft"] and pr["state"] == "MERGED"
    assert [c[:2] for c in gh.calls()][-2:] == [["pr", "checks"], ["pr", "merge"]]
    assert ["pr", "merge", PR_URL, "--squash"] in gh.calls()
    assert events(ctl, "delivery")[-1]["status"] == "ready"
    ctl.close()


async def test_manual_merge_blocks_on_a_person_with_the_exact_command(tmp_path, gh):
    repo, bare = repo_with_remote(tmp_path)
    ctl, proof = await run_goal(repo, tmp_path, ONE_TASK, delivery_policy="auto-pr", merge_policy="manual")
    command = f"gh pr merge {PR_URL} --squash"
    assert proof.status is GoalStatus.blocked_on_human and proof.readiness == "blocked"
    assert command in proof.blocker
    assert any(command in h for h in proof.human_decisions_required)
    assert proof.delivery.status == "pr_opened" and proof.delivery.pr_urls == [PR_URL]
    assert gh.prs()[0]["state"] == "OPEN"
    assert events(ctl, "delivery")[-1]["status"] == "blocked_on_human"
    assert events(ctl, "run_finished")[-1]["status"] == "blocked_on_human"
    ctl.close()


async def test_logged_out_gh_blocks_with_a_clear_reason_and_loses_nothing(tmp_path, gh, monkeypatch):
    monkeypatch.setenv("FAKE_GH_AUTH", "0")
    repo, bare = repo_with_remote(tmp_path)
    ctl, proof = await run_goal(repo, tmp_path, ONE_TASK, delivery_policy="draft-pr", merge_policy="disabled")
    assert proof.status is GoalStatus.blocked_on_human
    assert "gh is not logged in" in proof.blocker and "gh auth login" in proof.blocker
    assert proof.delivery.status == "blocked" and proof.delivery.pr_urls == []
    assert load_goal(ctl.paths).failure.reason == proof.blocker
    # nothing lost: the work is committed on its branches, nothing was pushed or opened
    branch = ctl.state.integration_branch
    slice_branch = proof.slices[0].branch
    assert git(repo, "rev-parse", branch).strip() == proof.integration_commit
    assert git(repo, "rev-parse", slice_branch).strip() == proof.slices[0].commit
    assert "feat.check" in git(repo, "show", "--name-only", "--format=", proof.slices[0].commit)
    assert "omk/" not in remote_branches(bare)
    assert [c[:2] for c in gh.calls()] == [["auth", "status"]]
    ctl.close()


async def test_review_wall_cleanup_attempt_then_ready(tmp_path):
    repo = make_repo(tmp_path / "repo")
    script = {"plan": {"tasks": [task("feat", ["feat.check", "app.py"])]},
              "tasks": {"feat": [
                  [{"write": "app.py", "content": 'api_key = "abcdefghijklmnop1234"\n'},
                   {"write": "feat.check", "content": "ok\n"}],
                  [{"write": "app.py", "content": 'import os\n\napi_key = os.environ.get("API_KEY", "")\n'},
                   {"write": "feat.check", "content": "ok\n"}],
              ]}}
    ctl, proof = await run_goal(repo, tmp_path, script)
    assert proof.status is GoalStatus.ready, proof.blocker
    turns = [(t["role"], t["attempt"]) for t in events(ctl, "agent_turn_started") if t.get("slice_id")]
    assert turns == [("implementer", 1), ("fixer", 2)]
    fixer = [t for t in events(ctl, "agent_turn_started") if t["role"] == "fixer"][0]
    assert fixer.get("reason", "review") == "review"
    assert any(n["step"] == "review" and "cleanup attempt" in n["summary"] for n in events(ctl, "narrative"))
    security = [r for r in events(ctl, "review_finished") if r["kind"] == "security" and r["scope"] != "goal"]
    assert [r["passed"] for r in security] == [False, True]
    assert security[0]["severity"] == "critical"
    assert proof.slices[0].attempts == 2
    assert "abcdefghijklmnop1234" not in git(repo, "show", f"{proof.integration_commit}:app.py")
    assert all(r.passed for r in proof.review_results if r.scope == "goal")
    ctl.close()


async def test_review_wall_never_cleaned_up_blocks_with_the_wall_reason(tmp_path):
    repo = make_repo(tmp_path / "repo")
    slop = "def run():\n    print('debug here')  # TODO remove\n    return 1\n"
    script = {"plan": {"tasks": [task("feat", ["feat.check", "app.py"])]},
              "tasks": {"feat": [[{"write": "app.py", "content": 'api_key = "abcdefghijklmnop1234"\n' + slop},
                                  {"write": "feat.check", "content": "ok\n"}]]}}
    ctl, proof = await run_goal(repo, tmp_path, script)
    assert proof.status is GoalStatus.blocked_on_human and proof.readiness == "blocked"
    assert proof.blocker.startswith("slice feat is blocked: review wall: review wall (feat): failed passes: ")
    assert "security" in proof.blocker
    assert [t["role"] for t in events(ctl, "agent_turn_started") if t.get("slice_id")] == ["implementer", "fixer"]
    assert proof.slices[0].status == "blocked" and proof.slices[0].commit is None
    assert proof.integration_commit is None or "feat.check" not in git(repo, "ls-tree", "-r", "--name-only", proof.integration_commit)
    assert proof.delivery.status == "not_delivered"
    ctl.close()


async def test_a_pause_while_waiting_for_checks_pauses_at_once_and_resume_delivers(tmp_path, gh, monkeypatch):
    import asyncio

    monkeypatch.setenv("FAKE_GH_CHECKS", "pending")  # GitHub's checks never finish: the default wait is 1800 s
    repo, bare = repo_with_remote(tmp_path)
    agent = write_script(tmp_path / "script.json", ONE_TASK)
    ctl = GoalController.create(repo, "add feat.check so the gate passes",
                                GoalOptions(agent=agent, delivery_policy="auto-pr", merge_policy="gated"))
    run = asyncio.create_task(ctl.run())
    for _ in range(1200):
        if ["pr", "checks"] in [c[:2] for c in gh.calls()]:
            break
        await asyncio.sleep(0.1)
    ctl.pause()
    proof = await asyncio.wait_for(run, 30)  # within a poll of the checks, not at the end of the wait
    assert ctl.state.status is GoalStatus.paused and proof.delivery.status != "merged"
    assert events(ctl, "goal_paused") and not events(ctl, "delivery")  # a cut-short delivery records nothing
    assert gh.prs()[0]["state"] == "OPEN"
    ctl.close()

    monkeypatch.setenv("FAKE_GH_CHECKS", "success")
    again = GoalController.open(repo, ctl.state.goal_id)
    proof = await again.run()
    assert proof.status is GoalStatus.ready and proof.delivery.status == "merged", proof.blocker
    assert [p["state"] for p in gh.prs()] == ["MERGED"]  # the same PR, merged once its checks passed
    again.close()
