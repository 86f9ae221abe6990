"""Socket.IO client managers made for thousands of clients per process, and how handlers send.

A room emit sends one encoded packet to every participant in a loop; at 10,000 watchers that loop
holds the process for about a second, and answer saves and acks wait behind it. These managers
hand control to other tasks every ``YIELD_EVERY`` participants.

They also know which rooms each client is in. The library finds them on every disconnect by
looking through all the rooms of the namespace, one per client at least: when 10,000 watchers of
a projector board leave together that is 10^8 lookups, and the process sends nothing to anyone
for minutes.

``reply`` answers the client being handled without the queue; ``emit_each`` sends one event to
many rooms, each with its own data (a live question's personal results), as one message on the
queue rather than one per room.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import flask_socketio
import socketio

from core.extensions import socketio as socketio_ext

YIELD_EVERY = 200


class _Yielding:
    server: socketio.Server

    def get_participants(self, namespace: str, room: str) -> Iterator[tuple[str, str]]:
        # The library copies the room before iterating, so a client leaving meanwhile is harmless.
        for count, participant in enumerate(super().get_participants(namespace, room), start=1):  # type: ignore[misc]
            yield participant
            if count % YIELD_EVERY == 0:
                self.server.sleep(0)


class _RoomIndex:
    """Each client's rooms, kept beside the library's rooms (python-socketio 5: ``rooms``,
    ``callbacks``, ``pending_connect`` and ``pending_disconnect`` as in its BaseManager)."""

    rooms: dict[str, dict[object, object]]
    callbacks: dict[str, object]
    pending_connect: dict[str, list[str]]
    pending_disconnect: dict[str, list[str]]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        self.rooms_of: dict[tuple[str, str], set[object]] = {}

    def basic_enter_room(self, sid: str, namespace: str, room: object, eio_sid: str | None = None) -> None:
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)  # type: ignore[misc]
        self.rooms_of.setdefault((namespace, sid), set()).add(room)

    def basic_leave_room(self, sid: str, namespace: str, room: object) -> None:
        super().basic_leave_room(sid, namespace, room)  # type: ignore[misc]
        rooms = self.rooms_of.get((namespace, sid))
        if rooms is not None:
            rooms.discard(room)
            if not rooms:
                del self.rooms_of[(namespace, sid)]

    def basic_disconnect(self, sid: str, namespace: str, **_kwargs: object) -> None:
        # The library's own, but for the rooms: those of this client only, not a look through all.
        if namespace not in self.rooms:
            return
        for room in list(self.rooms_of.get((namespace, sid), ())):
            self.basic_leave_room(sid, namespace, room)
        self.callbacks.pop(sid, None)
        for pending in (self.pending_connect, self.pending_disconnect):
            waiting = pending.get(namespace)
            if waiting is not None and sid in waiting:
                waiting.remove(sid)
                if not waiting:
                    del pending[namespace]


class _Each:
    server: socketio.Server

    def emit_each(self, event: str, items: Sequence[tuple[str, object]], namespace: str) -> None:
        self._emit_here(event, items, namespace)

    def _emit_here(self, event: str, items: Iterable[Sequence[object]], namespace: str | None) -> None:
        for count, (room, data) in enumerate(items, start=1):
            socketio.Manager.emit(self, event, data, namespace=namespace, room=room)  # type: ignore[arg-type]
            if count % YIELD_EVERY == 0:
                self.server.sleep(0)


# A queue message carrying many emits is an emit to this room, which nobody joins: a process that
# does not know the "each" field (an older one during a rolling update) delivers nothing.
EACH_ROOM = "thidua:each"


class _EachOverQueue(_Each):
    host_id: str

    def emit_each(self, event: str, items: Sequence[tuple[str, object]], namespace: str) -> None:
        # At 10,000 players a question's results were 10,000 publishes, each read and decoded by
        # every other process.
        each = [[room, data] for room, data in items]
        self._emit_here(event, each, namespace)
        self._publish({  # type: ignore[attr-defined]
            "method": "emit", "event": event, "data": [], "namespace": namespace, "room": EACH_ROOM,
            "skip_sid": None, "callback": None, "binary": False, "host_id": self.host_id, "each": each,
        })

    def _handle_emit(self, message: dict[str, object]) -> None:
        each = message.get("each")
        if isinstance(each, list):
            self._emit_here(str(message["event"]), each, message.get("namespace"))  # type: ignore[arg-type]
        else:
            super()._handle_emit(message)  # type: ignore[misc]


class YieldingManager(_RoomIndex, _Yielding, _Each, socketio.Manager):
    """In-process rooms (one process, no Redis)."""


class YieldingRedisManager(_RoomIndex, _Yielding, _EachOverQueue, socketio.RedisManager):
    """Rooms across processes through the Redis message queue (``REDIS_URL``)."""


def client_manager(redis_url: str | None, channel: str) -> socketio.Manager:
    return YieldingRedisManager(redis_url, channel=channel) if redis_url else YieldingManager()


def reply(event: str, data: object) -> None:
    """Send ``event`` to the client whose message is being handled. It is connected to this
    process, so the reply skips the queue, which every other process would read only to drop it
    (a tenth of a board subscribe's CPU with Redis)."""
    flask_socketio.emit(event, data, ignore_queue=True)


def emit_each(event: str, items: Sequence[tuple[str, object]], namespace: str) -> None:
    """Send ``event`` to each room of ``items`` with that room's data, from any process."""
    socketio_ext.server.manager.emit_each(event, items, namespace)
