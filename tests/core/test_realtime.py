"""The Socket.IO client manager keeps each client's rooms itself: the same rooms as the library's
own manager after any sequence of connects, joins, leaves, closes and disconnects."""

from __future__ import annotations

import random

import socketio

from core.realtime import YieldingManager

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
