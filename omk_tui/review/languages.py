"""Which language a file is in, whether it is a test, and how many tests it defines (Python, JS/TS, Rust, Go)."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

LANG_BY_SUFFIX = {
    ".py": "python", ".pyi": "python",
    ".js": "js", ".jsx": "js", ".mjs": "js", ".cjs": "js", ".ts": "js", ".tsx": "js", ".mts": "js", ".cts": "js",
    ".rs": "rust",
    ".go": "go",
}


def language(path: str) -> str | None:
    return LANG_BY_SUFFIX.get(PurePosixPath(path).suffix.lower())


_JS_TEST = re.compile(r"\.(test|spec)\.[cm]?[jt]sx?$")


def is_test_file(path: str, text: str | None = None) -> bool:
    p = PurePosixPath(path)
    parts = {x.lower() for x in p.parts[:-1]}
    name = p.name
    lang = language(path)
    if lang == "python":
        return name.startswith("test_") or name.endswith("_test.py") or "tests" in parts or "test" in parts
    if lang == "js":
        return bool(_JS_TEST.search(name)) or "__tests__" in parts
    if lang == "go":
        return name.endswith("_test.go")
    if lang == "rust":
        return "tests" in parts or (text is not None and "#[test]" in text and "#[cfg(test)]" not in text)
    return False


def is_cli_entry(path: str, text: str | None = None) -> bool:
    """Files whose job is to print (where print statements are not debug leftovers)."""
    p = PurePosixPath(path)
    parts = {x.lower() for x in p.parts}
    if parts & {"bin", "cli", "commands", "scripts", "examples", "benchmarks", "benches", "tools"}:
        return True
    if p.name in ("__main__.py", "main.py", "cli.py", "main.rs", "main.go", "cli.js", "cli.ts", "setup.py"):
        return True
    if language(path) == "go" and text is not None and re.search(r"^package main\b", text, re.M):
        return True
    return False


_TEST_DEFS = {
    "python": re.compile(r"^\s*(?:async\s+)?def\s+test\w*\s*\(", re.M),
    "js": re.compile(r"(?<![\w.])(?:it|test)(?:\.(?:only|skip|each\([^)]*\)|concurrent))?\s*\(", re.M),
    "rust": re.compile(r"^\s*#\[(?:\w+::)?test\]", re.M),
    "go": re.compile(r"^func\s+Test\w*\s*\(", re.M),
}


def count_tests(path: str, text: str | None) -> int:
    if not text:
        return 0
    lang = language(path)
    if lang is None or (lang in ("python", "js", "go") and not is_test_file(path, text)):
        return 0
    return len(_TEST_DEFS[lang].findall(text))


def comment_prefix(path: str) -> str | None:
    lang = language(path)
    if lang == "python":
        return "#"
    if lang in ("js", "rust", "go"):
        return "//"
    return None
