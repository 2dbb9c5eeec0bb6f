"""GitHub delivery through a faithful fake `gh` on PATH and a local bare remote: every policy and failure."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from omk_tui.config import OmkConfig
from omk_tui.delivery.github import deliver
from omk_tui.git import naming
from omk_tui.state import store
from tests.support import fake_gh
from tests.support.delivery_goal import add_bare_remote, git, make_goal, make_repo

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def gh(tmp_path: Path, monkeypatch):
    bin_dir = tmp_path / "bin"
    fake_gh.install(bin_dir)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    log, state = tmp_path / "gh-calls.jsonl", tmp_path / "gh-state.json"
    monkeypatch.setenv("FAKE_GH_LOG", str(log))
    monkeypatch.setenv("FAKE_GH_STATE", str(state))
    monkeypatch.delenv("FAKE_GH_AUTH", raising=False)
    monkeypatch.delenv("FAKE_GH_CHECKS", raising=False)

    class GH:
        def calls(self):
            return [c["argv"] for c in fake_gh.read_calls(log)]

        def mutations(self):
            return [c for c in self.calls() if c[:2] in (["pr", "create"], ["pr", "edit"], ["pr", "merge"], ["pr", "ready"])]

        def prs(self):
            return fake_gh.load_state()["prs"] if state.exists() else []

    return GH()


def setup(tmp_path: Path, policy="draft-pr", merge="disabled", remote=True, **kw):
    repo = make_repo(tmp_path, gate_command=None)
    bare = add_bare_remote(tmp_path, repo) if remote else None
    paths = make_goal(repo, policy=policy, merge=merge, **kw)
    return repo, bare, paths


async def run(paths, config=None, **kw):
    state, proof, graph = store.load_goal(paths), store.load_proof(paths), store.load_task_graph(paths)
    kw.setdefault("poll_secs", 0.01)
    kw.setdefault("no_checks_grace_secs", 0.05)
    return await deliver(paths, state, proof, graph, config=config or OmkConfig(), **kw), proof


async def test_draft_pr_disabled_merge_opens_draft_with_tables(tmp_path, gh):
    repo, bare, paths = setup(tmp_path)
    out, proof = await run(paths)
    assert out.status == "ready" and out.blocker is None
    assert out.pr_urls == ["https://github.com/owner/repo/pull/1"]
    branch = naming.integration_branch(paths.goal_id)
    assert git(bare, "rev-parse", f"refs/heads/{branch}") == git(repo, "rev-parse", branch)
    pr = gh.prs()[0]
    assert pr["isDraft"] and pr["headRefName"] == branch and pr["baseRefName"] == "main"
    body = pr["body"]
    assert "## Goal" in body and "add a feature function returning 42" in body
    assert "| Slice | Owner | Write scope | Commit | Dependencies |" in body and "| s1 | implementer | src |" in body
    assert "| Gate | Status | Duration | Command |" in body and "| check | passed |" in body
    assert "| Pass | Status | Severity | Feedback |" in body and "| code | passed | info | ok \\| fine |" in body
    assert proof.delivery.status == "pr_opened" and proof.delivery.pr_urls == out.pr_urls
    assert (paths.artifacts / "policy" / "delivery.json").exists()


async def test_second_delivery_updates_the_existing_pr(tmp_path, gh):
    repo, bare, paths = setup(tmp_path)
    await run(paths)
    out, _ = await run(paths)
    assert out.pr_urls == ["https://github.com/owner/repo/pull/1"] and len(gh.prs()) == 1
    assert [c[:2] for c in gh.mutations()] == [["pr", "create"], ["pr", "edit"]]


async def test_pr_per_slice(tmp_path, gh):
    repo, bare, paths = setup(tmp_path, slices={"a": {"src/a.py": "A = 1\n"}, "b": {"lib/b.py": "B = 2\n"}})
    cfg = OmkConfig.model_validate({"delivery": {"pr_per": "slice"}})
    out, _ = await run(paths, config=cfg)
    assert len(out.pr_urls) == 2
    heads = {p["headRefName"] for p in gh.prs()}
    assert heads == {naming.slice_branch(paths.goal_id, "a"), naming.slice_branch(paths.goal_id, "b")}
    assert all(p["title"].startswith("[slice] ") for p in gh.prs())


async def test_manual_merge_is_blocked_on_human_with_command(tmp_path, gh):
    repo, bare, paths = setup(tmp_path, policy="auto-pr", merge="manual")
    out, _ = await run(paths)
    assert out.status == "blocked_on_human"
    assert "gh pr merge https://github.com/owner/repo/pull/1 --squash" in out.human_decision
    assert not gh.prs()[0]["isDraft"] and gh.prs()[0]["state"] == "OPEN"


async def test_gated_merge_waits_for_checks_then_merges(tmp_path, gh, monkeypatch):
    monkeypatch.setenv("FAKE_GH_CHECKS", "pending,pending,success")
    repo, bare, paths = setup(tmp_path, policy="auto-pr", merge="gated")
    out, proof = await run(paths)
    assert out.status == "ready" and out.delivery_status == "merged"
    assert sum(1 for c in gh.calls() if c[:2] == ["pr", "checks"]) == 3
    assert gh.prs()[0]["state"] == "MERGED" and proof.delivery.status == "merged"


async def test_gated_merge_failing_checks_blocks_with_names(tmp_path, gh, monkeypatch):
    monkeypatch.setenv("FAKE_GH_CHECKS", "failure")
    repo, bare, paths = setup(tmp_path, policy="auto-pr", merge="gated")
    out, _ = await run(paths)
    assert out.status == "blocked_on_human" and "ci/test" in out.blocker
    assert gh.prs()[0]["state"] == "OPEN"


async def test_gated_merge_pending_is_bounded(tmp_path, gh, monkeypatch):
    monkeypatch.setenv("FAKE_GH_CHECKS", "pending")
    repo, bare, paths = setup(tmp_path, policy="auto-pr", merge="gated")
    cfg = OmkConfig.model_validate({"delivery": {"checks_timeout_secs": 0.3}})
    out, _ = await run(paths, config=cfg, poll_secs=0.05)
    assert out.status == "blocked_on_external" and "still pending" in out.blocker and "ci/test" in out.blocker


async def test_gated_merge_with_no_checks_merges(tmp_path, gh, monkeypatch):
    monkeypatch.setenv("FAKE_GH_CHECKS", "none")
    repo, bare, paths = setup(tmp_path, policy="auto-pr", merge="gated")
    out, _ = await run(paths)
    assert out.status == "ready" and gh.prs()[0]["state"] == "MERGED"


async def test_gated_under_draft_pr_asks_a_person(tmp_path, gh):
    repo, bare, paths = setup(tmp_path, policy="draft-pr", merge="gated")
    out, _ = await run(paths)
    assert out.status == "blocked_on_human" and "gh pr ready" in out.human_decision


async def test_dry_run_lists_exact_commands_and_mutates_nothing(tmp_path, gh):
    repo, bare, paths = setup(tmp_path)
    before = sorted(p.relative_to(paths.root) for p in paths.root.rglob("*"))
    out, proof = await run(paths, dry_run=True)
    assert out.dry_run and out.delivery_status == "dry_run" and out.blocker is None
    branch = naming.integration_branch(paths.goal_id)
    assert f"would run: git push --porcelain origin refs/heads/{branch}:refs/heads/{branch}" in out.actions
    create = next(a for a in out.actions if a.startswith("would run: gh pr create"))
    assert f"--head {branch} --base main --draft" in create and "lines on stdin" in create
    assert gh.mutations() == [] and [c[:2] for c in gh.calls()] == [["auth", "status"], ["pr", "list"]]
    assert "integration" not in git(bare, "branch")
    assert sorted(p.relative_to(paths.root) for p in paths.root.rglob("*")) == before  # nothing written
    assert proof.delivery.status == "pending"


async def test_dry_run_of_gated_auto_pr_lists_checks_and_merge(tmp_path, gh):
    repo, bare, paths = setup(tmp_path, policy="auto-pr", merge="gated")
    out, _ = await run(paths, dry_run=True)
    assert any(a.startswith("would run: gh pr checks <PR of") for a in out.actions)
    assert any("gh pr merge <PR of" in a and "--squash" in a for a in out.actions)
    assert not any("--draft" in a for a in out.actions)


async def test_gh_missing_is_a_clear_blocker(tmp_path, monkeypatch):
    repo, bare, paths = setup(tmp_path)
    import shutil

    only_git = tmp_path / "only-git"
    only_git.mkdir()
    (only_git / "git").symlink_to(shutil.which("git"))
    monkeypatch.setenv("PATH", str(only_git))
    out, _ = await run(paths, gh="gh")
    assert out.status == "blocked_on_external" and "not installed" in out.blocker
    assert "integration" not in git(bare, "branch")


async def test_gh_logged_out_blocks_on_human(tmp_path, gh, monkeypatch):
    monkeypatch.setenv("FAKE_GH_AUTH", "0")
    repo, bare, paths = setup(tmp_path)
    out, _ = await run(paths)
    assert out.status == "blocked_on_human" and "gh auth login" in out.blocker
    assert gh.mutations() == []


async def test_missing_remote_blocks(tmp_path, gh):
    repo, bare, paths = setup(tmp_path, remote=False)
    out, _ = await run(paths)
    assert out.status == "blocked_on_human" and "no git remote 'origin'" in out.blocker
    assert gh.mutations() == []


async def test_rejected_push_blocks_and_keeps_the_branch(tmp_path, gh):
    repo, bare, paths = setup(tmp_path)
    hook = bare / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'pushes are frozen' >&2\nexit 1\n")
    hook.chmod(0o755)
    out, _ = await run(paths)
    assert out.status == "blocked_on_external" and "rejected" in out.blocker
    assert gh.mutations() == []
    assert git(repo, "rev-parse", naming.integration_branch(paths.goal_id))


async def test_pr_create_failure_is_a_blocker(tmp_path, gh, monkeypatch):
    monkeypatch.setenv("FAKE_GH_FAIL", "pr create")
    repo, bare, paths = setup(tmp_path)
    out, _ = await run(paths)
    assert out.status == "blocked_on_external" and "something went wrong" in out.blocker


async def test_local_policy_leaves_it_to_accept(tmp_path, gh):
    repo, bare, paths = setup(tmp_path, policy="local")
    out, _ = await run(paths)
    assert out.status == "ready" and "omk-tui accept" in out.detail and gh.calls() == []


def gh_cli(repo: Path, *args: str) -> None:
    """What a person runs: the `gh` on PATH (the fake), in the repository."""
    import subprocess

    subprocess.run(["gh", *args], cwd=repo, check=True, capture_output=True)


async def test_a_pr_the_person_merged_is_recognised_instead_of_opening_another(tmp_path, gh):
    # The manual merge policy's advice, followed: deliver again finds the merged PR and the goal is delivered.
    repo, bare, paths = setup(tmp_path, policy="auto-pr", merge="manual")
    first, _ = await run(paths)
    url = first.pr_urls[0]
    assert first.status == "blocked_on_human" and f"gh pr merge {url} --squash" in first.blocker
    gh_cli(repo, "pr", "merge", url, "--squash")
    pushes_before = git(bare, "rev-parse", naming.integration_branch(paths.goal_id))
    out, proof = await run(paths)
    assert out.status == "ready" and out.blocker is None and out.delivery_status == "merged"
    assert out.pr_urls == [url] and f"PR {url} of {naming.integration_branch(paths.goal_id)} is already merged" in out.actions
    assert [p["state"] for p in gh.prs()] == ["MERGED"]  # no second PR
    assert [c[:2] for c in gh.calls()][-2:] == [["auth", "status"], ["pr", "list"]]  # nothing pushed, edited, merged
    assert git(bare, "rev-parse", naming.integration_branch(paths.goal_id)) == pushes_before
    assert proof.delivery.status == "merged"


async def test_new_work_after_a_merged_pr_gets_a_pr_of_its_own(tmp_path, gh):
    repo, bare, paths = setup(tmp_path, policy="auto-pr", merge="disabled")
    first, _ = await run(paths)
    gh_cli(repo, "pr", "merge", first.pr_urls[0], "--squash")
    branch = naming.integration_branch(paths.goal_id)
    git(repo, "branch", "-f", branch, git(repo, "commit-tree", f"{branch}^{{tree}}", "-p", branch, "-m", "more"))
    out, _ = await run(paths)
    assert out.status == "ready" and out.pr_urls == ["https://github.com/owner/repo/pull/2"]
    assert [p["state"] for p in gh.prs()] == ["MERGED", "OPEN"]


async def test_auto_pr_over_an_existing_draft_marks_it_ready_then_merges(tmp_path, gh):
    repo, bare, paths = setup(tmp_path, policy="draft-pr", merge="disabled")
    await run(paths)
    assert gh.prs()[0]["isDraft"]
    state = store.load_goal(paths)
    state.options.delivery_policy, state.options.merge_policy = "auto-pr", "gated"
    store.save_goal(paths, state)
    dry, _ = await run(paths, dry_run=True)
    assert "would run: gh pr ready https://github.com/owner/repo/pull/1" in dry.actions and gh.prs()[0]["isDraft"]
    out, _ = await run(paths)
    assert out.status == "ready" and out.delivery_status == "merged", out.blocker
    assert "marked PR https://github.com/owner/repo/pull/1 ready for review" in out.actions
    assert [c[:2] for c in gh.mutations()] == [["pr", "create"], ["pr", "edit"], ["pr", "ready"], ["pr", "merge"]]
    assert gh.prs()[0]["state"] == "MERGED" and len(gh.prs()) == 1


async def test_a_stop_ends_the_wait_for_checks_at_once_and_records_nothing(tmp_path, gh, monkeypatch):
    import threading

    monkeypatch.setenv("FAKE_GH_CHECKS", "pending")
    repo, bare, paths = setup(tmp_path, policy="auto-pr", merge="gated")
    cfg = OmkConfig.model_validate({"delivery": {"checks_timeout_secs": 600}})
    stop = threading.Event()
    threading.Timer(0.5, stop.set).start()
    out, proof = await run(paths, config=cfg, poll_secs=30, stop=stop)
    # one look at the checks, then the stop ended the 30 s wait before the next (600 s would time the test out)
    assert sum(1 for c in gh.calls() if c[:2] == ["pr", "checks"]) == 1
    assert out.status == "stopped" and out.pr_urls == ["https://github.com/owner/repo/pull/1"]
    assert gh.prs()[0]["state"] == "OPEN" and ["pr", "merge"] not in [c[:2] for c in gh.calls()]
    assert proof.delivery.status == "pending" and not (paths.artifacts / "policy" / "delivery.json").exists()
