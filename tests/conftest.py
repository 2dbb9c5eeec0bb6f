"""Shared fixtures (kept small and generic).

- `kimi_bin`: the real kimi-cli 1.51.0 (installed once into its cached virtualenv); the test is skipped,
  with the reason, only when it cannot be installed.
- `fake_model`: a started `FakeModelServer` (OpenAI-compatible streaming chat completions on 127.0.0.1).
- `kimi_home`: a fresh KIMI_SHARE_DIR (config.toml naming the fake model + fake login credentials).
"""

from __future__ import annotations

import pytest

from tests.support.fake_model_server import FakeModelServer
from tests.support.kimi_env import KimiHome, make_kimi_home

_kimi_install: dict[str, object] = {}


@pytest.fixture(scope="session")
def kimi_bin():
    from tests.support.kimi_install import KIMI_VERSION, KimiInstallError, ensure_kimi

    if "path" not in _kimi_install and "error" not in _kimi_install:
        try:
            _kimi_install["path"] = ensure_kimi(log=lambda _msg: None)
        except KimiInstallError as exc:
            _kimi_install["error"] = str(exc)
    if "error" in _kimi_install:
        pytest.skip(f"kimi-cli {KIMI_VERSION} could not be installed: {_kimi_install['error']}")
    return _kimi_install["path"]


@pytest.fixture
def fake_model():
    with FakeModelServer() as server:
        yield server


@pytest.fixture
def kimi_home(tmp_path, fake_model) -> KimiHome:
    return make_kimi_home(tmp_path, fake_model.base_url)
