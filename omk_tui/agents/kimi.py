"""What omk-tui knows about kimi-cli itself, shared by the ACP and the Wire backends (and the doctor): the 1.52
stub, and where kimi logs why its model service failed."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from omk_tui.render.safe import printable

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


# ---------------------------------------------------------------- kimi's log
# kimi 1.51.0 over ACP ends a turn whose model call failed (HTTP 500 or 429, a malformed stream, an empty answer)
# as `end_turn` with nothing in it; only its log says why: `<share folder>/logs/kimi.log`, lines such as
#   2026-11-22 20:48:18.558 | ERROR    | kimi_cli.soul.kimisoul:_agent_loop:1049 | <session> - Agent step 1 failed: APIStatusError: Error code: 429 - {...}
#   2026-11-22 20:48:18.678 | ERROR    | threading:run:992 |  - kosong.chat_provider.APIStatusError: Error code: 429 - {...}
LOG_REASON_MAX = 300  # characters of the quoted line
LOG_READ_MAX = 1 << 20  # bytes of the log read back: what one failed turn wrote, and more
_EXCEPTION = re.compile(r"^(?:[A-Za-z_]\w*\.)*([A-Za-z_]\w*(?:Error|Exception|Timeout))\b(?::\s*(.*))?$")
_FAILED = re.compile(r"\bfailed: (?:[A-Za-z_]\w*\.)*([A-Za-z_]\w*(?:Error|Exception|Timeout))\b(?::\s*(.*))?$")


def share_folder(env: Mapping[str, str]) -> Path:
    """kimi's share folder for an agent started with environment `env`: $KIMI_SHARE_DIR, else ~/.kimi."""
    share = env.get("KIMI_SHARE_DIR")
    if share:
        return Path(share).expanduser()
    return Path(env.get("HOME") or Path.home()) / ".kimi"


def log_path(env: Mapping[str, str]) -> Path:
    return share_folder(env) / "logs" / "kimi.log"


def log_size(path: Path) -> int:
    """Where the log ends now (a turn's start): what a failed turn wrote comes after it."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


def last_log_error(path: Path, since: int, session_id: str | None = None) -> str | None:
    """The last error kimi logged at or after byte `since` of its log (`APIStatusError: Error code: 429 - ...`,
    `JSONDecodeError: ...`, `APIEmptyResponseError: ...`), without its module path; None when there is none.
    Lines another kimi session wrote (several agents may share one log) are skipped. Bounded and escaped."""
    try:
        with open(path, "rb") as fh:
            size = fh.seek(0, 2)
            if size < since:  # the log was rotated meanwhile: read the new one
                since = 0
            fh.seek(max(since, size - LOG_READ_MAX))
            data = fh.read(LOG_READ_MAX)
    except OSError:
        return None
    found = None
    for raw in data.decode("utf-8", errors="replace").splitlines():
        parts = raw.split(" | ", 3)
        if len(parts) < 4 or parts[1].strip() != "ERROR":
            continue
        sid, sep, message = parts[3].partition(" - ")
        if not sep:
            continue
        sid = sid.strip()
        if sid and session_id and sid != session_id:
            continue
        message = message.strip()
        match = _EXCEPTION.match(message) or _FAILED.search(message)
        if match:
            name, detail = match.group(1), match.group(2)
            found = f"{name}: {detail}" if detail else name
    if found is None:
        return None
    if len(found) > LOG_REASON_MAX:
        found = found[: LOG_REASON_MAX - 1] + "…"
    return printable(found)


def model_failure_hint(env: Mapping[str, str], since: int, session_id: str | None = None) -> str:
    """What the message of an empty kimi turn adds: the log's real path, and the last error logged in the turn."""
    path = log_path(env)
    reason = last_log_error(path, since, session_id)
    if reason is None:
        return f"kimi logs the reason in {path}"
    return f"kimi logged: {reason} (in {path})"
