"""Neo4j, or any server that speaks Bolt and Cypher (ArcadeDB in the tests), through the official driver."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..errors import ChatError
from .engine import Base, neo4j_schema

SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")


class Neo4jEngine(Base):
    """bolt://HOST:PORT[/DATABASE]; the driver keeps a pool of connections, one session per statement."""

    name = "neo4j"

    def __init__(self, url: str, user: str, password: str):
        try:
            from neo4j import GraphDatabase
            from neo4j.exceptions import Neo4jError, ServiceUnavailable
        except ImportError:
            raise ChatError("unavailable", "The neo4j driver is not installed here (pip install neo4j).") from None

        parts = urlsplit(url)
        if parts.scheme not in SCHEMES:
            raise ChatError("unavailable",
                            f"--graph-url must start with bolt:// or neo4j://, not {parts.scheme or url}.")
        self.database = parts.path.strip("/") or None
        self.driver: Any = None
        try:  # a URL of another scheme, a server down or a wrong password: one sentence, no secret in it
            self.driver = GraphDatabase.driver(urlunsplit((parts.scheme, parts.netloc, "", "", "")),
                                               auth=(user, password))
            for statement in neo4j_schema():
                self._run(statement, {})
        except (Neo4jError, ServiceUnavailable, OSError, ValueError) as e:
            if self.driver is not None:
                self.driver.close()
            raise ChatError("unavailable",
                            f"The graph server at {parts.netloc or url!r} cannot be used ({type(e).__name__}); "
                            "check --graph-url (bolt://HOST:7687), CHAT_GRAPH_USER and CHAT_GRAPH_PASSWORD.") from e

    def _run(self, cypher: str, params: dict) -> list[dict]:
        with self.driver.session(database=self.database) as session:
            return session.run(cypher, params).data()

    def close(self) -> None:
        self.driver.close()
