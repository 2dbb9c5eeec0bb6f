"""Deterministic evidence for the security, architect, code and test passes.

Every detector looks at what the change introduced (added lines, new or changed files), never at code the
change did not touch, so an old problem elsewhere never blocks a slice.
"""

from __future__ import annotations

import fnmatch
import json
import re
import tomllib
from dataclasses import asdict, dataclass
from pathlib import PurePosixPath

from omk_tui.models.tasks import PROJECT_FILES
from omk_tui.review.change import MAX_TEXT_BYTES, Change
from omk_tui.review.dependencies import dependency_names, manifest_parser
from omk_tui.review.languages import count_tests, is_test_file, language

SEVERITIES = ("info", "low", "medium", "high", "critical")


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else 2


@dataclass
class Finding:
    kind: str  # the pass: architect | code | test | security | performance | anti_slop
    rule: str
    severity: str
    message: str
    path: str = ""
    line: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        where = f"{self.path}:{self.line}: " if self.path and self.line else (f"{self.path}: " if self.path else "")
        return f"[{self.severity}] {where}{self.message}"


# ---------------------------------------------------------------- security
_SECRET_PATTERNS = [
    ("private-key", re.compile(r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY(?: BLOCK)?-----")),
    ("aws-access-key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("github-token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b")),
    ("slack-token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("openai-key", re.compile(r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}")),
    ("google-api-key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
]
_ASSIGNED_SECRET = re.compile(
    r"(?i)\b[\w.-]*(?:api[_-]?key|secret|token|passw(?:or)?d)[\w.-]*[\"']?\s*(?::=|=|:)\s*[\"']([^\"'\s]{16,})[\"']"
)
_PLACEHOLDER = re.compile(r"(?i)example|placeholder|changeme|your[_-]|dummy|\$\{|\{\{|<[^>]*>|^x+$|^\*+$")
_SECRET_FILES = re.compile(r"(?:^|/)(?:\.env(?:\.[\w-]+)?|id_rsa|id_ed25519|id_ecdsa|[^/]*\.pem|[^/]*\.p12)$")


def security_findings(change: Change) -> list[Finding]:
    out: list[Finding] = []
    for f in change.files:
        if f.deleted:
            continue
        if f.new_size > MAX_TEXT_BYTES:
            out.append(Finding("security", "large-file", "high",
                               f"file is {f.new_size // 1024} KiB (over 512 KiB): keep large or generated files out of the repository", f.path))
        name = PurePosixPath(f.path).name
        if _SECRET_FILES.search(f.path) and not name.endswith((".example", ".sample", ".template")):
            out.append(Finding("security", "secret-file", "high", f"adds {name}, a file that usually holds credentials", f.path))
        for lineno, text in f.added:
            for rule, pattern in _SECRET_PATTERNS:
                if pattern.search(text):
                    out.append(Finding("security", rule, "critical", f"looks like a committed secret ({rule})", f.path, lineno))
                    break
            else:
                m = _ASSIGNED_SECRET.search(text)
                if m and not _PLACEHOLDER.search(m.group(1)) and len(set(m.group(1))) > 4:
                    out.append(Finding("security", "hardcoded-credential", "critical",
                                       "a credential is assigned a literal value; read it from the environment or a secret store",
                                       f.path, lineno))
    return out


# ---------------------------------------------------------------- architect
def _normalise(path: str) -> str:
    return path.strip().strip("/").removeprefix("./")


def in_scope(path: str, write_set: list[str]) -> bool:
    path = _normalise(path)
    for entry in write_set:
        entry = _normalise(entry)
        if entry in (PROJECT_FILES, "", ".", "*", "**"):
            return True
        if path == entry or path.startswith(entry + "/"):
            return True
        if any(ch in entry for ch in "*?[") and (fnmatch.fnmatch(path, entry) or fnmatch.fnmatch(path, entry + "/*")):
            return True
    return False


def architect_findings(change: Change, write_set: list[str] | None, scope_violations: str = "block") -> list[Finding]:
    """`scope_violations` "warn" reports out-of-scope writes at medium severity, so they do not fail the pass."""
    out: list[Finding] = []
    severity, note = ("medium", " (allowed: review.scope_violations = \"warn\")") if scope_violations == "warn" else ("high", "")
    if write_set is not None:
        for f in change.files:
            for p in filter(None, (f.path, f.old_path)):
                if not in_scope(p, write_set):
                    out.append(Finding("architect", "outside-scope", severity,
                                       f"changes {p}, outside the declared write scope ({', '.join(write_set) or 'nothing'}){note}", p))
    for f in change.files:
        if manifest_parser(f.path) is None or f.deleted:
            continue
        added = sorted(dependency_names(f.path, f.new_text) - dependency_names(f.path, f.old_text))
        for dep in added:
            out.append(Finding("architect", "new-dependency", "medium", f"adds the dependency {dep!r}", f.path))
    return out


# ---------------------------------------------------------------- code
_CONFLICT = re.compile(r"^(?:<{7}|>{7})(?: |$)|^={7}$|^\|{7}(?: |$)")


def code_findings(change: Change) -> list[Finding]:
    out: list[Finding] = []
    for f in change.files:
        if f.deleted or f.new_text is None:
            continue
        lang = language(f.path)
        suffix = PurePosixPath(f.path).suffix.lower()
        if lang == "python":
            try:
                compile(f.new_text, f.path, "exec", dont_inherit=True)
            except SyntaxError as exc:
                out.append(Finding("code", "syntax-error", "high", f"Python syntax error: {exc.msg}", f.path, exc.lineno))
            except ValueError as exc:
                out.append(Finding("code", "syntax-error", "high", f"Python source cannot compile: {exc}", f.path))
        elif suffix == ".json":
            try:
                json.loads(f.new_text)
            except ValueError as exc:
                out.append(Finding("code", "invalid-json", "high", f"invalid JSON: {exc}", f.path))
        elif suffix == ".toml":
            try:
                tomllib.loads(f.new_text)
            except tomllib.TOMLDecodeError as exc:
                out.append(Finding("code", "invalid-toml", "high", f"invalid TOML: {exc}", f.path))
        trailing = 0
        tab_indent = space_indent = False
        for lineno, text in f.added:
            if _CONFLICT.match(text):
                out.append(Finding("code", "conflict-marker", "high", "merge conflict marker left in the file", f.path, lineno))
            if text != text.rstrip():
                trailing += 1
            indent = text[: len(text) - len(text.lstrip())]
            tab_indent |= "\t" in indent
            space_indent |= " " in indent
        if trailing:
            out.append(Finding("code", "trailing-whitespace", "low", f"{trailing} added line(s) end in whitespace", f.path))
        if lang == "python" and tab_indent and space_indent:
            out.append(Finding("code", "mixed-indentation", "low", "added lines mix tab and space indentation", f.path))
    return out


# ---------------------------------------------------------------- test
_SKIP_MARKERS = [
    ("python", re.compile(r"@pytest\.mark\.(?:skip|xfail)\b(?!if)|\bpytest\.(?:skip|xfail)\s*\(|@unittest\.(?:skip|expectedFailure)\b(?!If|Unless)")),
    ("js", re.compile(r"\b(?:it|test|describe)\.(?:skip|todo)\s*\(|(?<![\w.])x(?:it|describe|test)\s*\(")),
    ("rust", re.compile(r"#\[ignore\b")),
    ("go", re.compile(r"\bt\.Skip(?:Now|f)?\s*\(")),
]
_CONDITIONAL_SKIP = re.compile(r"@pytest\.mark\.skipif\b|@unittest\.skip(?:If|Unless)\b")


def test_findings(change: Change) -> list[Finding]:
    out: list[Finding] = []
    before = after = 0
    touched_source = touched_tests = False
    for f in change.files:
        lang = language(f.path)
        if lang is None:
            continue
        old_path = f.old_path or f.path
        n_before = count_tests(old_path, f.old_text)
        n_after = 0 if f.deleted else count_tests(f.path, f.new_text)
        before += n_before
        after += n_after
        test_file = is_test_file(f.path, f.new_text or f.old_text)
        touched_tests |= test_file
        touched_source |= not test_file
        if f.deleted and test_file:
            out.append(Finding("test", "test-file-deleted", "high",
                               f"deletes a test file ({n_before} test(s))", f.path))
        for lineno, text in f.added:
            if _CONDITIONAL_SKIP.search(text):
                out.append(Finding("test", "conditional-skip", "medium", "adds a conditional skip", f.path, lineno))
                continue
            for marker_lang, pattern in _SKIP_MARKERS:
                if marker_lang == lang and pattern.search(text):
                    out.append(Finding("test", "test-disabled", "high",
                                       f"skips a test or marks it expected to fail: {text.strip()[:80]}", f.path, lineno))
                    break
    if after < before:
        out.append(Finding("test", "test-count-dropped", "high",
                           f"the number of tests in the changed files dropped from {before} to {after}"))
    if touched_source and not touched_tests:
        out.append(Finding("test", "no-test-change", "low", "source code changed without any test change"))
    return out
