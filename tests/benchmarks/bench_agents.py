"""Agent session figures: start-up of the scripted ACP agent, turn latency, streamed-chunk throughput.

    python tests/benchmarks/bench_agents.py
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

from omk_tui.agents.base import SessionConfig
from omk_tui.agents.spec import open_session


async def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-agents-"))
    script = tmp / "script.json"
    chunks = [{"say": f"chunk {i} "} for i in range(2000)]
    script.write_text(json.dumps({
        "tasks": {"small": [[{"say": "hello"}, {"write": "a.txt", "content": "a"}]], "stream": [chunks]},
        "default": [{"say": "hi"}],
    }))
    starts, turns = [], []
    for _ in range(3):
        t0 = time.perf_counter()
        session = open_session(f"script:{script}", SessionConfig(cwd=tmp))
        await session.start()
        starts.append(time.perf_counter() - t0)
        for _ in range(10):
            t1 = time.perf_counter()
            await session.prompt('omk-tui: {"role": "implementer", "task": "small", "attempt": 1}', lambda u: None)
            turns.append(time.perf_counter() - t1)
        await session.close()
    session = open_session(f"script:{script}", SessionConfig(cwd=tmp))
    await session.start()
    count = 0

    def sink(update):
        nonlocal count
        count += update.kind == "message"

    t2 = time.perf_counter()
    await session.prompt('omk-tui: {"role": "implementer", "task": "stream", "attempt": 1}', sink)
    elapsed = time.perf_counter() - t2
    await session.close()
    print(f"session start (spawn + initialize + session/new): median {statistics.median(starts) * 1000:.0f} ms")
    print(f"turn with a message and an approved write: median {statistics.median(turns) * 1000:.1f} ms")
    print(f"streamed message chunks: {count} in {elapsed:.2f} s = {count / elapsed:.0f} chunks/s")


if __name__ == "__main__":
    asyncio.run(main())
