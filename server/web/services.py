"""Services: every part the faces reach, built once (web/wiring.py); services() is how a route or handler gets it."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import Flask, current_app

if TYPE_CHECKING:
    from ..chat.service import ChatService
    from ..cluster.presence import Presence
    from ..config import Config
    from ..graph.build import Builder
    from ..graph.service import Graph
    from ..knowledge.attachments import AttachmentStore
    from ..knowledge.service import KnowledgeBase
    from ..store.ledger import RedisLedger, SqliteLedger
    from ..tuning import TuningService
    from .devices import Pairing
    from .metrics import ServerMetrics
    from .security import OriginPolicy

KEY = "services"  # its entry in app.extensions (beside the one Flask-SocketIO keeps)


@dataclass(frozen=True)
class Services:
    """What one app serves with; frozen, so no part is swapped in after the start."""

    cfg: Config
    chat: ChatService  # chats, conversations (chat.store) and backends (chat.registry)
    knowledge: KnowledgeBase  # the library
    attachments: AttachmentStore
    graph: Graph
    graph_builder: Builder  # the graph's build jobs
    tuning: TuningService | None  # None without the local backend
    ledger: SqliteLedger | RedisLedger  # audit entries and usage (store/ledger.py: SqliteLedger or RedisLedger)
    metrics: ServerMetrics
    presence: Presence  # who is connected (cluster/presence.py, or its Redis twin)
    origins: OriginPolicy
    pairing: Pairing
    tls: tuple[str, str, str] | None  # (certificate file, key file, SHA-256 fingerprint) with --https


def install(app: Flask, built: Services) -> None:
    """Hand the app its services (once, from create_app)."""
    app.extensions[KEY] = built


def services_of(app: Flask) -> Services:
    return app.extensions[KEY]


def services() -> Services:
    """The services of the app serving this request or Socket.IO event."""
    return services_of(current_app)
