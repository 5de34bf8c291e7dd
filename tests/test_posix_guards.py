"""Every POSIX-only call in the server is guarded, so that it starts and trains on Windows too.

A use of a POSIX-only name (os.nice, os.fork, signal.SIGKILL, fcntl, prctl, ...) counts as guarded when it is:
  - inside an `if`, `elif`, `while` or conditional expression (either branch) whose test names sys.platform,
    os.name, platform.system(), or hasattr(...), or names the POSIX module itself (`if fcntl is not None:`);
  - after `if <such a test>: return` (or raise) earlier in the same block;
  - in a `try` with an `except` that catches what the name's absence raises: AttributeError for an attribute,
    ImportError / ModuleNotFoundError for an import (Exception and BaseException catch both);
  - read with getattr(module, "name", default): the default is the guard (getattr without one is not).
Scanned: server/, run.py and tools/. tests/ and bench/ run on Linux only and are left out.
"""
from __future__ import annotations

import ast
import os

from tests.live import ROOT

POSIX_MODULES = {"fcntl", "resource", "pwd", "grp", "termios", "tty", "pty", "posix", "syslog", "crypt"}
POSIX_ATTRS = {
    "os": {"nice", "fork", "forkpty", "setsid", "setpgid", "setpgrp", "getpgid", "getpgrp", "killpg", "getuid",
           "geteuid", "getgid", "getegid", "setuid", "setgid", "seteuid", "chown", "lchown", "fchown", "wait3",
           "wait4", "sync", "mkfifo", "mknod", "pipe2", "sched_setaffinity", "sched_getaffinity", "getloadavg",
           "getpriority", "setpriority", "WNOHANG", "statvfs", "ttyname", "uname", "sysconf", "pathconf",
           "fchmod", "openpty", "O_NONBLOCK", "register_at_fork"},
    "signal": {"SIGKILL", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGCHLD", "SIGCONT", "SIGSTOP",
               "SIGTSTP", "SIGPIPE", "SIGWINCH", "alarm", "setitimer", "getitimer", "pause", "siginterrupt",
               "pthread_kill", "pthread_sigmask", "sigwait", "sigpending"},
    "select": {"poll", "epoll", "kqueue", "devpoll"},
}
ANY_OBJECT = {"prctl"}  # ctypes.CDLL(None).prctl: Linux's libc only
PLATFORM_NAMES = {"platform", "name", "system", "hasattr", "sys_platform", "IS_WINDOWS", "WINDOWS", "POSIX"}
CATCH_ATTR = {"AttributeError", "Exception", "BaseException"}
CATCH_IMPORT = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}


def _names(node: ast.AST) -> set[str]:
    """Every Name id and Attribute attr in an expression."""
    out = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Name):
            out.add(n.id)
        elif isinstance(n, ast.Attribute):
            out.add(n.attr)
    return out


def _platform_test(test: ast.AST) -> bool:
    return bool(_names(test) & (PLATFORM_NAMES | POSIX_MODULES))


def _caught(handlers: list[ast.ExceptHandler]) -> set[str]:
    out = set()
    for h in handlers:
        if h.type is None:
            out |= CATCH_ATTR | CATCH_IMPORT
        else:
            out |= _names(h.type)
    return out


def _exits(body: list[ast.stmt]) -> bool:
    return bool(body) and isinstance(body[-1], (ast.Return, ast.Raise))


def _use(node: ast.AST) -> tuple[str, str] | None:
    """(what, kind) when the node is a POSIX-only use: kind 'attr' (AttributeError) or 'import' (ImportError)."""
    if isinstance(node, ast.Attribute):
        if isinstance(node.value, ast.Name) and node.attr in POSIX_ATTRS.get(node.value.id, ()):
            return f"{node.value.id}.{node.attr}", "attr"
        if node.attr in ANY_OBJECT:
            return node.attr, "attr"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr" \
            and len(node.args) == 2 and isinstance(node.args[0], ast.Name) and isinstance(node.args[1], ast.Constant) \
            and node.args[1].value in POSIX_ATTRS.get(node.args[0].id, ()):
        return f"getattr({node.args[0].id}, {node.args[1].value!r})", "attr"
    if isinstance(node, ast.Import):
        bad = [a.name for a in node.names if a.name.split(".")[0] in POSIX_MODULES]
        if bad:
            return f"import {bad[0]}", "import"
    if isinstance(node, ast.ImportFrom) and node.module:
        if node.module.split(".")[0] in POSIX_MODULES:
            return f"from {node.module} import ...", "import"
        bad = [a.name for a in node.names if a.name in POSIX_ATTRS.get(node.module, ())]
        if bad:
            return f"from {node.module} import {bad[0]}", "import"
    return None


def unguarded(source: str, filename: str = "<source>") -> list[str]:
    """'file:line what' for each POSIX-only use that no guard covers."""
    found = []

    def visit(node: ast.AST, caught: frozenset, guarded: bool) -> None:
        use = _use(node)
        if use and not guarded and not caught & (CATCH_ATTR if use[1] == "attr" else CATCH_IMPORT):
            found.append(f"{filename}:{node.lineno} {use[0]}")
        if isinstance(node, (ast.If, ast.While, ast.IfExp)):
            visit(node.test, caught, guarded)
            inner = guarded or _platform_test(node.test)
            for part in (node.body, node.orelse):
                visit_block(part if isinstance(part, list) else [part], caught, inner)
            return
        if isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
            visit_block(node.body, caught | _caught(node.handlers), guarded)
            for h in node.handlers:
                visit_block(h.body, caught, guarded)
            visit_block(node.orelse, caught | _caught(node.handlers), guarded)
            visit_block(node.finalbody, caught, guarded)
            return
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            caught = frozenset()  # a handler around a definition does not cover the calls in its body
        for _, value in ast.iter_fields(node):
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                visit_block(value, caught, guarded)
            elif isinstance(value, list):
                for child in value:
                    if isinstance(child, ast.AST):
                        visit(child, caught, guarded)
            elif isinstance(value, ast.AST):
                visit(value, caught, guarded)

    def visit_block(body: list, caught: frozenset, guarded: bool) -> None:
        for stmt in body:
            visit(stmt, caught, guarded)
            if isinstance(stmt, ast.If) and not stmt.orelse and _exits(stmt.body) and _platform_test(stmt.test):
                guarded = True  # `if sys.platform != "linux": return` guards the rest of the block

    visit_block(ast.parse(source, filename).body, frozenset(), False)
    return found


def project_sources() -> list[str]:
    out = [os.path.join(ROOT, "run.py")]
    for top in ("server", "tools"):
        for folder, _, files in os.walk(os.path.join(ROOT, top)):
            out += [os.path.join(folder, f) for f in files if f.endswith(".py")]
    return out


def test_the_server_has_no_unguarded_posix_only_call():
    found = []
    for path in project_sources():
        with open(path, encoding="utf-8") as f:
            found += unguarded(f.read(), os.path.relpath(path, ROOT))
    assert found == [], "POSIX-only calls that would fail on Windows:\n" + "\n".join(found)


def test_each_kind_of_unguarded_use_is_found():
    source = """
import os, signal
import fcntl
from os import fork
def lower():
    try:
        os.nice(10)
    except OSError:
        pass
os.kill(pid, signal.SIGKILL)
fn = getattr(os, "setsid")
lib.prctl(1, 15)
"""
    assert [line.split(" ", 1)[1] for line in unguarded(source)] == [
        "import fcntl", "from os import fork", "os.nice", "signal.SIGKILL", "getattr(os, 'setsid')", "prctl"]


def test_each_kind_of_guard_is_accepted():
    source = """
import os, signal, sys
try:
    import fcntl
except ImportError:
    fcntl = None
if fcntl is not None:
    fcntl.flock(f, fcntl.LOCK_EX)
if hasattr(os, "nice"):
    os.nice(10)
KILL = signal.SIGKILL if sys.platform != "win32" else signal.SIGTERM
if os.name == "nt":
    pass
else:
    os.setsid()
try:
    os.nice(1)
except (AttributeError, OSError):
    pass
fn = getattr(os, "fork", None)
def linux_only():
    if sys.platform != "linux":
        return
    lib.prctl(1, 15)
"""
    assert unguarded(source) == []


def test_a_handler_around_a_definition_does_not_guard_its_body():
    source = """
import os
try:
    def later():
        os.nice(10)
except AttributeError:
    pass
"""
    assert [line.split(" ", 1)[1] for line in unguarded(source)] == ["os.nice"]
