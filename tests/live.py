"""Test harness: the real server in a subprocess, and a real python-socketio client."""
from __future__ import annotations

import functools
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import engineio
import socketio

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Keys and settings of whoever runs the tests must not reach the server under test.
SCRUB = ("DEEPSEEK_API_KEY", "OPENAI_API_KEY", "OPENAI_BASE_URL", "DEEPSEEK_BASE_URL")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stub_args(stub, *extra) -> tuple:
    """The flags of a server on the OpenAI stub (tests/openai_stub.py) with no chat rate limit, as tests chat fast."""
    return ("--backend", "openai", "--base-url", stub.url, "--rate-per-minute", "0", *extra)


def http_json(url: str, body: dict | None = None, headers: dict | None = None, method: str | None = None):
    """(status, parsed JSON body) of one HTTP request; error statuses are returned, not raised."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method or ("POST" if data is not None else "GET"))
    req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw.decode(errors="replace")


class LiveServer:
    """`python run.py ARGS` on a free loopback port, with its output kept in a log file.

    `mode` says who may change what everyone shares (the library, the graph, fine-tuning):
    - "open" (the default here): `--open` is added unless ARGS or `env` give an admin token, so a test
      may upload to the library, import a graph or train anonymously, as every server allowed before #39;
    - "safe": nothing is added: the server as `python run.py` starts for a user, which with no token
      flags makes an admin token at first start. Tests of that default say mode="safe".
    """

    MODES = ("open", "safe")

    def __init__(self, *args: str, env: dict | None = None, async_mode: str = "threading", mode: str = "open"):
        if mode not in self.MODES:
            raise ValueError(f"mode must be one of {self.MODES}, not {mode!r}")
        admin_given = "--admin-token" in args or any(a.startswith("--admin-token=") for a in args) \
            or "CHAT_ADMIN_TOKEN" in (env or {})
        if mode == "open" and not admin_given and "--open" not in args:
            args = (*args, "--open")
        self.mode = mode
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # Its own data folder unless the test names one: tests never write to the user's.
        self.data_dir = args[args.index("--data-dir") + 1] if "--data-dir" in args \
            else tempfile.mkdtemp(prefix="chat-data-")
        extra = [] if "--data-dir" in args else ["--data-dir", self.data_dir]
        self.args = ["--host", "127.0.0.1", "--port", str(self.port), "--no-qr", "--async-mode", async_mode, *extra,
                     *args]
        self.env = {k: v for k, v in os.environ.items() if k not in SCRUB and not k.startswith("CHAT_")}
        self.env.update({"HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1", "TOKENIZERS_PARALLELISM": "false"})
        self.env.update(env or {})
        self.log = tempfile.NamedTemporaryFile("w+", prefix="server-", suffix=".log", delete=False)
        self.proc = None

    def start(self, wait_ready: bool = True, timeout: float = 120, tries: int = 3) -> "LiveServer":
        # cwd is a scratch folder so the developer's own .env is not read.
        self.proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "run.py"), *self.args],
                                     cwd=tempfile.mkdtemp(), env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                if tries > 1 and "Address already in use" in self.output():  # taken before it bound: another port
                    self.port = free_port()
                    self.url = f"http://127.0.0.1:{self.port}"
                    self.args[self.args.index("--port") + 1] = str(self.port)
                    return self.start(wait_ready, timeout, tries - 1)
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.output()}")
            try:
                status, body = http_json(self.url + "/healthz")
                if status == 200 and (body["model_ready"] or not wait_ready) and self._holds_port():
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server not ready in {timeout} s:\n{self.output()}")

    def _holds_port(self) -> bool:
        """Whether this server's own process listens on its port, not another test's server that took it."""
        # free_port's port is free when chosen, not when bound: in a CI run a cluster test's /healthz may have been
        # answered by another xdist worker's server, and a pairing code redeemed there got a 404.
        import psutil

        try:
            root = psutil.Process(self.proc.pid)
            return any(c.laddr and c.laddr.port == self.port and c.status == psutil.CONN_LISTEN
                       for p in (root, *root.children(recursive=True)) for c in p.net_connections(kind="tcp"))
        except psutil.Error:
            return False

    def output(self) -> str:
        self.log.flush()
        with open(self.log.name) as f:
            return f.read()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        # `with LiveServer(...).start()` must not start a second process: it would fail to bind the same
        # port while the first answered /healthz, and the first would outlive the test.
        return self if self.alive() else self.start()

    def __exit__(self, *exc):
        self.stop()


def ws_origin(headers: dict | None) -> dict:
    """Client options that send exactly the given Origin on the WebSocket handshake too.

    websocket-client adds an Origin of its own unless told which, and a server reads the first.
    """
    origin = (headers or {}).get("Origin")
    return {"websocket_extra_options": {"origin": origin}} if origin else {}


def stub_and_local_base(stub, folder: str, admin: str, **tiny) -> LiveServer:
    """A started server whose default backend is the stub upstream (an instruction model) and whose "local" is a tiny
    base model (tests/tinymodel.py, built in `folder`), already loaded: a local model tells whether it is a base
    model once loaded, so a plain chat loads it first."""
    from tests.tinymodel import build

    base = build(os.path.join(folder, "base"), endless=True, base=True, **tiny)
    s = LiveServer(*stub_args(stub, "--local-model", base, "--admin-token", admin, "--rate-per-minute-ip", "0"))
    s.start(timeout=180)
    status, body = http_json(s.url + "/api/chat", {"message": "hi", "backend": "local", "params": {"max_tokens": 2}})
    assert status == 200, body
    return s


def library_of(stub, folder: str, admin: str, documents) -> LiveServer:
    """stub_and_local_base (a prompt of evidence fits: 4,096 positions) with these (name, bytes) documents uploaded
    to its library."""
    from tests.kb_files import upload

    s = stub_and_local_base(stub, folder, admin, max_positions=4096)
    for name, data in documents:
        status, body = upload(s.url, name, data, token=admin)
        assert status == 200, body
    return s


def chat(server, message: str, **fields) -> dict:
    """One chat through POST /api/chat: the finished reply's body (the request must be accepted)."""
    status, body = http_json(server.url + "/api/chat", {"message": message, **fields})
    assert status == 200, body
    return body


class InOrderEngineIO(engineio.Client):
    """engine.io's client, handling each message on its reading thread, in the order it came.

    python-engineio starts a thread per message, so two tokens could be recorded in the other
    order: under load, 1 of 20 clients saw its tokens out of order (test_soak failed on it).
    """

    def _trigger_event(self, event, *args, **kwargs):
        if event == "message":
            kwargs["run_async"] = False
        return super()._trigger_event(event, *args, **kwargs)


class InOrderSocketIO(socketio.Client):
    """A socket.io client on InOrderEngineIO."""

    def _engineio_client_class(self):
        return InOrderEngineIO


class Client:
    """A python-socketio client that records every server event for the test to wait on."""

    EVENTS = ("ready", "token", "queued", "done", "error", "status", "graph_progress")

    def __init__(self, url: str, session_id: str | None = None, token: str | None = None,
                 transports=("websocket",), headers: dict | None = None, connect: bool = True,
                 client_id: str | None = None):
        self.url = url
        self.sio = InOrderSocketIO(reconnection=False, **ws_origin(headers))
        self.events: list[tuple[str, dict]] = []
        self.cond = threading.Condition()
        for name in self.EVENTS:
            self.sio.on(name, self._recorder(name))
        self.auth = {k: v for k, v in {"session_id": session_id, "token": token, "client_id": client_id}.items()
                     if v is not None}
        self.transports = list(transports)
        # The Origin travels in websocket_extra_options; a second copy in the headers would be joined with it.
        self.headers = {k: v for k, v in (headers or {}).items() if k != "Origin"}
        if connect:
            self.connect()

    def _recorder(self, name):
        def record(data=None):
            with self.cond:
                self.events.append((name, data))
                self.cond.notify_all()
        return record

    def connect(self) -> "Client":
        seen = len(self.events)
        self.sio.connect(self.url, auth=self.auth, transports=self.transports, headers=self.headers, wait_timeout=10)
        ready = self.wait("ready", after=seen)
        self.auth["session_id"] = ready["session_id"]
        return self

    @property
    def session_id(self) -> str:
        return self.auth["session_id"]

    def call(self, event: str, data=None, timeout: float = 10) -> dict:
        return self.sio.call(event, {} if data is None else data, timeout=timeout)

    def of(self, name: str, request_id: str | None = None) -> list[dict]:
        with self.cond:
            return [d for n, d in self.events
                    if n == name and (request_id is None or d.get("request_id") == request_id)]

    def in_order(self, request_id: str, after: int = -1) -> list[dict]:
        """The tokens of a request this client keeps: each only when its seq is the next one (the resume rule)."""
        expected, kept = after + 1, []
        for t in self.of("token", request_id):
            if t["seq"] == expected:
                kept.append(t)
                expected += 1
        return kept

    def wait(self, name: str, pred=lambda d: True, timeout: float = 30, after: int = 0) -> dict:
        """The first `name` event (from index `after` on) that satisfies pred."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for n, d in self.events[after:]:
                    if n == name and pred(d):
                        return d
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no {name!r} event in {timeout} s; got {[n for n, _ in self.events]}")
                self.cond.wait(left)

    def wait_done(self, request_id: str, timeout: float = 60) -> dict:
        return self.wait("done", lambda d: d["request_id"] == request_id, timeout)

    def chat(self, message: str, **fields) -> str:
        """Send a chat, assert it was accepted, return its request_id."""
        ack = self.call("chat", {"message": message, **fields})
        assert ack["ok"], ack
        return ack["request_id"]

    def text_of(self, request_id: str) -> str:
        tokens = [t for t in self.of("token", request_id) if t.get("kind") != "reasoning"]
        return "".join(t["text"] for t in tokens)

    def close(self) -> None:
        if self.sio.connected:
            ws = getattr(self.sio.eio, "ws", None)
            if ws is not None:
                # websocket-client waits up to 3 s for the server's close frame, which Werkzeug's threading
                # server never sends: 3.0 s per client, 272 s of teardowns over the suite. The frame is still sent.
                ws.close = functools.partial(ws.close, timeout=0.2)
            self.sio.disconnect()
