"""The graph as a file: CSV in the import format (aliases as alias rows), or Cypher a Neo4j server runs."""
from __future__ import annotations

import csv
import io
import json

from .importer import spreadsheet_safe


def as_csv(s) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["head", "relation", "tail", "head_type", "tail_type"])
    for eid, e in s.ents.items():
        if not e["merged_into"]:
            for alias in s.names_of(eid):
                w.writerow(_cells(e["name"], "alias", alias, e["type"], e["type"]))
    for r in s.all_facts():
        f = s.fact_view(r)
        w.writerow(_cells(f["head"]["name"], f["relation"], f["tail"]["name"], f["head"]["type"], f["tail"]["type"]))
    return out.getvalue()


def _cells(*values: str) -> list[str]:
    return [spreadsheet_safe(v or "") for v in values]


def _q(value) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string literal is a valid Cypher string literal


def as_cypher(s) -> str:
    """Cypher as text for a file a person downloads and runs on their own Neo4j server; it never reaches the
    graph's engine, so it may live here, outside the three modules that hold the graph's Cypher (engine.py,
    store.py, records.py: tests/test_layers.py)."""
    lines = []
    for eid, e in s.ents.items():
        if not e["merged_into"]:
            lines.append(f"CREATE (:Entity {{id: {_q(eid)}, name: {_q(e['name'])}, type: {_q(e['type'])}, "
                         f"aliases: {_q(s.names_of(eid))}}});")
    for r in s.all_facts():
        f = s.fact_view(r)
        lines.append(f"MATCH (a:Entity {{id: {_q(f['head']['id'])}}}), (b:Entity {{id: {_q(f['tail']['id'])}}}) "
                     f"CREATE (a)-[:FACT {{id: {_q(f['id'])}, relation: {_q(f['relation'])}, "
                     f"sources: {_q(json.dumps(f['sources'], ensure_ascii=False))}}}]->(b);")
    return "\n".join(lines) + "\n"
