"""`.omk/config.toml`: values a run cannot use are errors naming the file and the field, before anything runs."""

from __future__ import annotations

import re
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


def test_a_problem_names_its_line_and_an_unknown_key_the_known_ones(tmp_path: Path):
    (tmp_path / ".omk").mkdir()
    path = tmp_path / ".omk" / "config.toml"
    path.write_text('[worktrees]\ndir = "/tmp/x"\n\n[agent]\napprovl = "never"\nask_timeout_secs = -1\n'
                    '[agent.prices.fast]\ninput_per_million = -2\n')
    with pytest.raises(ConfigError) as refused:
        load_config(tmp_path)
    assert str(refused.value) == (
        f"{path}, line 5: agent.approvl: unknown key; known keys: default, approval, ask_fallback, ask_timeout_secs, "
        "env, model, prices, turn_grace_secs, lease_secs, confine, writable; line 6: agent.ask_timeout_secs: Input should be "
        "greater than 0; line 8: agent.prices.fast.input_per_million: Input should be greater than or equal to 0")
    for text, expected in (("[agnt]\nx = 1\n", "line 1: agnt: unknown key; known keys: worktrees, agent, review, delivery"),
                           ('agent.approval = "nevr"\n', "line 1: agent.approval: unknown approval policy 'nevr'"),
                           ("agent = 5\n", "line 1: agent: must be a table ([agent] and its keys)")):
        path.write_text(text)
        with pytest.raises(ConfigError, match="^" + re.escape(f"{path}, {expected}")):
            load_config(tmp_path)


def test_resume_with_a_malformed_config_is_a_usage_error_naming_it(tmp_path: Path, capsys, monkeypatch):
    """It was `internal error: ConfigError: ...`, exit 1."""
    from omk_tui.cli import main
    from omk_tui.control.controller import GoalController
    from tests.support.goal_repo import make_repo, write_script

    monkeypatch.setenv("OMK_WORKTREES_DIR", str(tmp_path / "worktrees"))
    repo = make_repo(tmp_path / "repo")
    from omk_tui.models.goal import GoalOptions

    ctl = GoalController.create(repo, "add the t1 check file", GoalOptions(agent=write_script(tmp_path / "s.json", {})))
    ctl.close()
    (repo / ".omk" / "config.toml").write_text("[agent]\napprovl = 1\n")
    assert main(["resume", "latest", "--repo", str(repo)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"omk-tui: error: {repo / '.omk' / 'config.toml'}, line 2: agent.approvl: unknown key")
    assert "fix .omk/config.toml (or remove it for the defaults), then run the command again" in err


def test_a_goal_is_not_created_with_a_malformed_config(tmp_path: Path, monkeypatch):
    """The TUI's new goal (GoalController.create without a config) made the goal's folder, then failed reading
    config.toml: a goal left `running` that no controller held."""
    from omk_tui.control.controller import GoalController
    from omk_tui.models.goal import GoalOptions
    from tests.support.goal_repo import make_repo

    monkeypatch.setenv("OMK_WORKTREES_DIR", str(tmp_path / "worktrees"))
    repo = make_repo(tmp_path / "repo")
    (repo / ".omk" / "config.toml").write_text('[agent]\napproval = "nevr"\n')
    with pytest.raises(ConfigError, match="unknown approval policy 'nevr'"):
        GoalController.create(repo, "add the t1 check file", GoalOptions(agent="script:/x.json"))
    assert not (repo / ".omk" / "goals").exists() or not any((repo / ".omk" / "goals").iterdir())
