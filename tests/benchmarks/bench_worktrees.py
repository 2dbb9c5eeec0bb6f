"""Worktree benchmark: pygit2 (omk_tui.git) vs the git CLI on a 5,000-file repository.

    python tests/benchmarks/bench_worktrees.py [--files 5000] [--rounds 5]

Prints (1) creating a slice worktree: WorktreeManager.create vs `git worktree add -b`, side by side, and their
ratio (target <= 1.0); (2) the whole per-slice git overhead: create, commit, merge into the integration branch,
remove, each against the git CLI doing the same (CLI merge = `git merge-tree --write-tree` + `git commit-tree` +
`git update-ref`, the CLI's way of merging without a checkout). Medians over the rounds; everything in a temp dir.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from omk_tui.git.integration import Integrator  # noqa: E402
from omk_tui.git.worktrees import WorktreeManager  # noqa: E402

ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env=ENV, check=True, capture_output=True, text=True).stdout


def make_repo(root: Path, n_files: int) -> Path:
    repo = root / "repo"
    for i in range(n_files):
        d = repo / f"pkg{i % 50}" / f"sub{i % 7}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"mod{i}.py").write_text("".join(f"value_{i}_{k} = {k}\n" for k in range(25)))
    git(root, "init", "-q", "-b", "main", str(repo))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
    return repo


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def module(path: Path, i: int) -> Path:
    return path / f"pkg{i % 50}" / f"sub{i % 7}" / f"mod{i}.py"


def edit(path: Path, r: int) -> None:
    """A typical small slice: one new file, one modified, one deleted (different files per round)."""
    (path / f"new_{r}.py").write_text(f"NEW = {r}\n")
    target = module(path, 100 + r)
    target.write_text(target.read_text() + f"extra_{r} = 1\n")
    module(path, 3000 + r).unlink()


def bench_create(repo: Path, wt_base: Path, rounds: int) -> tuple[list[float], list[float]]:
    base = git(repo, "rev-parse", "HEAD").strip()
    mgr = WorktreeManager(repo, "bench-create", base, root=wt_base, copy_files=())
    py, cli = [], []
    for r in range(rounds):  # alternate so caches and disk state favour neither
        py.append(timed(lambda: mgr.create(f"s{r}")))
        target = wt_base / "cli-create" / f"s{r}"
        cli.append(timed(lambda: git(repo, "worktree", "add", "-q", "-b", f"cli/create/s{r}", str(target), base)))
    return py, cli


def bench_lifecycle(repo: Path, wt_base: Path, rounds: int) -> dict[str, tuple[list[float], list[float]]]:
    base = git(repo, "rev-parse", "HEAD").strip()
    mgr = WorktreeManager(repo, "bench-life", base, root=wt_base, copy_files=())
    integ = Integrator(repo, "bench-life", base, root=wt_base)
    git(repo, "branch", "cli/life/integration", base)
    # one slice merged first on each side so the timed merges are real two-parent merges
    for prefix in ("warm",):
        p = mgr.create(prefix)
        (p / "warm.py").write_text("W = 1\n")
        mgr.commit(prefix)
        integ.merge(prefix)
        mgr.remove(prefix)
    wt = wt_base / "cli-life" / "warm"
    git(repo, "worktree", "add", "-q", "-b", "cli/life/warm", str(wt), base)
    (wt / "warm.py").write_text("W = 1\n")
    git(wt, "add", "-A")
    git(wt, "commit", "-q", "-m", "warm")
    git(repo, "update-ref", "refs/heads/cli/life/integration", git(repo, "rev-parse", "cli/life/warm").strip())
    git(repo, "worktree", "remove", str(wt))

    stages = {k: ([], []) for k in ("create", "commit", "merge", "remove")}
    for r in range(rounds):
        sid = f"s{r}"
        stages["create"][0].append(timed(lambda: mgr.create(sid)))
        edit(mgr.path_for(sid), r)
        stages["commit"][0].append(timed(lambda: mgr.commit(sid, f"slice {sid}")))
        out = []
        stages["merge"][0].append(timed(lambda: out.append(integ.merge(sid))))
        assert out[0].status == "merged", out[0]
        stages["remove"][0].append(timed(lambda: mgr.remove(sid)))

        br = f"cli/life/{sid}"
        wt = wt_base / "cli-life" / sid
        stages["create"][1].append(timed(lambda: git(repo, "worktree", "add", "-q", "-b", br, str(wt), base)))
        edit(wt, r)

        def cli_commit():
            git(wt, "add", "-A")
            git(wt, "commit", "-q", "-m", f"slice {sid}")

        stages["commit"][1].append(timed(cli_commit))

        def cli_merge():
            tree = git(repo, "merge-tree", "--write-tree", "cli/life/integration", br).split()[0]
            ours = git(repo, "rev-parse", "cli/life/integration").strip()
            theirs = git(repo, "rev-parse", br).strip()
            new = git(repo, "commit-tree", tree, "-p", ours, "-p", theirs, "-m", f"merge {sid}").strip()
            git(repo, "update-ref", "refs/heads/cli/life/integration", new, ours)

        stages["merge"][1].append(timed(cli_merge))
        stages["remove"][1].append(timed(lambda: git(repo, "worktree", "remove", str(wt))))
    return stages


def fmt(py: list[float], cli: list[float]) -> str:
    a, b = statistics.median(py), statistics.median(cli)
    return f"{a * 1000:9.1f} ms  {b * 1000:9.1f} ms   ratio {a / b:5.2f}   (best: ratio {min(py) / min(cli):4.2f})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="omk-bench-wt-") as tmp:
        root = Path(tmp)
        t = time.perf_counter()
        repo = make_repo(root, args.files)
        print(f"repository: {args.files} files, built in {time.perf_counter() - t:.1f} s; {args.rounds} rounds, medians")
        print(f"{'':28} {'pygit2':>12} {'git CLI':>12}")
        py, cli = bench_create(repo, root / "wt", args.rounds)
        print(f"{'create worktree':28} {fmt(py, cli)}")
        stages = bench_lifecycle(repo, root / "wt", args.rounds)
        print("per-slice overhead:")
        total_py = total_cli = 0.0
        for name, (p, c) in stages.items():
            print(f"  {name:26} {fmt(p, c)}")
            total_py += statistics.median(p)
            total_cli += statistics.median(c)
        print(f"  {'total':26} {total_py * 1000:9.1f} ms  {total_cli * 1000:9.1f} ms   ratio {total_py / total_cli:5.2f}")


if __name__ == "__main__":
    main()
