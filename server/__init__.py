"""The chat server: create_app() builds the Flask app with its Socket.IO server and backends."""
from __future__ import annotations

import logging
import os

from flask import Flask
from flask_cors import CORS

from .web.admin_token import settle as settle_admin_token
from .chat.service import ChatService
from .cluster.single import SingleProcess
from .config import Config
from .web.extensions import socketio
from .web.security import OriginPolicy, add_security_headers

log = logging.getLogger(__name__)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(config: Config | None = None) -> Flask:
    """Build the app for one configuration; backends start loading in the background."""
    cfg = config or Config()
    cluster = _cluster(cfg)
    conversations = cluster.open_store(cfg)  # first: an unusable data folder stops the start with a sentence
    settle_admin_token(cfg)  # before any route: with no token flags, only its holder is admin
    app = Flask(__name__, template_folder=os.path.join(ROOT, "templates"), static_folder=os.path.join(ROOT, "static"))
    app.config["MAX_CONTENT_LENGTH"] = cfg.max_payload_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]  # Flask's DefaultJSONProvider has it

    origins = OriginPolicy(cfg.cors_origins)
    if origins.any:
        log.warning("--cors-origin '*': any web page a user opens can use this server (and its API keys)")
    # guard_api() already refused disallowed origins; flask-cors only adds the headers for the rest.
    CORS(app, resources={r"/api/*": {"origins": r".*"}, r"/v1/*": {"origins": r".*"}},
         allow_headers=["Authorization", "Content-Type", "X-Client-Id", "X-Admin-Token"])
    app.after_request(add_security_headers)

    from .web import events  # noqa: F401  (registers the Socket.IO handlers)
    from .web.audit import bp as audit_bp
    from .web.usage import bp as usage_bp
    from .web.metrics import bp as metrics_bp
    from .web.tls import bp as tls_bp
    from .web.conversations import bp as conversations_bp
    from .web.devices import bp as devices_bp
    from .web.graph import bp as graph_bp
    from .web.kb import bp as kb_bp
    from .web.kb_progress import bp as kb_progress_bp
    from .web.attachments import bp as attachments_bp
    from .web.roles import bp as roles_bp
    from .web.tuning import bp as tuning_bp
    from .web.v1 import bp as v1_bp
    from .web.views import bp
    from .web.services import install as install_services
    from .web.wiring import build_services, start as start_services

    app.register_blueprint(bp)
    app.register_blueprint(kb_bp)
    app.register_blueprint(tuning_bp)
    app.register_blueprint(v1_bp)
    app.register_blueprint(conversations_bp)
    app.register_blueprint(roles_bp)
    app.register_blueprint(devices_bp)
    app.register_blueprint(graph_bp)
    app.register_blueprint(kb_progress_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(usage_bp)
    app.register_blueprint(metrics_bp)
    app.register_blueprint(tls_bp)
    app.register_blueprint(attachments_bp)
    manager = None
    if cfg.redis_url:
        from .cluster.redis_link import socketio_manager

        manager = socketio_manager(cfg.redis_url)
    if cfg.async_mode == "eventlet":
        from .wire.ws_direct import install

        install()
    socketio.init_app(
        app,
        async_mode=cfg.async_mode,
        cors_allowed_origins=origins.for_engineio,
        max_http_buffer_size=cfg.max_payload_bytes,
        ping_interval=cfg.ping_interval,
        ping_timeout=cfg.ping_timeout,
        client_manager=manager,
    )
    if manager is not None:
        # Its listener would otherwise start at this process's first connection, and until then
        # no emit of another process would reach a socket here.
        socketio.server.manager_initialized = True
        manager.initialize()
    if cfg.behind_proxy:
        # Wraps the Socket.IO middleware too (set by init_app above), so handlers see the client's address;
        # the headers are believed only from the proxy's own addresses (--trusted-proxy).
        from .web.proxy import TrustedProxyFix

        app.wsgi_app = TrustedProxyFix(app.wsgi_app, cfg.trusted_proxies)  # type: ignore[method-assign]

    built = build_services(cfg, cluster, conversations, origins)
    install_services(app, built)
    socketio.start_background_task(_housekeeping, built.chat)
    start_services(built)
    return app


def _cluster(cfg: Config):
    """Shared reply state in Redis for one process of several, or nothing shared."""
    if not cfg.redis_url:
        return SingleProcess()
    from .cluster.redis_cluster import RedisCluster
    from .cluster.redis_link import connect

    return RedisCluster(cfg, connect(cfg.redis_url), socketio)


def _housekeeping(service: ChatService) -> None:
    """Tell clients how model loading goes, and sweep expired sessions and replies."""
    last: dict[str, tuple] = {}
    ticks = 0
    while True:
        for backend in service.registry.backends.values():
            st = backend.status()
            key = (st.model_ready, st.progress, st.message, st.error)
            if last.get(backend.name) != key:
                last[backend.name] = key
                event = {"backend": backend.name, "model_ready": st.model_ready, "message": st.message,
                         "error": st.error}
                if st.progress is not None:
                    event["progress"] = st.progress
                socketio.emit("status", event)
        ticks += 1
        if ticks % 20 == 0:
            service.sweep()
        if ticks % 60 == 0:  # an upstream that was down at start may be up now
            for backend in service.registry.backends.values():
                if hasattr(backend, "discover_models") and not backend.models():
                    socketio.start_background_task(backend.discover_models)
        socketio.sleep(0.5)
