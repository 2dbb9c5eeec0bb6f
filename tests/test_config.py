"""`.omk/config.toml`: values a run cannot use are errors naming the file and the field, before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from omk_tui.config import ConfigError, load_config


@pytest.mark.parametrize("line,field,why", [
    ("ask_timeout_secs = -1", "agent.ask_timeout_secs", "greater than 0"),
    ("ask_timeout_secs = nan", "agent.ask_timeout_secs", "finite"),
    ("turn_grace_secs = -5", "agent.turn_grace_secs", "greater than or equal to 0"),
    ("lease_secs = 0", "agent.lease_secs", "greater than 0"),
    ("lease_secs = inf", "agent.lease_secs", "finite"),
    ('lease_secs = "10m"', "agent.lease_secs", "valid number"),
    ('ask_fallback = "bogus"', "agent.ask_fallback", "unknown approval policy 'bogus'"),
    ('ask_fallback = "pattern:["', "agent.ask_fallback", "bad regular expression"),
    ('ask_fallback = "ask"', "agent.ask_fallback", "no person to ask"),
    ('approval = "sometimes"', "agent.approval", "unknown approval policy 'sometimes'"),
    ("prices.default.input_per_million = -1", "agent.prices.default.input_per_million", "greater than or equal to 0"),
    ("prices.k2.output_per_million = inf", "agent.prices.k2.output_per_million", "finite"),
])
def test_agent_values_a_run_cannot_use_are_refused(tmp_path: Path, line, field, why):
    (tmp_path / ".omk").mkdir()
    (tmp_path / ".omk" / "config.toml").write_text(f"[agent]\n{line}\n")
    with pytest.raises(ConfigError) as refused:
        load_config(tmp_path)
    assert str(tmp_path / ".omk" / "config.toml") in str(refused.value)
    assert field in str(refused.value) and why in str(refused.value)


def test_fallbacks_that_decide_are_taken(tmp_path: Path):
    (tmp_path / ".omk").mkdir()
    for fallback in ("reject", "approve", "safe", "pattern:^Shell: pytest"):
        (tmp_path / ".omk" / "config.toml").write_text(f'[agent]\nask_fallback = "{fallback}"\n')
        assert load_config(tmp_path).agent.ask_fallback == fallback
    (tmp_path / ".omk" / "config.toml").write_text("[agent]\nlease_secs = 900\n")
    assert load_config(tmp_path).agent.lease_secs == 900.0
    (tmp_path / ".omk" / "config.toml").write_text("[delivery]\nchecks_timeout_secs = 0\n")
    with pytest.raises(ConfigError, match="delivery.checks_timeout_secs"):
        load_config(tmp_path)
