"""The GitHub CLI client: auth check, open or update a PR, its checks, merging it.

Every call is one `gh` process with a timeout; a missing `gh` or a failing call becomes a `GhError` whose message
says what happened and what to do (never a traceback)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

GH_TIMEOUT_SECS = 120


class GhError(RuntimeError):
    def __init__(self, message: str, *, missing: bool = False, logged_out: bool = False):
        super().__init__(message)
        self.missing = missing
        self.logged_out = logged_out


@dataclass
class Check:
    name: str
    state: str  # gh's state (SUCCESS, FAILURE, PENDING, ...)
    bucket: str  # pass | fail | pending | skipping | cancel

    @property
    def failed(self) -> bool:
        return self.bucket in ("fail", "cancel")

    @property
    def pending(self) -> bool:
        return self.bucket == "pending"


_BUCKETS = {
    "SUCCESS": "pass", "NEUTRAL": "pass", "SKIPPED": "skipping", "FAILURE": "fail", "ERROR": "fail",
    "TIMED_OUT": "fail", "ACTION_REQUIRED": "fail", "CANCELLED": "cancel", "STARTUP_FAILURE": "fail",
    "PENDING": "pending", "QUEUED": "pending", "IN_PROGRESS": "pending", "WAITING": "pending", "EXPECTED": "pending",
    "REQUESTED": "pending", "STALE": "fail",
}


def bucket_of(state: str) -> str:
    return _BUCKETS.get((state or "").upper(), "pending")


class GhClient:
    def __init__(self, cwd: Path, *, gh: str = "gh", timeout: float = GH_TIMEOUT_SECS):
        self.cwd = Path(cwd)
        self.gh = gh
        self.timeout = timeout

    def available(self) -> bool:
        return shutil.which(self.gh) is not None

    def _run(self, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        exe = shutil.which(self.gh)
        if exe is None:
            raise GhError("the GitHub CLI `gh` is not installed or not on PATH; install it (https://cli.github.com) "
                          "or switch to local delivery: `omk-tui deliver GOAL --policy local`, then "
                          "`omk-tui accept GOAL`", missing=True)
        env = {**os.environ, "GH_PROMPT_DISABLED": "1", "NO_COLOR": "1", "GH_NO_UPDATE_NOTIFIER": "1"}
        try:
            proc = subprocess.run([exe, *args], cwd=self.cwd, input=stdin, capture_output=True, text=True,
                                  timeout=self.timeout, env=env)
        except subprocess.TimeoutExpired as exc:
            raise GhError(f"`gh {' '.join(args[:2])}` did not answer within {self.timeout:.0f}s") from exc
        if check and proc.returncode != 0:
            msg = (proc.stderr.strip() or proc.stdout.strip() or f"exit code {proc.returncode}").splitlines()[-1]
            raise GhError(f"`gh {' '.join(args[:2])}` failed: {msg}")
        return proc

    def auth_status(self) -> tuple[bool, str]:
        proc = self._run("auth", "status", check=False)
        text = (proc.stderr.strip() or proc.stdout.strip())
        return proc.returncode == 0, text

    def require_auth(self) -> None:
        ok, text = self.auth_status()
        if not ok:
            raise GhError(f"gh is not logged in to GitHub ({text.splitlines()[-1] if text else 'gh auth status failed'}); "
                          "run `gh auth login` and deliver again", logged_out=True)

    def pr_for_head(self, head: str) -> dict | None:
        """The open PR of `head`, else its most recent merged one (a person may have merged it), else None.

        A closed, unmerged PR does not count: delivering again opens a new one."""
        proc = self._run("pr", "list", "--head", head, "--state", "all", "--json",
                         "number,url,isDraft,state,headRefName,headRefOid")
        try:
            prs = json.loads(proc.stdout or "[]")
        except ValueError as exc:
            raise GhError(f"`gh pr list` answered something that is not JSON: {proc.stdout[:200]}") from exc
        if not isinstance(prs, list):
            raise GhError(f"`gh pr list` answered something that is not a list: {proc.stdout[:200]}")
        for wanted in ("OPEN", "MERGED"):
            found = [p for p in prs if isinstance(p, dict) and p.get("state") == wanted]
            if found:
                return max(found, key=lambda p: p.get("number") or 0)
        return None

    def create_pr(self, *, title: str, body: str, head: str, base: str, draft: bool) -> str:
        proc = self._run(*create_args(title=title, head=head, base=base, draft=draft), stdin=body)
        urls = [ln.strip() for ln in proc.stdout.splitlines() if ln.strip().startswith("http")]
        if not urls:
            raise GhError(f"`gh pr create` printed no PR URL: {proc.stdout.strip()[:200]}")
        return urls[-1]

    def edit_pr(self, url: str, *, title: str, body: str) -> None:
        self._run(*edit_args(url, title), stdin=body)

    def checks(self, url: str) -> list[Check] | None:
        """The PR's checks; None when GitHub reports none (no CI configured, or not registered yet)."""
        proc = self._run("pr", "checks", url, "--json", "name,state,bucket", check=False)
        out = proc.stdout.strip()
        if out.startswith("["):
            try:
                data = json.loads(out)
            except ValueError:
                data = None
            if isinstance(data, list):
                return [Check(str(c.get("name", "")), str(c.get("state", "")), str(c.get("bucket") or bucket_of(c.get("state", ""))))
                        for c in data] or None
        if "no checks reported" in (proc.stderr + proc.stdout).lower():
            return None
        if proc.returncode != 0:
            msg = (proc.stderr.strip() or out or f"exit code {proc.returncode}").splitlines()[-1]
            raise GhError(f"`gh pr checks` failed: {msg}")
        return None

    def mark_ready(self, url: str) -> None:
        self._run("pr", "ready", url)

    def merge(self, url: str, method: str = "squash") -> None:
        self._run("pr", "merge", url, f"--{method}")


def create_args(*, title: str, head: str, base: str, draft: bool) -> list[str]:
    """`gh` arguments opening a PR whose body comes on stdin."""
    args = ["pr", "create", "--title", title, "--body-file", "-", "--head", head, "--base", base]
    return args + ["--draft"] if draft else args


def edit_args(url: str, title: str) -> list[str]:
    return ["pr", "edit", url, "--title", title, "--body-file", "-"]


def merge_command(url: str, method: str = "squash") -> str:
    return f"gh pr merge {url} --{method}"
