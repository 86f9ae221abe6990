"""A minimal Socket.IO v5 client (Engine.IO v4, websocket only) for load generators.

The python-socketio client costs too much CPU to hold thousands of connections from one process;
this one speaks just what the benchmarks need: connect to one namespace, emit (with an ack id when
asked), receive events and acks, answer the server's pings. Payloads stay text: the caller parses
only what it measures.
"""

from __future__ import annotations

import json

import aiohttp


class ProtocolError(Exception):
    pass


class Client:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse, namespace: str) -> None:
        self.ws = ws
        self.namespace = namespace
        self.prefix = f"{namespace},"
        self.next_id = 0

    @classmethod
    async def connect(cls, http: aiohttp.ClientSession, base: str, namespace: str,
                      headers: dict[str, str] | None = None) -> Client:
        url = base.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        ws = await http.ws_connect(url, headers=headers or {}, autoping=False, max_msg_size=0)
        client = cls(ws, namespace)
        opened = await client._text()
        if not opened.startswith("0"):
            raise ProtocolError(f"no open packet: {opened[:80]!r}")
        await ws.send_str(f"40{client.prefix}")
        while True:
            packet = await client._text()
            if packet == "2":
                await ws.send_str("3")
            elif packet.startswith(f"40{client.prefix}"):
                return client
            elif packet.startswith(f"44{client.prefix}"):
                raise ProtocolError(f"namespace refused: {packet[:120]!r}")

    async def _text(self) -> str:
        message = await self.ws.receive()
        if message.type != aiohttp.WSMsgType.TEXT:
            raise ProtocolError(f"connection ended ({message.type.name})")
        return message.data

    async def emit(self, event: str, data: object, ack: bool = False) -> int | None:
        """Send an event; with ``ack`` returns the id its acknowledgement will carry."""
        ack_id = None
        if ack:
            self.next_id += 1
            ack_id = self.next_id
        body = json.dumps([event, data], ensure_ascii=False, separators=(",", ":"))
        await self.ws.send_str(f"42{self.prefix}{'' if ack_id is None else ack_id}{body}")
        return ack_id

    async def receive(self) -> tuple[str, str, str]:
        """The next ("event", name, raw packet) or ("ack", id, raw JSON array); pings are answered."""
        while True:
            packet = await self._text()
            if packet == "2":
                await self.ws.send_str("3")
                continue
            if packet.startswith(f"42{self.prefix}"):
                start = len(self.prefix) + 2
                name_end = packet.index('"', start + 2)
                return "event", packet[start + 2:name_end], packet
            if packet.startswith(f"43{self.prefix}"):
                rest = packet[len(self.prefix) + 2:]
                split = rest.index("[")
                return "ack", rest[:split], rest[split:]

    async def close(self) -> None:
        await self.ws.close()


def number(text: str, key: str) -> int:
    """The integer value of ``"key":`` in a JSON text, without parsing the rest."""
    start = text.find(f'"{key}":')
    if start < 0:
        raise ProtocolError(f"no {key} in {text[:80]!r}")
    start += len(key) + 3
    end = start
    while end < len(text) and (text[end].isdigit() or text[end] == "-"):
        end += 1
    return int(text[start:end])
