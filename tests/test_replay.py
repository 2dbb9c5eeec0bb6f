"""Replay: the paced clock, seeking, and the deterministic headless rendering (no textual)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from omk_tui.replay import Recording, ReplayClock, render_json, render_text
from omk_tui.state.eventlog import read_events
from tests.support.sample_goal import write_sample_goal


@pytest.fixture(scope="module")
def done_goal(tmp_path_factory) -> Path:
    return write_sample_goal(tmp_path_factory.mktemp("replay") / "repo", stage="done").events


def test_clock_paces_by_recorded_time_and_caps_idle(done_goal):
    clock = ReplayClock(Recording.load(done_goal), speed=1.0)
    assert clock.position == 0 and clock.total == 125
    first = clock.tick(0.0)
    assert [e.kind for e in first] == ["goal_created"]
    got = clock.tick(0.25)
    assert got and all(e.seq > 1 for e in got)
    # recorded pauses are shortened to at most 2 s, so the whole replay is shorter than the recording
    assert clock.duration < 412
    before = clock.position
    clock.speed = 64.0
    while not clock.at_end:
        clock.tick(1.0)
    assert clock.position == clock.total > before and not clock.playing


def test_step_seek_speed_and_toggle(done_goal):
    rec = Recording.load(done_goal)
    clock = ReplayClock(rec)
    assert [e.seq for e in clock.step()] == [1] and not clock.playing
    clock.seek(60)
    assert clock.position == 60 and rec.view_at(60).events_applied == 60
    assert clock.faster() == 2.0 and clock.slower() == 1.0 and clock.slower() == 0.5
    clock.seek_fraction(1.0)
    assert clock.at_end
    assert clock.toggle() is True and clock.position == 0  # play at the end restarts from the start


def test_view_at_matches_full_fold(done_goal):
    rec = Recording.load(done_goal)
    view = rec.view_at(rec.events.__len__())
    assert view.status == "ready" and view.progress == (4, 4)
    text = render_text(view)
    assert "status ready" in text and "s1        pytest       passed" in text
    assert render_json(view)["gates"][0]["scope"] == "baseline"
    assert render_json(view)["gates"][-1]["scope"] == "final"


def _cli(*args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "omk_tui", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60)


def test_headless_replay_is_deterministic_counts_gaps_and_never_imports_textual(done_goal):
    repo = done_goal.parents[3]
    a = _cli("replay", "latest", "--headless", "--json", cwd=repo)
    b = _cli("replay", "latest", "--headless", "--json", cwd=repo)
    assert a.returncode == 0, a.stderr
    assert a.stdout == b.stdout
    data = json.loads(a.stdout)
    assert data["status"] == "ready" and data["known_gaps"] == 0 and data["events"] == 125
    with open(done_goal, "a", encoding="utf-8") as fh:
        fh.write("{not json\n")
        fh.write('{"kind": "missing fields"}\n')
    gaps = json.loads(_cli("replay", "latest", "--headless", "--json", cwd=repo).stdout)
    assert gaps["known_gaps"] == 2 and read_events(done_goal).gaps == 2
    text = _cli("replay", str(done_goal.parent), "--headless", cwd=repo)
    assert text.returncode == 0 and "known gaps 2" in text.stdout
    # the recorded span of the run (the sample goal's events cover 6m52s), not the budget's initial 0 s
    assert "recorded 412.0s" in text.stdout or "recorded 6m" in text.stdout, text.stdout[:400]
    probe = subprocess.run(
        [sys.executable, "-c", "import sys; from omk_tui.cli import main; main(['replay', 'latest', '--headless']);"
         "print('TEXTUAL' if any(m.startswith('textual') for m in sys.modules) else 'CLEAN', file=sys.stderr)"],
        cwd=repo, capture_output=True, text=True, timeout=60)
    assert probe.stderr.strip().endswith("CLEAN")


def test_replay_errors_are_clear(tmp_path):
    repo = tmp_path / "repo"
    write_sample_goal(repo, stage="mid")
    r = _cli("replay", "nope", "--headless", cwd=repo)
    assert r.returncode == 2 and "no goal matches 'nope'" in r.stderr and "Traceback" not in r.stderr
    r = _cli("replay", "latest", "--json", cwd=repo)
    assert r.returncode == 2 and "--json needs --headless" in r.stderr
    for speed in ("0", "-1", "nan", "inf"):
        r = _cli("replay", "latest", "--headless", "--speed", speed, cwd=repo)
        assert r.returncode == 2 and "--speed" in r.stderr and "finite number more than 0" in r.stderr, speed


def _columns_view():
    from omk_tui.models.events import make_event
    from omk_tui.projection import fold

    gid = "goal-20261122-100000-000-aaaaaaaa"
    gate = lambda name, **kw: {"name": name, "command_line": f"{name} -q", "passed": False, "exit_code": 1,  # noqa: E731
                               "duration_ms": 1500, **kw}
    events = [make_event(gid, "goal_created", {"goal": "g", "repo": "/r", "budget": {"tokens": 20000}}),
              make_event(gid, "task_proposed", {"task": {"id": "t1", "title": "short"}}),
              make_event(gid, "task_proposed", {"task": {"id": "a-long-task-id", "title": "long"}}),
              make_event(gid, "slice_planned", {"slice_id": "t1", "task_id": "t1", "branch": "b1"}),
              make_event(gid, "slice_planned", {"slice_id": "a-long-task-id", "task_id": "a-long-task-id",
                                                 "branch": "b2"}),
              make_event(gid, "gate_finished", {"scope": "t1", "result": gate("pytest",
                                                                               only_baseline_failures=True)}),
              make_event(gid, "gate_finished", {"scope": "a-long-task-id", "result": gate("pytest")}),
              make_event(gid, "usage", {"input_tokens": 9000, "output_tokens": 1540})]
    return fold(gid, events)


def test_headless_columns_stay_aligned_for_long_ids_and_as_baseline():
    text = render_text(_columns_view())
    rows = lambda section: text.split(f"\n{section}\n")[1].split("\n")[:2]  # noqa: E731
    for section, word in (("tasks", "deps"), ("slices", "attempt"), ("gates", "exit")):
        first, second = rows(section)
        assert first.index(word) == second.index(word), (section, first, second)
    assert "as baseline" in rows("gates")[1]


def test_headless_json_budget_spent_matches_the_counted_tokens():
    d = render_json(_columns_view())
    assert d["tokens"] == {"input": 9000, "output": 1540}
    assert d["budget"]["spent_tokens"] == 10540 and d["budget"]["tokens"] == 20000
    assert d["budget"]["spent_time_secs"] == d["recorded_secs"]


def test_seeks_fold_forward_from_checkpoints_and_match_the_fold_from_the_start(done_goal):
    """QA F7: every seek folded the log again from its start (0.5-2.6 s on a 160,000-event goal, 0.8 s per step
    back). The view at any position is the same as the fold of the events before it, however it is reached."""
    from omk_tui.projection import fold

    events = read_events(done_goal).events
    rec = Recording.load(done_goal)
    rec.checkpoint_every = 10  # (2,000 on a real log) so the sample goal's 125 events make 12 checkpoints
    assert len(rec) == len(events) == 125 and rec.events[7] == events[7] and rec.events[3:6] == events[3:6]
    assert rec.fold_cost(125) == 125  # nothing folded yet: from the start
    rec.build_checkpoints()
    assert rec.fold_cost(125) == 5 and rec.fold_cost(124) == 4 and rec.fold_cost(120) == 0
    for position in [125, 124, 0, 1, 9, 10, 11, 60, 59, 119, 120, 121, *range(125, -1, -7)]:
        view = rec.view_at(position)
        assert view == fold(rec.goal_id, events[:position], gaps=rec.gaps), position
        assert rec.fold_cost(position) < 10
    view = rec.view_at(80)
    view.tasks.clear()  # a caller's changes (the TUI escapes the view in place) do not reach the checkpoints
    assert rec.view_at(80) == fold(rec.goal_id, events[:80], gaps=rec.gaps)


def test_a_recording_keeps_lines_not_events_and_reads_what_read_events_reads(tmp_path, done_goal):
    """The recording holds each readable line (as bytes) and its time, and parses events when handed out; unreadable
    lines are gaps, lines `Event` takes but the writer would not write are kept, blank lines are skipped."""
    from omk_tui.projection import fold

    from omk_tui.state.eventlog import parse_line

    lines = [line for line in done_goal.read_bytes().splitlines() if parse_line(line)]  # (another test adds gaps)
    d = json.loads(lines[3])
    odd = json.dumps(d, sort_keys=True, indent=1).replace("\n", " ").encode()  # not canonical, still an event
    log = tmp_path / "goal-20990101-000000-000-aaaaaaaa" / "events.jsonl"
    log.parent.mkdir()
    log.write_bytes(b"\n".join([*lines[:3], b"{not json", b"", odd, *lines[4:], b'{"kind": "x"}']) + b"\n")
    rec, ref = Recording.load(log), read_events(log)
    assert isinstance(rec.lines[0], bytes) and not any(isinstance(x, type(ref.events[0])) for x in vars(rec).values())
    assert (len(rec), rec.gaps) == (len(ref.events), ref.gaps) == (125, 2)
    assert list(rec.events) == ref.events and rec.goal_id == ref.events[0].goal_id
    assert rec.view_at(125) == fold(rec.goal_id, ref.events, gaps=2)
    assert ReplayClock(rec).times == ReplayClock(Recording.load(done_goal)).times
