"""Snapshot tests of the main screens (pytest-textual-snapshot): the recorded demo goal, fixed clock, 120x36 (and the dashboard at 80x24).

Update after an intended change with: pytest tests/test_ui_snapshots.py --snapshot-update
"""

from __future__ import annotations

import pytest

from tests.snapshot_apps.scenarios import SCENARIOS

pytestmark = pytest.mark.timeout(120)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_screen_snapshot(name, snap_compare):
    make_app, prepare, size = SCENARIOS[name]
    assert snap_compare(make_app(), run_before=prepare, terminal_size=size)
