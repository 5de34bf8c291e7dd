"""Shared fixtures: the OpenAI-compatible stub, live servers in both async modes, tiny models."""
from __future__ import annotations

import time

import pytest

from tests.live import Client, LiveServer, http_json
from tests.openai_stub import Stub

# The tiny models and loaded LocalBackends that several files test (tests/local_backends.py): a plugin rather than
# imports, so that each file names a fixture only as a test's argument.
pytest_plugins = ("tests.local_backends",)


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: loads a real model or runs long; still part of the default run")
    if hasattr(config, "workerinput") or not config.getoption("numprocesses", default=None):
        # One torch thread in each process that runs tests (xdist's controller runs none): torch's default of a
        # thread per core, with three workers on 2 cores, spins threads that wait on each other. Alone with -n0
        # (load 6.5): tests/test_prefill_together.py 110 s wall and 58 CPU-s with 2 threads, 16 s and 12 with 1.
        # Which count a worker had depended on the tests before it: a LocalBackend sets it for the process.
        import torch

        torch.set_num_threads(1)


# The longest files first: xdist (--dist loadfile --no-loadscope-reorder, pytest.ini) hands files to its
# workers in collection order, and a long file that starts last keeps one worker busy after the others are
# done. Without --no-loadscope-reorder xdist orders files by their number of tests instead. Seconds of a worker per
# file in the whole suite at f3cd250 (872 tests, 43:13 on 2 cores at load 13-17, 7,475 worker-seconds): 883 tuning,
# 341 graph, 256 v1_local, 234 uniapp, 225 backup, 199 evidence_words (it started after all 46 files named here
# before), 197 conversations, 186 roles, then 180 down to 30. A file not named here (under 30 s) starts after these,
# in collection order.
LONGEST_FIRST = ("test_tuning.py", "test_graph.py", "test_v1_local.py", "test_uniapp.py", "test_backup.py",
                 "test_evidence_words.py", "test_conversations.py", "test_roles.py", "test_graph_offline.py",
                 "test_cluster.py", "test_tuning_spawn.py", "test_chat_page.py", "test_sessions.py",
                 "test_knowledge.py", "test_train_page.py", "test_evidence.py", "test_knowledge_embedders.py",
                 "test_local_live.py", "test_safe_default.py", "test_security.py", "test_cross_language_choice.py",
                 "test_devices.py", "test_streaming.py", "test_graph_answers.py", "test_number_guard.py",
                 "test_ocr_library.py", "test_page_settings_safety_layout.py", "test_library_answers.py",
                 "test_errors.py", "test_hardening.py", "test_roles_devices.py", "test_composed_about.py",
                 "test_composed_answers.py", "test_compose_sums.py", "test_types.py", "test_attach_page.py",
                 "test_audit.py", "test_evidence_flags.py", "test_v1_api.py", "test_https.py", "test_soak.py",
                 "test_compose_paired.py", "test_transformers_serve.py", "test_usage.py", "test_fuzz.py",
                 "test_cross_language.py", "test_graph_constrained.py", "test_upload_caps.py",
                 "test_reply_document.py", "test_ocr_read.py", "test_data_folder.py",
                 "test_local_limits_and_loading.py", "test_redis_store.py", "test_https_page.py",
                 "test_composed_picks.py", "test_evidence_page.py", "test_int4.py", "test_conversation_list.py",
                 "test_start_messages.py", "test_knowledge_page.py", "test_graph_page.py",
                 "test_graph_answer_page.py", "test_local_prompt.py", "test_activity_page.py")


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
