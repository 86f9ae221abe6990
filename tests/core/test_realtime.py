"""The Socket.IO client manager keeps each client's rooms itself: the same rooms as the library's
own manager after any sequence of connects, joins, leaves, closes and disconnects. Websocket
connections share the frame of a broadcast, and every client reads it."""

from __future__ import annotations

import contextlib
import random
import socket
import threading
import time

import engineio
import pytest
import socketio
from wsproto import ConnectionType, WSConnection
from wsproto.connection import Connection
from wsproto.events import Request, TextMessage
from wsproto.extensions import PerMessageDeflate

from core.realtime import YieldingManager, YieldingRedisManager, _text_frame, share_websocket_frames

NAMESPACES = ("/boards", "/live")


def _server(manager: socketio.Manager) -> socketio.Server:
    return socketio.Server(client_manager=manager)


def _state(manager: socketio.Manager) -> dict[str, dict[object, set[str]]]:
    return {ns: {room: set(members) for room, members in rooms.items()} for ns, rooms in manager.rooms.items()}


def _play(manager: socketio.Manager, steps: list[tuple]) -> None:
    sids: dict[tuple[str, int], str] = {}
    for step in steps:
        match step:
            case ("connect", ns, n):
                sids[(ns, n)] = manager.connect(f"eio{n}", ns)
            case ("enter", ns, n, room) if (ns, n) in sids:
                manager.enter_room(sids[(ns, n)], ns, room)
            case ("leave", ns, n, room) if (ns, n) in sids:
                manager.leave_room(sids[(ns, n)], ns, room)
            case ("close", ns, room):
                manager.close_room(room, ns)
            case ("disconnect", ns, n) if (ns, n) in sids:
                manager.disconnect(sids.pop((ns, n)), ns)


def _steps(seed: int) -> list[tuple]:
    rng = random.Random(seed)
    steps: list[tuple] = []
    connected: set[tuple[str, int]] = set()
    for _ in range(400):
        ns, n, room = rng.choice(NAMESPACES), rng.randrange(30), f"board:{rng.randrange(5)}"
        action = rng.random()
        if (ns, n) not in connected:
            steps.append(("connect", ns, n))
            connected.add((ns, n))
        elif action < 0.5:
            steps.append(("enter", ns, n, room))
        elif action < 0.7:
            steps.append(("leave", ns, n, room))
        elif action < 0.75:
            steps.append(("close", ns, room))
        else:
            steps.append(("disconnect", ns, n))
            connected.discard((ns, n))
    return steps


def _same_ids(manager: socketio.Manager) -> None:
    # Both managers must hand out the same sids for the states to be comparable.
    counter = iter(range(10**6))
    manager.server.eio.generate_id = lambda: f"sid{next(counter)}"


def test_the_rooms_match_the_librarys_manager_after_any_sequence():
    for seed in range(20):
        ours, theirs = YieldingManager(), socketio.Manager()
        for manager in (ours, theirs):
            _server(manager)
            _same_ids(manager)
            _play(manager, _steps(seed))
        assert _state(ours) == _state(theirs)
        assert ours.pending_connect == theirs.pending_connect
        # and the index holds exactly the rooms each client is in
        expected = {(ns, sid): {room for room, members in rooms.items() if sid in members}
                    for ns, rooms in ours.rooms.items() for sid in rooms.get(None, {})}
        assert ours.rooms_of == expected


def test_a_disconnect_leaves_every_room_of_that_client_only():
    manager = YieldingManager()
    _server(manager)
    first, second = manager.connect("e1", "/boards"), manager.connect("e2", "/boards")
    for sid in (first, second):
        manager.enter_room(sid, "/boards", "board:round:1:people")
    manager.enter_room(first, "/boards", "board:round:1:teams")
    manager.disconnect(first, "/boards")
    assert not manager.is_connected(first, "/boards")
    assert [sid for sid, _eio in manager.get_participants("/boards", "board:round:1:people")] == [second]
    assert "board:round:1:teams" not in manager.rooms["/boards"]  # its only watcher left
    assert manager.rooms_of == {("/boards", second): {None, second, "board:round:1:people"}}


# --- websocket frames shared between connections -------------------------------------------------


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


# --- one event to many rooms, each with its own data ---------------------------------------------


def _process(manager: socketio.Manager, received: list[tuple[str, str]]) -> socketio.Server:
    """A Socket.IO server as a process has one, its clients' packets collected in ``received``."""
    server = socketio.Server(client_manager=manager, async_mode="threading")
    server._send_eio_packet = lambda eio_sid, pkt: received.append((eio_sid, pkt.encode()))
    manager.initialize()
    return server


def _player(manager: socketio.Manager, eio_sid: str, room: str) -> None:
    manager.enter_room(manager.connect(eio_sid, "/live"), "/live", room)


@pytest.mark.redis
def test_each_room_gets_its_own_data_on_every_process_in_one_queue_message(redis_url):
    import redis

    channel = f"each-{random.randrange(10**9)}"
    here, there, older = [], [], []
    first, second = YieldingRedisManager(redis_url, channel=channel), YieldingRedisManager(redis_url, channel=channel)
    old = socketio.RedisManager(redis_url, channel=channel)  # a process without emit_each (rolling update)
    for manager, received in ((first, here), (second, there), (old, older)):
        _process(manager, received)
    _player(first, "phone1", "player:1")
    _player(second, "phone2", "player:2")
    _player(second, "phone3", "player:3")
    _player(old, "phone4", "player:4")
    _player(old, "phone5", "player:1")  # the same player's second phone, on the older process
    queue = redis.Redis.from_url(redis_url).pubsub()
    queue.subscribe(channel)
    queue.get_message(timeout=2)  # the subscription's confirmation

    first.emit_each("result", [(f"player:{n}", {"rank": n}) for n in (1, 2, 3)], "/live")

    deadline = time.monotonic() + 5
    while len(there) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert here == [("phone1", '42/live,["result",{"rank":1}]')]
    assert sorted(there) == [("phone2", '42/live,["result",{"rank":2}]'), ("phone3", '42/live,["result",{"rank":3}]')]
    messages = [queue.get_message(timeout=1) for _ in range(2)]
    assert sum(m is not None and m["type"] == "message" for m in messages) == 1
    time.sleep(0.2)
    assert older == []  # delivers nothing rather than something wrong
    queue.close()
