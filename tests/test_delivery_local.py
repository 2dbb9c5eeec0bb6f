"""Local delivery on real repositories: accept (fast-forward, merge commit, refusals), reject, clean."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from omk_tui.delivery.clean import clean_goal
from omk_tui.delivery.local import DeliveryRefused, accept_goal, reject_goal
from omk_tui.git import naming
from omk_tui.models.goal import GoalStatus
from omk_tui.state import store
from omk_tui.state.eventlog import read_events
from tests.support.delivery_goal import commit_file, git, make_goal, make_repo

pytestmark = pytest.mark.timeout(90)


def cli(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "omk_tui", *args, "--repo", str(repo)], capture_output=True, text=True)


def test_accept_fast_forward_records_delivery(tmp_path: Path):
    repo = make_repo(tmp_path)
    paths = make_goal(repo)
    proc = cli(repo, "accept", paths.goal_id, "--summary", "ship it")
    assert proc.returncode == 0, proc.stderr
    assert "fast-forward" in proc.stdout
    assert f"`omk-tui clean {paths.goal_id}` removes the goal's worktrees and merged branches" in proc.stdout
    assert (repo / "src/feature.py").read_text().startswith("def feature")
    head = git(repo, "rev-parse", "HEAD")
    proof = store.load_proof(paths)
    assert proof.delivery.status == "accepted" and proof.delivery.merge_commit == head
    assert "ship it" in proof.delivery.detail and "check passed" in proof.delivery.detail
    assert store.load_goal(paths).status is GoalStatus.ready
    kinds = [e.kind for e in read_events(paths.events).events]
    assert kinds[-1] == "delivery" and read_events(paths.events).events[-1].payload["status"] == "accepted"
    again = cli(repo, "accept", paths.goal_id)
    assert again.returncode == 1 and "already accepted" in again.stderr


def test_accept_merge_commit_when_base_moved(tmp_path: Path):
    repo = make_repo(tmp_path)
    paths = make_goal(repo)
    commit_file(repo, "README.md", "moved on\n", "base moves")
    out = accept_goal(repo, paths.goal_id)
    assert not out.fast_forward
    parents = git(repo, "rev-list", "--parents", "-n", "1", "HEAD").split()
    assert len(parents) == 3  # a merge commit
    assert (repo / "README.md").exists() and (repo / "src/feature.py").exists()
    assert f"Omk-Goal: {paths.goal_id}" in git(repo, "log", "-1", "--format=%B")


def test_accept_refuses_dirty_main_tree_with_file_list(tmp_path: Path):
    repo = make_repo(tmp_path)
    paths = make_goal(repo)
    (repo / "check.py").write_text("# local edit\n")
    (repo / "scratch.txt").write_text("wip\n")
    before = git(repo, "rev-parse", "HEAD")
    proc = cli(repo, "accept", paths.goal_id)
    assert proc.returncode == 1
    assert "uncommitted changes" in proc.stderr and "check.py" in proc.stderr and "scratch.txt" in proc.stderr
    assert git(repo, "rev-parse", "HEAD") == before
    assert (repo / "check.py").read_text() == "# local edit\n"
    assert store.load_proof(paths).delivery.status != "accepted"


def test_accept_refuses_when_gates_fail_on_integration(tmp_path: Path):
    repo = make_repo(tmp_path)
    paths = make_goal(repo, slices={"s1": {"BROKEN": "yes\n"}})
    before = git(repo, "rev-parse", "HEAD")
    with pytest.raises(DeliveryRefused, match="no longer passes the gates: check failed"):
        accept_goal(repo, paths.goal_id)
    assert git(repo, "rev-parse", "HEAD") == before and not (repo / "BROKEN").exists()
    assert git(repo, "worktree", "list").count("\n") == 0  # the throwaway checkout is gone


def test_accept_refuses_a_blocked_goal_and_wrong_branch(tmp_path: Path):
    repo = make_repo(tmp_path)
    paths = make_goal(repo, status=GoalStatus.not_ready)
    with pytest.raises(DeliveryRefused, match="only a ready goal"):
        accept_goal(repo, paths.goal_id)
    ready = make_goal(repo)
    git(repo, "switch", "-q", "-c", "other")
    with pytest.raises(DeliveryRefused, match="git switch main"):
        accept_goal(repo, ready.goal_id)
    git(repo, "branch", "-m", "main", "main-old")  # the base branch is gone: never merge into `other` instead
    head = git(repo, "rev-parse", "HEAD")
    with pytest.raises(DeliveryRefused, match="base branch main no longer exists"):
        accept_goal(repo, ready.goal_id)
    assert git(repo, "rev-parse", "HEAD") == head


def test_reject_records_decision_and_rollback_plan(tmp_path: Path):
    repo = make_repo(tmp_path)
    paths = make_goal(repo, slices={"a": {"src/a.py": "A = 1\n"}, "b": {"lib/b.py": "B = 2\n"}})
    before = git(repo, "rev-parse", "HEAD")
    proc = cli(repo, "reject", paths.goal_id, "--reason", "wrong approach")
    assert proc.returncode == 0, proc.stderr
    assert git(repo, "rev-parse", "HEAD") == before
    state, proof = store.load_goal(paths), store.load_proof(paths)
    assert state.status is GoalStatus.not_ready and state.failure.kind == "rejected"
    assert proof.delivery.status == "rejected" and "wrong approach" in proof.blocker
    plan = json.loads((paths.artifacts / "policy" / "rollback-plan.json").read_text())
    assert plan["main_tree_changed"] is False
    assert set(plan["delete_branches"]) == {naming.slice_branch(paths.goal_id, "a"), naming.slice_branch(paths.goal_id, "b"),
                                            naming.integration_branch(paths.goal_id)}
    assert any(c.startswith(f"omk-tui clean {paths.goal_id}") for c in plan["commands"])
    md = (paths.artifacts / "policy" / "rollback-plan.md").read_text()
    assert "wrong approach" in md and "git branch -D" in md
    assert read_events(paths.events).events[-1].payload["status"] == "rejected"
    assert cli(repo, "reject", paths.goal_id, "--reason", "  ").returncode == 2
    # the decision stands: resume refuses, and nothing on disk changes
    goal_before = paths.goal_json.read_bytes()
    again = cli(repo, "resume", paths.goal_id)
    assert again.returncode == 2 and "was rejected by a person (wrong approach)" in again.stderr
    assert paths.goal_json.read_bytes() == goal_before and store.load_proof(paths).delivery.status == "rejected"


def test_a_rejected_proof_says_so_everywhere_even_with_a_multi_line_reason(tmp_path: Path):
    repo = make_repo(tmp_path)
    paths = make_goal(repo)
    reject_goal(repo, paths.goal_id, "wrong approach\nsee the review")
    proof = store.load_proof(paths)
    assert proof.summary.startswith("not_ready: rejected by a person: wrong approach")
    md = cli(repo, "proof", paths.goal_id, "--format", "md").stdout
    start = md.index("> **Blocker:**")
    quoted = md[start:].split("\n\n")[0].splitlines()
    assert len(quoted) == 2 and all(line.startswith(">") for line in quoted)


@pytest.mark.parametrize("base_moved", [False, True], ids=["fast-forward", "merge-commit"])
def test_reject_after_accept_is_refused_with_a_command_that_undoes_the_whole_goal(tmp_path: Path, base_moved):
    repo = make_repo(tmp_path)
    paths = make_goal(repo, slices={"a": {"src/a.py": "A = 1\n"}, "b": {"lib/b.py": "B = 2\n"}})
    if base_moved:
        (repo / "later.txt").write_text("committed on main after the goal started\n")
        git(repo, "add", "later.txt")
        git(repo, "commit", "-q", "-m", "later")
    before = git(repo, "rev-parse", "HEAD^{tree}")
    outcome = accept_goal(repo, paths.goal_id, check_gates=False)
    assert outcome.fast_forward is not base_moved
    with pytest.raises(DeliveryRefused) as refused:
        reject_goal(repo, paths.goal_id, "too late")
    command = str(refused.value).split("undo it with `")[1].rstrip("`")
    assert ("git revert -m 1" in command) is base_moved
    subprocess.run(command, shell=True, cwd=repo, check=True, capture_output=True)
    # both slices are taken back out, and nothing else
    assert git(repo, "rev-parse", "HEAD^{tree}") == before


def test_a_goal_merged_on_github_is_neither_accepted_nor_rejected_locally(tmp_path: Path):
    repo = make_repo(tmp_path)
    paths = make_goal(repo, policy="auto-pr", merge="gated")
    proof = store.load_proof(paths)
    proof.delivery.status, proof.delivery.pr_urls = "merged", ["https://github.com/owner/repo/pull/1"]
    store.save_proof(paths, proof)
    head, goal_before = git(repo, "rev-parse", "HEAD"), paths.goal_json.read_bytes()
    accepted = cli(repo, "accept", paths.goal_id)
    assert accepted.returncode != 0 and "merged on GitHub (https://github.com/owner/repo/pull/1)" in accepted.stderr
    assert "git pull" in accepted.stderr
    rejected = cli(repo, "reject", paths.goal_id, "--reason", "changed my mind")
    assert rejected.returncode != 0 and "revert the merge" in rejected.stderr
    assert git(repo, "rev-parse", "HEAD") == head and paths.goal_json.read_bytes() == goal_before
    assert store.load_proof(paths).delivery.status == "merged"


def test_a_rejection_stands_and_a_cancelled_goal_has_nothing_to_reject(tmp_path: Path):
    repo = make_repo(tmp_path)
    paths = make_goal(repo)
    reject_goal(repo, paths.goal_id, "first reason")
    with pytest.raises(DeliveryRefused, match="already rejected \\(first reason\\)"):
        reject_goal(repo, paths.goal_id, "second reason")
    assert store.load_goal(paths).failure.reason == "first reason"
    cancelled = make_goal(repo, status=GoalStatus.cancelled)
    with pytest.raises(DeliveryRefused, match=f"was cancelled.*omk-tui clean {cancelled.goal_id}"):
        reject_goal(repo, cancelled.goal_id, "no")
    assert store.load_goal(cancelled).status is GoalStatus.cancelled


def test_the_rollback_plan_closes_the_goals_open_pull_requests(tmp_path: Path):
    repo = make_repo(tmp_path)
    paths = make_goal(repo, policy="draft-pr")
    proof = store.load_proof(paths)
    proof.delivery.status, proof.delivery.pr_urls = "pr_opened", ["https://github.com/owner/repo/pull/7"]
    store.save_proof(paths, proof)
    reject_goal(repo, paths.goal_id, "not this way")
    plan = json.loads((paths.artifacts / "policy" / "rollback-plan.json").read_text())
    assert plan["close_prs"] == ["https://github.com/owner/repo/pull/7"]
    assert any(c.startswith("gh pr close https://github.com/owner/repo/pull/7 --delete-branch") for c in plan["commands"])
    assert "## Pull requests to close" in (paths.artifacts / "policy" / "rollback-plan.md").read_text()


def test_clean_keeps_dirty_worktree_and_unmerged_branches(tmp_path: Path):
    repo = make_repo(tmp_path)
    paths = make_goal(repo, slices={"a": {"src/a.py": "A = 1\n"}, "b": {"lib/b.py": "B = 2\n"}})
    gid = paths.goal_id
    wt_root = tmp_path / "wts"
    clean_wt = wt_root / "a"
    dirty_wt = wt_root / "b"
    git(repo, "worktree", "add", "-q", str(clean_wt), naming.slice_branch(gid, "a"))
    git(repo, "worktree", "add", "-q", str(dirty_wt), naming.slice_branch(gid, "b"))
    # worktrees of a goal are named by the git layer's prefix; rename the entries to match it
    for wt, sid in ((clean_wt, "a"), (dirty_wt, "b")):
        gitdir = Path(git(wt, "rev-parse", "--git-dir"))
        new = gitdir.parent / naming.worktree_name(gid, sid)
        gitdir.rename(new)
        (wt / ".git").write_text(f"gitdir: {new}\n")
    (dirty_wt / "lib" / "wip.py").write_text("unsaved = True\n")
    accept_goal(repo, gid, check_gates=False)  # merges a and b into main
    dry = clean_goal(repo, gid, dry_run=True)
    assert str(clean_wt) in dry.removed_worktrees and str(dirty_wt) in dry.kept_worktrees
    assert clean_wt.exists()
    proc = cli(repo, "clean", gid)
    assert proc.returncode == 0, proc.stderr
    assert not clean_wt.exists() and (dirty_wt / "lib" / "wip.py").exists()
    assert f"kept worktree {dirty_wt}" in proc.stdout and "uncommitted work" in proc.stdout
    branches = git(repo, "branch", "--list", f"omk/{gid}/*")
    assert naming.slice_branch(gid, "a") not in branches
    assert naming.slice_branch(gid, "b") in branches  # checked out in the kept worktree


def test_clean_keeps_unmerged_branch(tmp_path: Path):
    repo = make_repo(tmp_path)
    paths = make_goal(repo)
    preview = cli(repo, "clean", paths.goal_id, "--dry-run")
    proc = cli(repo, "clean", paths.goal_id)
    assert proc.returncode == 0
    assert "kept branch" in proc.stdout and "has commits not in main)" in proc.stdout
    assert [ln.strip() for ln in preview.stdout.splitlines() if "kept branch" in ln] == \
        [ln.strip() for ln in proc.stdout.splitlines() if "kept branch" in ln]  # the dry run says the same
    assert naming.integration_branch(paths.goal_id) in git(repo, "branch")
    assert cli(repo, "clean").returncode == 2


def test_accept_that_conflicts_with_a_moved_base_says_what_to_do(tmp_path: Path):
    repo = make_repo(tmp_path)
    paths = make_goal(repo)
    proof = store.load_proof(paths)  # as the controller's proof of a ready goal says
    proof.human_decisions_required = [f"accept the integration branch {proof.integration_branch}: "
                                      f"`omk-tui accept {paths.goal_id}`"]
    store.save_proof(paths, proof)
    assert f"omk-tui accept {paths.goal_id}" in cli(repo, "show", paths.goal_id).stdout
    commit_file(repo, "src/feature.py", "def feature():\n    return 'theirs'\n", "base changes the same file")
    before = git(repo, "rev-parse", "HEAD")
    proc = cli(repo, "accept", paths.goal_id)
    assert proc.returncode == 1
    assert "conflicts in src/feature.py); the main tree is unchanged" in proc.stderr
    branch = store.load_goal(paths).integration_branch
    assert f"merge it by hand (`git merge {branch}`, resolve, commit), or start a new goal" in proc.stderr
    assert git(repo, "rev-parse", "HEAD") == before and git(repo, "status", "--porcelain", "-uno") == ""
    # `show` says why the goal still waits, instead of recommending `accept` again
    shown = cli(repo, "show", paths.goal_id).stdout
    assert "human decision required: accept refused: merging" in shown and "conflicts in src/feature.py" in shown
    assert "omk-tui accept" not in shown and f"omk-tui reject {paths.goal_id}" in shown
    assert store.load_proof(paths).delivery.status == "pending"
