"""Confine an agent's writes to the folders it may change, with Linux Landlock.

The scope checks of the ACP client see only the writes an agent asks us to make. A shell command the agent runs
(kimi's Shell tool through a client terminal, or the agent's own child processes) writes by itself. Landlock
makes the kernel refuse those writes: the agent process, every process it starts and every client terminal can
create, write, truncate, rename into and delete files only beneath the allowed folders (the slice's worktree, a
private temporary folder, the agent's own state folder). Reading and running programs stay unrestricted.

The restriction is applied by a small launcher that runs before the agent (``python -S -I confine.py --write DIR
... -- COMMAND ARGS``): it restricts itself, then `exec`s the command, which inherits the restriction and cannot
lift it. This file imports only the standard library's os, sys and ctypes, so the launcher starts in a few
milliseconds.
"""

from __future__ import annotations

import ctypes
import os
import struct
import sys

# Syscall numbers (the same on every architecture) and the access rights of the Landlock ABI (linux/landlock.h).
_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

WRITE_FILE = 1 << 1
REMOVE_DIR = 1 << 4
REMOVE_FILE = 1 << 5
MAKE_CHAR, MAKE_DIR, MAKE_REG, MAKE_SOCK, MAKE_FIFO, MAKE_BLOCK, MAKE_SYM = (1 << n for n in range(6, 13))
REFER = 1 << 13  # ABI 2: link or rename a file into another folder
TRUNCATE = 1 << 14  # ABI 3

# Devices any program may write to: these stay writable.
DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/tty", "/dev/ptmx", "/dev/pts", "/dev/shm")


class ConfineError(OSError):
    """Landlock is missing or refused the restriction."""


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, or 0 where there is none (not Linux, too old, or not enabled)."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        libc = _libc()
        libc.syscall.restype = ctypes.c_long
        version = libc.syscall(ctypes.c_long(_CREATE_RULESET), None, ctypes.c_size_t(0),
                               ctypes.c_uint32(_CREATE_RULESET_VERSION))
    except (OSError, AttributeError):
        return 0
    return max(int(version), 0)


def write_rights(abi: int) -> tuple[int, int]:
    """(the rights on folders, the rights on files) that count as writing, for this ABI."""
    folder = (WRITE_FILE | REMOVE_DIR | REMOVE_FILE | MAKE_CHAR | MAKE_DIR | MAKE_REG | MAKE_SOCK | MAKE_FIFO
              | MAKE_BLOCK | MAKE_SYM)
    file = WRITE_FILE
    if abi >= 2:
        folder |= REFER
    if abi >= 3:
        folder |= TRUNCATE
        file |= TRUNCATE
    return folder, file


def restrict_writes(allowed: list[str]) -> None:
    """Restrict this process (and all it starts from now on) to writing beneath the `allowed` paths.

    Paths that do not exist are left out. Raises ConfineError when the kernel has no Landlock or refuses.
    """
    abi = landlock_abi()
    if abi < 1:
        raise ConfineError("Landlock is not available on this system")
    libc = _libc()
    libc.syscall.restype = ctypes.c_long
    folder_rights, file_rights = write_rights(abi)

    def fail(step: str) -> ConfineError:
        err = ctypes.get_errno()
        return ConfineError(err, f"Landlock {step} failed: {os.strerror(err)}")

    attr = ctypes.create_string_buffer(struct.pack("=Q", folder_rights))
    ruleset = libc.syscall(ctypes.c_long(_CREATE_RULESET), attr, ctypes.c_size_t(len(attr.raw)), ctypes.c_uint32(0))
    if ruleset < 0:
        raise fail("create_ruleset")
    try:
        for path in (*allowed, *DEVICES):
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue  # not there: nothing to allow
            try:
                rights = folder_rights if os.path.isdir(path) else file_rights
                rule = ctypes.create_string_buffer(struct.pack("=Qi", rights, fd))
                if libc.syscall(ctypes.c_long(_ADD_RULE), ctypes.c_int(ruleset), ctypes.c_int(_RULE_PATH_BENEATH),
                                rule, ctypes.c_uint32(0)) < 0:
                    raise fail(f"add_rule for {path}")
            finally:
                os.close(fd)
        if libc.prctl(ctypes.c_int(_PR_SET_NO_NEW_PRIVS), ctypes.c_ulong(1), ctypes.c_ulong(0), ctypes.c_ulong(0),
                      ctypes.c_ulong(0)) != 0:
            raise fail("prctl(NO_NEW_PRIVS)")
        if libc.syscall(ctypes.c_long(_RESTRICT_SELF), ctypes.c_int(ruleset), ctypes.c_uint32(0)) < 0:
            raise fail("restrict_self")
    finally:
        os.close(ruleset)


def launcher(command: list[str], allowed: list[str]) -> list[str]:
    """The command line that runs `command` with its writes confined to beneath `allowed`."""
    argv = [sys.executable, "-S", "-I", os.path.abspath(__file__)]
    for path in allowed:
        argv += ["--write", str(path)]
    return [*argv, "--", *command]


def main(argv: list[str]) -> int:
    allowed: list[str] = []
    rest = list(argv)
    while rest and rest[0] == "--write" and len(rest) >= 2:
        allowed.append(rest[1])
        rest = rest[2:]
    if not rest or rest[0] != "--" or len(rest) < 2:
        print("usage: confine.py [--write DIR]... -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    command = rest[1:]
    try:
        restrict_writes(allowed)
    except ConfineError as exc:
        # Never run the agent unconfined when confinement was asked for.
        print(f"omk-tui: cannot confine the agent's writes ({exc}); set [agent] confine = \"off\" in "
              ".omk/config.toml to run agents without Landlock", file=sys.stderr)
        return 126
    try:
        os.execvp(command[0], command)
    except OSError as exc:
        print(f"omk-tui: cannot start {command[0]!r}: {exc.strerror}", file=sys.stderr)
        return 127
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
