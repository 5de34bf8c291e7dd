"""The one place the server's parts are built and handed to each other: build_services(), then start()."""
from __future__ import annotations

import logging
import os

from ..backends import build_registry
from ..chat.service import ChatService
from ..chat.sessions import SessionStore
from ..chat.usage import Usage
from ..config import Config
from ..graph import build_graph
from ..graph.build import Builder
from ..knowledge import build_knowledge_base
from ..knowledge.attachments import build_attachments
from ..paths import data_dir
from ..store.ledger import open_ledger
from ..tuning import TuningService
from .devices import Pairing
from .extensions import socketio
from .graph import completer, resume_builds
from .metrics import ServerMetrics
from .security import OriginPolicy
from .services import Services
from .tuning import local_base, send_progress

log = logging.getLogger(__name__)


def build_services(cfg: Config, cluster, conversations, origins: OriginPolicy) -> Services:
    """Every part, each given what it uses when it is made; nothing runs yet but the library's loading."""
    registry = build_registry(cfg)
    knowledge = build_knowledge_base(cfg)
    attachments = build_attachments(cfg)
    graph = build_graph(cfg, knowledge)
    if graph.refused:
        log.warning("%s", graph.refused)
    knowledge.on_delete.append(graph.forget_document)  # a deleted document's facts go with it
    builder = Builder(graph, knowledge, completer(registry), socketio.start_background_task,
                      lambda job: socketio.emit("graph_progress", job))
    presence = cluster.presence()
    store = SessionStore(cfg.max_sessions, cfg.session_ttl, cfg.max_history, conversations, presence.watched,
                         cluster.active_request_id)
    chat = ChatService(cfg, registry, store, socketio, cluster,
                       knowledge=knowledge, graph=graph, attachments=attachments)
    cluster.attach(chat)
    ledger = open_ledger(cfg, getattr(cluster, "r", None))
    tuning = _tuning(cfg, registry.backends.get("local"))
    Usage(ledger, cfg.quota_tokens).install(chat)  # before metrics: its quota check and count run first
    metrics = ServerMetrics(chat, knowledge, builder, tuning)
    return Services(cfg=cfg, chat=chat, knowledge=knowledge, attachments=attachments, graph=graph,
                    graph_builder=builder, tuning=tuning, ledger=ledger, metrics=metrics, presence=presence,
                    origins=origins, pairing=Pairing(cfg, cluster), tls=_tls(cfg))


def start(built: Services) -> None:
    """The background work: resumed graph builds, tuning's runner and progress, the backends' loading."""
    cfg = built.cfg
    if not built.graph.refused and (cfg.graph_url or (cfg.store != "memory" and os.path.isdir(_graph_folder(cfg)))):
        socketio.start_background_task(resume_builds, built.graph_builder)
    if built.tuning is not None:
        built.tuning.start()
        socketio.start_background_task(send_progress, built.tuning)
    for backend in built.chat.registry.backends.values():
        for prepare in ("start", "discover_models"):
            if hasattr(backend, prepare):
                socketio.start_background_task(getattr(backend, prepare))


def _tuning(cfg: Config, local) -> TuningService | None:
    """Tuning on the local backend's model, if this server has one; a tuned model is served by it."""
    if local is None:
        return None
    return TuningService(os.path.join(data_dir(cfg), "tuning"), local_base(local),
                         on_done=lambda job, path: local.add_tuned(job["name"], path),
                         on_remove=lambda job: local.remove_tuned(job["name"]))


def _tls(cfg: Config) -> tuple[str, str, str] | None:
    """The certificate to serve HTTPS with (made and kept in the data folder unless --cert is given)."""
    if not cfg.https:
        return None
    from .certificate import certificate

    return certificate(cfg, data_dir(cfg))


def _graph_folder(cfg: Config) -> str:
    return os.path.join(data_dir(cfg), "graph")
