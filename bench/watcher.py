"""A board watcher on a bare TCP connection, for load generators holding thousands of them.

The generators share the machine's cores with the servers they measure, so every microsecond they
spend per message is taken from the servers. aiohttp's websocket client costs about 35 µs a message;
this one speaks just enough of the protocols (RFC 6455 websocket, Engine.IO v4, Socket.IO v5) to
subscribe to a board and to note, for each update, when it arrived and the two timestamps it
carries, found with a regular expression instead of parsing the JSON. Server frames come unmasked
and unfragmented (python-engineio sends each packet as one text frame); the client's own frames are
masked, as the protocol requires.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import time
from array import array
from dataclasses import dataclass, field

NAMESPACE = "/boards"
_OPEN = b"0{"
_CONNECTED = f"40{NAMESPACE},".encode()
_REFUSED = f"44{NAMESPACE},".encode()
_SNAPSHOT = f'42{NAMESPACE},["snapshot",'.encode()
_BOARD_ERROR = f'42{NAMESPACE},["board_error",'.encode()
_UPDATE = f'42{NAMESPACE},["update",'.encode()
_DISCONNECTED = f"41{NAMESPACE}".encode()
_STORED = re.compile(rb'"stored_at":(\d+)')
_SENT = re.compile(rb'"sent_at":(\d+)')
_SIZE = re.compile(rb'"size":(\d+)')
_TEXT, _CLOSE, _PING, _PONG = 0x1, 0x8, 0x9, 0xA


class ProtocolError(Exception):
    pass


@dataclass
class Received:
    """What one generator's watchers received, as flat arrays (cheap to keep and to send back)."""

    received_ms: array = field(default_factory=lambda: array("q"))
    stored_at: array = field(default_factory=lambda: array("q"))
    sent_at: array = field(default_factory=lambda: array("q"))
    counts: list[int] = field(default_factory=list)  # updates received, per watcher
    largest: int = 0  # the most rows a board update said the board has: every result fed, at the end
    last: float = 0.0  # monotonic time of the latest update


def _frame(opcode: int, payload: bytes) -> bytes:
    """A masked client frame."""
    mask = os.urandom(4)
    size = len(payload)
    if size < 126:
        head = bytes((0x80 | opcode, 0x80 | size))
    elif size < 65536:
        head = bytes((0x80 | opcode, 0x80 | 126)) + size.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + size.to_bytes(8, "big")
    repeated = (mask * (size // 4 + 1))[:size]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(size, "big")
    return head + mask + masked


class Watcher(asyncio.Protocol):
    """Connects, subscribes to ``board``, then records every update in ``got`` (index ``number``)."""

    def __init__(self, port: int, board: str, top: int, deflate: bool, got: Received, ended: dict[str, int]) -> None:
        self.port, self.board, self.top, self.deflate = port, board, top, deflate
        self.got, self.ended = got, ended
        self.number = -1
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.upgraded = False
        self.subscribed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    # --- the connection ---------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        key = base64.b64encode(os.urandom(16)).decode()
        # Browsers offer compression; the servers decline it (core.realtime). Offered when asked, as they do.
        extensions = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" if self.deflate else ""
        self.transport.write((
            f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\n{extensions}\r\n"
        ).encode())

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(ProtocolError(f"connection lost: {exc}"), "connection lost")

    def _fail(self, error: Exception, reason: str) -> None:
        if not self.subscribed.done():
            self.subscribed.set_exception(error)
        elif self.number >= 0:
            self.ended[reason] = self.ended.get(reason, 0) + 1
            self.number = -1  # counted once
        if self.transport is not None:
            self.transport.close()

    def send_text(self, text: str) -> None:
        assert self.transport is not None
        self.transport.write(_frame(_TEXT, text.encode()))

    # --- frames -----------------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        if not self.upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buffer.startswith(b"HTTP/1.1 101"):
                self._fail(ProtocolError(f"upgrade refused: {bytes(buffer[:80])!r}"), "upgrade refused")
                return
            del buffer[:end + 4]
            self.upgraded = True
        start = 0
        while len(buffer) - start >= 2:
            opcode, size = buffer[start] & 0x0F, buffer[start + 1] & 0x7F
            head = 2
            if size == 126:
                head = 4
                size = int.from_bytes(buffer[start + 2:start + 4], "big") if len(buffer) - start >= 4 else -1
            elif size == 127:
                head = 10
                size = int.from_bytes(buffer[start + 2:start + 10], "big") if len(buffer) - start >= 10 else -1
            if size < 0 or len(buffer) - start < head + size:
                break
            payload = bytes(buffer[start + head:start + head + size])
            start += head + size
            if opcode == _TEXT:
                self._message(payload)
            elif opcode == _PING:
                assert self.transport is not None
                self.transport.write(_frame(_PONG, payload))
            elif opcode == _CLOSE:
                self._fail(ProtocolError("closed by the server"), "websocket closed")
                return
        del buffer[:start]

    # --- Engine.IO and Socket.IO packets ----------------------------------------------------------

    def _message(self, text: bytes) -> None:
        if text.startswith(_UPDATE):
            got = self.got
            got.received_ms.append(int(time.time() * 1000))
            # The timestamps close the payload (leaderboard.broadcast adds them last); the size is near the start.
            tail = text[-80:]
            stored, sent, size = _STORED.search(tail), _SENT.search(tail), _SIZE.search(text, 0, 200)
            got.stored_at.append(int(stored[1]) if stored else -1)
            got.sent_at.append(int(sent[1]) if sent else -1)
            if self.number >= 0:
                got.counts[self.number] += 1
            if size:
                got.largest = max(got.largest, int(size[1]))
            got.last = time.monotonic()
        elif text == b"2":  # the server's Engine.IO ping
            self.send_text("3")
        elif text.startswith(_OPEN):
            self.send_text(_CONNECTED.decode())
        elif text.startswith(_CONNECTED):
            self.send_text(f"42{NAMESPACE}," + json.dumps(["subscribe", {"board": self.board, "top": self.top}]))
        elif text.startswith(_SNAPSHOT):
            if not self.subscribed.done():
                self.subscribed.set_result(None)
        elif text.startswith((_REFUSED, _BOARD_ERROR)):
            self._fail(ProtocolError(f"refused: {text[:200]!r}"), "refused")
        elif text == b"1" or text.startswith(_DISCONNECTED):
            self._fail(ProtocolError("closed by the server"), "closed by server")

    def attach(self) -> None:
        """Once subscribed: this watcher's updates are counted from now on."""
        self.got.counts.append(0)
        self.number = len(self.got.counts) - 1

    def close(self) -> None:
        self.number = -1
        if self.transport is not None:
            self.transport.close()


async def watch(port: int, board: str, top: int, deflate: bool, got: Received, ended: dict[str, int]) -> Watcher:
    """A subscribed watcher (raises ProtocolError or OSError when it cannot subscribe)."""
    loop = asyncio.get_running_loop()
    _transport, watcher = await loop.create_connection(
        lambda: Watcher(port, board, top, deflate, got, ended), "127.0.0.1", port
    )
    await watcher.subscribed
    watcher.attach()
    return watcher
