"""Dependency names declared by a manifest (requirements, pyproject, package.json, Cargo.toml, go.mod)."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import PurePosixPath

_REQ_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _pep508_names(items) -> set[str]:
    out = set()
    for item in items or []:
        if isinstance(item, str):
            m = _REQ_NAME.match(item)
            if m:
                out.add(m.group(1).lower().replace("_", "-"))
    return out


def _requirements(text: str) -> set[str]:
    lines = [ln.split("#", 1)[0].strip() for ln in text.splitlines()]
    return _pep508_names(ln for ln in lines if ln and not ln.startswith("-"))


def _pyproject(text: str) -> set[str]:
    data = tomllib.loads(text)
    project = data.get("project", {})
    names = _pep508_names(project.get("dependencies"))
    for group in (project.get("optional-dependencies") or {}).values():
        names |= _pep508_names(group)
    for group in (data.get("dependency-groups") or {}).values():
        names |= _pep508_names(group)
    poetry = data.get("tool", {}).get("poetry", {})
    for key in ("dependencies", "dev-dependencies"):
        names |= {n.lower() for n in (poetry.get(key) or {}) if n.lower() != "python"}
    for group in (poetry.get("group") or {}).values():
        names |= {n.lower() for n in (group.get("dependencies") or {})}
    return names


def _package_json(text: str) -> set[str]:
    data = json.loads(text)
    names = set()
    for key in ("dependencies", "devDependencies", "peerDependencies", "optionalDependencies"):
        section = data.get(key)
        if isinstance(section, dict):
            names |= set(section)
    return names


def _cargo(text: str) -> set[str]:
    data = tomllib.loads(text)
    names = set()
    tables = [data] + list((data.get("target") or {}).values())
    for table in tables:
        for key in ("dependencies", "dev-dependencies", "build-dependencies"):
            names |= set(table.get(key) or {})
    names |= set((data.get("workspace") or {}).get("dependencies") or {})
    return names


_GO_REQUIRE_BLOCK = re.compile(r"^require\s*\((.*?)^\)", re.M | re.S)
_GO_REQUIRE_LINE = re.compile(r"^require\s+(\S+)\s+\S+", re.M)


def _go_mod(text: str) -> set[str]:
    names = set(_GO_REQUIRE_LINE.findall(text))
    for block in _GO_REQUIRE_BLOCK.findall(text):
        for line in block.splitlines():
            parts = line.split("//", 1)[0].split()
            if len(parts) >= 2:
                names.add(parts[0])
    return names


def manifest_parser(path: str):
    name = PurePosixPath(path).name
    if name == "pyproject.toml":
        return _pyproject
    if name.startswith("requirements") and name.endswith((".txt", ".in")):
        return _requirements
    if name == "package.json":
        return _package_json
    if name == "Cargo.toml":
        return _cargo
    if name == "go.mod":
        return _go_mod
    return None


def dependency_names(path: str, text: str | None) -> set[str]:
    """Names declared in a manifest; empty when the file is not a manifest, missing or unreadable."""
    parser = manifest_parser(path)
    if parser is None or not text:
        return set()
    try:
        return parser(text)
    except (ValueError, TypeError, AttributeError):
        return set()
