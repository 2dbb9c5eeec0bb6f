"""The trimmed environment an agent child gets: only what it needs, passed explicitly."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

# Always passed through when set: where kimi keeps its config and credentials, and proxy/locale basics.
ALWAYS_PASSED = ("KIMI_SHARE_DIR", "LANG", "LC_ALL", "TMPDIR", "XDG_CONFIG_HOME", "XDG_DATA_HOME")
BASE_NAMES = ("HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER")  # the ACP SDK's default_environment()


def agent_environment(
    extra: Mapping[str, str] | None = None,
    pass_names: Iterable[str] = (),
    source: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """BASE_NAMES + ALWAYS_PASSED + `pass_names` (config `agent.env`) from `source` (os.environ), then `extra`."""
    src = os.environ if source is None else source
    env: dict[str, str] = {}
    for name in (*BASE_NAMES, *ALWAYS_PASSED, *pass_names):
        value = src.get(name)
        if value is not None and not value.startswith("()"):
            env[name] = value
    env.update(extra or {})
    return env
