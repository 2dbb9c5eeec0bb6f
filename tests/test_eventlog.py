"""The event log: seq, torn and garbage lines, tail repair, follow, group commit."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from omk_tui.models.events import make_event
from omk_tui.state.atomic import StateWriteError
from omk_tui.state.eventlog import (
    EventLog, _last_seq, _repair_tail, dump_line, follow, iter_events, last_seq, read_events,
)

GOAL = "goal-20261122-120000-000-abcdef01"


def ev(i: int = 0, kind: str = "narrative"):
    return make_event(GOAL, kind, {"step": f"step {i}", "summary": "s"})


def write_events(path, n, start=1):
    with open(path, "ab") as fh:
        for i in range(start, start + n):
            e = ev(i)
            e.seq = i
            fh.write(dump_line(e))


def test_seq_is_strictly_increasing_and_continues_after_reopen(tmp_path):
    path = tmp_path / "events.jsonl"
    with EventLog(path) as log:
        seqs = [log.append(ev(i)).seq for i in range(5)]
    assert seqs == [1, 2, 3, 4, 5]
    with EventLog(path) as log:
        assert log.seq == 5
        assert log.append(ev()).seq == 6
    assert [e.seq for e in read_events(path).events] == [1, 2, 3, 4, 5, 6]


def test_ephemeral_events_reach_subscribers_but_not_the_log(tmp_path):
    path = tmp_path / "events.jsonl"
    seen = []
    with EventLog(path) as log:
        log.subscribe(seen.append)
        log.subscribe(lambda e: 1 / 0)  # a broken subscriber changes nothing
        log.append(ev())
        log.append(make_event(GOAL, "gate_progress", {"scope": "s1", "name": "pytest", "line_count": 3}))
        log.append(ev())
    assert [e.kind for e in seen] == ["narrative", "gate_progress", "narrative"]
    assert [e.seq for e in read_events(path).events] == [1, 2]


def test_torn_and_garbage_lines_are_skipped_and_counted(tmp_path):
    path = tmp_path / "events.jsonl"
    write_events(path, 2)
    with open(path, "ab") as fh:
        fh.write(b"garbage that is not json\n")
        fh.write(b'{"seq": 3, "kind": "x"}\n')  # json, but not an event (no goal_id)
        fh.write(b"\n   \n")  # blank lines are not gaps
        fh.write(b"\xff\xfe\x00 binary\n")
    write_events(path, 1, start=3)
    with open(path, "ab") as fh:
        fh.write(b'{"id": "torn", "seq": 4, "go')  # torn tail: not a complete line yet
    res = read_events(path)
    assert [e.seq for e in res.events] == [1, 2, 3]
    assert res.gaps == 3
    assert res.offset == path.stat().st_size - len(b'{"id": "torn", "seq": 4, "go')


def test_a_writer_repairs_a_torn_tail_and_continues_the_seq(tmp_path):
    path = tmp_path / "events.jsonl"
    write_events(path, 3)
    good = path.stat().st_size
    with open(path, "ab") as fh:
        fh.write(dump_line(ev())[:40])
    with EventLog(path) as log:
        assert path.stat().st_size == good
        assert log.append(ev()).seq == 4
    res = read_events(path)
    assert [e.seq for e in res.events] == [1, 2, 3, 4] and res.gaps == 0


def test_repair_and_last_seq_edge_cases(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    assert _repair_tail(empty) == 0 and _last_seq(empty) == 0
    assert last_seq(tmp_path / "missing.jsonl") == 0

    garbage = tmp_path / "garbage.jsonl"
    garbage.write_bytes(b"not json\n{}\n[1,2]\n\"str\"\n")
    assert _repair_tail(garbage) == garbage.stat().st_size
    assert _last_seq(garbage) == 0
    with EventLog(garbage) as log:
        assert log.append(ev()).seq == 1

    no_newline = tmp_path / "torn-only.jsonl"
    no_newline.write_bytes(b"x" * 200_000)  # one torn line, longer than a scan block
    assert _repair_tail(no_newline) == 0 and no_newline.stat().st_size == 0

    # a valid last event bigger than the scan block, behind garbage with a bigger seq-like field
    huge = tmp_path / "huge.jsonl"
    write_events(huge, 2)
    big = make_event(GOAL, "agent_message_chunk", {"text": "y" * 3_000_000})
    big.seq = 3
    with open(huge, "ab") as fh:
        fh.write(dump_line(big))
        fh.write(b'{"seq": 99}\n' + b"z" * 300_000 + b"\n")
    t = time.perf_counter()
    assert _last_seq(huge) == 3  # the trailing lines are not events: the seq comes from the last real one
    assert time.perf_counter() - t < 5
    with EventLog(huge) as log:
        assert log.append(ev()).seq == 4


def test_iter_events_counts_gaps_and_offset(tmp_path):
    path = tmp_path / "events.jsonl"
    write_events(path, 3)
    with open(path, "ab") as fh:
        fh.write(b"junk\n")
    from omk_tui.state.eventlog import ReadResult

    counter = ReadResult()
    assert [e.seq for e in iter_events(path, 0, counter)] == [1, 2, 3]
    assert counter.gaps == 1 and counter.offset == path.stat().st_size
    assert list(iter_events(tmp_path / "missing.jsonl")) == []


def test_reading_from_an_offset_only_returns_new_events(tmp_path):
    path = tmp_path / "events.jsonl"
    with EventLog(path) as log:
        log.append(ev())
        first = read_events(path)
        log.append(ev())
        log.append(ev())
        second = read_events(path, first.offset)
    assert [e.seq for e in second.events] == [2, 3]


def test_group_commit_syncs_in_the_background_and_on_close(tmp_path):
    path = tmp_path / "events.jsonl"
    log = EventLog(path, sync_interval=0.02)
    for i in range(100):
        log.append(ev(i))
    assert log._dirty or log._flusher is not None
    deadline = time.monotonic() + 5
    while log._dirty and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not log._dirty  # the flusher thread synced without another append
    log.append(ev(), durable=True)
    assert not log._dirty
    log.close()
    assert log._flusher is not None and not log._flusher.is_alive()
    with pytest.raises(StateWriteError, match="closed"):
        log.append(ev())
    assert len(read_events(path).events) == 101


def test_appends_from_many_threads_keep_seq_unique(tmp_path):
    path = tmp_path / "events.jsonl"
    log = EventLog(path)

    def worker():
        for i in range(200):
            log.append(ev(i))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    log.close()
    seqs = [e.seq for e in read_events(path).events]
    assert seqs == list(range(1, 801))


@pytest.mark.timeout(30)
async def test_follow_yields_events_appended_by_a_thread(tmp_path):
    path = tmp_path / "events.jsonl"
    log = EventLog(path)
    log.append(ev(0))
    stop = asyncio.Event()

    def writer():
        for i in range(1, 30):
            time.sleep(0.005)
            log.append(ev(i))
        with open(path, "ab") as fh:
            fh.write(b"garbage\n")

    seen, gaps = [], 0
    thread = threading.Thread(target=writer)

    async def consume():
        nonlocal gaps
        async for batch in follow(path, debounce_ms=20, stop=stop):
            seen.extend(e.seq for e in batch.events)
            gaps += batch.gaps
            if not thread.is_alive() and seen[-1:] == [30] and gaps:
                return

    thread.start()
    await asyncio.wait_for(consume(), timeout=20)
    stop.set()
    log.close()
    assert seen == list(range(1, 31)) and gaps == 1


WRITER = textwrap.dedent(
    """
    import sys, time
    from omk_tui.models.events import make_event
    from omk_tui.state.eventlog import EventLog
    log = EventLog(sys.argv[1])
    for i in range(int(sys.argv[2])):
        log.append(make_event("g", "narrative", {"step": str(i), "summary": "s"}))
        time.sleep(0.01)
    log.close()
    """
)


@pytest.mark.timeout(40)
async def test_follow_yields_events_appended_by_another_process(tmp_path):
    path = tmp_path / "goal" / "events.jsonl"
    stop = asyncio.Event()
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path), "25"])
    seen = []

    async def consume():
        async for batch in follow(path, debounce_ms=20, stop=stop):
            seen.extend(e.seq for e in batch.events)
            if len(seen) >= 25:
                return

    try:
        await asyncio.wait_for(consume(), timeout=30)
    finally:
        stop.set()
        proc.wait(timeout=10)
    assert seen == list(range(1, 26))


@pytest.mark.timeout(20)
async def test_follow_sees_an_append_made_before_the_watcher_was_ready(tmp_path):
    path = tmp_path / "events.jsonl"
    write_events(path, 1)
    stop = asyncio.Event()
    agen = follow(path, stop=stop, poll_ms=100)
    first = await agen.__anext__()
    write_events(path, 1, start=2)  # lands while follow() is between its first read and the watcher
    second = await asyncio.wait_for(agen.__anext__(), timeout=10)
    stop.set()
    await agen.aclose()
    assert [e.seq for e in first.events] == [1] and [e.seq for e in second.events] == [2]


def test_event_log_open_error_is_clear(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StateWriteError, match="could not open the event log"):
        EventLog(blocker / "events.jsonl")
    assert os.path.exists(blocker)


@pytest.mark.parametrize("code,fix", [(28, "free some disk space"), (1, "fix the folder's permissions"),
                                      (30, "fix the folder's permissions"), (5, "fix what the error names")])
def test_a_failed_append_says_the_fix_that_fits_its_error(tmp_path, monkeypatch, code, fix):
    """It said 'free some disk space' for a permission error too."""
    import omk_tui.state.eventlog as eventlog

    log = EventLog(tmp_path / "events.jsonl")

    def refuse(fd, data):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(eventlog.os, "write", refuse)
    with pytest.raises(StateWriteError) as refused:
        log.append(ev())
    monkeypatch.undo()
    log.close()
    assert str(refused.value).endswith(f"the events before it are intact ({fix}, then resume)")
