"""50 concurrent conversations with random drops and resumes; memory returns once sessions expire."""
import random
import threading
import time

import psutil
import pytest

from tests.live import Client, http_json

CLIENTS, TURNS, WORDS = 50, 3, 20
EXPECTED = "".join(f"w{i} " for i in range(WORDS))


def converse(url: str, n: int, results: dict, errors: list) -> None:
    """One phone: several turns, sometimes dropping mid-reply and resuming."""
    rng = random.Random(n)
    try:
        c = Client(url, session_id=f"soak-{n}")
        for turn in range(TURNS):
            rid = c.chat(f"turn {turn}", model=f"slow-{WORDS}")
            if rng.random() < 0.5:
                c.wait("token", lambda t: t["request_id"] == rid and t["seq"] >= rng.randint(0, 5), timeout=60)
                c.close()
                time.sleep(rng.uniform(0, 0.5))
                taken = c.in_order(rid)
                c = Client(url, session_id=f"soak-{n}")
                ack = c.call("resume", {"request_id": rid, "after_seq": taken[-1]["seq"] if taken else -1})
                assert ack["ok"], ack
                done = c.wait_done(rid, timeout=60)
                text = "".join(t["text"] for t in taken + c.in_order(rid, taken[-1]["seq"] if taken else -1))
            else:
                done = c.wait_done(rid, timeout=60)
                text = "".join(t["text"] for t in c.in_order(rid))
            assert done["finish_reason"] == "stop", done
            assert text == done["text"] == EXPECTED, (text, done["text"])
        results[n] = c.call("history")["history"]
        c.close()
    except Exception as e:  # reported by the test thread
        errors.append(f"client {n}: {e}")


def run_round(url: str) -> dict:
    results, errors = {}, []
    threads = [threading.Thread(target=converse, args=(url, n, results, errors)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    assert not errors, errors[:5]
    assert len(results) == CLIENTS
    return results


def wait_expired(url: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        health = http_json(url + "/healthz")[1]
        if health["sessions"] == 0 and health["requests"] == 0:
            return health
        time.sleep(0.5)
    pytest.fail(f"sessions never expired: {health}")


@pytest.mark.slow
def test_soak_fifty_clients_with_drops_and_resumes(make_server, stub):
    s = make_server("--backend", "openai", "--base-url", stub.url, "--orphan-limit", "30", "--session-ttl", "5",
                    "--replay-ttl", "10", "--rate-per-minute", "0", "--rate-per-minute-ip", "0",
                    "--max-sockets-per-ip", "500")
    proc = psutil.Process(s.proc.pid)
    for results in (run_round(s.url),):
        for history in results.values():
            assert [m["content"] for m in history] == [x for t in range(TURNS) for x in (f"turn {t}", EXPECTED)]
    wait_expired(s.url)
    rss_after_first = proc.memory_info().rss
    run_round(s.url)
    wait_expired(s.url)
    growth = proc.memory_info().rss - rss_after_first
    assert growth < 30 * 2**20, f"server grew {growth / 2**20:.1f} MiB over a second round of 50 sessions"
    assert s.alive()
