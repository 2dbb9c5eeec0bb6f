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


async def test_a_long_seek_folds_in_a_worker_and_keys_keep_working(clock, monkeypatch):
    """QA F7: a seek far from any checkpoint (before the background pass has made them) folds off the UI thread;
    the panes show the view there when it arrives, with what the clock handed out meanwhile folded after it."""
    from omk_tui.projection import fold
    from omk_tui.ui.screens import dashboard as dashboard_module

    monkeypatch.setattr(dashboard_module, "SYNC_SEEK_EVENTS", 3)
    rec = clock.recording
    rec.build_checkpoints = lambda between_blocks=None: None  # no background pass: every far seek goes to a worker
    folds = []
    view_at = rec.view_at
    rec.view_at = lambda position, **kw: (folds.append(position), view_at(position, **kw))[1]
    app = OmkApp(None, clock=clock, now=lambda: SAMPLE_NOW)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause(0.2)
        dash = app.dashboard
        await pilot.press("space", "end")
        await app.workers.wait_for_complete()
        await pilot.pause(0.1)
        assert clock.at_end and dash.view.status == "ready" and dash.view.events_applied == clock.total
        await pilot.press("home", "right", "right")  # home is at a checkpoint (the start): no worker
        assert dash.view.events_applied == 2
        dash.on_timeline_seek(Timeline.Seek(0.5))
        assert dash._seeking is not None  # folding in a worker; the step below waits for its view
        await pilot.press("right")
        await app.workers.wait_for_complete()
        await pilot.pause(0.1)
        half = round(0.5 * clock.total)
        assert dash._seeking is None and clock.position == half + 1 and dash.view.events_applied == half + 1
        expect = fold(rec.goal_id, rec.events[:half + 1], gaps=rec.gaps)
        assert (dash.view.status, dash.view.phase, dash.view.progress) == (expect.status, expect.phase,
                                                                           expect.progress)
    assert clock.total in folds and half in folds
