"""What omk-tui knows about kimi-cli itself, shared by the ACP and the Wire backends (and the doctor): the 1.52
stub, and where kimi logs why its model service failed."""

from __future__ import annotations

from collections.abc import Iterable

KIMI_INSTALL_151 = "install kimi-cli 1.51.0 (Python 3.13: `pip install kimi-cli==1.51.0`)"
STUB_MESSAGE = ("exited at start-up with a deprecation notice: this is kimi-cli 1.52, a stub that does nothing; "
                + KIMI_INSTALL_151)


def is_stub_notice(lines: Iterable[str], program: str = "kimi") -> bool:
    """Whether the lines an agent wrote on its stdout during start-up that are not its protocol (ACP or Wire
    JSON-RPC) are kimi-cli 1.52's deprecation notice: every entry point of 1.52.0 prints one and exits 0. Only
    stdout counts (a Python DeprecationWarning on stderr is not the stub), and another program (`program`, the
    agent's executable) is taken for the stub only when the notice names kimi."""
    text = " ".join(lines).lower()
    notice = "deprecat" in text or "no longer" in text
    return notice and ("kimi" in program.lower() or "kimi" in text)
