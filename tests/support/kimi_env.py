"""A fresh kimi-cli home (`KIMI_SHARE_DIR`) pointed at a fake model server, for tests.

`config.toml` names the fake OpenAI-compatible provider; `credentials/kimi-code.json` holds a fake token
because `kimi acp` refuses `session/new` ("Authentication required") without one, even for a non-Kimi
provider. Wire and print mode need no login; they take the config via `--config-file`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

FAKE_CREDENTIALS = {
    "access_token": "fake",
    "refresh_token": "",
    "expires_at": 4102444800,
    "scope": "",
    "token_type": "Bearer",
}


def config_toml(base_url: str) -> str:
    return (
        'default_model = "fake"\n'
        "telemetry = false\n"
        "[providers.fake]\n"
        'type = "openai_legacy"\n'
        f'base_url = "{base_url}"\n'
        'api_key = "sk-fake"\n'
        "[models.fake]\n"
        'provider = "fake"\n'
        'model = "fake-model"\n'
        "max_context_size = 131072\n"
    )


@dataclass
class KimiHome:
    share_dir: Path
    config_file: Path

    @property
    def env(self) -> dict[str, str]:
        """What the kimi child needs on top of the trimmed environment."""
        return {"KIMI_SHARE_DIR": str(self.share_dir)}


def make_kimi_home(root: Path, base_url: str, *, credentials: bool = True) -> KimiHome:
    share = root / "kimi-share"
    share.mkdir(parents=True, exist_ok=True)
    config = share / "config.toml"
    config.write_text(config_toml(base_url), encoding="utf-8")
    if credentials:
        creds = share / "credentials"
        creds.mkdir(exist_ok=True)
        (creds / "kimi-code.json").write_text(json.dumps(FAKE_CREDENTIALS), encoding="utf-8")
    return KimiHome(share_dir=share, config_file=config)


def process_group_alive(pgid: int) -> bool:
    """Whether any process of the group `pgid` still exists (zombies count until reaped)."""
    import os

    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
