"""Path policy for task scopes (seed 004): read/write paths must stay inside the project.

A task's `read_set` and `write_set` entries are relative paths inside the project, or the wildcard
`project files` (the whole project). Anything else is refused with a reason that names the task, the path and
the rule, because an agent's scope must never reach the repository's own metadata or outside the checkout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from omk_tui.models.tasks import Task

PROJECT_FILES = "project files"  # same value as omk_tui.models.tasks.PROJECT_FILES (kept import-free)
OUTSIDE_ROOTS = "outside the allowed goal policy roots"

# Rule names, as recorded in a refusal.
RULE_EMPTY = "empty"
RULE_CONTROL = "control_character"
RULE_ABSOLUTE = "absolute"
RULE_HOME = "home"
RULE_PARENT = "parent_component"
RULE_GIT = "git_metadata"

RULE_DESCRIPTIONS = {
    RULE_EMPTY: "an empty path; name a file or folder relative to the project root",
    RULE_CONTROL: "it contains a control character",
    RULE_ABSOLUTE: "an absolute path; use a path relative to the project root",
    RULE_HOME: "it starts with `~` (a home folder); use a path relative to the project root",
    RULE_PARENT: "it has a `..` component, which could leave the project",
    RULE_GIT: "a component starts with `.git` (git metadata and settings such as .git/, .github/, .gitignore "
    "are off limits unless the configuration allows git paths)",
}

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")


@dataclass(frozen=True)
class PathRefusal:
    task_id: str
    path: str
    rule: str

    @property
    def reason(self) -> str:
        return f"task {self.task_id!r}: path {self.path!r} is refused: {RULE_DESCRIPTIONS[self.rule]}"

    def __str__(self) -> str:
        return self.reason


@lru_cache(maxsize=65536)  # task graphs repeat the same few paths many times
def normalize_scope_path(path: str) -> str:
    """`./a//b/` -> `a/b`; surrounding whitespace is dropped and `project files` stays the wildcard.

    Like a path's components: empty and `.` components vanish; `..` is kept (the policy refuses it) and an
    absolute path keeps its leading `/`, so normalising never turns a refused path into an accepted one.
    """
    trimmed = path.strip()
    if trimmed == PROJECT_FILES:
        return PROJECT_FILES
    parts = [part for part in trimmed.split("/") if part and part != "."]
    joined = "/".join(parts)
    return "/" + joined if trimmed.startswith("/") else joined


def check_path(task_id: str, path: str, *, allow_git_paths: bool = False) -> PathRefusal | None:
    """The refusal for one scope path of a task, or None when the path is allowed."""
    rule = refused_rule(path, allow_git_paths)
    return None if rule is None else PathRefusal(task_id, path, rule)


@lru_cache(maxsize=65536)
def refused_rule(path: str, allow_git_paths: bool = False) -> str | None:
    """The name of the rule that refuses `path`, or None when it is allowed."""
    if _CONTROL.search(path):
        return RULE_CONTROL
    trimmed = path.strip()
    if trimmed == PROJECT_FILES:
        return None
    if trimmed.startswith(("/", "\\")) or _WINDOWS_DRIVE.match(trimmed):
        return RULE_ABSOLUTE
    if trimmed.startswith("~"):
        return RULE_HOME
    parts = [part for part in trimmed.split("/") if part and part != "."]
    if not parts:
        return RULE_EMPTY
    if ".." in parts:
        return RULE_PARENT
    if not allow_git_paths and any(part.startswith(".git") for part in parts):
        return RULE_GIT
    return None


def task_path_refusals(task: "Task", *, allow_git_paths: bool = False) -> list[PathRefusal]:
    """Every refused path of a task's read and write sets, in the order they appear."""
    return [
        PathRefusal(task.id, path, rule)
        for path in [*task.read_set, *task.write_set]
        if (rule := refused_rule(path, allow_git_paths)) is not None
    ]


def check_task_paths(task: "Task", *, allow_git_paths: bool = False) -> list[str]:
    """The reasons of every refused path of a task (empty when all its paths are allowed)."""
    return [refusal.reason for refusal in task_path_refusals(task, allow_git_paths=allow_git_paths)]
