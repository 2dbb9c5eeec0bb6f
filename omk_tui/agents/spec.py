"""Agent SPECs and the session factory.

    kimi                 ACP: `kimi acp`
    acp:"<command line>" ACP: any agent command (split with shlex)
    wire                 Wire: `kimi --wire` (legacy Python kimi-cli; reports token usage)
    wire:"<command line>" Wire with another command
    script:PATH          ACP: the scripted agent, `python -m omk_tui.agents.scripted PATH`
"""

from __future__ import annotations

import functools
import os
import secrets
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from omk_tui.agents.base import AgentError, AgentSession, SessionConfig
from omk_tui.agents.confine import landlock_abi, launcher
from omk_tui.agents.environment import agent_environment

SPEC_FORMS = 'kimi, acp:"<command line>", wire, wire:"<command line>", script:PATH'
KIMI_INSTALL_HINT = (
    "install kimi-cli 1.51.0 in a Python 3.13 virtualenv (`python3.13 -m venv ~/.kimi-venv && "
    "~/.kimi-venv/bin/pip install kimi-cli==1.51.0`) and link only kimi onto PATH (`ln -s ~/.kimi-venv/bin/kimi "
    "~/.local/bin/kimi`), or give its path (acp:\"~/.kimi-venv/bin/kimi acp\") — not 1.52.0, which is an empty "
    "stub — then run `kimi login`"
)


class AgentSpecError(ValueError):
    """A SPEC that cannot be understood (a usage error)."""


@dataclass(frozen=True)
class AgentSpec:
    backend: str  # acp | wire
    argv: tuple[str, ...]
    text: str
    scripted: bool = False

    @property
    def label(self) -> str:
        return self.text


def canonical_spec(spec: str) -> str:
    """The SPEC as a goal records it: checked (AgentSpecError), with a `script:` path made absolute."""
    parsed = parse_spec(spec)
    if parsed.scripted:
        return f"script:{parsed.argv[-1]}"
    return parsed.text


def parse_spec(spec: str) -> AgentSpec:
    text = (spec or "").strip()
    if text == "kimi":
        return AgentSpec("acp", ("kimi", "acp"), text)
    if text == "wire":
        return AgentSpec("wire", ("kimi", "--wire"), text)
    for prefix, backend in (("acp:", "acp"), ("wire:", "wire")):
        if text.startswith(prefix):
            argv = _split(text[len(prefix):], text)
            argv[0] = os.path.expanduser(argv[0])  # acp:"~/.kimi-venv/bin/kimi acp", as a shell would
            return AgentSpec(backend, tuple(argv), text)
    if text.startswith("script:"):
        raw = text[len("script:"):].strip()
        if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
            raw = raw[1:-1]
        if not raw:
            raise AgentSpecError("script: needs the path of a script file, e.g. script:demo/script.json")
        path = Path(raw).expanduser().resolve()
        if not path.is_file():
            raise AgentSpecError(f"agent script {path} " + ("is a folder, not a script file" if path.is_dir()
                                                              else "does not exist"))
        return AgentSpec("acp", (sys.executable, "-m", "omk_tui.agents.scripted", str(path)), text, scripted=True)
    raise AgentSpecError(f"unknown agent SPEC {text!r}; use one of: {SPEC_FORMS}")


def _split(command: str, text: str) -> list[str]:
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise AgentSpecError(f"agent SPEC {text!r}: cannot split the command line ({exc})") from None
    if len(argv) == 1 and command.strip()[:1] in ("'", '"'):
        # acp:"kimi acp": the quotes group the command line; split what they hold
        return _split(argv[0], text)
    if not argv:
        raise AgentSpecError(f"agent SPEC {text!r} has an empty command line")
    return argv


def check_executable(spec: AgentSpec) -> str:
    """The full path of the agent executable, or AgentError naming it and what to install.

    A leading `~` of the executable was expanded (parse_spec); environment variables (`$HOME`) are not, since no
    shell runs the command line: a `$` in a missing executable's name says so."""
    exe = spec.argv[0]
    found = shutil.which(exe)
    if found:
        return found
    if os.sep in exe:  # a path given: say what is wrong with it
        if Path(exe).exists():
            what = "a folder" if Path(exe).is_dir() else "not executable (chmod +x it, or name its interpreter)"
            raise AgentError(f"the agent executable {exe!r} is {what}")
        hint = ("; omk-tui does not expand environment variables in the command line: write ~ or the full path"
                if "$" in exe else "")
        raise AgentError(f"the agent executable {exe!r} does not exist{hint}")
    if "$" in exe:
        raise AgentError(f"the agent executable {exe!r} was not found: omk-tui does not expand environment variables "
                         "in the command line; write ~ or the full path")
    if Path(exe).name == "kimi":
        raise AgentError(f"the agent executable 'kimi' was not found on PATH: {KIMI_INSTALL_HINT}")
    raise AgentError(f"the agent executable {exe!r} was not found on PATH; install it or give its full path")


def open_session(
    spec: str | AgentSpec,
    config: SessionConfig,
    *,
    share_env: Iterable[str] = (),
    grace_secs: float = 5.0,
    confine: str = "auto",
    writable: Iterable[str] = (),
) -> AgentSession:
    """An unstarted session for `spec` (call `await session.start()`).

    `share_env`: names of environment variables of ours the agent gets too (config `agent.env`, e.g. API keys);
    the child otherwise gets a trimmed environment (environment.agent_environment) plus `config.env`.
    `confine` (config `agent.confine`): "auto" confines the agent's writes with Landlock where the kernel has it
    (see `confinement`), "on" requires it, "off" does not confine; `writable` (config `agent.writable`) names more
    folders a confined agent may write to.
    Raises AgentSpecError for a bad SPEC and AgentError for a missing executable or missing Landlock under "on".
    """
    parsed = spec if isinstance(spec, AgentSpec) else parse_spec(spec)
    exe = check_executable(parsed)
    argv = [exe, *parsed.argv[1:]]
    env = agent_environment(config.env, share_env)
    allowed = confinement(confine, config, env, writable, kimi=Path(exe).name == "kimi")
    if allowed is not None:
        argv = launcher(argv, allowed)
    if parsed.backend == "wire":
        from omk_tui.agents.wire import WireSession  # lazy: another backend, loaded only when asked for

        session: AgentSession = WireSession(argv, config, env=env, grace_secs=grace_secs)
    else:
        from omk_tui.agents.acp_client import AcpSession

        session = AcpSession(argv, config, env=env, grace_secs=grace_secs)
        if allowed is not None:
            session.terminals.allowed = allowed  # client terminals run the agent's shell commands: confined alike
    if allowed is not None:
        session.private_tmp = Path(env["TMPDIR"])
    session.name = Path(exe).name  # not the launcher's python: the agent a person asked for
    return session


CONFINE_MODES = ("auto", "on", "off")
NO_LANDLOCK = "this kernel has no Landlock (Linux 5.13 or newer with landlock among its LSMs)"


@functools.cache
def confinement_problem() -> str | None:
    """None when agents can be confined here, else why not. The launcher is tried once per process: a kernel
    may report Landlock and still refuse it (a container's seccomp filter, say)."""
    if landlock_abi() < 1:
        return NO_LANDLOCK
    return launcher_problem(launcher([sys.executable, "-S", "-c", ""], []))


def launcher_problem(argv: list[str]) -> str | None:
    """None when `argv` (a launcher command line) runs and exits 0, else what went wrong."""
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"the confinement launcher could not run ({exc})"
    if done.returncode != 0:
        return done.stderr.strip()[-300:] or f"the confinement launcher exited with code {done.returncode}"
    return None


def confinement(mode: str, config: SessionConfig, env: dict[str, str], writable: Iterable[str] = (), *,
                kimi: bool = False) -> list[str] | None:
    """The folders a confined agent may write to, or None when the agent runs unconfined.

    A confined agent writes only beneath: its working directory (unless the session is read-only), a private
    temporary folder in `config.tmp_root` (set as its TMPDIR; the session makes it when it starts and removes it
    when it closes), kimi's state folder ($KIMI_SHARE_DIR, or ~/.kimi) for a kimi agent, and `writable`.
    """
    if mode not in CONFINE_MODES:
        raise AgentError(f"[agent] confine = {mode!r}: use one of {', '.join(CONFINE_MODES)}")
    if mode == "off":
        return None
    problem = confinement_problem()
    if problem is not None:
        if mode == "on":
            raise AgentError(f'[agent] confine = "on" but agents cannot be confined here: {problem}; set confine = '
                             '"auto" or "off" in .omk/config.toml')
        return None
    allowed = [] if config.read_only else [str(Path(config.cwd).resolve())]
    tmp = str(Path(config.tmp_root or tempfile.gettempdir()) / f"omk-agent-{secrets.token_hex(6)}")
    env["TMPDIR"] = tmp
    allowed.append(tmp)
    if kimi:
        share = Path(env.get("KIMI_SHARE_DIR") or Path(env.get("HOME") or Path.home()) / ".kimi").expanduser()
        try:
            share.mkdir(parents=True, exist_ok=True)  # it must exist to be allowed
        except OSError as exc:
            raise AgentError(f"cannot make kimi's state folder {share}: {exc.strerror or exc}") from None
        allowed.append(str(share))
    allowed += [os.path.expanduser(w) for w in writable]
    return allowed
