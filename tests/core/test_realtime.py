"""The Socket.IO client manager keeps each client's rooms itself: the same rooms as the library's
own manager after any sequence of connects, joins, leaves, closes and disconnects; one event to
many rooms, each with its own data, crosses the queue as one message."""

from __future__ import annotations

import random
import time

import pytest
import socketio

from core.realtime import YieldingManager, YieldingRedisManager

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
