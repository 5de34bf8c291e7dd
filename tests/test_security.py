"""Access token, origin policy, limits and page headers (issue 6)."""
import pytest
import socketio

from tests.live import Client, LiveServer, http_json, ws_origin


@pytest.fixture(scope="module")
def listed():
    """One server for the origin and header checks: they change nothing on it."""
    with LiveServer("--backend", "openai", "--base-url", "http://127.0.0.1:9/v1",
                    "--cors-origin", "http://listed.example:8080") as s:
        yield s


def refused(url, token=None, headers=None) -> str:
    """The connect_error message when the server refuses a socket (fails if it accepts)."""
    sio = socketio.Client(reconnection=False, **ws_origin(headers))
    errors = []
    sio.on("connect_error", lambda data=None: errors.append(data))
    with pytest.raises(socketio.exceptions.ConnectionError):
        sio.connect(url, auth={"token": token} if token else {},
                    transports=["websocket"], wait_timeout=5)
        sio.disconnect()
    return str(errors)


def test_access_token_guards_sockets_and_api(make_server, make_client):
    s = make_server("--backend", "openai", "--base-url", "http://127.0.0.1:9/v1", "--token", "s3cret-token")
    assert "unauthorized" in refused(s.url)
    assert "unauthorized" in refused(s.url, token="wrong")
    assert make_client(s.url, token="s3cret-token").of("ready")
    status, body = http_json(s.url + "/api/backends")
    assert status == 401 and body["error"]["code"] == "unauthorized"
    assert http_json(s.url + "/api/backends", headers={"Authorization": "Bearer wrong"})[0] == 401
    assert http_json(s.url + "/api/backends", headers={"Authorization": "Bearer s3cret-token"})[0] == 200
    assert http_json(s.url + "/api/chat", {"message": "hi"})[0] == 401
    assert http_json(s.url + "/healthz")[0] == 200  # health stays open for monitors
    assert "s3cret-token" not in s.output()


@pytest.mark.parametrize("origin, allowed", [
    ("http://evil.example", False),
    ("https://evil.example:5000", False),
    ("null", False),
    ("http://192.168.43.20:5173", True),  # the uni-app H5 dev server on the LAN
    ("http://10.0.0.7", True),
    ("http://localhost:5173", True),
    ("http://listed.example:8080", True),  # named with --cors-origin
])
def test_origin_policy_for_sockets_and_api(listed, origin, allowed):
    s = listed
    headers = {"Origin": origin}
    if allowed:
        c = Client(s.url, headers=headers)
        c.close()
    else:
        refused(s.url, headers=headers)
    status, _ = http_json(s.url + "/api/backends", headers=headers)
    assert (status == 200) is allowed


def test_page_own_origin_is_allowed_and_api_preflight_works(listed):
    s = listed
    Client(s.url, headers={"Origin": s.url}).close()
    import urllib.request

    req = urllib.request.Request(s.url + "/api/chat", method="OPTIONS", headers={
        "Origin": "http://192.168.1.9:5173", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type"})
    with urllib.request.urlopen(req) as r:
        assert r.headers["Access-Control-Allow-Origin"] == "http://192.168.1.9:5173"
        assert "authorization" in r.headers["Access-Control-Allow-Headers"].lower()


def test_star_origin_only_when_asked_and_warned(make_server):
    s = make_server("--backend", "openai", "--base-url", "http://127.0.0.1:9/v1", "--cors-origin", "*")
    Client(s.url, headers={"Origin": "http://evil.example"}).close()
    assert "any web page" in s.output()


def test_security_headers_on_the_page(listed):
    import urllib.request

    s = listed
    with urllib.request.urlopen(s.url + "/") as r:
        csp = r.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"] == "no-referrer"


def test_rate_limits_per_session_and_address(make_server, make_client, stub):
    s = make_server("--backend", "openai", "--base-url", stub.url, "--rate-per-minute", "2",
                    "--rate-per-minute-ip", "3")
    a = make_client(s.url)
    for _ in range(2):
        a.wait_done(a.chat("hi", model="words-1"))
    ack = a.call("chat", {"message": "hi", "model": "words-1"})
    assert ack["ok"] is False and ack["error"]["code"] == "rate_limited"
    b = make_client(s.url)  # another conversation from the same address
    b.wait_done(b.chat("hi", model="words-1"))
    assert b.call("chat", {"message": "hi", "model": "words-1"})["error"]["code"] == "rate_limited"
    status, body = http_json(s.url + "/api/chat", {"message": "hi", "model": "words-1"})
    assert status == 429 and body["error"]["code"] == "rate_limited"


def test_sockets_per_address_and_max_tokens_ceiling(make_server, make_client, stub):
    s = make_server("--backend", "openai", "--base-url", stub.url, "--max-sockets-per-ip", "2",
                    "--max-tokens-cap", "50")
    a = make_client(s.url)
    make_client(s.url)
    assert "too many" in refused(s.url)
    a.wait_done(a.chat("hi", model="words-1", params={"max_tokens": 4000}))
    assert stub.requests[-1]["max_tokens"] == 50


def test_oversized_packet_drops_only_that_socket(make_server, make_client, stub):
    s = make_server("--backend", "openai", "--base-url", stub.url, "--max-payload-bytes", "20000")
    big = make_client(s.url)
    big.sio.emit("chat", {"message": "x" * 50000})
    big.sio.sleep(1)
    assert not big.sio.connected or big.of("done") == []
    other = make_client(s.url)
    assert other.wait_done(other.chat("still here?", model="words-2"))["finish_reason"] == "stop"
    assert s.alive()


def test_long_message_is_too_long(make_server, make_client, stub):
    s = make_server("--backend", "openai", "--base-url", stub.url, "--max-message-chars", "100")
    c = make_client(s.url)
    assert c.of("ready")[0]["limits"]["max_message_chars"] == 100
    assert c.call("chat", {"message": "y" * 101})["error"]["code"] == "too_long"
    assert c.call("chat", {"message": "y" * 100, "model": "words-1"})["ok"]


def test_api_key_never_leaks(make_server, make_client, stub):
    key = "sk-test-SECRET-4242"
    s = make_server("--log-level", "DEBUG", env={"DEEPSEEK_API_KEY": key, "DEEPSEEK_BASE_URL": stub.url})
    c = make_client(s.url)
    seen = [repr(c.of("ready"))]
    for model in ("e401", "e500", "cut", "words-2"):
        rid = c.chat("hi", model=model)
        c.wait_done(rid)
    seen.append(repr(c.events))
    seen.append(repr(c.call("chat", {"message": "hi", "model": 5})))
    import urllib.request

    with urllib.request.urlopen(s.url + "/") as r:
        seen.append(r.read().decode())
    seen += [repr(http_json(s.url + p)) for p in ("/healthz", "/api/backends")]
    seen.append(repr(http_json(s.url + "/api/chat", {"message": "hi", "model": "e401"})))
    seen.append(s.output())  # the server's own log, at DEBUG
    assert stub.requests[-1]["model"] == "e401"  # the key did reach the upstream that needs it
    for text in seen:
        assert key not in text and "SECRET-4242" not in text
