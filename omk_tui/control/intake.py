"""The oracle guard: a vague goal is blocked on a human before any agent starts."""

from __future__ import annotations

import re

VAGUE_PHRASES = (
    "make it better", "improve it", "improve things", "fix stuff", "fix things", "clean up", "make it good",
    "do something", "make it nice", "make it work", "optimize it", "refactor it", "update it", "whatever",
)
# Words that make a goal testable: what to change and how to tell it worked.
TESTABLE = re.compile(
    r"\b(test|tests|failing|fails|fix|bug|error|exception|crash|add|implement|support|feature|endpoint|command|"
    r"function|class|module|file|api|cli|flag|option|return|raise|rename|remove|delete|migrate|port|document|"
    r"docs|readme|benchmark|faster|latency|ms|seconds|passes|pass|green|lint|type|types|regression|when|should|"
    r"must|so that)\b",
    re.IGNORECASE,
)
PATHLIKE = re.compile(r"[\w-]+\.[a-z]{1,4}\b|/|`|\d")


def normalize_goal(text: str) -> str:
    return " ".join(text.split())


def vague_reason(goal: str) -> str | None:
    """Why the goal is too vague to run, or None when it is usable."""
    text = normalize_goal(goal)
    words = text.split()
    if len(words) < 3:
        return (
            f"the goal has {len(words)} word(s); say what to change and how to tell it worked "
            "(at least 3 words, e.g. \"fix the failing test in tests/test_math.py\")"
        )
    lower = text.lower()
    has_signal = bool(TESTABLE.search(text) or PATHLIKE.search(text))
    if any(p in lower for p in VAGUE_PHRASES) and not has_signal:
        return (
            "the goal is vague and has no testable signal; name the behaviour, file or test that should change "
            "and how success is checked"
        )
    if not has_signal and len(words) < 6:
        return "the goal has no testable signal; name the behaviour, file or test that should change"
    return None
