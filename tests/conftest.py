"""Shared fixtures: the OpenAI-compatible stub, live servers in both async modes, tiny models."""
from __future__ import annotations

import time

import pytest

from tests.live import Client, LiveServer, http_json
from tests.openai_stub import Stub


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: loads a real model or runs long; still part of the default run")


# The longest files first: xdist (--dist loadfile --no-loadscope-reorder, pytest.ini) hands files to its
# workers in collection order, and a long file that starts last keeps one worker busy after the others are
# done. Without --no-loadscope-reorder xdist orders files by their number of tests instead, and the 7 tests
# of test_tuning.py started among the last. Seconds per file, mean of two runs of the whole suite (1,596 s
# in all, 3 workers): 192 tuning, 168 uniapp, 119 the page, 91 graph, 89 cluster, 61 roles, 60 security,
# 56 sessions, 56 v1_local, 48 evidence, 47 the train page, 47 local_live, 45 soak, 44 streaming.
# test_tuning_spawn.py: 178 s alone on 2 busy cores (two spawned training children); test_backup.py took 351 s
# alone (a training run and an upload embedding, load average 12 on 2 cores) and test_https.py 68 s (five server
# starts); test_safe_default.py 43 s alone with -n0;
# test_graph_offline.py 130 s alone on the loaded machine (three restarts of a local model).
LONGEST_FIRST = ("test_tuning.py", "test_backup.py", "test_uniapp.py", "test_tuning_spawn.py", "test_page.py",
                 "test_graph.py", "test_graph_offline.py", "test_cluster.py", "test_roles.py", "test_https.py",
                 "test_security.py",
                 "test_sessions.py", "test_v1_local.py", "test_evidence.py", "test_train_page.py", "test_local_live.py",
                 "test_soak.py", "test_streaming.py", "test_safe_default.py",
                 "test_ocr_library.py",  # 75 s alone with -n0 on the loaded machine
                 "test_attach_page.py", "test_attachments.py")  # 52 s and 45 s alone, loaded machine

# test_hardening.py: 66 s alone with -n0 on 2 busy cores (three server starts, one with a tiny local model).
LONGEST_FIRST = (*LONGEST_FIRST[:LONGEST_FIRST.index("test_security.py")], "test_hardening.py",
                 *LONGEST_FIRST[LONGEST_FIRST.index("test_security.py"):])
# test_int4.py: 65 s alone with -n0 on the loaded machine (the built-in GGUF's Q4_K tensor, two tiny-model loads).
LONGEST_FIRST = (*LONGEST_FIRST, "test_int4.py")
# test_cross_language.py: 42 s alone with -n0 on the loaded machine (a tiny base model loaded, three uploads).
LONGEST_FIRST = (*LONGEST_FIRST, "test_cross_language.py")
# test_composed_answers.py: 33-78 s alone with -n0 on the loaded machine (a server with a tiny local model).
LONGEST_FIRST = (*LONGEST_FIRST, "test_composed_answers.py")


def pytest_collection_modifyitems(session, config, items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest keep their order


@pytest.fixture(scope="session")
def stub():
    s = Stub()
    yield s
    s.close()


@pytest.fixture(scope="session")
def arcadedb(tmp_path_factory):
    """A real Bolt server (ArcadeDB) for the graph's Neo4j engine; skipped with the reason if it cannot start."""
    pytest.importorskip("neo4j", reason="the neo4j driver is not installed (requirements.txt)")
    pytest.importorskip("arcadedb_embedded", reason="arcadedb-embedded is not installed (requirements-dev.txt)")
    from tests.arcadedb_server import ArcadeDB
    from tests.live import free_port

    try:
        server = ArcadeDB(str(tmp_path_factory.mktemp("arcadedb")), free_port(), free_port())
    except (RuntimeError, OSError) as e:
        pytest.skip(f"ArcadeDB could not start here ({e}): the Neo4j engine is untested")
    yield server
    server.close()


@pytest.fixture
def make_server():
    """Start servers with extra flags; each is stopped after the test."""
    started = []

    def make(*args, wait_ready=True, env=None, async_mode="threading", timeout=120):
        server = LiveServer(*args, env=env, async_mode=async_mode)
        started.append(server)
        return server.start(wait_ready=wait_ready, timeout=timeout)

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def make_client():
    """Socket.IO clients that are closed after the test."""
    clients = []

    def make(url, **kw):
        c = Client(url, **kw)
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.close()


@pytest.fixture(scope="module", params=["eventlet", "threading"])
def relay(request, stub):
    """A server on the stub upstream, in each async mode; shared by a module's tests."""
    server = LiveServer("--backend", "openai", "--base-url", stub.url, "--rate-per-minute", "0",
                        "--rate-per-minute-ip", "0",
                        "--orphan-limit", "0", async_mode=request.param).start()
    # The upstream's model list is fetched in the background after start: wait for it, as tests read it.
    deadline = time.monotonic() + 15
    while not http_json(server.url + "/api/backends")[1]["backends"][0]["models"]:
        assert time.monotonic() < deadline, "the stub's models were never discovered"
        time.sleep(0.1)
    yield server
    server.stop()


# test_graph_constrained.py: 136 s alone, loaded (six random-model answers of up to ~700 tokens, a live server).
LONGEST_FIRST = (*LONGEST_FIRST, "test_graph_constrained.py")
