"""The application's Redis connection, when ``REDIS_URL`` is set (one pool per URL and app)."""

from __future__ import annotations

import redis
from flask import current_app


def redis_client() -> redis.Redis | None:
    """A client with string replies, or None when the app runs without Redis (``make run``)."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    clients: dict[str, redis.Redis] = current_app.extensions.setdefault("thidua.redis", {})
    client = clients.get(url)
    if client is None:
        client = clients[url] = redis.Redis.from_url(url, decode_responses=True, health_check_interval=30)
    return client
