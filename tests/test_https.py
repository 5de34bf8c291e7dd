"""--https (protocol 1.3): a real TLS client checks the printed fingerprint,
then chats over wss:// trusting only that certificate."""
from __future__ import annotations

import hashlib
import os
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

import pytest
import requests
import socketio

from server.web.certificate import make_certificate
from tests.live import ROOT, LiveServer

FINGERPRINT = re.compile(r"fingerprint: ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})")


class HttpsServer(LiveServer):
    """A LiveServer spoken to over TLS; ready once /healthz answers through it."""

    def __init__(self, *args, **kw):
        super().__init__("--https", *args, **kw)
        self.url = self.url.replace("http://", "https://")

    def start(self, timeout: float = 120) -> "HttpsServer":
        """As LiveServer.start, polling through TLS (the parent polls plain HTTP)."""
        self.proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "run.py"), *self.args], cwd=tempfile.mkdtemp(),
                                     env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.output()
            try:
                if requests.get(self.url + "/healthz", verify=False, timeout=5).ok:
                    return self
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError(self.output())

    def printed_fingerprint(self) -> str:
        return FINGERPRINT.search(self.output()).group(1)


def peer_certificate(port: int) -> bytes:
    """The DER certificate the server presents, as any TLS client first sees it (nothing verified yet)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, ctx.wrap_socket(raw) as tls:
        return tls.getpeercert(binary_form=True)


def colons(digest: bytes) -> str:
    return ":".join(f"{b:02X}" for b in digest)


@pytest.fixture(params=["eventlet", "threading"])
def mode(request):
    return request.param


def test_the_printed_fingerprint_is_the_certificate_served_and_wss_chats(stub, mode, tmp_path):
    server = HttpsServer("--backend", "openai", "--base-url", stub.url, "--embed-model", "none", "--token", "TOK",
                         async_mode=mode).start()
    try:
        der = peer_certificate(server.port)
        printed = server.printed_fingerprint()
        assert colons(hashlib.sha256(der).digest()) == printed
        assert f"https://127.0.0.1:{server.port}/" in server.output()  # the URLs say https

        # Trust on first use: from now on the client trusts that certificate alone (127.0.0.1 is in its names).
        ca = tmp_path / "server.pem"
        ca.write_text(ssl.DER_cert_to_PEM_cert(der))
        session = requests.Session()
        session.verify = str(ca)
        session.trust_env = False  # else REQUESTS_CA_BUNDLE would stand in for the pinned certificate
        tls = session.get(server.url + "/api/tls", headers={"Authorization": "Bearer TOK"}, timeout=10).json()
        assert tls == {"ok": True, "https": True, "fingerprint_sha256": printed}

        sio = socketio.Client(http_session=session, reconnection=False)
        got, done = [], threading.Event()
        sio.on("token", lambda t: got.append(t["text"]))
        sio.on("done", lambda d: done.set())
        sio.connect(server.url, auth={"token": "TOK"}, transports=["websocket"], wait_timeout=10)
        try:
            assert sio.transport() == "websocket"
            ack = sio.call("chat", {"message": "hello", "model": "words-5"}, timeout=10)
            assert ack["ok"], ack
            assert done.wait(30) and "".join(got) == "w0 w1 w2 w3 w4 "
        finally:
            sio.disconnect()

        # Plain HTTP on that port is not served.
        with pytest.raises(requests.RequestException):
            requests.get(f"http://127.0.0.1:{server.port}/healthz", timeout=5)
    finally:
        server.stop()

    # Kept in the data folder and reused: the next start presents the same certificate.
    again = HttpsServer("--backend", "openai", "--base-url", stub.url, "--data-dir", server.data_dir,
                        async_mode=mode).start()
    try:
        assert again.printed_fingerprint() == printed and peer_certificate(again.port) == der
    finally:
        again.stop()


def test_a_certificate_of_ones_own(stub, tmp_path):
    cert_pem, key_pem = make_certificate(["chat.clinic.example"], ["127.0.0.1"])
    (tmp_path / "c.pem").write_bytes(cert_pem)
    (tmp_path / "k.pem").write_bytes(key_pem)
    server = HttpsServer("--backend", "openai", "--base-url", stub.url, "--cert", str(tmp_path / "c.pem"),
                         "--key", str(tmp_path / "k.pem")).start()
    try:
        der = peer_certificate(server.port)
        assert ssl.DER_cert_to_PEM_cert(der).strip() == cert_pem.decode().strip()
        assert server.printed_fingerprint() == colons(hashlib.sha256(der).digest())
        assert "Browsers warn once" not in server.output()  # a real certificate needs no warning
    finally:
        server.stop()
