"""Anti-slop evidence: leftovers that make a change look unfinished (TODOs, debug prints, swallowed errors,
panics, very long files and functions, commented-out code). Each finding carries a rule the confidence score
weighs (see anti_slop.py)."""

from __future__ import annotations

import ast
import re

from omk_tui.review.change import Change, FileChange
from omk_tui.review.evidence import Finding
from omk_tui.review.languages import comment_prefix, is_cli_entry, is_test_file, language

LONG_FILE_LINES = 400
LONG_FUNCTION_LINES = 80

_TODO = re.compile(r"(?:#|//|/\*|\*|--)\s*.*\b(TODO|FIXME|HACK|XXX)\b")
_BREAKPOINT = {
    "python": re.compile(r"\bbreakpoint\s*\(\s*\)|\bpdb\.set_trace\s*\(|\bimport\s+pdb\b"),
    "js": re.compile(r"^\s*debugger\s*;?\s*$"),
    "rust": re.compile(r"\bdbg!\s*\("),
}
_DEBUG_PRINT = {
    "python": re.compile(r"^\s*print\s*\("),
    "js": re.compile(r"\bconsole\.(?:log|debug|trace)\s*\("),
    "rust": re.compile(r"\b(?:e?println|e?print)!\s*\("),
    "go": re.compile(r"\bfmt\.Print(?:ln|f)?\s*\("),
}
_PANIC = {
    "rust": re.compile(r"\.unwrap\(\)|\.expect\(|\bpanic!\s*\(|\btodo!\s*\(|\bunimplemented!\s*\("),
    "go": re.compile(r"(?<![\w.])panic\s*\("),
    "python": re.compile(r"\braise\s+NotImplementedError\b|\bassert\s+False\b"),
    "js": re.compile(r"throw\s+new\s+Error\(\s*[\"'](?:not implemented|todo|unreachable)", re.I),
}
_BARE_EXCEPT = re.compile(r"^\s*except\s*:")
_BROAD_EXCEPT = re.compile(r"^\s*except\s*\(?\s*(?:Base)?Exception\b[^:]*:\s*(pass\b.*)?$")
_EMPTY_CATCH = re.compile(r"catch\s*(?:\([^)]*\))?\s*\{\s*\}")
_CATCH_OPEN = re.compile(r"catch\s*(?:\([^)]*\))?\s*\{\s*$")
_GO_EMPTY_ERR = re.compile(r"if\s+err\s*!=\s*nil\s*\{\s*\}")
_CODE_LIKE = re.compile(
    r"^(?:def |class |if |elif |else|for |while |return\b|import |from \S+ import|let |const |var |fn |func |"
    r"pub |use |package |try|except|catch|\}|print\(|console\.|[\w.\[\]]+\s*(?:=|\+=|-=)\s*\S|[\w.]+\(.*\)\s*;?$)"
)


def _rust_test_start(text: str) -> int:
    """Line number where a Rust file's `#[cfg(test)]` module starts (code after it is test code)."""
    for i, line in enumerate(text.splitlines(), 1):
        if line.strip().startswith("#[cfg(test)]"):
            return i
    return 10**9


def _next_code_line(lines: list[str], index: int) -> str:
    for line in lines[index:]:
        if line.strip():
            return line.strip()
    return ""


def _python_long_functions(f: FileChange) -> list[Finding]:
    try:
        tree = ast.parse(f.new_text or "")
    except (SyntaxError, ValueError):
        return []
    touched = f.added_line_numbers
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno:
            length = node.end_lineno - node.lineno + 1
            if length > LONG_FUNCTION_LINES and touched & set(range(node.lineno, node.end_lineno + 1)):
                out.append(Finding("anti_slop", "long-function", "low",
                                   f"function {node.name} is {length} lines long (over {LONG_FUNCTION_LINES})", f.path, node.lineno))
    return out


_BRACE_FUNC = {
    "js": re.compile(r"^\s*(?:export\s+)?(?:async\s+)?(?:function\b|[\w$]+\s*\([^)]*\)\s*\{|(?:const|let)\s+[\w$]+\s*=\s*(?:async\s*)?\([^)]*\)\s*=>\s*\{)"),
    "rust": re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?(?:async\s+)?(?:unsafe\s+)?fn\s+\w+"),
    "go": re.compile(r"^func\b"),
}
_STRINGS = re.compile(r"\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'|`[^`]*`")


def _brace_long_functions(f: FileChange, lang: str) -> list[Finding]:
    lines = (f.new_text or "").splitlines()
    touched = f.added_line_numbers
    out = []
    i = 0
    while i < len(lines):
        if not _BRACE_FUNC[lang].match(lines[i]):
            i += 1
            continue
        depth, opened, j = 0, False, i
        while j < len(lines):
            code = _STRINGS.sub("", lines[j].split("//", 1)[0])
            depth += code.count("{") - code.count("}")
            opened |= "{" in code
            if opened and depth <= 0:
                break
            if not opened and code.rstrip().endswith(";"):
                break
            j += 1
        length = j - i + 1
        if opened and length > LONG_FUNCTION_LINES and touched & set(range(i + 1, j + 2)):
            out.append(Finding("anti_slop", "long-function", "low",
                               f"function is {length} lines long (over {LONG_FUNCTION_LINES})", f.path, i + 1))
        i = j + 1 if opened else i + 1
    return out


def _commented_code_blocks(f: FileChange) -> list[Finding]:
    prefix = comment_prefix(f.path)
    if prefix is None:
        return []
    out = []
    run: list[tuple[int, str]] = []
    last = -1

    def flush() -> None:
        code_like = [t for _, t in run if _CODE_LIKE.match(t)]
        if len(run) >= 3 and len(code_like) * 3 >= len(run) * 2:
            out.append(Finding("anti_slop", "commented-out-code", "low",
                               f"{len(run)} lines of commented-out code", f.path, run[0][0]))

    for lineno, text in f.added:
        stripped = text.strip()
        if stripped.startswith(prefix) and not stripped.startswith(("#!", "///", "//!")):
            body = stripped[len(prefix):].strip()
            if run and lineno != last + 1:
                flush()
                run = []
            if body:
                run.append((lineno, body))
            last = lineno
        else:
            flush()
            run = []
    flush()
    return out


def slop_findings(change: Change) -> list[Finding]:
    out: list[Finding] = []
    for f in change.files:
        if f.deleted or f.new_text is None:
            continue
        lang = language(f.path)
        test_file = is_test_file(f.path, f.new_text)
        for lineno, text in f.added:
            m = _TODO.search(text)
            if m:
                out.append(Finding("anti_slop", "todo", "low", f"adds a {m.group(1)} comment", f.path, lineno))
        if lang is None:
            continue
        lines = f.new_text.splitlines()
        cli = is_cli_entry(f.path, f.new_text)
        rust_tests_from = _rust_test_start(f.new_text) if lang == "rust" else 10**9
        for lineno, text in f.added:
            code = text.split("#", 1)[0] if lang == "python" else text.split("//", 1)[0]
            bp = _BREAKPOINT.get(lang)
            if bp and bp.search(code):
                out.append(Finding("anti_slop", "breakpoint", "medium", "leaves a debugger breakpoint", f.path, lineno))
            dp = _DEBUG_PRINT.get(lang)
            if dp and dp.search(code) and not cli and not test_file:
                out.append(Finding("anti_slop", "debug-print", "low", f"debug print: {text.strip()[:60]}", f.path, lineno))
            pp = _PANIC.get(lang)
            if pp and pp.search(code) and not test_file and lineno < rust_tests_from:
                out.append(Finding("anti_slop", "panic", "medium", f"panic-style call: {text.strip()[:60]}", f.path, lineno))
            if lang == "python":
                nxt = _next_code_line(lines, lineno)
                if _BARE_EXCEPT.match(code):
                    out.append(Finding("anti_slop", "swallowed-exception", "medium", "bare `except:` catches everything", f.path, lineno))
                else:
                    broad = _BROAD_EXCEPT.match(code)
                    if broad and (broad.group(1) or nxt in ("pass", "...", "continue")):
                        out.append(Finding("anti_slop", "swallowed-exception", "medium",
                                           "`except Exception` that silently ignores the error", f.path, lineno))
            elif lang == "js":
                if _EMPTY_CATCH.search(code) or (_CATCH_OPEN.search(code) and _next_code_line(lines, lineno).startswith("}")):
                    out.append(Finding("anti_slop", "swallowed-exception", "medium", "empty catch block", f.path, lineno))
            elif lang == "go":
                if _GO_EMPTY_ERR.search(code) or (re.search(r"if\s+err\s*!=\s*nil\s*\{\s*$", code)
                                                    and _next_code_line(lines, lineno).startswith("}")):
                    out.append(Finding("anti_slop", "swallowed-exception", "medium", "error checked and ignored", f.path, lineno))
        if len(lines) > LONG_FILE_LINES and f.added:
            out.append(Finding("anti_slop", "long-file", "low", f"file is {len(lines)} lines long (over {LONG_FILE_LINES})", f.path))
        out.extend(_python_long_functions(f) if lang == "python" else _brace_long_functions(f, lang))
        out.extend(_commented_code_blocks(f))
    return out
