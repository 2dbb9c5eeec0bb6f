"""`omk-tui goals` on a repository of 200 goals, one of them with a 100,000-event log (the TUI benchmark's repository):
the wall time of the whole command in a fresh process (Python start-up and imports included), median of 5.

    python tests/benchmarks/bench_goals.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_tui import build_repo  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        repo, big = build_repo(Path(tmp))
        size = sum(p.stat().st_size for p in (repo / ".omk" / "goals").rglob("events.jsonl"))
        times, rows = [], []
        for _ in range(args.repeat):
            t = time.perf_counter()
            out = subprocess.run([sys.executable, "-m", "omk_tui", "goals", "--json", "--repo", str(repo)],
                                 check=True, capture_output=True, text=True, cwd=ROOT).stdout
            times.append(time.perf_counter() - t)
            rows = json.loads(out)
        times.sort()
        print(f"omk-tui goals --json: {len(rows)} goals ({size / 1e6:.0f} MB of event logs, {big} has 100,000 "
              f"events), median of {args.repeat}: {statistics.median(times):.2f} s wall "
              f"(min {times[0]:.2f}, max {times[-1]:.2f})")


if __name__ == "__main__":
    main()
