"""Neo4j, or any server that speaks Bolt and Cypher (ArcadeDB in the tests), through the official driver."""
from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from ..errors import ChatError
from .engine import NODES, Base


class Neo4jEngine(Base):
    """bolt://HOST:PORT[/DATABASE]; the driver keeps a pool of connections, one session per statement."""

    name = "neo4j"

    def __init__(self, url: str, user: str, password: str):
        from neo4j import GraphDatabase
        from neo4j.exceptions import Neo4jError, ServiceUnavailable

        parts = urlsplit(url)
        self.database = parts.path.strip("/") or None
        self.driver = GraphDatabase.driver(urlunsplit((parts.scheme, parts.netloc, "", "", "")), auth=(user, password))
        self._errors = (Neo4jError, ServiceUnavailable, OSError)
        try:
            for label in NODES:
                self._run(f"CREATE CONSTRAINT {label.lower()}_id IF NOT EXISTS FOR (n:{label}) REQUIRE n.id IS UNIQUE", {})
        except self._errors as e:
            self.driver.close()
            raise ChatError("unavailable", f"The graph server at {parts.netloc} cannot be used ({type(e).__name__}); "
                                           "check --graph-url, CHAT_GRAPH_USER and CHAT_GRAPH_PASSWORD.") from e

    def _run(self, cypher: str, params: dict) -> list[dict]:
        with self.driver.session(database=self.database) as session:
            return session.run(cypher, params).data()

    def close(self) -> None:
        self.driver.close()
