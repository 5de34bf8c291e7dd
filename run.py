"""python run.py [flags]: serve the chat page, the Socket.IO API and the HTTP API; run.py backup|restore FILE."""
import errno
import os
import sys


def _async_mode() -> str:
    """The --async-mode flag, CHAT_ASYNC_MODE or its .env line, read without importing anything.

    eventlet must patch the stdlib before any other module makes locks or sockets, so this
    peeks by hand; config.parse_args() reads everything properly afterwards.
    """
    for i, arg in enumerate(sys.argv):
        if arg == "--async-mode" and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
        if arg.startswith("--async-mode="):
            return arg.split("=", 1)[1]
    if os.environ.get("CHAT_ASYNC_MODE"):
        return os.environ["CHAT_ASYNC_MODE"]
    try:
        with open(".env", encoding="utf-8") as env_file:
            for line in env_file:
                key, _, value = line.strip().removeprefix("export ").partition("=")
                if key.strip() == "CHAT_ASYNC_MODE":
                    return value.strip().strip("'\"")
    except OSError:
        pass
    return "eventlet"


if sys.argv[1:2] in (["backup"], ["restore"]):  # a tool, not the server: nothing to patch
    from server.store.backup import main as backup_main

    backup_main(sys.argv[1:])
    sys.exit(0)

if _async_mode() == "eventlet":
    try:
        # openai's HTTP stack imports trio when it is installed, and trio needs select.epoll,
        # which eventlet removes; trio itself never runs here, so load it unpatched first.
        import trio  # noqa: F401
    except ImportError:
        pass
    import warnings

    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")  # known; both modes are kept working
    import eventlet

    eventlet.monkey_patch()
    from server.concurrency import real_logging_locks

    real_logging_locks()

import gc  # noqa: E402
import logging  # noqa: E402

from server import create_app  # noqa: E402
from server.config import parse_args  # noqa: E402
from server.web.extensions import socketio  # noqa: E402
from server.web.lan import lan_urls, qr_text  # noqa: E402
from server.web.security import who_may  # noqa: E402
from server.web.services import services_of  # noqa: E402


def console_never_fails() -> None:
    """A console that cannot show a character prints '?' instead of stopping the server.

    Windows gives a redirected stdout its ANSI code page (cp1252, cp936): the QR code's block characters and
    Chinese names would raise UnicodeEncodeError there, at start, before anyone could connect.
    """
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")


def main() -> None:
    console_never_fails()
    cfg = parse_args()
    logging.basicConfig(level=cfg.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "httpx2", "werkzeug", "engineio.server", "socketio.server"):
        logging.getLogger(noisy).setLevel(logging.WARNING)  # one line per upstream request is noise
    app = create_app(cfg)
    built = services_of(app)
    tls = built.tls
    urls = lan_urls(cfg.host, cfg.port, "https" if tls else "http")
    print(f"Chat server on {cfg.host}:{cfg.port} ({cfg.async_mode}); backends: "
          f"{', '.join(built.chat.registry.backends)}", flush=True)
    if urls:
        print("Open on a phone or computer on the same network:", flush=True)
        for url in urls:
            print("  " + url, flush=True)
        if cfg.qr:
            print(qr_text(urls[0]), flush=True)
    elif cfg.host in ("0.0.0.0", "::"):
        print("No network address found: connect to a Wi-Fi network or start a hotspot.", flush=True)
    print(who_may(cfg), flush=True)
    if tls:
        print(f"HTTPS certificate SHA-256 fingerprint: {tls[2]}", flush=True)
        if not cfg.cert_file:
            print("Browsers warn once about this certificate: "
                  "check that the fingerprint they show matches, then go on.", flush=True)
    if cfg.host.startswith("127.") or cfg.host == "localhost":
        print("Listening on loopback only: phones cannot reach it. Use --host 0.0.0.0 for the LAN.", flush=True)
    # Start-up leaves ~150,000 long-lived objects (Flask, Socket.IO, openai, the store). A full collection
    # walks them all with the hub stopped: 110 ms here, every few seconds under load, which showed as
    # 40-180 ms of added per-token p99 at 50-200 streams (bench/RESULTS.md). Frozen, one takes 1.7 ms.
    gc.collect()
    gc.freeze()
    serve(app, cfg, tls)


def port_taken(port: int, error: OSError) -> str:
    """The start-up sentence for a port that cannot be had (macOS 12+ gives 5000 to AirPlay Receiver)."""
    if error.errno not in (errno.EADDRINUSE, 10048):  # 10048: WSAEADDRINUSE, Windows' number for it
        return f"Port {port} cannot be used ({error.strerror or error}); choose another with --port."
    mac = " (on macOS, AirPlay Receiver holds 5000: turn it off in System Settings)" if sys.platform == "darwin" else ""
    return f"Port {port} is in use by another program{mac}; choose another with --port, e.g. --port 8000."


def serve(app, cfg, tls=None) -> None:
    """Serve with TCP_NODELAY on client sockets: a token frame written right after another small frame
    would otherwise wait for the client's delayed ACK (~40 ms; bench/RESULTS.md)."""
    import socket

    if cfg.async_mode == "eventlet":
        import eventlet.wsgi

        family = socket.AF_INET6 if ":" in cfg.host else socket.AF_INET
        try:
            listener = eventlet.listen((cfg.host, cfg.port), family=family)
        except OSError as e:
            raise SystemExit(port_taken(cfg.port, e)) from None
        listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # accepted sockets inherit it on Linux
        if tls:
            listener = eventlet.wrap_ssl(listener, certfile=tls[0], keyfile=tls[1], server_side=True)
        # minimum_chunk_size=0: by default eventlet holds a streamed body (/v1's server-sent events) back
        # until 4 KiB gather, about 25 tokens, and learns that a client left only when it writes.
        eventlet.wsgi.server(listener, app, log_output=False, minimum_chunk_size=0)
    else:
        from werkzeug.serving import WSGIRequestHandler

        class NoDelayHandler(WSGIRequestHandler):
            disable_nagle_algorithm = True

        socketio.run(app, host=cfg.host, port=cfg.port, allow_unsafe_werkzeug=True, log_output=False,
                     request_handler=NoDelayHandler, ssl_context=(tls[0], tls[1]) if tls else None)


if __name__ == "__main__":
    main()
