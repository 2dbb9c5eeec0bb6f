"""The replay dashboard: the same panes fed from recorded events; play/pause, speed, step, seek."""

from __future__ import annotations

import pytest

from omk_tui.replay import Recording, ReplayClock
from omk_tui.ui.app import OmkApp
from omk_tui.ui.widgets.timeline import Timeline
from tests.support.sample_goal import SAMPLE_NOW, write_sample_goal

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def clock(tmp_path) -> ReplayClock:
    paths = write_sample_goal(tmp_path / "repo", stage="done")
    return ReplayClock(Recording.load(paths.events), speed=1.0)


@pytest.mark.parametrize("pane", ["goals", "tasks", "worktrees", "gates", "stream"])
async def test_replay_keys_work_whichever_pane_has_focus(clock, pane):
    app = OmkApp(None, clock=clock, now=lambda: SAMPLE_NOW)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause(0.2)
        dash = app.dashboard
        dash.query_one(f"#{pane}").focus()
        await pilot.press("space", "home", "right", "right", "left")
        assert clock.position == 1 and dash.view.events_applied == 1 and not clock.playing
        await pilot.press("end")
        assert clock.at_end and not clock.playing and dash.view.events_applied == clock.total
        await pilot.press("home")
        assert clock.position == 0


async def test_play_after_the_end_starts_again_from_the_start(clock):
    app = OmkApp(None, clock=clock, now=lambda: SAMPLE_NOW)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause(0.2)
        dash = app.dashboard
        await pilot.press("end")
        assert dash.view.status == "ready"
        await pilot.press("space", "space")  # play again, then pause at once
        assert not clock.playing and clock.position < clock.total
        # the panes show the replay where the timeline is, not the end it was at
        assert dash.view.events_applied == clock.position and dash.view.status != "ready"


async def test_replay_controls(clock):
    app = OmkApp(None, clock=clock, now=lambda: SAMPLE_NOW)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause(0.3)
        dash = app.dashboard
        assert clock.playing and clock.position > 0  # plays from the start
        await pilot.press("space")
        assert not clock.playing
        pos = clock.position
        await pilot.press("right")
        assert clock.position == pos + 1 and dash.view.events_applied == pos + 1
        await pilot.press("left")
        assert clock.position == pos and dash.view.events_applied == pos
        await pilot.press("plus")
        assert clock.speed == 2.0
        await pilot.press("minus", "minus")
        assert clock.speed == 0.5
        await pilot.press("end")
        assert clock.at_end and dash.view.status == "ready" and dash.view.progress == (4, 4)
        timeline = dash.query_one(Timeline)
        assert timeline.position == timeline.total == clock.total
        await pilot.press("home")
        assert clock.position == 0 and dash.view.events_applied == 0
        await pilot.click(Timeline, offset=(Timeline.LABEL_WIDTH + 40, 0))
        await pilot.pause(0.1)
        assert 0 < clock.position < clock.total
        mid = clock.position
        await pilot.press("space")
        await pilot.pause(0.5)
        assert clock.position > mid
        # live controls are not available in a replay
        control = clock.recording.events[0].payload["repo"]
        await pilot.press("p", "n", "c")
        assert app.screen is dash
        from pathlib import Path

        assert not list(Path(control).glob(".omk/goals/*/control/*.json"))
