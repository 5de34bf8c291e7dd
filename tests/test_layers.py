"""The house stays in order: imports inside server/ run one way, and the parts below the faces know no Flask.

Every module's imports are read with `ast` (functions' late imports too) and checked against ALLOWED.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

SERVER = Path(__file__).resolve().parent.parent / "server"

# part -> the parts it may import (itself included). "base" is the top of server/ (config, errors, paths,
# concurrency, key_tokens, text_rules, file_rows, file_lock, shapes); "app" is server/__init__.py, which wires
# everything.
BELOW_CHAT = {"base", "wire", "store", "knowledge", "graph", "tuning", "backends", "cluster", "devices"}
ALLOWED = {
    "base": {"base"},
    "wire": {"base", "wire"},
    "store": {"base", "store"},
    "devices": {"base", "devices"},
    "knowledge": {"base", "knowledge"},
    "graph": {"base", "knowledge", "graph"},  # the graph reads passages through the library's public calls
    "backends": {"base", "wire", "backends"},
    "tuning": {"base", "backends", "tuning"},  # trains in the prompt format the local backend serves
    "cluster": {"base", "wire", "store", "devices", "cluster"},
    "chat": BELOW_CHAT | {"chat"},
    "web": BELOW_CHAT | {"chat", "web"},
    "app": BELOW_CHAT | {"chat", "web", "app"},
}
# No Flask, Socket.IO or Engine.IO below the faces (the wire's fast paths and the Redis queue's link are
# the two places that must speak to python-socketio / engine.io themselves).
WEB_LIBRARIES = {"flask", "flask_socketio", "flask_cors", "socketio", "engineio", "werkzeug"}
MAY_USE_WEB_LIBRARIES = {"web", "app", "wire"}
WEB_LIBRARY_EXCEPTIONS = {"server.cluster.redis_link"}


def module_name(path: Path) -> str:
    parts = path.relative_to(SERVER.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def part_of(module: str) -> str:
    """The part a dotted module of server/ belongs to."""
    pieces = module.split(".")
    if len(pieces) == 1:
        return "app"
    if (SERVER / pieces[1]).is_dir():
        return pieces[1]
    return "base"


def imports_of(path: Path, source: str | None = None) -> list[tuple[int, str]]:
    """(line, absolute module) for every import in a file, relative ones resolved."""
    tree = ast.parse(source if source is not None else path.read_text(), str(path))
    module = module_name(path)
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
                if node.module is None:  # from . import a, b: each may be a module of its own
                    found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names]
                    continue
                found.append((node.lineno, target))
            else:
                found.append((node.lineno, node.module or ""))
    return found


def resolves(module: str) -> str:
    """The longest prefix of `module` that is a real module or package of server/ (a name may be a class)."""
    pieces = module.split(".")
    while len(pieces) > 1:
        path = SERVER.parent.joinpath(*pieces)
        if path.is_dir() or path.with_suffix(".py").exists():
            return ".".join(pieces)
        pieces.pop()
    return "server"


def violations(path: Path, source: str | None = None) -> list[str]:
    """Sentences for every import of this file against the allowed directions."""
    me = module_name(path)
    mine = part_of(me)
    found = []
    for line, target in imports_of(path, source):
        top = target.split(".")[0]
        if top == "server":
            theirs = part_of(resolves(target))
            if theirs not in ALLOWED[mine]:
                found.append(f"{path.relative_to(SERVER.parent)}:{line}: {mine} may not import {theirs} ({target})")
        elif top in WEB_LIBRARIES and mine not in MAY_USE_WEB_LIBRARIES and me not in WEB_LIBRARY_EXCEPTIONS:
            found.append(f"{path.relative_to(SERVER.parent)}:{line}: {mine} may not use {top}")
    return found


def test_every_part_is_in_the_table():
    parts = {p.name for p in SERVER.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert parts <= set(ALLOWED), f"a new package needs its line in ALLOWED: {parts - set(ALLOWED)}"


def test_imports_run_one_way():
    found = [v for path in sorted(SERVER.rglob("*.py")) for v in violations(path)]
    assert not found, "imports against the house's direction:\n" + "\n".join(found)


def test_a_wrong_way_import_is_caught():
    """The checker itself: a lower part reaching up, or Flask in the library, is reported."""
    store = SERVER / "store" / "base.py"
    assert violations(store, "from ..chat.relay import Request\n")
    assert violations(store, "from ..web import views\n")
    assert violations(SERVER / "knowledge" / "index.py", "import flask\n")
    assert violations(SERVER / "cluster" / "single.py", "from ..chat import schemas\n")
    assert not violations(SERVER / "chat" / "service.py", "from ..cluster.single import SingleProcess\n")


# The top floor holds the base every part may import; anything that belongs to one part lives in its folder.
BASE = {"__init__", "config", "errors", "paths", "concurrency", "key_tokens", "text_rules", "file_rows", "file_lock"}
# shapes: the wire's payloads as TypedDicts; the library, the graph and tuning build them and may not import chat.
BASE |= {"shapes"}


def test_the_top_floor_holds_only_the_base():
    assert {p.stem for p in SERVER.glob("*.py")} <= BASE


# The graph's Cypher lives in three modules of its storage; every other module calls their methods. export.py
# writes Cypher as text into a file a person downloads (it never reaches the engine), so it may hold the text.
CYPHER_HOMES = {"server/graph/engine.py", "server/graph/store.py", "server/graph/records.py"}
CYPHER_TEXT_ONLY = {"server/graph/export.py"}
# The engines' drivers pass the statements they are handed to their database; they write none themselves.
ENGINE_DRIVERS = {"server/graph/ladybug.py", "server/graph/neo4j_engine.py"}
CYPHER = re.compile(r"\b(?:MATCH|MERGE|CREATE)\s*\(|\bUNWIND\s+\$|\bDETACH\s+DELETE\b|\bCREATE\s+(?:NODE|REL)\s+TABLE\b"
                    r"|\bCREATE\s+CONSTRAINT\b|\bCOPY\s+\w+\s+FROM\b")
ENGINE_RUN = re.compile(r"\bengine\s*\.\s*run\s*\(")  # anywhere in server/
GRAPH_RUN = re.compile(r"\.\s*run\s*\(")  # in server/graph/, whatever the receiver is called


def cypher_found(path: Path, source: str | None = None) -> list[str]:
    """Sentences for Cypher, or a statement handed to an engine, in a module that is not one of its homes."""
    name = path.relative_to(SERVER.parent).as_posix()
    if name in CYPHER_HOMES:
        return []
    found = []
    for number, line in enumerate((source if source is not None else path.read_text()).splitlines(), 1):
        if CYPHER.search(line) and name not in CYPHER_TEXT_ONLY:
            found.append(f"{name}:{number}: Cypher outside {sorted(CYPHER_HOMES)}: {line.strip()}")
        runs_here = name.startswith("server/graph/") and name not in ENGINE_DRIVERS and GRAPH_RUN.search(line)
        if ENGINE_RUN.search(line) or runs_here:
            found.append(f"{name}:{number}: a statement run outside {sorted(CYPHER_HOMES)}: {line.strip()}")
    return found


def test_the_graphs_cypher_lives_in_its_storage():
    assert len(CYPHER_HOMES) <= 3 and all((SERVER.parent / name).exists() for name in CYPHER_HOMES | CYPHER_TEXT_ONLY)
    found = [v for path in sorted(SERVER.rglob("*.py")) for v in cypher_found(path)]
    assert not found, "Cypher belongs in the graph's storage:\n" + "\n".join(found)


def test_cypher_in_the_wrong_place_is_caught():
    """The checker itself: a statement in the graph's service or build jobs, or run on an engine elsewhere."""
    graph = SERVER / "graph"
    assert cypher_found(graph / "service.py", 'rows = s.engine.run("MATCH (n:Built) RETURN n.id AS id")\n')
    assert cypher_found(graph / "build.py", 'q = "UNWIND $ids AS i MATCH (j:Job) WHERE j.id = i DELETE j"\n')
    assert cypher_found(graph / "align.py", "rows = store.engine.run(statement, params)\n")
    assert cypher_found(graph / "proposals.py", "rows = self.run(text)\n")
    assert cypher_found(SERVER / "web" / "graph.py", 'g.store().engine.run(q)\n')
    assert cypher_found(graph / "export.py", "store.engine.run(line)\n")  # its text is a file, never run
    assert not cypher_found(graph / "export.py", 'lines.append(f"CREATE (:Entity {{id: {eid}}});")\n')
    assert cypher_found(graph / "ladybug.py", 'self._run("MATCH (e:Entity) RETURN count(*) AS n", {})\n')
    assert not cypher_found(graph / "neo4j_engine.py", "return session.run(cypher, params).data()\n")
    assert not cypher_found(SERVER / "tuning" / "worker.py", "trainer.run(report)\n")
    assert not cypher_found(SERVER / "store" / "sqlite.py", 'db.execute("CREATE TABLE IF NOT EXISTS chats (id)")\n')
