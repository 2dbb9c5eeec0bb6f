"""The gate-log file model: incremental line index, growth, search, failure detection."""

from __future__ import annotations

from omk_tui.ui.log_file import LogFile
from tests.support.sample_goal import FAILING_PYTEST_LOG, PASSING_PYTEST_LOG


def test_index_in_chunks_and_read_lines(tmp_path):
    path = tmp_path / "big.log"
    path.write_text("".join(f"line {i}\n" for i in range(10_000)))
    log = LogFile(path)
    assert log.index_more(max_bytes=1000) is False  # partial: browsable before the whole file is indexed
    assert 0 < log.line_count < 10_000
    log.index_all()
    assert log.line_count == 10_000
    assert log.line(0) == "line 0" and log.line(9_999) == "line 9999" and log.line(10_000) == ""


def test_growing_file_extends_the_index_and_counts_a_partial_last_line(tmp_path):
    path = tmp_path / "grow.log"
    path.write_text("a\nb\npart")
    log = LogFile(path)
    log.index_all()
    assert log.line_count == 3 and log.line(2) == "part"
    with open(path, "a") as fh:
        fh.write("ial\nc\n")
    log.index_all()
    assert log.line_count == 4 and log.line(2) == "partial" and log.line(3) == "c"


def test_search_forward_backward_case_insensitive(tmp_path):
    path = tmp_path / "s.log"
    path.write_text("alpha\nBeta\ngamma\nbeta again\n")
    log = LogFile(path)
    log.index_all()
    assert log.find("beta", -1) == 1
    assert log.find("beta", 1) == 3
    assert log.find("beta", 3) is None
    assert log.find("BETA", 4, backwards=True) == 3
    assert log.find("beta", 3, backwards=True) == 1


def test_failures_found_through_ansi_colours(tmp_path):
    path = tmp_path / "pytest.log"
    path.write_text(FAILING_PYTEST_LOG + "warning: fine\nerror: linker failed\nthread 'main' panicked at src/x.rs\n")
    log = LogFile(path)
    log.index_all()
    hits = []
    line = -1
    while (line := log.next_failure(line)) is not None:
        hits.append(log.line(line))
    assert "test_strips_edges" in hits[0]  # the pytest failure header
    assert any("E       AssertionError" in h for h in hits)
    assert any("FAILED" in h for h in hits)
    assert any("error: linker failed" in h for h in hits) and any("panicked" in h for h in hits)
    assert not any("warning: fine" in h for h in hits)
    last = log.next_failure(log.line_count, backwards=True)
    assert "panicked" in log.line(last)
    ok = tmp_path / "ok.log"
    ok.write_text(PASSING_PYTEST_LOG.format(n=2))
    clean = LogFile(ok)
    clean.index_all()
    assert clean.next_failure(-1) is None


def test_a_search_reads_in_windows_of_whole_lines_and_can_be_stopped(tmp_path, monkeypatch):
    from omk_tui.ui import log_file

    path = tmp_path / "w.log"
    lines = [f"line {i} {'needle' if i % 37 == 0 else 'hay'} " + "x" * (i % 50) for i in range(3000)]
    path.write_text("\n".join(lines) + "\n")
    log = LogFile(path)
    log.index_all()
    expected_next = [log.find("needle", i) for i in range(-1, 3000, 7)]
    expected_prev = [log.find("needle", i, backwards=True) for i in range(0, 3001, 7)]
    monkeypatch.setattr(log_file, "SCAN_WINDOW", 100)  # windows of a line or two: matches at every edge
    assert [log.find("needle", i) for i in range(-1, 3000, 7)] == expected_next
    assert [log.find("needle", i, backwards=True) for i in range(0, 3001, 7)] == expected_prev
    assert expected_next[0] == 0 and expected_prev[-1] == 2960  # 37 * 80, the last before line 2996
    asked = []
    assert log.find("no such text", -1, stopped=lambda: asked.append(1) or len(asked) > 5) is None
    assert len(asked) == 6  # asked between windows, and the scan ended when told
    asked.clear()
    assert log.next_failure(3000, backwards=True, stopped=lambda: asked.append(1) or len(asked) > 3) is None
    assert len(asked) == 4
