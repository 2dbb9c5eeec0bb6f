"""A block of TCP ports for each slice, so the test suites of slices that run side by side do not collide.

Every agent and gate of a slice is told `OMK_PORT_BASE`, the first of `PORT_BLOCK` ports no other slice of the goal
is given; goal-level work (baseline and final gates, planning, reviews) gets a block of its own. The blocks lie in
10000–29999, below Linux's ephemeral range (32768–60999), and start at an offset taken from the goal's id, so two
goals running at the same time most likely get different ones. It is a hint: omk-tui cannot make a test suite
bind where it says; a suite that binds fixed ports adds `OMK_PORT_BASE` to them.
"""

from __future__ import annotations

import zlib

PORT_FIRST = 10000
PORT_BLOCK = 100
PORT_BLOCKS = 200  # 10000 + 200 * 100 = 30000


def port_base(goal_id: str, index: int) -> int:
    """The first port of block `index` of a goal (0: goal-level work, 1…: its slices in plan order)."""
    return PORT_FIRST + PORT_BLOCK * ((zlib.crc32(goal_id.encode()) + index) % PORT_BLOCKS)
