"""Path policy for task scopes (seed 004): relative paths inside the project, or `project files`."""

from __future__ import annotations

import pytest

from omk_tui.models.tasks import Task
from omk_tui.planning.path_policy import (
    OUTSIDE_ROOTS,
    PROJECT_FILES,
    RULE_ABSOLUTE,
    RULE_CONTROL,
    RULE_EMPTY,
    RULE_GIT,
    RULE_HOME,
    RULE_PARENT,
    check_path,
    check_task_paths,
    normalize_scope_path,
    task_path_refusals,
)


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("./a//b/", "a/b"),
        ("a/./b", "a/b"),
        ("  src/app.py\t", "src/app.py"),
        ("src/", "src"),
        (".//src///x", "src/x"),
        ("project files", PROJECT_FILES),
        ("  project files ", PROJECT_FILES),
        ("./project files", PROJECT_FILES),
        ("/etc/passwd", "/etc/passwd"),  # stays absolute: normalising never hides a refused path
        ("a/../b", "a/../b"),
        (".", ""),
    ],
)
def test_normalize_scope_path(raw: str, normalized: str):
    assert normalize_scope_path(raw) == normalized


@pytest.mark.parametrize(
    ("path", "rule"),
    [
        ("/etc/passwd", RULE_ABSOLUTE),
        ("  /tmp/x", RULE_ABSOLUTE),
        ("\\\\server\\share", RULE_ABSOLUTE),
        ("C:\\Users\\x", RULE_ABSOLUTE),
        ("../outside", RULE_PARENT),
        ("src/../../outside", RULE_PARENT),
        ("src/..", RULE_PARENT),
        ("~/notes", RULE_HOME),
        ("~root/x", RULE_HOME),
        ("src/a\nb", RULE_CONTROL),
        ("src/a\x00", RULE_CONTROL),
        ("src/\x1b[31m", RULE_CONTROL),
        ("src\t/x", RULE_CONTROL),
        (".git", RULE_GIT),
        (".git/config", RULE_GIT),
        ("./.git/hooks/pre-commit", RULE_GIT),
        (".github/workflows/ci.yml", RULE_GIT),
        (".gitignore", RULE_GIT),
        ("sub/.gitmodules", RULE_GIT),
        ("", RULE_EMPTY),
        ("   ", RULE_EMPTY),
        ("./", RULE_EMPTY),
        (".", RULE_EMPTY),
    ],
)
def test_each_rule_refuses_its_paths(path: str, rule: str):
    refusal = check_path("t1", path)
    assert refusal is not None
    assert refusal.rule == rule
    assert refusal.task_id == "t1"
    assert refusal.path == path
    assert "'t1'" in refusal.reason and repr(path) in refusal.reason


@pytest.mark.parametrize(
    "path",
    ["src/app.py", "./src//app.py/", "README.md", "docs", "project files", " project files ", "a/~b", "a..b/c",
     "src/github-notes/x", "my.git/x", ".env", "src/.hidden", "a b/c d.txt"],
)
def test_allowed_paths(path: str):
    assert check_path("t1", path) is None


def test_git_paths_are_allowed_when_the_configuration_says_so():
    for path in (".git/config", ".github/workflows/ci.yml", ".gitignore"):
        assert check_path("t1", path, allow_git_paths=True) is None
    # The other rules still hold.
    assert check_path("t1", "/abs/.github", allow_git_paths=True).rule == RULE_ABSOLUTE
    assert check_path("t1", "../.gitignore", allow_git_paths=True).rule == RULE_PARENT


def test_a_refusal_names_the_task_the_path_and_the_rule():
    refusal = check_path("build-api", "../secrets.txt")
    assert refusal.reason == (
        "task 'build-api': path '../secrets.txt' is refused: it has a `..` component, which could leave the project"
    )
    assert str(refusal) == refusal.reason


def test_check_task_paths_lists_every_refused_read_and_write_path():
    task = Task(
        id="t9", title="T9",
        read_set=["src/ok.py", "~/.ssh/id_rsa"],
        write_set=["project files", "/etc/hosts", ".gitignore", "docs/ok.md"],
    )
    reasons = check_task_paths(task)
    assert len(reasons) == 3
    assert "'~/.ssh/id_rsa'" in reasons[0] and "home folder" in reasons[0]
    assert "'/etc/hosts'" in reasons[1] and "absolute" in reasons[1]
    assert "'.gitignore'" in reasons[2] and ".git" in reasons[2]
    assert all("'t9'" in r for r in reasons)
    assert [r.rule for r in task_path_refusals(task)] == [RULE_HOME, RULE_ABSOLUTE, RULE_GIT]
    assert check_task_paths(task, allow_git_paths=True) == reasons[:2]


def test_a_clean_task_has_no_reasons():
    task = Task(id="ok", title="OK", read_set=["docs", "project files"], write_set=["./src//x.py"])
    assert check_task_paths(task) == []


def test_the_planning_intake_prefix_is_omks_phrase():
    assert OUTSIDE_ROOTS == "outside the allowed goal policy roots"
