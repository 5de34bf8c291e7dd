"""python run.py [flags]: serve the chat page, the Socket.IO API and the HTTP API."""
import os
import sys


def _async_mode() -> str:
    # eventlet must patch the stdlib before anything else imports it, so this peeks at the
    # flag by hand; config.parse_args() reads it again properly.
    from server.config import load_env_file  # imports nothing eventlet would need to patch

    load_env_file()
    for i, arg in enumerate(sys.argv):
        if arg == "--async-mode" and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
        if arg.startswith("--async-mode="):
            return arg.split("=", 1)[1]
    return os.environ.get("CHAT_ASYNC_MODE", "eventlet")


if _async_mode() == "eventlet":
    try:
        # openai's HTTP stack imports trio when it is installed, and trio needs select.epoll,
        # which eventlet removes; trio itself never runs here, so load it unpatched first.
        import trio  # noqa: F401
    except ImportError:
        pass
    import eventlet

    eventlet.monkey_patch()

import logging  # noqa: E402

from server import create_app  # noqa: E402
from server.config import parse_args  # noqa: E402
from server.extensions import socketio  # noqa: E402
from server.lan import lan_urls, qr_text  # noqa: E402


def main() -> None:
    cfg = parse_args()
    logging.basicConfig(level=cfg.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "httpx2", "werkzeug", "engineio.server", "socketio.server"):
        logging.getLogger(noisy).setLevel(logging.WARNING)  # one line per upstream request is noise
    app = create_app(cfg)
    urls = lan_urls(cfg.host, cfg.port)
    print(f"Chat server on {cfg.host}:{cfg.port} ({cfg.async_mode}); backends: "
          f"{', '.join(app.extensions['chat_service'].registry.backends)}", flush=True)
    if urls:
        print("Open on a phone or computer on the same network:", flush=True)
        for url in urls:
            print("  " + url, flush=True)
        if cfg.qr:
            print(qr_text(urls[0]), flush=True)
    elif cfg.host in ("0.0.0.0", "::"):
        print("No network address found: connect to a Wi-Fi network or start a hotspot.", flush=True)
    if cfg.host.startswith("127.") or cfg.host == "localhost":
        print("Listening on loopback only: phones cannot reach it. Use --host 0.0.0.0 for the LAN.", flush=True)
    socketio.run(app, host=cfg.host, port=cfg.port, allow_unsafe_werkzeug=True, log_output=False)


if __name__ == "__main__":
    main()
