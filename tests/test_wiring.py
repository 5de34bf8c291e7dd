"""The parts are wired in one place: faces reach them through services(), and no part is filled in from outside.

Read with `ast` from the sources of server/ and run.py, like tests/test_layers.py.
"""
from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SERVER = ROOT / "server"
ACCESSOR = SERVER / "web" / "services.py"  # the one module that reads and writes app.extensions
CHAT_SERVICE = SERVER / "chat" / "service.py"
LOCAL_BACKEND = SERVER / "backends" / "local"  # the only part that may touch the local model's scheduler
LOOKUPS = {"get", "setdefault", "pop", "__getitem__", "__contains__"}


def sources() -> list[Path]:
    return sorted(SERVER.rglob("*.py")) + [ROOT / "run.py"]


def is_extensions(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "extensions"


def on_an_app(node: ast.AST) -> bool:
    """app, current_app, self.app: what holds a Flask app's extensions."""
    name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""
    return name in ("app", "current_app")


def extension_lookups(path: Path, source: str | None = None) -> list[str]:
    """Every app.extensions[...] / .get(...) / `in` of this file, as 'path:line'."""
    tree = ast.parse(source if source is not None else path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and is_extensions(node.value):
            found.append(node.lineno)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in LOOKUPS \
                and is_extensions(node.func.value):
            found.append(node.lineno)
        elif isinstance(node, ast.Compare) and any(is_extensions(c) for c in node.comparators):
            found.append(node.lineno)
        elif is_extensions(node) and on_an_app(node.value):  # ext = current_app.extensions; ext["..."]
            found.append(node.lineno)
    return [f"{path.relative_to(ROOT)}:{line}" for line in sorted(set(found))]


def chat_service_attributes() -> set[str]:
    """The public attributes ChatService.__init__ gives itself (a private name like _lock is every class's)."""
    tree = ast.parse(CHAT_SERVICE.read_text())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "ChatService")
    init = next(n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")
    return {t.attr for n in ast.walk(init) if isinstance(n, (ast.Assign, ast.AnnAssign))
            for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
            if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self"
            and not t.attr.startswith("_")}


def assignments_from_outside(path: Path, names: set[str], source: str | None = None) -> list[str]:
    """`something.NAME = ...` (or setattr) for a ChatService attribute NAME, on anything but self."""
    tree = ast.parse(source if source is not None else path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else \
            [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else []
        for t in targets:
            for one in (t.elts if isinstance(t, ast.Tuple) else [t]):
                if isinstance(one, ast.Attribute) and one.attr in names and \
                        not (isinstance(one.value, ast.Name) and one.value.id == "self"):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: .{one.attr} =")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr" \
                and len(node.args) > 1 and isinstance(node.args[1], ast.Constant) and node.args[1].value in names:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: setattr {node.args[1].value}")
    return found


def scheduler_reads(path: Path, source: str | None = None) -> list[str]:
    tree = ast.parse(source if source is not None else path.read_text(), str(path))
    return [f"{path.relative_to(ROOT)}:{n.lineno}" for n in ast.walk(tree)
            if isinstance(n, ast.Attribute) and n.attr == "scheduler"]


def test_only_the_accessor_reads_app_extensions():
    found = [hit for path in sources() if path != ACCESSOR for hit in extension_lookups(path)]
    assert not found, "reach the services through server.web.services.services(), not app.extensions:\n" + \
        "\n".join(found)


def test_chat_service_gets_its_parts_in_its_constructor():
    names = chat_service_attributes()
    assert {"knowledge", "graph", "attachments", "registry", "store"} <= names
    found = [hit for path in sources() if path != CHAT_SERVICE for hit in assignments_from_outside(path, names)]
    assert not found, "a ChatService attribute set from outside (pass it to ChatService(...)):\n" + "\n".join(found)
    tree = ast.parse(CHAT_SERVICE.read_text())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "ChatService")
    placeholders = [n.lineno for n in cls.body if isinstance(n, (ast.Assign, ast.AnnAssign))]
    assert not placeholders, f"class-level placeholders in ChatService (lines {placeholders}): filled in later?"


def test_only_the_local_backend_touches_its_scheduler():
    found = [hit for path in sources() if LOCAL_BACKEND not in path.parents for hit in scheduler_reads(path)]
    assert not found, "ask the local backend through its methods (e.g. loaded_device()):\n" + "\n".join(found)


def test_services_cannot_be_changed_after_the_start():
    from server.web.services import Services

    params = getattr(Services, "__dataclass_params__")
    assert params.frozen
    names = {f.name for f in dataclasses.fields(Services)}
    assert {"chat", "knowledge", "graph", "graph_builder", "tuning", "ledger", "pairing", "tls"} <= names


@pytest.mark.parametrize("source", [
    'cfg = current_app.extensions["chat_service"].cfg\n',
    'ledger = app.extensions.get("ledger")\n',
    'if "pairing" not in current_app.extensions: pass\n',
    'app.extensions["tls_fingerprint"] = fp\n',
    'ext = current_app.extensions\n',
])
def test_an_extensions_lookup_is_caught(source):
    assert extension_lookups(SERVER / "web" / "kb.py", source)


def test_the_checkers_catch_what_they_guard():
    names = chat_service_attributes()
    web = SERVER / "web" / "graph.py"
    assert assignments_from_outside(web, names, "service.graph = graph\n")
    assert assignments_from_outside(web, names, "service.knowledge = app.extensions['k'] = kb\n")
    assert assignments_from_outside(web, names, "setattr(service, 'attachments', store)\n")
    assert not assignments_from_outside(web, names, "self.graph = graph\n")
    assert not extension_lookups(SERVER / "web" / "certificate.py", "cert.extensions.get_extension_for_class(X)\n")
    assert scheduler_reads(SERVER / "web" / "tuning.py", "loaded = local.scheduler.loaded\n")
