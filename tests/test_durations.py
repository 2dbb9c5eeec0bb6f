import pytest

from omk_tui.control.durations import parse_duration


@pytest.mark.parametrize("text,secs", [("90", 90), ("90s", 90), ("30m", 1800), ("2h", 7200), ("1d", 86400),
                                       ("1h30m", 5400), (" 2H ", 7200), ("1.5h", 5400)])
def test_durations_parse(text, secs):
    assert parse_duration(text) == secs


@pytest.mark.parametrize("text", ["", "soon", "0", "-5", "30x", "m30", "1h 30q"])
def test_bad_durations_say_what_is_expected(text):
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize("text", ["-5m", "0m", "0", "-5", "inf", "nan", "--5"])
def test_a_duration_too_short_says_it_must_be_more_than_0(text):
    with pytest.raises(ValueError, match="more than 0"):
        parse_duration(text)
