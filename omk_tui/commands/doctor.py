"""`omk-tui doctor`: is this machine (and repository) ready for omk-tui? Each check says what to do.

Required (exit code 1 when not ok): Python >= 3.11, git, pygit2/libgit2 — and, when `--repo` is given
explicitly, that folder being a git repository with a commit. Everything else is a warning: kimi (other ACP
agents and the scripted demo agent work without it), gh (only PR delivery needs it), a dirty tree (runs refuse
to start on one, but that is fixed in a second). A malformed `.omk/gates.toml` is a required error.
External commands run in parallel, each with a timeout of a few seconds, so doctor stays quick.
"""

from __future__ import annotations

import re
import sys

PROBE_TIMEOUT_SECS = 5.0
MIN_PYTHON = (3, 11)
KIMI_STUB_VERSION = (1, 52, 0)
KIMI_GOOD_VERSION = "1.51.0"
KIMI_INSTALL = (
    f"install kimi-cli {KIMI_GOOD_VERSION} in its own Python 3.13 virtualenv: "
    f"`python3.13 -m venv ~/.kimi-venv && ~/.kimi-venv/bin/pip install kimi-cli=={KIMI_GOOD_VERSION}` "
    "and link only kimi onto PATH (`ln -s ~/.kimi-venv/bin/kimi ~/.local/bin/kimi`); or use another ACP agent "
    "([agent] default = \"acp:CMD\" in .omk/config.toml)"
)
_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)")


def register(sub) -> None:
    parser = sub.add_parser(
        "doctor",
        help="check git, Python, pygit2, kimi (ACP/Wire), gh and the repository; say what to fix",
        description="Check what omk-tui needs. Each line is ok, warning, missing or error, with what to do. "
        "Exit code 0 when every required check is ok, 1 otherwise.",
    )
    # No default: a folder named explicitly must be a repository with a commit (a required check).
    parser.add_argument("--repo", default=None, help="the git repository to check (default: the current folder)")
    parser.add_argument("--json", action="store_true", help="print the checks as a JSON list")
    parser.set_defaults(func=run)


def run(args) -> int:
    checks = collect_checks(args.repo or ".", repo_required=args.repo is not None)
    if args.json:
        import json

        sys.stdout.write(json.dumps(checks, indent=2) + "\n")
    else:
        _print(checks)
    return 1 if any(c["required"] and c["status"] != "ok" for c in checks) else 0


def check(name: str, status: str, detail: str, fix: str = "", *, required: bool = False) -> dict:
    return {"name": name, "status": status, "required": required, "detail": detail, "fix": fix}


def collect_checks(repo_arg: str = ".", *, repo_required: bool = False) -> list[dict]:
    import shutil
    from concurrent.futures import ThreadPoolExecutor

    from omk_tui.agents.spec import confinement_problem

    probes = {
        "git": ["git", "--version"],
        "kimi_version": ["kimi", "--version"],
        "kimi_help": ["kimi", "--help"],
        "gh_version": ["gh", "--version"],
        "gh_auth": ["gh", "auth", "status"],
    }
    with ThreadPoolExecutor(max_workers=len(probes)) as pool:
        futures = {
            key: pool.submit(probe, argv) for key, argv in probes.items() if shutil.which(argv[0]) is not None
        }
        out = {key: f.result() for key, f in futures.items()}

    checks = [_python_check(), _git_check(out.get("git")), _pygit2_check(), confine_check(confinement_problem())]
    kimi = shutil.which("kimi")
    checks.extend(_kimi_checks(kimi, out.get("kimi_version"), out.get("kimi_help")))
    if kimi is not None:
        checks.append(kimi_setup_check())
    python = kimi_python_check()
    if python is not None:
        checks.append(python)
    checks.append(_gh_check(shutil.which("gh"), out.get("gh_version"), out.get("gh_auth")))
    checks.extend(_repo_checks(repo_arg, repo_required))
    return checks


def probe(argv: list[str], timeout: float = PROBE_TIMEOUT_SECS) -> tuple[int | None, str]:
    """(exit code, output) of a short command; (None, reason) when it cannot run or times out.

    Runs in its own process group, killed as a whole on timeout: a wrapper script's children would otherwise
    keep the pipe open and make us wait for them.
    """
    import os
    import signal
    import subprocess

    try:
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True, env={**os.environ, "GH_PROMPT_DISABLED": "1", "NO_COLOR": "1"},
        )
    except OSError as exc:
        return None, f"could not run {argv[0]}: {exc.strerror or exc}"
    try:
        data, _ = proc.communicate(timeout=timeout)
        return proc.returncode, data.decode("utf-8", errors="replace")[:20000]
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            proc.communicate(timeout=1)
        except subprocess.TimeoutExpired:
            pass
        return None, f"`{' '.join(argv)}` did not answer within {timeout:g} s"


def _python_check() -> dict:
    version = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info[:2] >= MIN_PYTHON:
        return check("python", "ok", f"Python {version} ({sys.executable})", required=True)
    return check("python", "missing", f"Python {version} is too old", "use Python 3.11 or newer", required=True)


def _git_check(result) -> dict:
    fix = "install git (e.g. `apt-get install git`)"
    if result is None:
        return check("git", "missing", "git is not on PATH", fix, required=True)
    code, output = result
    if code != 0:
        return check("git", "error", f"`git --version` failed: {output.strip()[:200]}", fix, required=True)
    return check("git", "ok", output.strip(), required=True)


def _pygit2_check() -> dict:
    try:
        import pygit2
    except ImportError as exc:
        return check("libgit2", "missing", f"pygit2 cannot be imported: {exc}", "pip install pygit2",
                     required=True)
    return check("libgit2", "ok", f"libgit2 {pygit2.LIBGIT2_VERSION} (pygit2 {pygit2.__version__})", required=True)


def confine_check(problem: str | None) -> dict:
    """`problem`: why agents cannot be confined here (`spec.confinement_problem`), None when they can."""
    from omk_tui.agents.confine import landlock_abi

    if problem is None:
        return check("confinement", "ok", f"Landlock ABI {landlock_abi()}: agents and their shell commands write "
                     "only in their worktree ([agent] confine = \"auto\")")
    return check("confinement", "warning", f"agents cannot be confined: {problem}; an agent's shell commands are "
                 "governed by the approval policy only", "use Linux 5.13+ with Landlock enabled, or a stricter "
                 "[agent] approval such as \"safe\"")


def kimi_version(output: str) -> tuple[int, int, int] | None:
    m = _VERSION.search(output)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None


def _kimi_checks(path: str | None, version_result, help_result) -> list[dict]:
    if path is None:
        return [
            check("kimi", "missing", "kimi is not on PATH", KIMI_INSTALL),
            check("kimi ACP", "missing", "not usable: no kimi", "install kimi (see above)"),
            check("kimi Wire", "missing", "not usable: no kimi", "install kimi (see above)"),
        ]
    code, output = version_result if version_result is not None else (None, "")
    version = kimi_version(output) if code == 0 else None
    if version is None:
        why = output.strip().splitlines()[-1][:200] if output.strip() else "no output"
        return [
            check("kimi", "warning", f"{path}: `kimi --version` gave no version ({why})", KIMI_INSTALL),
            check("kimi ACP", "warning", "unknown: the kimi version could not be read", KIMI_INSTALL),
            check("kimi Wire", "warning", "unknown: the kimi version could not be read", KIMI_INSTALL),
        ]
    shown = ".".join(map(str, version))
    if version == KIMI_STUB_VERSION:
        stub = (f"kimi {shown} is a stub: every command prints a deprecation notice and exits 0 doing nothing "
                f"(an agent run would look like silent success)")
        fix = f"pip install kimi-cli=={KIMI_GOOD_VERSION} (on Python 3.13); " + KIMI_INSTALL
        return [
            check("kimi", "warning", f"{path}: {stub}", fix),
            check("kimi ACP", "warning", f"not usable: kimi {shown} is a stub", fix),
            check("kimi Wire", "warning", f"not usable: kimi {shown} is a stub", fix),
        ]
    checks = [check("kimi", "ok", f"kimi {shown} ({path})")]
    if version >= (1, 0, 0):
        checks.append(check("kimi ACP", "ok", "ACP usable: `kimi acp`"))
    else:
        checks.append(check("kimi ACP", "warning", f"kimi {shown} is older than 1.0; ACP support is unknown",
                            KIMI_INSTALL))
    help_code, help_text = help_result if help_result is not None else (None, "")
    if help_code == 0 and "--wire" in help_text:
        checks.append(check("kimi Wire", "ok", "Wire usable: `kimi --wire` (legacy Python CLI)"))
    else:
        checks.append(check(
            "kimi Wire", "warning", "this kimi has no --wire (Kimi Code CLI speaks ACP only)",
            "use ACP (the default); Wire needs the legacy Python CLI " + KIMI_GOOD_VERSION,
        ))
    return checks


def kimi_setup_check(environ=None) -> dict:
    """kimi's own setup, which `kimi --version` does not exercise: its config file parses, and it is logged in
    (`kimi acp` refuses every session without credentials, even for a provider that is not Kimi's)."""
    import json
    import os
    import tomllib
    from pathlib import Path

    env = os.environ if environ is None else environ
    share = Path(env["KIMI_SHARE_DIR"]) if env.get("KIMI_SHARE_DIR") else Path.home() / ".kimi"
    config = share / "config.toml"
    try:
        tomllib.loads(config.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return check("kimi setup", "warning", f"kimi has no configuration ({config} is missing)",
                     "run `kimi login` (or write the config file; KIMI_SHARE_DIR chooses the folder)")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return check("kimi setup", "error", f"kimi cannot read {config}: {exc}",
                     "fix the file (or move it away and run `kimi login`); every kimi session fails until then")
    creds = share / "credentials" / "kimi-code.json"
    try:
        token = json.loads(creds.read_text(encoding="utf-8")).get("access_token")
    except (OSError, ValueError, AttributeError):
        token = None
    if not token:
        return check("kimi setup", "warning", f"kimi is not logged in (no access token in {creds})",
                     "run `kimi login`; `kimi acp` refuses to start a session without it")
    return check("kimi setup", "ok", f"configured and logged in ({share})")


def kimi_python_check() -> dict | None:
    """A warning when the `python` a detected gate runs (`python -m pytest`: `python`, else `python3`) is the Python
    of kimi's own virtualenv — its bin folder put first on PATH — which lacks the project's packages; else None."""
    import shutil
    from pathlib import Path

    name = "python" if shutil.which("python") else "python3"
    found = shutil.which(name)
    if found is None:
        return None
    venv = Path(found).parent.parent
    if not ((venv / "pyvenv.cfg").is_file() and any(venv.glob("lib/python*/site-packages/kimi_cli"))):
        return None
    return check("python on PATH", "warning",
                 f"`{name}` on PATH is the Python of kimi's virtualenv ({found}): a detected gate such as "
                 f"`{name} -m pytest` runs there, without your project's packages (\"No module named pytest\")",
                 f"take {venv / 'bin'} off PATH and link only kimi onto it: "
                 f"`ln -s {venv / 'bin' / 'kimi'} ~/.local/bin/kimi`")


def _gh_check(path: str | None, version_result, auth_result) -> dict:
    if path is None:
        return check("gh", "missing", "GitHub CLI `gh` is not on PATH (only pull-request delivery needs it)",
                     "install it from https://cli.github.com, then `gh auth login`")
    version = kimi_version(version_result[1]) if version_result and version_result[0] == 0 else None
    name = f"gh {'.'.join(map(str, version))}" if version else "gh"
    if auth_result is not None and auth_result[0] == 0:
        return check("gh", "ok", f"{name}, logged in")
    why = "did not answer" if auth_result is None or auth_result[0] is None else "not logged in"
    return check("gh", "warning", f"{name} ({path}), {why} (pull-request delivery needs it)", "run `gh auth login`")


def _repo_checks(repo_arg: str, required: bool) -> list[dict]:
    from pathlib import Path

    import pygit2

    where = Path(repo_arg).resolve()
    found = pygit2.discover_repository(str(where)) if where.exists() else None
    if found is None:
        return [check("repository", "missing" if required else "warning", f"{where} is not inside a git repository",
                      "run omk-tui inside a git repository, or `git init && git commit --allow-empty -m init`",
                      required=required)]
    repo = pygit2.Repository(found)
    if repo.is_bare or repo.workdir is None:
        return [check("repository", "error", f"{found} is a bare repository", "use a clone with a working tree",
                      required=required)]
    root = Path(repo.workdir).resolve()
    checks = [check("repository", "ok", str(root), required=required)]
    if repo.head_is_unborn:
        checks.append(check("commits", "missing" if required else "warning", "the repository has no commit yet",
                            "make a first commit: `git add -A && git commit -m init`", required=required))
    else:
        checks.append(check("commits", "ok", f"HEAD {str(repo.head.target)[:12]} on "
                            f"{repo.head.shorthand if not repo.head_is_detached else '(detached)'}",
                            required=required))
    checks.append(_clean_tree_check(repo))
    checks.append(_config_check(root))
    checks.append(_worktrees_check(root))
    checks.append(_gates_check(root))
    return checks


def _worktrees_check(root) -> dict:
    from omk_tui.config import ConfigError
    from omk_tui.git.errors import GitError
    from omk_tui.git.worktrees import resolve_worktrees_base

    try:
        base = resolve_worktrees_base(root)
    except ConfigError:
        return check("worktrees", "warning", "not known while .omk/config.toml is malformed", "fix the config first")
    except GitError as exc:
        return check("worktrees", "error", str(exc), "set [worktrees] dir (or OMK_WORKTREES_DIR) outside the "
                     "repository", required=True)
    return check("worktrees", "ok", f"slice worktrees under {base}")


def _config_check(root) -> dict:
    from omk_tui.config import CONFIG_FIX, ConfigError, agent_settings, load_config

    try:
        config = load_config(root)
        agent_settings(root, config)  # what `run` refuses without --agent and --approval
    except ConfigError as exc:
        return check("config", "error", str(exc), CONFIG_FIX,
                     required=True)
    from omk_tui.models.goal import GoalOptions

    lease = config.agent.lease_secs or GoalOptions.model_fields["lease_secs"].default
    where = ".omk/config.toml" if (root / ".omk" / "config.toml").is_file() else "defaults"
    return check("config", "ok", f"{where}; agent lease {lease:g}s")


def _clean_tree_check(repo) -> dict:
    import pygit2

    changed = sorted(
        path for path, flags in repo.status().items()
        if not (flags & pygit2.GIT_STATUS_IGNORED) and not path.startswith(".omk/") and path != ".omk"
    )
    if not changed:
        return check("clean tree", "ok", "no uncommitted changes (.omk/ ignored)")
    shown = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
    return check("clean tree", "warning", f"{len(changed)} uncommitted change(s): {shown}",
                 "commit or stash them before `omk-tui run` (slices start from a clean commit)")


def _gates_check(root) -> dict:
    from omk_tui.gates import GateConfigError, NO_GATES_MESSAGE, resolve_gates

    try:
        plan = resolve_gates(root)
    except GateConfigError as exc:
        return check("gates", "error", str(exc), "fix .omk/gates.toml (or remove it to use detection)",
                     required=True)
    if not plan.specs:
        return check("gates", "warning", NO_GATES_MESSAGE,
                     "add [[gates]] entries to .omk/gates.toml (runs block without gates)")
    listed = ", ".join(f"{s.name} (`{s.command_line}`)" for s in plan.specs)
    if plan.notes:  # e.g. a detected gate whose tool is not on PATH: it would fail on this machine
        return check("gates", "warning", f"{plan.source}: {listed}; note: {'; '.join(plan.notes)}",
                     "install what the note names, or list the gates to run in .omk/gates.toml")
    return check("gates", "ok", f"{plan.source}: {listed}")


_STYLES = {"ok": "green", "warning": "yellow", "missing": "bold red", "error": "bold red"}


def _print(checks: list[dict]) -> None:
    from rich.console import Console
    from rich.text import Text

    console = Console(highlight=False)
    width = max(len(c["name"]) for c in checks)
    for c in checks:
        line = Text()
        line.append(f"{c['status']:<8}", style=_STYLES.get(c["status"], ""))
        line.append(f" {c['name']:<{width}}  {c['detail']}")
        console.print(line, soft_wrap=True)
        if c["status"] != "ok" and c["fix"]:
            console.print(Text(f"{'':8} {'':<{width}}  → {c['fix']}", style="dim"), soft_wrap=True)
    bad = [c["name"] for c in checks if c["required"] and c["status"] != "ok"]
    if bad:
        console.print(Text(f"\nrequired: {', '.join(bad)} — fix these first", style="bold red"), soft_wrap=True)
    else:
        console.print(Text("\nready: every required check passed", style="green"), soft_wrap=True)
