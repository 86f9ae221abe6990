"""Websocket connections share the frame of a broadcast, and every client reads it: plain or
compressed, short or longer than the socket buffer."""

from __future__ import annotations

import contextlib
import socket
import threading

import engineio
import pytest
from wsproto import ConnectionType, WSConnection
from wsproto.connection import Connection
from wsproto.events import Request, TextMessage
from wsproto.extensions import PerMessageDeflate

from core.frames import _text_frame, share_websocket_frames


def _websocket_pair(
    server: engineio.Server, offer_deflate: bool
) -> tuple[object, WSConnection, socket.socket, threading.Event]:
    """A server-side websocket wrapper of ``server``'s async mode over a real socket pair, and the
    client's side of the protocol, handshake done."""
    ours, theirs = socket.socketpair()
    client = WSConnection(ConnectionType.CLIENT)
    extensions = [PerMessageDeflate()] if offer_deflate else []
    request = client.send(Request(host="thidua.test", target="/", extensions=extensions))
    environ: dict[str, object] = {"gunicorn.socket": ours}
    for line in request.decode().split("\r\n")[1:]:
        if line:
            name, _, value = line.partition(": ")
            environ["HTTP_" + name.upper().replace("-", "_")] = value
    connected, done = threading.Event(), threading.Event()

    def handler(_ws: object) -> None:
        connected.set()
        done.wait(10)  # the connection lives while the handler runs; the test sends through it

    def serve() -> None:
        with contextlib.suppress(StopIteration):  # how the wrapper ends a connection under gunicorn
            wrapper(environ, None)

    wrapper = server._async["websocket"](handler, server)
    threading.Thread(target=serve, daemon=True).start()
    assert connected.wait(5)
    return wrapper, client, theirs, done


def _messages(client: WSConnection, sock: socket.socket, count: int) -> tuple[list[str], bytes]:
    received: list[str] = []
    wire, part = b"", ""
    sock.settimeout(5)
    while len(received) < count:
        data = sock.recv(65536)
        wire += data
        client.receive_data(data)
        for event in client.events():
            if isinstance(event, TextMessage):  # wsproto hands a long message over in parts
                part += event.data
                if event.message_finished:
                    received.append(part)
                    part = ""
    return received, wire


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536])
def test_a_shared_frame_is_what_the_client_reads(size):
    text = ("Tổ công nghệ số " * 4096)[:size]
    client = Connection(ConnectionType.CLIENT)
    client.receive_data(_text_frame(text))
    (message,) = list(client.events())
    assert isinstance(message, TextMessage) and message.data == text and message.message_finished


@pytest.mark.parametrize("offer_deflate", [False, True])
def test_one_broadcast_is_framed_once_and_every_connection_reads_it(offer_deflate):
    server = engineio.Server(async_mode="threading")
    share_websocket_frames(server)
    pairs = [_websocket_pair(server, offer_deflate) for _ in range(3)]
    update = '42/boards,["update",{"top":[{"name":"Tổ CNS xã Hưng Lộc","score":97}]}]'
    ack = "3"
    hits = _text_frame.cache_info().hits
    for wrapper, *_ in pairs:
        wrapper.send(update)
        wrapper.send(ack)
    for _, client, sock, done in pairs:
        received, wire = _messages(client, sock, 2)
        assert received == [update, ack]
        # Plain connections get the shared frame; with permessage-deflate each compresses its own.
        assert (_text_frame(update) in wire) is not offer_deflate
        done.set()
    assert _text_frame.cache_info().hits - hits == (0 if offer_deflate else 2 * 2) + 3


def test_a_message_larger_than_the_socket_buffer_arrives_whole():
    server = engineio.Server(async_mode="threading")
    share_websocket_frames(server)
    wrapper, client, sock, done = _websocket_pair(server, offer_deflate=False)
    wrapper.ws.sock.settimeout(5)  # a socket with a timeout may take part of a send, as gevent's do
    big = "Bảng xếp hạng " * 200_000
    sender = threading.Thread(target=wrapper.send, args=(big,))
    sender.start()
    received, _ = _messages(client, sock, 1)
    sender.join(5)
    assert received == [big]
    done.set()
