"""The application's Redis connection, when ``REDIS_URL`` is set (one pool per URL and app)."""

from __future__ import annotations

import redis
from flask import current_app

POOL_WAIT_SECONDS = 10  # how long a request waits for a free connection before it fails


def redis_client() -> redis.Redis | None:
    """A client with string replies, or None when the app runs without Redis (``make run``)."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    clients: dict[str, redis.Redis] = current_app.extensions.setdefault("thidua.redis", {})
    client = clients.get(url)
    if client is None:
        # A blocking pool: with the default one (at most 100 connections since redis-py 6) the 101st
        # greenlet of a process needing Redis at the same moment failed with "Too many connections"
        # (a thousand phones subscribing to a board at once did). Here it waits for a free one.
        pool = redis.BlockingConnectionPool.from_url(
            url, decode_responses=True, health_check_interval=30,
            max_connections=current_app.config["REDIS_MAX_CONNECTIONS"], timeout=POOL_WAIT_SECONDS,
        )
        client = clients[url] = redis.Redis(connection_pool=pool)
    return client
