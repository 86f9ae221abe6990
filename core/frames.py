"""Websocket frames for thousands of watchers: every connection is offered no compression, and a
broadcast's frame is built once and shared by all (core.app installs both)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

import engineio
from engineio.async_drivers._websocket_wsgi import SimpleWebSocketWSGI
from wsproto import ConnectionType
from wsproto.connection import Connection, ConnectionState
from wsproto.events import TextMessage

if TYPE_CHECKING:
    import simple_websocket
    from _typeshed.wsgi import StartResponse, WSGIApplication


@lru_cache(maxsize=16)
def _text_frame(text: str) -> bytes:
    # A server's frame is not masked, so without an extension it is the same bytes for every
    # client: a broadcast's one encoded packet (the same str object each time) is framed once.
    return Connection(ConnectionType.SERVER).send(TextMessage(data=text))


class _SharedFrames:
    """Engine.IO's websocket wrapper (simple-websocket), sending text messages as frames shared
    between connections. wsproto framed every update again for each watcher: a tenth of a board
    broadcast's CPU at 10,000 watchers."""

    ws: simple_websocket.Server

    def __call__(self, environ: dict[str, object], start_response: StartResponse) -> object:
        # An extension (permessage-deflate) would make the frames this connection's own.
        self.plain = not environ.get("HTTP_SEC_WEBSOCKET_EXTENSIONS")
        return super().__call__(environ, start_response)  # type: ignore[misc]

    def send(self, message: str | bytes) -> None:
        ws = self.ws
        if self.plain and isinstance(message, str) and ws.connected and ws.ws.state is ConnectionState.OPEN:
            frame = _text_frame(message)
            # send, not sendall: gevent's sendall asks the kernel for the buffer size on every call,
            # a second system call per message.
            sent = ws.sock.send(frame)
            if sent < len(frame):
                ws.sock.sendall(memoryview(frame)[sent:])
        else:
            super().send(message)  # type: ignore[misc]


def share_websocket_frames(server: engineio.Server) -> None:
    """Make ``server`` (any async mode whose websocket is simple-websocket's) share frames."""
    websocket = server._async.get("websocket")
    if isinstance(websocket, type) and issubclass(websocket, SimpleWebSocketWSGI):
        shared = type(f"Shared{websocket.__name__}", (_SharedFrames, websocket), {})
        # A copy: the driver's table is shared by every server of the process.
        server._async = {**server._async, "websocket": shared}


class WithoutWebSocketCompression:
    """WSGI middleware that declines permessage-deflate, which every browser offers: compressing
    one board update once per watcher cost more CPU than all the rest of a broadcast (a fifth of the
    bytes, five times the time at 10,000 watchers). The update is encoded once and sent as it is."""

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def __call__(self, environ: dict[str, object], start_response: StartResponse) -> Iterable[bytes]:
        environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
        return self.app(environ, start_response)
