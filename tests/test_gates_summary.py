"""Summaries of real gate output, the agent excerpt, and the bounded line splitter."""

from __future__ import annotations

import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omk_tui.gates import build_summary, run_gates, trim_for_agent
from omk_tui.gates.output import LineSplitter
from omk_tui.gates.summary import GAP, is_interesting
from omk_tui.models.gates import GateResult, GateSpec

FAILING_TESTS = '''
import pytest

def test_passes():
    assert True

def test_compares_dicts():
    assert {"a": 1} == {"a": 2}

def helper():
    raise ValueError("the widget is broken")

def test_raises():
    helper()
'''


@pytest.mark.timeout(60)
async def test_summary_of_a_real_failing_pytest_run(tmp_path):
    project = tmp_path / "proj"
    (project / "tests").mkdir(parents=True)
    (project / "tests" / "test_widget.py").write_text(FAILING_TESTS)
    (project / "pytest.ini").write_text("[pytest]\n")
    noise = "".join(f"print('noise line {i}')\n" for i in range(200))
    (project / "tests" / "conftest.py").write_text(f"def pytest_sessionstart(session):\n    pass\n{noise}")
    spec = GateSpec(name="pytest", command=[sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider",
                                              "-p", "no:randomly", "tests"])
    [result] = await run_gates([spec], project, tmp_path / "logs", scope="final", run_id="r")
    assert not result.passed and result.exit_code == 1
    summary = result.summary
    assert len(summary) <= 40 and all(len(line) <= 240 for line in summary)
    assert any(line.startswith("____") and "test_compares_dicts" in line for line in summary)
    assert any(line.startswith("____") and "test_raises" in line for line in summary)
    assert any(line.startswith("E ") and "ValueError: the widget is broken" in line for line in summary)
    assert any(line.startswith("FAILED tests/test_widget.py::test_raises") for line in summary)
    assert "2 failed, 1 passed" in summary[-1]
    assert not any("noise line" in line for line in summary), "noise before the failures crowded the summary"

    excerpt = trim_for_agent(result, max_chars=1500)
    assert len(excerpt) <= 1500
    assert excerpt.startswith("Gate `pytest` failed (exit code 1)")
    assert "the widget is broken" in excerpt
    big = trim_for_agent(result, max_chars=20000)
    assert "End of the log:" in big and "2 failed, 1 passed" in big.split("End of the log:")[1]


def test_build_summary_orders_key_lines_then_last_lines():
    tail = [f"line {i}" for i in range(50, 110)]
    summary = build_summary(["error: one", "line 105"], tail, passed=False, notes=["timed out"], max_lines=20)
    assert summary[0] == "timed out"
    assert summary[1] == "error: one"
    assert summary[2] == GAP
    assert summary[-1] == "line 109" and len(summary) == 20
    assert summary.count("line 105") == 1


def test_build_summary_of_a_passing_gate_is_its_last_lines():
    assert build_summary(["Error: noise"], ["a", "", "b", "c", "d", "e", "f"], passed=True) == ["b", "c", "d", "e", "f"]


def test_short_failure_is_shown_whole():
    lines = ["collecting", "Traceback (most recent call last):", '  File "x.py", line 1', "KeyError: 'k'"]
    assert build_summary([lines[3]], lines, passed=False) == lines


@pytest.mark.parametrize("line", [
    "________________ test_x ________________", "E       assert 1 == 2", "FAILED tests/a.py::t - x",
    "error[E0308]: mismatched types", "error: could not compile", "ValueError: boom",
    "thread 'main' panicked at src/main.rs:2:5:", "--- FAIL: TestX (0.00s)", "KeyboardInterrupt",
    "src/a.py:3:1: F401 `os` imported but unused", "npm ERR! Test failed.", "    x_test.go:12: got 1",
])
def test_interesting_lines(line):
    assert is_interesting(line)


@pytest.mark.parametrize("line", ["tests/test_a.py ....  [100%]", "Compiling foo v0.1.0", "ok  example.com/x 0.1s"])
def test_ordinary_lines(line):
    assert not is_interesting(line)


def test_trim_for_agent_without_a_log(tmp_path):
    result = GateResult(name="lint", command_line="ruff check", passed=False, exit_code=1,
                        log_path=str(tmp_path / "gone.log"), line_count=300, summary=["a.py:1:1: F401 unused"])
    text = trim_for_agent(result, 200)
    assert "F401" in text and "End of the log" not in text and len(text) <= 200


def test_splitter_cuts_long_lines_and_keeps_crlf_out():
    s = LineSplitter(max_line_chars=10)
    assert s.feed(b"0123456789ABCDEF") == []
    assert s.feed(b"GH\r\nshort\r\n0123456789xyz\npart") == ["0123456789 …[+8 chars]", "short", "0123456789 …[+3 chars]"]
    assert s.finish() == ["part"]


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=400), st.lists(st.integers(min_value=0, max_value=400), max_size=8))
def test_splitter_output_does_not_depend_on_chunking(data, cuts):
    whole = LineSplitter(max_line_chars=50)
    expected = whole.feed(data) + whole.finish()
    pieces = LineSplitter(max_line_chars=50)
    got: list[str] = []
    last = 0
    for cut in sorted(set(c for c in cuts if c <= len(data))):
        got += pieces.feed(data[last:cut])
        last = cut
    got += pieces.feed(data[last:]) + pieces.finish()
    assert got == expected
    assert all(len(line) <= 50 + len(" …[+ chars]") + 3 for line in got)


FRAGMENTS = ["x", " ", "error", "Error:", "ERROR", "E   ", "___", "FAIL", "panicked", "a.py:1:2: ", "ok", "Exit",
             "npm ERR!", "rror", "_test.go:3:", "ValueError", "\t", ":", "1"]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(st.sampled_from(FRAGMENTS), max_size=6).map("".join), max_size=30))
def test_find_interesting_matches_the_line_by_line_definition(lines):
    from omk_tui.gates.summary import find_interesting

    assert list(find_interesting(lines)) == [(i, line) for i, line in enumerate(lines) if is_interesting(line)]
