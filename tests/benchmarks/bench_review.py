"""Review wall speed: the deterministic six passes over a change of N Python/JS files (real git repository).

Run: python tests/benchmarks/bench_review.py [N]
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from omk_tui.review.wall import review_change

ENV = ["-c", "user.name=b", "-c", "user.email=b@example.com"]


def main(n: int = 300) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp)
        subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
        (repo / "README.md").write_text("x\n")
        subprocess.run(["git", "-C", tmp, "add", "."], check=True)
        subprocess.run(["git", "-C", tmp, *ENV, "commit", "-q", "-m", "i"], check=True)
        for i in range(n):
            body = "\n".join(f"def f{j}(x):\n    # TODO tidy\n    return x + {j}\n" for j in range(60))
            ext = "py" if i % 2 else "js"
            (repo / "src").mkdir(exist_ok=True)
            (repo / "src" / f"m{i}.{ext}").write_text(body if ext == "py" else body.replace("def ", "function ").replace("):", ") {") )
        start = time.perf_counter()
        wall = asyncio.run(review_change(repo, "HEAD", None, scope="bench"))
        elapsed = time.perf_counter() - start
        lines = sum(1 for p in (repo / "src").iterdir() for _ in p.open())
        print(f"review wall: {n} changed files, {lines} added lines, {len(wall.findings)} findings: {elapsed * 1000:.0f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
