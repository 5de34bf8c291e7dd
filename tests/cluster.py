"""Several server processes on a real redis-server, behind a real nginx; each test stops only what it started."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time

import redis

from tests.live import ROOT, LiveServer, free_port, http_json

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def wait_until(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} not up in {timeout} s")
        time.sleep(0.05)


class RedisServer:
    """redis-server on a free loopback port; nothing saved to disk unless `persist` (an append-only file)."""

    def __init__(self, folder: str, persist: bool = False):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.folder = folder
        self.saving = ["--appendonly", "yes", "--appendfsync", "always"] if persist else ["--appendonly", "no"]
        self.proc = None

    def start(self) -> "RedisServer":
        log = open(os.path.join(self.folder, f"redis-{self.port}.log"), "a")
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      *self.saving, "--dir", self.folder], stdout=log, stderr=subprocess.STDOUT)
        client = self.client()
        wait_until(lambda: self._pings(client), 10, "redis-server")
        return self

    @staticmethod
    def _pings(client) -> bool:
        try:
            return client.ping()
        except redis.RedisError:
            return False

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, decode_responses=True, socket_timeout=5)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


class Nginx:
    """nginx from deploy/nginx.conf (rendered by deploy/cluster.sh conf) with its files in a tmp folder."""

    def __init__(self, folder: str, upstream_ports: list[int]):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.folder = folder
        self.conf = os.path.join(folder, "nginx.conf")
        with open(self.conf, "w") as f:
            subprocess.run([os.path.join(ROOT, "deploy", "cluster.sh"), "conf", f"127.0.0.1:{self.port}",
                            *map(str, upstream_ports)], stdout=f, check=True)
        self.proc = None

    def start(self) -> "Nginx":
        self.proc = subprocess.Popen([NGINX, "-p", self.folder, "-c", self.conf, "-e",
                                      os.path.join(self.folder, "error.log"),
                                      "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_until(self._answers, 10, "nginx")
        return self

    def _answers(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"nginx exited: {open(os.path.join(self.folder, 'error.log')).read()}")
        try:
            return http_json(self.url + "/healthz")[0] == 200
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


class Cluster:
    """Redis, N server processes on it (--redis, --behind-proxy) and nginx in front."""

    def __init__(self, n: int, *args: str, async_mode: str = "eventlet", persist: bool = False):
        self.folder = tempfile.mkdtemp(prefix="cluster-")
        self.redis = RedisServer(self.folder, persist)
        self.args, self.async_mode, self.n = args, async_mode, n
        self.servers: list[LiveServer] = []
        self.nginx = None

    def start(self) -> "Cluster":
        self.redis.start()
        self.servers = [LiveServer("--redis", self.redis.url, "--behind-proxy", *self.args, async_mode=self.async_mode)
                        for _ in range(self.n)]
        for s in self.servers:
            s.start()
        self.nginx = Nginx(self.folder, [s.port for s in self.servers]).start()
        return self

    def kill(self, server: LiveServer) -> None:
        """kill -9: the process ends with no chance to clean up."""
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait(10)

    def stop(self) -> None:
        for part in [self.nginx, *self.servers, self.redis]:
            if part is not None:
                part.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
