"""A faithful fake of the GitHub CLI (`gh`) for tests: the subset omk-tui uses, answering like gh 2.x.

Run as `python fake_gh.py ARGS...` through a `gh` shim on PATH (see `install`). Environment:
- FAKE_GH_LOG: JSON-lines file; every call is appended as {"argv", "cwd", "stdin"}.
- FAKE_GH_STATE: JSON file holding the PRs (created on first use).
- FAKE_GH_AUTH: "0" = logged out (`gh auth status` exits 1, like gh).
- FAKE_GH_REPO: "owner/repo" used in PR URLs (default owner/repo).
- FAKE_GH_CHECKS: comma-separated sequence of check states answered by successive `gh pr checks` calls, the
  last one repeating: success | failure | pending | none (no checks reported). Default: success.
- FAKE_GH_FAIL: a subcommand ("pr create", "pr merge", ...) that fails with exit 1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def _state_path() -> Path:
    return Path(os.environ["FAKE_GH_STATE"])


def load_state() -> dict:
    p = _state_path()
    if p.exists():
        return json.loads(p.read_text())
    return {"prs": [], "checks_calls": 0}


def save_state(state: dict) -> None:
    _state_path().write_text(json.dumps(state, indent=1))


def _opt(argv: list[str], name: str, default=None):
    if name in argv:
        i = argv.index(name)
        return argv[i + 1] if i + 1 < len(argv) else default
    return default


def _find(state: dict, ref: str) -> dict | None:
    for pr in state["prs"]:
        if ref in (pr["url"], str(pr["number"]), pr["headRefName"]):
            return pr
    return None


def _remote_oid(head: str) -> str | None:
    """The commit GitHub holds for branch `head`: what `origin` (a local bare repository in tests) has."""
    out = subprocess.run(["git", "ls-remote", "origin", f"refs/heads/{head}"], capture_output=True, text=True)
    return out.stdout.split()[0] if out.returncode == 0 and out.stdout.strip() else None


def _refresh(pr: dict) -> None:
    # An open PR follows its branch (a push updates it); a merged or closed one keeps its last head commit.
    if pr["state"] == "OPEN":
        pr["headRefOid"] = _remote_oid(pr["headRefName"]) or pr.get("headRefOid")


def _fields(pr: dict, fields: str) -> dict:
    return {f: pr.get(f) for f in fields.split(",")}


CHECK_STATES = {
    "success": [{"name": "ci/test", "state": "SUCCESS", "bucket": "pass"}, {"name": "ci/lint", "state": "SUCCESS", "bucket": "pass"}],
    "failure": [{"name": "ci/test", "state": "FAILURE", "bucket": "fail"}, {"name": "ci/lint", "state": "SUCCESS", "bucket": "pass"}],
    "pending": [{"name": "ci/test", "state": "IN_PROGRESS", "bucket": "pending"}, {"name": "ci/lint", "state": "SUCCESS", "bucket": "pass"}],
}


def main(argv: list[str]) -> int:
    stdin = "" if sys.stdin is None or sys.stdin.isatty() else sys.stdin.read()
    with open(os.environ["FAKE_GH_LOG"], "a") as fh:
        fh.write(json.dumps({"argv": argv, "cwd": os.getcwd(), "stdin": stdin}) + "\n")
    sub = " ".join(argv[:2])
    if os.environ.get("FAKE_GH_FAIL") == sub:
        print(f"GraphQL: something went wrong ({sub})", file=sys.stderr)
        return 1
    if sub == "auth status":
        if os.environ.get("FAKE_GH_AUTH", "1") == "0":
            print("You are not logged into any GitHub hosts. To log in, run: gh auth login", file=sys.stderr)
            return 1
        print("github.com\n  ✓ Logged in to github.com account tester (keyring)", file=sys.stderr)
        return 0
    if os.environ.get("FAKE_GH_AUTH", "1") == "0":
        print("To get started with GitHub CLI, please run:  gh auth login", file=sys.stderr)
        return 4
    state = load_state()
    repo = os.environ.get("FAKE_GH_REPO", "owner/repo")
    if sub == "pr create":
        head, base = _opt(argv, "--head"), _opt(argv, "--base")
        if any(p["headRefName"] == head and p["state"] == "OPEN" for p in state["prs"]):
            print(f'a pull request for branch "{head}" into branch "{base}" already exists:', file=sys.stderr)
            return 1
        number = len(state["prs"]) + 1
        body = stdin if _opt(argv, "--body-file") == "-" else (_opt(argv, "--body") or "")
        pr = {"number": number, "url": f"https://github.com/{repo}/pull/{number}", "headRefName": head,
              "baseRefName": base, "title": _opt(argv, "--title"), "body": body, "isDraft": "--draft" in argv,
              "state": "OPEN", "headRefOid": _remote_oid(head)}
        state["prs"].append(pr)
        save_state(state)
        print(pr["url"])
        return 0
    if sub == "pr list":
        head, wanted = _opt(argv, "--head"), (_opt(argv, "--state") or "open").upper()
        prs = [p for p in state["prs"] if (head is None or p["headRefName"] == head) and (wanted == "ALL" or p["state"] == wanted)]
        for p in prs:
            _refresh(p)
        prs.sort(key=lambda p: -p["number"])  # gh lists the newest first
        print(json.dumps([_fields(p, _opt(argv, "--json", "number,url")) for p in prs]))
        return 0
    pr = _find(state, argv[2]) if len(argv) > 2 else None
    if sub in ("pr view", "pr edit", "pr checks", "pr merge", "pr ready") and pr is None:
        print(f"no pull requests found for {argv[2] if len(argv) > 2 else 'the current branch'}", file=sys.stderr)
        return 1
    if sub == "pr edit":
        if _opt(argv, "--title"):
            pr["title"] = _opt(argv, "--title")
        if _opt(argv, "--body-file") == "-":
            pr["body"] = stdin
        save_state(state)
        print(pr["url"])
        return 0
    if sub in ("pr checks", "pr view"):
        seq = os.environ.get("FAKE_GH_CHECKS", "success").split(",")
        current = seq[min(state["checks_calls"], len(seq) - 1)]
        state["checks_calls"] += 1
        save_state(state)
        if sub == "pr view":
            fields = _opt(argv, "--json", "url")
            data = _fields(pr, fields)
            if "statusCheckRollup" in fields:
                data["statusCheckRollup"] = [{"__typename": "CheckRun", "name": c["name"], "status": "COMPLETED",
                                              "conclusion": c["state"]} for c in CHECK_STATES.get(current, [])]
            print(json.dumps(data))
            return 0
        if current == "none":
            print(f"no checks reported on the '{pr['headRefName']}' branch", file=sys.stderr)
            return 1
        checks = CHECK_STATES[current]
        print(json.dumps([_fields(c, _opt(argv, "--json", "name,state")) for c in checks]))
        return 8 if current == "pending" else (1 if current == "failure" else 0)
    if sub == "pr ready":
        pr["isDraft"] = False
        save_state(state)
        return 0
    if sub == "pr merge":
        if pr["isDraft"]:
            print(f"Pull request {repo}#{pr['number']} is still a draft", file=sys.stderr)
            return 1
        _refresh(pr)
        pr["state"] = "MERGED"
        save_state(state)
        print(f"✓ Squashed and merged pull request {repo}#{pr['number']}", file=sys.stderr)
        return 0
    print(f"unknown command {' '.join(argv)!r} for fake gh", file=sys.stderr)
    return 1


def install(bin_dir: Path) -> Path:
    """Write an executable `gh` shim into bin_dir that runs this fake with the current interpreter."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    shim = bin_dir / "gh"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{Path(__file__).resolve()}" "$@"\n')
    shim.chmod(0o755)
    return shim


def read_calls(log: Path) -> list[dict]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
