"""The knowledge graph: entities and facts from imports and the library, aligned, and handed to chats; no Flask."""
import importlib.util

from .service import Graph

__all__ = ["Graph", "build_graph"]

# Several processes (--redis) cannot share the embedded engine: Ladybug lets one process write its folder and a
# read-only process sees the graph as it was when it opened. Routing every write to one process would add a
# command channel for a setup whose users can run Neo4j; so the graph is refused there, with this sentence.
SHARED_REFUSED = ("The knowledge graph's embedded engine serves one process; with --redis (several processes) "
                  "run a Neo4j server and start each process with --graph-url bolt://HOST:7687.")
# requirements.txt leaves ladybug out where it has no wheel (macOS before 15: docs/INSTALL.md).
NO_ENGINE = ("The knowledge graph is off: its embedded engine (ladybug) is not installed here; it has no wheel for "
             "macOS before 15. Keep the graph in a Neo4j server with --graph-url bolt://HOST:7687.")


def build_graph(cfg, knowledge=None) -> Graph:
    """The server's graph: Neo4j with --graph-url, else Ladybug in the data folder (refused under --redis)."""
    from .engine import open_engine

    refused = None
    if not getattr(cfg, "graph_url", None):
        if cfg.redis_url:
            refused = SHARED_REFUSED
        elif importlib.util.find_spec("ladybug") is None:
            refused = NO_ENGINE
    embed = None
    if knowledge is not None:
        embed = knowledge.embed_names
    return Graph(lambda: open_engine(cfg), refused, embed, cfg.graph_max_rows)
