"""Approval policies: who says yes or no to an agent's tool call.

Backend-neutral: the ACP client and the Wire backend both turn their permission request into a
`PermissionRequest` and call `decide(request, config)`. The policy is really applied (omk never passed its
policy to its workers, so every approval there was rejected).

- `never`: reject every request.
- `safe`: approve read-only tools (kinds read, search, think, fetch), reject the others.
- `yolo`: approve everything.
- `pattern:<regex>`: approve a tool whose title or command matches the regex (re.search), reject the others.
- `ask`: the session's asker (the person, in the TUI) decides within `ask_timeout_secs`, else reject; with no
  asker (headless) the configured `ask_fallback` decides — a decision (`reject`, `approve`) or another policy.
A read-only session rejects every mutating tool whatever the policy.
"""

from __future__ import annotations

import asyncio
import functools
import re
from dataclasses import dataclass

from omk_tui.agents.base import Decision, PermissionRequest, SessionConfig

READ_ONLY_KINDS = frozenset({"read", "search", "think", "fetch"})
DECISIONS = ("approve", "approve_for_session", "reject")
POLICY_NAMES = ("never", "safe", "yolo", "pattern:<regex>", "ask")


class PolicyError(ValueError):
    """An approval policy string that cannot be understood."""


@dataclass(frozen=True)
class PolicyDecision:
    decision: Decision
    by: str  # policy:<name> | person | timeout | fallback:<x> | read_only
    reason: str = ""

    @property
    def approved(self) -> bool:
        return self.decision != "reject"


@dataclass(frozen=True)
class ApprovalPolicy:
    name: str  # never | safe | yolo | pattern | ask
    pattern: re.Pattern[str] | None = None

    @property
    def label(self) -> str:
        return f"pattern:{self.pattern.pattern}" if self.pattern is not None else self.name


@functools.lru_cache(maxsize=64)  # policies are immutable; a session asks for its own on every request and write
def parse_policy(spec: str) -> ApprovalPolicy:
    text = (spec or "").strip()
    if text in ("never", "safe", "yolo", "ask"):
        return ApprovalPolicy(text)
    if text.startswith("pattern:"):
        regex = text[len("pattern:"):]
        if not regex:
            raise PolicyError("approval policy 'pattern:' needs a regular expression, e.g. pattern:^Shell: pytest")
        try:
            return ApprovalPolicy("pattern", re.compile(regex))
        except re.error as exc:
            raise PolicyError(f"approval policy {text!r}: bad regular expression ({exc})") from exc
    raise PolicyError(f"unknown approval policy {text!r}; use one of: {', '.join(POLICY_NAMES)}")


def check_policy(spec: str) -> None:
    """Raise PolicyError if `spec` (or an `ask` fallback) is not a valid policy."""
    parse_policy(spec)


def is_mutating(request: PermissionRequest) -> bool:
    return (request.tool_kind or "other") not in READ_ONLY_KINDS


def _static_decision(policy: ApprovalPolicy, request: PermissionRequest) -> PolicyDecision:
    by = f"policy:{policy.label}"
    if policy.name == "yolo":
        return PolicyDecision("approve", by, "yolo approves every tool")
    if policy.name == "never":
        return PolicyDecision("reject", by, "the approval policy is never")
    if policy.name == "safe":
        if is_mutating(request):
            return PolicyDecision("reject", by, f"safe rejects {request.tool_kind or 'other'} tools")
        return PolicyDecision("approve", by, f"safe approves {request.tool_kind} tools")
    if policy.name == "pattern" and policy.pattern is not None:
        for subject in (request.title, request.command):
            if subject and policy.pattern.search(subject):
                return PolicyDecision("approve", by, f"{subject!r} matches {policy.pattern.pattern!r}")
        return PolicyDecision("reject", by, f"no match for {policy.pattern.pattern!r}")
    raise PolicyError(f"policy {policy.label!r} needs a person")  # pragma: no cover - ask handled by caller


def parse_fallback(spec: str) -> str | ApprovalPolicy:
    """What answers for `ask` when no person can: a decision (reject, approve, approve_for_session) or a policy
    other than ask. PolicyError for anything else (`[agent] ask_fallback` is checked with this when read)."""
    text = (spec or "reject").strip()
    if text in DECISIONS:
        return text
    try:
        policy = parse_policy(text)
    except PolicyError as exc:
        raise PolicyError(f"not a decision ({', '.join(DECISIONS)}) or a policy: {exc}") from None
    if policy.name == "ask":
        raise PolicyError("'ask' cannot be its own fallback: there is no person to ask")
    return policy


def _fallback(config: SessionConfig, request: PermissionRequest) -> PolicyDecision:
    try:
        policy = parse_fallback(config.ask_fallback)
    except PolicyError as exc:
        return PolicyDecision("reject", "fallback:reject", f"unusable ask fallback ({exc}); rejected")
    if isinstance(policy, str):
        return PolicyDecision(policy, f"fallback:{policy}", "no person to ask (headless)")  # type: ignore[arg-type]
    decided = _static_decision(policy, request)
    return PolicyDecision(decided.decision, f"fallback:{policy.label}", decided.reason)


async def decide(request: PermissionRequest, config: SessionConfig) -> PolicyDecision:
    """Apply the session's policy to one permission request. Never raises for a request; a bad policy
    string raises PolicyError (sessions validate it when they start)."""
    if config.read_only and is_mutating(request):
        return PolicyDecision("reject", "read_only", "this session is read-only")
    policy = parse_policy(config.approval)
    if policy.name != "ask":
        return _static_decision(policy, request)
    if config.asker is None:
        return _fallback(config, request)
    try:
        answer = await asyncio.wait_for(config.asker(request), timeout=config.ask_timeout_secs)
    except asyncio.TimeoutError:
        return PolicyDecision("reject", "timeout", f"no answer within {config.ask_timeout_secs:g}s")
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # an asker that fails must not approve anything
        return PolicyDecision("reject", "person", f"the question failed: {exc}")
    if answer not in DECISIONS:
        return PolicyDecision("reject", "person", f"unknown answer {answer!r}")
    return PolicyDecision(answer, "person", "")
