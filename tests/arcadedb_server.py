"""A real Bolt server for the Neo4j engine's tests: ArcadeDB (arcadedb-embedded, its own Java runtime) on loopback.

    python -m tests.arcadedb_server DIR BOLT_PORT HTTP_PORT PASSWORD

Prints "ready" once the database `graph` takes Bolt connections, and stops the server when stdin closes: a
process that exits with it still running dies of SIGSEGV, so it lives in a process of its own.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time


def main(folder: str, bolt: int, http: int, password: str) -> None:
    os.chdir(folder)  # its logs go to ./log
    import arcadedb_embedded as arcadedb

    server = arcadedb.create_server(os.path.join(folder, "databases"), root_password=password, config={
        "http_port": http, "server_plugins": "Bolt:com.arcadedb.bolt.BoltProtocolPlugin", "bolt_port": bolt})
    server.start()
    try:
        server.create_database("graph")
        print("ready", flush=True)
        sys.stdin.read()
    finally:
        server.stop()


class ArcadeDB:
    """The server in a subprocess; url is bolt://127.0.0.1:PORT/graph, user root."""

    PASSWORD = "arcadedb-test-pw"

    def __init__(self, folder: str, bolt: int, http: int, timeout: float = 120):
        self.url = f"bolt://127.0.0.1:{bolt}/graph"
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.arcadedb_server", folder, str(bolt), str(http),
                                      self.PASSWORD], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True,
                                     cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        deadline = time.monotonic() + timeout
        line = self.proc.stdout.readline()
        if line.strip() != "ready" or time.monotonic() > deadline:
            self.close()
            raise RuntimeError("ArcadeDB did not start")

    @property
    def env(self) -> dict:
        return {"CHAT_GRAPH_USER": "root", "CHAT_GRAPH_PASSWORD": self.PASSWORD}

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
