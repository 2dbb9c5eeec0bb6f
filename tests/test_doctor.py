"""`omk-tui doctor` with fake `kimi` and `gh` programs on PATH (gh is a faithful fake: GitHub is remote)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from omk_tui.commands.doctor import kimi_version, probe

pytestmark = pytest.mark.timeout(60)

KIMI_152 = """#!/bin/sh
case "$1" in
  --version) echo "kimi, version 1.52.0" ;;
  *) echo "kimi-cli is deprecated; install Kimi Code instead" ;;
esac
exit 0
"""
KIMI_151 = """#!/bin/sh
case "$1" in
  --version) echo "kimi, version 1.51.0" ;;
  --help) printf 'Usage: kimi [OPTIONS] COMMAND [ARGS]...\\n  --print\\n  --wire  Run as a Wire server\\n' ;;
  *) exit 2 ;;
esac
"""
KIMI_CODE = """#!/bin/sh
case "$1" in
  --version) echo "2.3.1" ;;
  --help) echo "Usage: kimi [options] [command]  Commands: acp" ;;
esac
"""
GH_LOGGED_IN = """#!/bin/sh
case "$1 $2" in
  "--version ") echo "gh version 2.40.1 (2023-12-13)" ;;
  "auth status") echo "github.com"; echo "  ✓ Logged in to github.com account octo (keyring)"; exit 0 ;;
  *) exit 1 ;;
esac
"""
GH_LOGGED_OUT = """#!/bin/sh
case "$1 $2" in
  "--version ") echo "gh version 2.40.1 (2023-12-13)" ;;
  "auth status") echo "You are not logged into any GitHub hosts. To log in, run: gh auth login" >&2; exit 1 ;;
  *) exit 1 ;;
esac
"""


def fake_bin(tmp_path: Path, **programs: str) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name, text in programs.items():
        path = bin_dir / name
        path.write_text(text)
        path.chmod(0o755)
    return bin_dir


def doctor(tmp_path: Path, *args: str, cwd: Path | None = None, bin_dir: Path | None = None):
    # Directories holding a real kimi or gh are left out, so only the fakes are seen.
    keep = [d for d in os.environ.get("PATH", "").split(os.pathsep)
            if d and not any(os.access(os.path.join(d, p), os.X_OK) for p in ("kimi", "gh"))]
    path = os.pathsep.join(([str(bin_dir)] if bin_dir else []) + keep)
    env = {**os.environ, "PATH": path, "COLUMNS": "250"}
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "omk_tui", "doctor", *args], capture_output=True, text=True,
                          cwd=cwd or tmp_path, env=env, timeout=50)
    assert time.monotonic() - start < 20
    return proc


def checks_by_name(proc) -> dict[str, dict]:
    return {c["name"]: c for c in json.loads(proc.stdout)}


def make_repo(path: Path, *, commit: bool = True) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(git + ["init", "-q", str(path)], check=True)
    if commit:
        (path / "README.md").write_text("hi\n")
        subprocess.run(git + ["add", "-A"], cwd=path, check=True)
        subprocess.run(git + ["commit", "-q", "-m", "init"], cwd=path, check=True)
    return path


def test_kimi_152_is_reported_as_a_stub(tmp_path):
    repo = make_repo(tmp_path / "repo")
    proc = doctor(tmp_path, "--json", cwd=repo, bin_dir=fake_bin(tmp_path, kimi=KIMI_152))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    checks = checks_by_name(proc)
    kimi = checks["kimi"]
    assert kimi["status"] == "warning" and "1.52.0 is a stub" in kimi["detail"]
    assert "kimi-cli==1.51.0" in kimi["fix"]
    assert checks["kimi ACP"]["status"] == "warning" and checks["kimi Wire"]["status"] == "warning"
    text = doctor(tmp_path, cwd=repo, bin_dir=tmp_path / "bin").stdout
    assert "warning  kimi" in text and "stub" in text and "1.51.0" in text


def test_kimi_151_has_acp_and_wire(tmp_path):
    repo = make_repo(tmp_path / "repo")
    proc = doctor(tmp_path, "--json", cwd=repo, bin_dir=fake_bin(tmp_path, kimi=KIMI_151, gh=GH_LOGGED_IN))
    checks = checks_by_name(proc)
    assert checks["kimi"]["status"] == "ok" and "1.51.0" in checks["kimi"]["detail"]
    assert checks["kimi ACP"]["status"] == "ok"
    assert checks["kimi Wire"]["status"] == "ok" and "--wire" in checks["kimi Wire"]["detail"]
    assert checks["gh"]["status"] == "ok" and "gh 2.40.1, logged in" == checks["gh"]["detail"]


def test_kimi_code_cli_has_acp_but_no_wire_and_gh_logged_out(tmp_path):
    repo = make_repo(tmp_path / "repo")
    proc = doctor(tmp_path, "--json", cwd=repo, bin_dir=fake_bin(tmp_path, kimi=KIMI_CODE, gh=GH_LOGGED_OUT))
    checks = checks_by_name(proc)
    assert checks["kimi ACP"]["status"] == "ok"
    assert checks["kimi Wire"]["status"] == "warning" and "ACP only" in checks["kimi Wire"]["detail"]
    assert checks["gh"]["status"] == "warning" and "not logged in" in checks["gh"]["detail"]
    assert checks["gh"]["fix"] == "run `gh auth login`"
    assert proc.returncode == 0


def test_no_kimi_no_gh_and_the_machine_checks(tmp_path):
    repo = make_repo(tmp_path / "repo")
    proc = doctor(tmp_path, "--json", cwd=repo)
    assert proc.returncode == 0
    checks = checks_by_name(proc)
    assert checks["kimi"]["status"] == "missing" and not checks["kimi"]["required"]
    assert "kimi-cli==1.51.0" in checks["kimi"]["fix"]
    assert checks["gh"]["status"] == "missing"
    assert checks["python"]["status"] == "ok" and checks["python"]["required"]
    assert checks["git"]["detail"].startswith("git version")
    assert checks["libgit2"]["status"] == "ok" and "libgit2" in checks["libgit2"]["detail"]
    assert checks["repository"]["status"] == "ok" and checks["commits"]["status"] == "ok"
    assert checks["clean tree"]["status"] == "ok"
    assert checks["gates"]["status"] == "warning" and "no local gates" in checks["gates"]["detail"]


def test_repository_checks(tmp_path):
    repo = make_repo(tmp_path / "repo")
    (repo / "README.md").write_text("changed\n")
    (repo / ".omk").mkdir()
    (repo / ".omk" / "gates.toml").write_text('[[gates]]\nname = "unit"\ncommand = "make check"\n')
    checks = checks_by_name(doctor(tmp_path, "--json", cwd=repo))
    assert checks["clean tree"]["status"] == "warning" and "README.md" in checks["clean tree"]["detail"]
    assert ".omk" not in checks["clean tree"]["detail"]
    assert checks["gates"]["status"] == "ok" and "unit (`make check`)" in checks["gates"]["detail"]

    (repo / ".omk" / "gates.toml").write_text('[[gates]]\nname = "unit"\n')
    proc = doctor(tmp_path, "--json", cwd=repo)
    assert proc.returncode == 1
    gates = checks_by_name(proc)["gates"]
    assert gates["status"] == "error" and "line 1" in gates["detail"] and gates["required"]
    assert checks_by_name(proc)["config"]["status"] == "ok"
    assert checks_by_name(proc)["config"]["detail"] == "defaults; agent lease 300s"
    (repo / ".omk" / "config.toml").write_text("[agent]\nlease_secs = 900\n")
    assert checks_by_name(doctor(tmp_path, "--json", cwd=repo))["config"]["detail"] == ".omk/config.toml; agent lease 900s"

    (repo / ".omk" / "config.toml").write_text("[agent\n")  # what `run` would refuse, doctor says first
    config = checks_by_name(doctor(tmp_path, "--json", cwd=repo))["config"]
    assert config["status"] == "error" and "config.toml" in config["detail"] and config["required"]


@pytest.mark.parametrize("setting,said", [
    ('approval = "bogus"', "agent.approval: unknown approval policy 'bogus'"),
    ('approval = "pattern:("', "agent.approval: approval policy 'pattern:(': bad regular expression"),
    ('default = "bogus:x"', "agent.default: unknown agent SPEC 'bogus:x'"),
])
def test_the_config_check_refuses_what_run_refuses(tmp_path, setting, said):
    repo = make_repo(tmp_path / "repo")
    (repo / ".omk").mkdir()
    (repo / ".omk" / "config.toml").write_text(f"[agent]\n{setting}\n")
    proc = doctor(tmp_path, "--json", cwd=repo)
    config = checks_by_name(proc)["config"]
    assert proc.returncode == 1 and config["status"] == "error" and config["required"]
    assert said in config["detail"] and str(repo / ".omk" / "config.toml") in config["detail"], config
    run = subprocess.run([sys.executable, "-m", "omk_tui", "run", "fix the failing test in tests/test_x.py"],
                         cwd=repo, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and said in run.stderr, run.stderr  # the same words: one check, shared


def test_outside_a_repository_is_a_warning_but_an_explicit_repo_is_required(tmp_path):
    folder = tmp_path / "plain"
    folder.mkdir()
    proc = doctor(tmp_path, "--json", cwd=folder)
    assert proc.returncode == 0
    assert checks_by_name(proc)["repository"]["status"] == "warning"
    proc = doctor(tmp_path, "--repo", str(folder))
    assert proc.returncode == 1
    assert "missing  repository" in proc.stdout and "required: repository" in proc.stdout
    empty = make_repo(tmp_path / "empty", commit=False)
    proc = doctor(tmp_path, "--json", "--repo", str(empty))
    assert proc.returncode == 1 and checks_by_name(proc)["commits"]["status"] == "missing"


def test_probe_times_out_and_ends_the_whole_group(tmp_path):
    script = fake_bin(tmp_path, hang="#!/bin/sh\nsleep 1000 &\necho $! > \"$1\"\nsleep 1000\n") / "hang"
    start = time.monotonic()
    code, message = probe([str(script), str(tmp_path / "pid")], timeout=0.5)
    assert code is None and "did not answer within 0.5 s" in message
    assert time.monotonic() - start < 3


def test_kimi_version_parsing():
    assert kimi_version("kimi, version 1.51.0\n") == (1, 51, 0)
    assert kimi_version("2.3.1") == (2, 3, 1)
    assert kimi_version("kimi-cli is deprecated") is None


def test_the_confinement_check_says_whether_agent_writes_are_confined(tmp_path):
    from omk_tui.agents.spec import NO_LANDLOCK, confinement_problem
    from omk_tui.commands.doctor import confine_check

    assert confine_check(None)["status"] == "ok" and "Landlock ABI" in confine_check(None)["detail"]
    missing = confine_check(NO_LANDLOCK)
    assert missing["status"] == "warning" and "no Landlock" in missing["detail"] and missing["fix"]
    assert "approval policy only" in missing["detail"]
    repo = make_repo(tmp_path / "repo")
    here = checks_by_name(doctor(tmp_path, "--json", cwd=repo))["confinement"]
    assert here["status"] == ("ok" if confinement_problem() is None else "warning")


def test_a_worktrees_folder_inside_the_repository_is_caught_before_a_run(tmp_path, monkeypatch):
    monkeypatch.delenv("OMK_WORKTREES_DIR", raising=False)
    repo = make_repo(tmp_path / "repo")
    (repo / ".omk").mkdir()
    (repo / ".omk" / "config.toml").write_text('[worktrees]\ndir = "inner"\n')
    worktrees = checks_by_name(doctor(tmp_path, "--json", cwd=repo))["worktrees"]
    assert worktrees["status"] == "error" and "inside the repository" in worktrees["detail"] and worktrees["required"]
    run = subprocess.run([sys.executable, "-m", "omk_tui", "run", "add the one check file so the gate passes",
                          "--agent", "kimi", "--repo", str(repo)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "inside the repository" in run.stderr
    assert not (repo / ".omk" / "goals").exists() or not list((repo / ".omk" / "goals").iterdir())


def test_kimi_setup_check_reads_kimis_config_and_login(tmp_path):
    from omk_tui.commands.doctor import kimi_setup_check
    from tests.support.kimi_env import make_kimi_home

    env = {"KIMI_SHARE_DIR": str(tmp_path / "none")}
    missing = kimi_setup_check(env)
    assert missing["status"] == "warning" and "config.toml is missing" in missing["detail"]
    assert "kimi login" in missing["fix"]

    home = make_kimi_home(tmp_path, "http://127.0.0.1:9/v1")
    env = {"KIMI_SHARE_DIR": str(home.share_dir)}
    assert kimi_setup_check(env)["status"] == "ok"
    (home.share_dir / "credentials" / "kimi-code.json").unlink()
    logged_out = kimi_setup_check(env)
    assert logged_out["status"] == "warning" and "not logged in" in logged_out["detail"]
    home.config_file.write_text('default_model = "fake\n')
    broken = kimi_setup_check(env)
    assert broken["status"] == "error" and str(home.config_file) in broken["detail"]
    assert "line 1" in broken["detail"]


def test_python_of_kimis_virtualenv_first_on_path_is_a_warning(tmp_path):
    """The old install steps put kimi's virtualenv bin first on PATH: `python -m pytest` gates then ran kimi's Python."""
    repo = make_repo(tmp_path / "repo")
    venv = tmp_path / "kimi-venv"
    (venv / "lib" / "python3.13" / "site-packages" / "kimi_cli").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    bin_dir = venv / "bin"
    bin_dir.mkdir()
    for name, text in (("kimi", KIMI_151), ("python", "#!/bin/sh\nexit 1\n")):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    checks = checks_by_name(doctor(tmp_path, "--json", cwd=repo, bin_dir=bin_dir))
    python = checks["python on PATH"]
    assert python["status"] == "warning" and f"the Python of kimi's virtualenv ({bin_dir / 'python'})" in python["detail"]
    assert python["fix"] == f"take {bin_dir} off PATH and link only kimi onto it: `ln -s {bin_dir / 'kimi'} ~/.local/bin/kimi`"
    assert checks["kimi"]["status"] == "ok"
    # kimi linked alone onto PATH: no warning
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "kimi").symlink_to(bin_dir / "kimi")
    assert "python on PATH" not in checks_by_name(doctor(tmp_path, "--json", cwd=repo, bin_dir=linked))
