"""Connections to Redis: the client for shared state, and python-socketio's Redis queue."""
from __future__ import annotations

import redis

# Keepalive and health checks so a connection dropped by a NAT or a restarted Redis is noticed;
# short timeouts so a Redis that stops answering fails a call instead of freezing the server.
REDIS_OPTIONS = {"socket_keepalive": True, "health_check_interval": 30, "socket_connect_timeout": 2}


def connect(url: str) -> redis.Redis:
    """A client for the state this server keeps in Redis (str in, str out)."""
    return redis.Redis.from_url(url, decode_responses=True, socket_timeout=5, **REDIS_OPTIONS)


def socketio_manager(url: str):
    """python-socketio's Redis queue: an emit reaches the sockets of every process."""
    import socketio

    return socketio.RedisManager(url, channel="chat-socketio", redis_options=dict(REDIS_OPTIONS))
