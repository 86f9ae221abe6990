"""Socket.IO client managers that yield while sending a broadcast.

A room emit sends one encoded packet to every participant in a loop; at 10,000 watchers that loop
holds the process for about a second, and answer saves and acks wait behind it. These managers
hand control to other tasks every ``YIELD_EVERY`` participants.
"""

from __future__ import annotations

from collections.abc import Iterator

import socketio

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


def client_manager(redis_url: str | None) -> socketio.Manager:
    # Flask-SocketIO's default channel, so that write-only emitters elsewhere reach these clients.
    return YieldingRedisManager(redis_url, channel="flask-socketio") if redis_url else YieldingManager()
