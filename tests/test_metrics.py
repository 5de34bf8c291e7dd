"""/metrics (protocol 1.3): Prometheus text, read back with prometheus_client's own parser."""
from __future__ import annotations

import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from tests.live import LiveServer, http_json

ADMIN = "metrics-admin-3310"


def scrape(url: str, headers: dict | None = None) -> dict:
    """{(sample name, sorted labels): value} of one scrape."""
    req = urllib.request.Request(url + "/metrics", headers=headers or {})
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.headers["Content-Type"].startswith("text/plain")
        text = r.read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_metrics_count_streams_tokens_latency_and_errors(stub, make_client):
    server = LiveServer("--backend", "openai", "--base-url", stub.url, "--embed-model", "none", "--admin-token", ADMIN,
                        "--rate-per-minute", "0").start()
    try:
        assert http_json(server.url + "/metrics")[0] == 403  # admin only by default
        c = make_client(server.url)
        for _ in range(2):
            c.wait_done(c.chat("hello", model="words-5"))
        slow = c.chat("hello", model="slow-200")
        c.wait("token", lambda t: t["request_id"] == slow)
        during = scrape(server.url, {"X-Admin-Token": ADMIN})
        assert during[("chat_active_streams", ())] == 1 and during[("chat_queue_depth", ())] == 0
        c.call("stop", {"request_id": slow})
        c.wait_done(slow)
        assert c.call("chat", {"message": ""})["error"]["code"] == "bad_request"  # refused before it started
        failed = c.chat("hello", model="e500")
        c.wait_done(failed)
        http_json(server.url + "/api/kb/search", {"query": ""})  # an API error

        m = scrape(server.url, {"Authorization": f"Bearer {ADMIN}"})
        assert m[("chat_active_streams", ())] == 0
        # the stub's 7 per finished reply
        assert m[("chat_tokens_total", (("backend", "openai"), ("kind", "prompt")))] == 14
        assert m[("chat_tokens_total", (("backend", "openai"), ("kind", "completion")))] >= 10 + 1
        assert m[("chat_replies_total", (("backend", "openai"), ("finish_reason", "stop")))] == 2
        assert m[("chat_replies_total", (("backend", "openai"), ("finish_reason", "error")))] == 1
        assert m[("chat_ttft_seconds_count", (("backend", "openai"),))] == 3  # the failed one never had a token
        assert m[("chat_inter_token_seconds_count", (("backend", "openai"),))] >= 2  # replies of two tokens or more
        assert 0 < m[("chat_ttft_seconds_sum", (("backend", "openai"),))] < 30
        assert m[("chat_errors_total", (("code", "bad_request"),))] == 2  # the empty chat and the empty search
        assert sum(v for (name, labels), v in m.items()
                   if name == "chat_errors_total" and labels != (("code", "bad_request"),)) == 1
        assert ("library_jobs", ()) not in m  # no upload running: the family is there without samples
    finally:
        server.stop()


def test_metrics_open_needs_no_token(stub):
    server = LiveServer("--backend", "openai", "--base-url", stub.url, "--embed-model", "none", "--admin-token", ADMIN,
                        "--metrics-open").start()
    try:
        m = scrape(server.url)
        assert m[("chat_active_streams", ())] == 0
    finally:
        server.stop()
