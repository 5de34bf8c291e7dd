"""Configuration from flags, environment and .env; LAN start-up output."""
import os

from server.config import parse_args
from server.web.lan import lan_urls, qr_text
from tests.live import LiveServer


def test_defaults_serve_the_lan_with_eventlet():
    cfg = parse_args([], environ={})
    assert (cfg.host, cfg.port, cfg.async_mode, cfg.token, cfg.backend) == ("0.0.0.0", 5000, "eventlet", None, None)


def test_flags_win_over_environment():
    env = {"CHAT_PORT": "6000", "CHAT_BACKEND": "openai", "OPENAI_BASE_URL": "http://x/v1", "CHAT_TOKEN": "t",
           "CHAT_CORS_ORIGINS": "http://a, http://b", "DEEPSEEK_API_KEY": "sk-d", "CHAT_ASYNC_MODE": "threading"}
    cfg = parse_args(["--port", "7000", "--cors-origin", "http://c"], environ=env)
    assert cfg.port == 7000 and cfg.backend == "openai" and cfg.base_url == "http://x/v1" and cfg.token == "t"
    assert cfg.cors_origins == ["http://c"] and cfg.async_mode == "threading"
    assert cfg.deepseek_api_key == "sk-d"
    assert "sk-d" not in repr(cfg)  # keys stay out of logs that print the config
    assert parse_args([], environ=env).cors_origins == ["http://a", "http://b"]


def test_several_processes_flags():
    cfg = parse_args([], environ={"CHAT_REDIS_URL": "redis://r:6379/0", "CHAT_BEHIND_PROXY": "1"})
    assert (cfg.redis_url, cfg.behind_proxy) == ("redis://r:6379/0", True)
    cfg = parse_args(["--redis", "redis://:pw-123@s/1", "--behind-proxy"], environ={})
    assert (cfg.redis_url, cfg.behind_proxy) == ("redis://:pw-123@s/1", True)
    assert "pw-123" not in repr(cfg)
    assert (parse_args([], environ={}).redis_url, parse_args([], environ={}).behind_proxy) == (None, False)


def test_dotenv_is_read_but_real_environment_wins(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("CHAT_PORT=6100\nCHAT_MAX_HISTORY=8\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CHAT_PORT", "6200")
    monkeypatch.delenv("CHAT_MAX_HISTORY", raising=False)
    cfg = parse_args([])
    assert (cfg.port, cfg.max_history) == (6200, 8)
    os.environ.pop("CHAT_MAX_HISTORY", None)  # load_dotenv wrote it into this process


def test_lan_urls_are_non_loopback_ipv4():
    urls = lan_urls("0.0.0.0", 5000)
    assert all(u.startswith("http://") and u.endswith(":5000/") and "127.0.0.1" not in u for u in urls)
    assert lan_urls("192.168.1.4", 80) == ["http://192.168.1.4:80/"]
    qr = qr_text("http://192.168.43.1:5000/")
    assert len(qr.splitlines()) > 10 and "█" in qr


def test_start_up_prints_phone_urls_and_a_qr_code(tmp_path):
    server = LiveServer("--backend", "openai", "--base-url", "http://127.0.0.1:9/v1")
    server.args = [a for a in server.args if a not in ("--no-qr",)]
    server.args[server.args.index("127.0.0.1")] = "0.0.0.0"
    server.start()
    try:
        out = server.output()
        urls = lan_urls("0.0.0.0", server.port)
        if urls:
            assert all(u in out for u in urls)
            assert "█" in out or "▀" in out or "▄" in out
        else:
            assert "No network address found" in out
    finally:
        server.stop()
