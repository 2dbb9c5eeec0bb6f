"""A whole slice lifecycle leaves the main working tree byte-identical: HEAD, index and every file."""

from __future__ import annotations

from omk_tui.git.cleanup import remove_goal_worktrees
from omk_tui.git.integration import Integrator
from omk_tui.git.repo import open_base
from omk_tui.git.worktrees import WorktreeManager
from tests.test_git_support import make_repo, tree_fingerprint, wt_root, write  # noqa: F401


def test_main_tree_is_byte_identical_after_a_slice_lifecycle(tmp_path, wt_root):
    repo = make_repo(
        tmp_path / "proj",
        {"shared.txt": "1\n2\n3\n", "src/app.py": "x = 1\n", ".gitignore": ".env\n", "AGENTS.md": "rules\n"},
    )
    write(repo, {".env": "TOKEN=1\n"})  # ignored, copied into worktrees
    before = tree_fingerprint(repo)

    base = open_base(repo)
    mgr = WorktreeManager(repo, "goal-life", base.base_commit, copy_files=[".env"])
    integ = Integrator(repo, "goal-life", base.base_commit)
    for sid, text in (("a", "1\nA\n3\n"), ("b", "1\nB\n3\n"), ("c", None)):
        path = mgr.create(sid)
        write(path, {f"{sid}.txt": sid} if text is None else {"shared.txt": text, f"src/{sid}.py": sid})
        mgr.status(sid)
        mgr.diff(sid)
        mgr.commit(sid, f"slice {sid}")
    assert integ.merge("a").ok
    assert not integ.merge("b").ok  # conflict, detected in memory
    assert integ.merge("c").ok
    gate_tree = integ.materialize()
    assert (gate_tree / "a.py").exists() is False and (gate_tree / "src" / "a.py").exists()
    for sid in ("a", "b", "c"):
        mgr.remove(sid)
    report = remove_goal_worktrees(repo, "goal-life")
    assert report.removed == [gate_tree] and not report.kept

    assert tree_fingerprint(repo) == before
