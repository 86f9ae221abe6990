"""Socket.IO client managers that yield while sending a broadcast.

A room emit sends one encoded packet to every participant in a loop; at 10,000 watchers that loop
holds the process for about a second, and answer saves and acks wait behind it. These managers
hand control to other tasks every ``YIELD_EVERY`` participants.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import socketio

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication

YIELD_EVERY = 200


class _Yielding:
    server: socketio.Server

    def get_participants(self, namespace: str, room: str) -> Iterator[tuple[str, str]]:
        # The library copies the room before iterating, so a client leaving meanwhile is harmless.
        for count, participant in enumerate(super().get_participants(namespace, room), start=1):  # type: ignore[misc]
            yield participant
            if count % YIELD_EVERY == 0:
                self.server.sleep(0)


class YieldingManager(_Yielding, socketio.Manager):
    """In-process rooms (one process, no Redis)."""


class YieldingRedisManager(_Yielding, socketio.RedisManager):
    """Rooms across processes through the Redis message queue (``REDIS_URL``)."""


def client_manager(redis_url: str | None, channel: str) -> socketio.Manager:
    return YieldingRedisManager(redis_url, channel=channel) if redis_url else YieldingManager()


class WithoutWebSocketCompression:
    """WSGI middleware that declines permessage-deflate, which every browser offers: compressing
    one board update once per watcher cost more CPU than all the rest of a broadcast (a fifth of the
    bytes, five times the time at 10,000 watchers). The update is encoded once and sent as it is."""

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def __call__(self, environ: dict[str, object], start_response: StartResponse) -> Iterable[bytes]:
        environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
        return self.app(environ, start_response)
