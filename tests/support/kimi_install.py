"""Install the real kimi-cli 1.51.0 into its own Python 3.13 virtualenv, cached outside the repository.

Why 1.51.0 and 3.13: 1.52.0 is a stub that prints a deprecation notice and exits 0, and 1.51.0 fails at
start-up on Python 3.12.1; kimi-cli also pins its own agent-client-protocol, so it never shares our venv.

Run as a script (`python tests/support/kimi_install.py`): prints what it did, exit 0 on success, 1 with the
reason on failure. Idempotent: an existing venv whose `kimi --version` prints 1.51.0 is reused at once.
The cache folder is `~/.cache/omk-tui/kimi-cli-1.51.0/`; `OMK_KIMI_VENV` overrides it.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

KIMI_VERSION = "1.51.0"
_INSTALL_TIMEOUT = 900


class KimiInstallError(RuntimeError):
    """kimi-cli could not be installed; the message says why."""


def venv_dir() -> Path:
    override = os.environ.get("OMK_KIMI_VENV")
    if override:
        return Path(override).expanduser()
    return Path.home() / ".cache" / "omk-tui" / f"kimi-cli-{KIMI_VERSION}"


def _kimi_path(venv: Path) -> Path:
    return venv / "bin" / "kimi"


def installed_version(kimi: Path) -> str | None:
    """The version `kimi --version` prints, or None when it does not run."""
    if not kimi.exists():
        return None
    try:
        out = subprocess.run(
            [str(kimi), "--version"], capture_output=True, text=True, timeout=60,
            env={**os.environ, "KIMI_SHARE_DIR": str(kimi.parent.parent / "share")},
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (out.stdout + out.stderr).strip()
    for token in text.replace(",", " ").split():
        if token[:1].isdigit() and token.count(".") >= 2:
            return token
    return None


def kimi_executable() -> Path | None:
    """The cached kimi 1.51.0 executable, or None when it is not (correctly) installed."""
    kimi = _kimi_path(venv_dir())
    return kimi if installed_version(kimi) == KIMI_VERSION else None


def find_python313() -> Path | None:
    candidates: list[str] = sorted(
        glob.glob(os.path.expanduser("~/.pyenv/versions/3.13.*/bin/python3")), reverse=True
    )
    pyenv = shutil.which("pyenv")
    if pyenv:
        try:
            prefix = subprocess.run(
                [pyenv, "prefix", "3.13.0"], capture_output=True, text=True, timeout=30
            ).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            prefix = ""
        if prefix:
            candidates.append(os.path.join(prefix, "bin", "python3"))
    on_path = shutil.which("python3.13")
    if on_path:
        candidates.append(on_path)
    for cand in candidates:
        path = Path(cand)
        if not path.exists():
            continue
        try:
            out = subprocess.run(
                [str(path), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True, text=True, timeout=30,
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if out.stdout.strip() == "3.13":
            return path
    return None


def ensure_kimi(log=print) -> Path:
    """Return the path of a working kimi 1.51.0, installing it if needed; raise KimiInstallError otherwise."""
    venv = venv_dir()
    kimi = _kimi_path(venv)
    version = installed_version(kimi)
    if version == KIMI_VERSION:
        log(f"kimi-cli {KIMI_VERSION} already installed: {kimi}")
        return kimi
    python = find_python313()
    if python is None:
        raise KimiInstallError(
            "no Python 3.13 found (looked in ~/.pyenv/versions/3.13.*, `pyenv prefix 3.13.0`, python3.13 on PATH)"
        )
    if venv.exists():
        log(f"replacing the broken or wrong kimi venv at {venv} (found version {version!r})")
        shutil.rmtree(venv)
    venv.parent.mkdir(parents=True, exist_ok=True)
    log(f"creating a Python 3.13 virtualenv with {python} at {venv}")
    # A half-finished install is caught by the `kimi --version` check next time and replaced.
    try:
        _run([str(python), "-m", "venv", str(venv)], "creating the virtualenv")
        log(f"installing kimi-cli=={KIMI_VERSION} (about 30 s)")
        _run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
             f"kimi-cli=={KIMI_VERSION}"],
            f"pip install kimi-cli=={KIMI_VERSION}",
        )
    except KimiInstallError:
        shutil.rmtree(venv, ignore_errors=True)
        raise
    version = installed_version(kimi)
    if version != KIMI_VERSION:
        raise KimiInstallError(f"{kimi} --version reports {version!r} after installing, not {KIMI_VERSION}")
    log(f"kimi-cli {KIMI_VERSION} installed: {kimi}")
    return kimi


def _run(cmd: list[str], what: str) -> None:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=_INSTALL_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise KimiInstallError(f"{what} took more than {_INSTALL_TIMEOUT} s") from None
    except OSError as exc:
        raise KimiInstallError(f"{what} failed to start: {exc}") from None
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-8:])
        raise KimiInstallError(f"{what} failed (exit {proc.returncode}): {tail}")


def main() -> int:
    try:
        ensure_kimi()
    except KimiInstallError as exc:
        print(f"kimi-cli {KIMI_VERSION} could not be installed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
