"""Regenerate every SVG in screenshots/ (python scripts/screenshots.py [NAME ...]).

Each screenshot is a scenario of tests/snapshot_apps/scenarios.py (the same screens the snapshot tests check),
run headless at its size (120x36; the dashboard also at 80x24) and saved with `App.save_screenshot`.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.snapshot_apps.scenarios import SCENARIOS  # noqa: E402


async def shoot(name: str, out_dir: Path) -> Path:
    make_app, prepare, size = SCENARIOS[name]
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await prepare(pilot)
        path = app.save_screenshot(filename=f"{name}.svg", path=str(out_dir))
    return Path(path)


def main(argv: list[str]) -> int:
    out_dir = ROOT / "screenshots"
    out_dir.mkdir(exist_ok=True)
    names = argv or list(SCENARIOS)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        print(f"unknown screenshot(s): {', '.join(unknown)}; known: {', '.join(SCENARIOS)}", file=sys.stderr)
        return 2
    for name in names:
        print(asyncio.run(shoot(name, out_dir)).relative_to(ROOT))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
