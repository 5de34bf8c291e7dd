"""GraphRecords: the graph's records beside its entities and facts (build jobs, built passages, the merge log,
proposals, rejected pairs) and their Cypher; one method per thing asked, rows as dicts. Writers hold the
store's write_lock."""
from __future__ import annotations

import json

from .engine import NODES


def citing(document_id: str) -> str:
    """The text a JSON list of sources holds where one of them names this library document."""
    return json.dumps({"document": document_id}, ensure_ascii=False)[1:-1]


class GraphRecords:
    """Nodes of one label found by their id (Ladybug finds `WHERE n.id = x` by its primary key)."""

    def __init__(self, engine):
        self.engine = engine

    # --- build jobs ---------------------------------------------------------------

    def add_job(self, row: dict) -> None:
        """A new job: every property of a Job (NODES), `at` its start."""
        self._create("Job", row)

    def update_job(self, job_id: str, changes: dict) -> None:
        self._set("Job", job_id, changes)

    def job(self, job_id: str) -> dict | None:
        rows = self._find("Job", "n.id = $id", {"id": job_id})
        return rows[0] if rows else None

    def unfinished_jobs(self) -> list[dict]:
        """Jobs a stopped server left queued or running."""
        return self._find("Job", "n.status = 'queued' OR n.status = 'running'", {})

    # --- passages a build has read ------------------------------------------------------

    def built_passages(self, document_id: str) -> set[str]:
        rows = self.engine.run("MATCH (n:Built) WHERE n.document = $d RETURN n.id AS id", {"d": document_id})
        return {row["id"] for row in rows}

    def mark_built(self, passage_id: str, document_id: str) -> None:
        self.engine.run("CREATE (n:Built {id: $id, document: $d})", {"id": passage_id, "d": document_id})

    def forget_built(self, document_id: str) -> None:
        """A deleted document's passages count as never built."""
        self.engine.run("MATCH (n:Built) WHERE n.document = $d DELETE n", {"d": document_id})

    # --- the merge log ------------------------------------------------------------------

    def log_merge(self, row: dict) -> None:
        """A merge {id, keep, merged (JSON list of ids), reason, at, undone: ''}."""
        self._create("Merge", row)

    def logged_merge(self, merge_id: str) -> dict | None:
        rows = self._find("Merge", "n.id = $id", {"id": merge_id})
        return rows[0] if rows else None

    def mark_merge_undone(self, merge_id: str, at: str) -> None:
        self._set("Merge", merge_id, {"undone": at})

    # --- proposals ----------------------------------------------------------------------

    def add_proposal(self, row: dict) -> None:
        """A new proposal: every property of a Proposal (NODES), sources as JSON."""
        self._create("Proposal", row)

    def proposal(self, proposal_id: str) -> dict | None:
        rows = self._find("Proposal", "n.id = $id", {"id": proposal_id})
        return rows[0] if rows else None

    def update_proposal(self, proposal_id: str, changes: dict) -> None:
        self._set("Proposal", proposal_id, changes)

    def delete_proposal(self, proposal_id: str) -> None:
        self.engine.run("MATCH (n:Proposal) WHERE n.id = $id DELETE n", {"id": proposal_id})

    def proposals_with_status(self, status: str) -> list[dict]:
        return self._find("Proposal", "n.status = $status", {"status": status})

    def proposals_citing(self, status: str, document_id: str) -> list[dict]:
        """Proposals of a status with a library document among their sources."""
        return self._find("Proposal", "n.status = $status AND n.sources CONTAINS $n",
                          {"status": status, "n": citing(document_id)})

    # --- merge candidates a person rejected ------------------------------------------------

    def add_rejected(self, pair_id: str, a: str, b: str, at: str) -> None:
        """A rejected pair, once (a second rejection of the same pair changes nothing)."""
        if not self.engine.run("MATCH (n:Rejected) WHERE n.id = $id RETURN n.id AS id", {"id": pair_id}):
            self._create("Rejected", {"id": pair_id, "a": a, "b": b, "at": at})

    def rejected_pairs(self) -> set[str]:
        return {row["id"] for row in self.engine.run("MATCH (n:Rejected) RETURN n.id AS id")}

    def unreject(self, pair_ids: list[str]) -> None:
        if pair_ids:
            self.engine.run("UNWIND $ids AS i MATCH (n:Rejected) WHERE n.id = i DELETE n", {"ids": pair_ids})

    # --- one label's nodes ----------------------------------------------------------------

    def _create(self, label: str, row: dict) -> None:
        props = [k for k in NODES[label] if k in row]
        pattern = ", ".join(f"{k}: ${k}" for k in props)
        self.engine.run(f"CREATE (n:{label} {{{pattern}}})", {k: row[k] for k in props})

    def _find(self, label: str, where: str, params: dict) -> list[dict]:
        cols = ", ".join(f"n.{k} AS {k}" for k in NODES[label])
        return self.engine.run(f"MATCH (n:{label}) WHERE {where} RETURN {cols}", params)

    def _set(self, label: str, node_id: str, changes: dict) -> None:
        sets = ", ".join(f"n.{k} = ${k}" for k in changes)
        self.engine.run(f"MATCH (n:{label}) WHERE n.id = $id SET {sets}", {**changes, "id": node_id})
