"""Gate runner figures: output throughput and memory on floods, per-gate overhead, kill latency, doctor time.

Run: python tests/benchmarks/bench_gates.py [--quick]
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from omk_tui.gates import run_gates
from omk_tui.models.gates import GateSpec


def vm_rss_kb() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def flood(tmp: Path, label: str, command: str) -> None:
    await run_gates([GateSpec(name="warm", command="echo hi")], tmp, tmp / "logs", scope="bench", run_id="warm")
    base = vm_rss_kb()
    peak = [base]
    count = [0]

    def on_event(kind, payload):
        if kind == "gate_progress":
            peak[0] = max(peak[0], vm_rss_kb())

    def on_line(scope, name, line):
        count[0] += 1

    start = time.monotonic()
    [result] = await run_gates([GateSpec(name="flood", command=command, timeout_secs=600)], tmp, tmp / "logs",
                               scope="bench", run_id=label, on_event=on_event, on_line=on_line)
    elapsed = time.monotonic() - start
    size = Path(result.log_path).stat().st_size
    Path(result.log_path).unlink()
    growth = (max(peak[0], vm_rss_kb()) - base) / 1024
    print(f"{label:<34} {size / 2**20:8.0f} MiB {elapsed:6.1f} s {size / 2**20 / elapsed:7.0f} MiB/s "
          f"{result.line_count / elapsed / 1e6:6.2f} M lines/s   RSS growth {growth:5.1f} MiB")


async def overhead(tmp: Path, n: int) -> None:
    specs = [GateSpec(name=f"g{i}", command=["true"]) for i in range(n)]
    start = time.monotonic()
    await run_gates(specs, tmp, tmp / "logs", scope="bench", run_id="overhead")
    print(f"per-gate overhead (`true`, {n} gates)   {(time.monotonic() - start) / n * 1000:6.1f} ms")


async def kill_latency(tmp: Path) -> None:
    tree = "sleep 1000 & sh -c 'sleep 1000 & wait' & wait"
    start = time.monotonic()
    [r] = await run_gates([GateSpec(name="tree", command=tree, timeout_secs=1)], tmp, tmp / "logs",
                          scope="bench", run_id="kill")
    print(f"timeout 1 s on a process tree -> result after {time.monotonic() - start:5.2f} s (timed_out={r.timed_out})")


def doctor_time() -> None:
    start = time.monotonic()
    subprocess.run([sys.executable, "-m", "omk_tui", "doctor", "--json"], capture_output=True, timeout=60)
    print(f"omk-tui doctor --json wall time       {time.monotonic() - start:6.2f} s")


async def main(quick: bool) -> None:
    gib = 256 * 2**20 if quick else 2**30
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        line100 = "x" * 99
        await flood(tmp, f"{gib // 2**20} MiB of 100-byte lines", f"yes {line100} | head -c {gib}")
        await flood(tmp, "200 MiB of 2-byte lines (`yes`)", f"yes | head -c {200 * 2**20}")
        await flood(tmp, "100 MiB line without newline", f"head -c {100 * 2**20} /dev/zero | tr '\\0' x")
        await flood(tmp, "50 MiB of 'error:' lines", f"yes 'src/x.rs:1:1: error: oops' | head -c {50 * 2**20}")
        await overhead(tmp, 50)
        await kill_latency(tmp)
    doctor_time()


if __name__ == "__main__":
    asyncio.run(main("--quick" in sys.argv))
