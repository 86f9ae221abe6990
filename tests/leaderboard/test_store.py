"""The rank store contract, run against both backends (in memory, and a real Redis)."""

from __future__ import annotations

import math
import random
import struct
import sys
import threading
from collections.abc import Iterable, Iterator

import pytest
import redis
from flask import Flask

from leaderboard import store as store_module
from leaderboard.store import (
    Entry,
    MemoryRankStore,
    RankStore,
    RedisRankStore,
    Row,
    decode,
    encode,
    rank_store,
)

TOP = 2**64 - 1
BOARD = "round-1"


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def store(request: pytest.FixtureRequest) -> Iterator[RankStore]:
    if request.param == "memory":
        yield MemoryRankStore()
        return
    client = redis.Redis.from_url(request.getfixturevalue("redis_url"), decode_responses=True)
    yield RedisRankStore(client)
    client.close()


@pytest.fixture
def redis_conn(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


def order_key(entry: Entry) -> tuple[float, tuple[int, ...], str]:
    return (-entry.score, entry.tiebreaks, entry.member)


def reference(entries: Iterable[Entry]) -> list[Row]:
    """The intended board, computed the obvious way (last entry of a member wins, -0.0 is 0.0)."""
    latest = {e.member: Entry(e.member, e.score + 0.0, tuple(e.tiebreaks)) for e in entries}
    ordered = sorted(latest.values(), key=order_key)
    return [Row(i + 1, e.member, e.score, e.tiebreaks) for i, e in enumerate(ordered)]


def random_double(rng: random.Random) -> float:
    """Any finite double, drawn from its bit pattern so subnormals and huge values come up too."""
    while True:
        value = struct.unpack(">d", rng.getrandbits(64).to_bytes(8, "big"))[0]
        if math.isfinite(value):
            return value


def random_member(rng: random.Random) -> str:
    # "|" inside members, and code points whose UTF-8 bytes (Redis) must sort like Python strings.
    return "".join(rng.choice("ab|Zé中😀 ") for _ in range(rng.randint(1, 6)))


def bits(value: float) -> bytes:
    return struct.pack(">d", value)


# --- encoding ----------------------------------------------------------------------------------------


def test_encoding_has_the_documented_layout():
    assert encode(Entry("x", 0.0)) == "7fffffffffffffff|x"
    assert encode(Entry("x", -0.0)) == "7fffffffffffffff|x"
    # 1.0 is 0x3ff0000000000000; with the sign bit set 0xbff0..., subtracted from 2**64-1: 0x400f...
    assert encode(Entry("a|b", 1.0, (0, TOP, 255))) == "400fffffffffffff" + "0" * 16 + "f" * 16 + "00000000000000ff|a|b"
    assert encode(Entry("m", -1.0)) == "bff0000000000000|m"
    assert decode("400fffffffffffff" + "0" * 15 + "7|a|b") == Entry("a|b", 1.0, (7,))


def test_encode_decode_round_trip_is_exact():
    rng = random.Random(1729)
    specials = [0.0, -0.0, 5e-324, -5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, -1.7976931348623157e308]
    scores = specials + [random_double(rng) for _ in range(5000)]
    for score in scores:
        tiebreaks = tuple(rng.getrandbits(64) for _ in range(rng.randint(0, 3)))
        entry = Entry(random_member(rng), score, tiebreaks)
        back = decode(encode(entry))
        assert back == entry
        assert bits(back.score) == bits(score + 0.0)  # exact bits; -0.0 comes back as 0.0
        assert isinstance(back.tiebreaks, tuple)


def test_lexicographic_order_of_encodings_is_board_order():
    rng = random.Random(42)
    # A small pool of scores and tiebreaks so ties at every level are common.
    pool = [random_double(rng) for _ in range(20)] + [0.0, -0.0, 1.0, -1.0, 7.35, 7.349999999999999, 1e300]
    entries = [
        Entry(random_member(rng), rng.choice(pool), (rng.choice([0, 1, TOP]), rng.choice([0, 5, TOP - 1, TOP])))
        for _ in range(4000)
    ]
    assert [decode(k) for k in sorted(encode(e) for e in entries)] == [
        Entry(e.member, e.score + 0.0, e.tiebreaks) for e in sorted(entries, key=order_key)
    ]


@pytest.mark.parametrize(
    "entry",
    [
        Entry("x", math.nan),
        Entry("x", math.inf),
        Entry("x", -math.inf),
        Entry("x", 1.0, (-1,)),
        Entry("x", 1.0, (0, 2**64)),
        Entry("", 1.0),
    ],
    ids=["nan", "inf", "-inf", "negative-tiebreak", "tiebreak-2**64", "empty-member"],
)
def test_encode_refuses(entry: Entry):
    with pytest.raises(ValueError):
        encode(entry)


@pytest.mark.parametrize(
    "key", ["", "x|a", "7fffffffffffffff", "7fffffffffffffff|", "7FFFFFFFFFFFFFFF|a", "7fffffffffffffff0|a"]
)
def test_decode_refuses_what_encode_cannot_produce(key: str):
    with pytest.raises(ValueError):
        decode(key)


# --- ordering ----------------------------------------------------------------------------------------


def test_scores_order_higher_first_exactly(store: RankStore):
    entries = [
        Entry("neg-tiny", -5e-324),
        Entry("zero", 0.0),
        Entry("huge", 1e300),
        Entry("neg-zero", -0.0),
        Entry("a-bit-less", 7.349999999999999),
        Entry("seven-35", 7.35),
        Entry("minus-half", -0.5),
        Entry("tiny", 5e-324),
        Entry("neg-huge", -1e300),
        Entry("max", 1.7976931348623157e308),
    ]
    for entry in entries:
        store.set(BOARD, entry)
    rows = store.top(BOARD, 20)
    assert [r.member for r in rows] == [
        "max", "huge", "seven-35", "a-bit-less", "tiny", "neg-zero", "zero", "neg-tiny", "minus-half", "neg-huge",
    ]  # fmt: skip
    assert [r.rank for r in rows] == list(range(1, 11))
    by_member = {r.member: r.score for r in rows}
    assert by_member["seven-35"] == 7.35 and by_member["a-bit-less"] == 7.349999999999999
    assert bits(by_member["neg-zero"]) == bits(0.0)  # -0.0 is stored as 0.0, so it ties with 0.0
    assert rows == reference(entries)


def test_equal_scores_order_by_tiebreaks_then_member(store: RankStore):
    entries = [
        Entry("e", 3.0, (TOP, 0)),
        Entry("d", 3.0, (1, 0)),
        Entry("c", 3.0, (0, TOP)),
        Entry("b", 3.0, (0, 5)),
        Entry("a", 3.0, (0, 5)),  # equal everything but member
        Entry("z", 3.0, (0, 0)),
        Entry("B", 3.0, (0, 5)),
        Entry("top", 4.0, (TOP, TOP)),  # a higher score beats any tiebreak
    ]
    for entry in entries:
        store.set(BOARD, entry)
    assert [r.member for r in store.top(BOARD, 10)] == ["top", "z", "B", "a", "b", "c", "d", "e"]
    assert store.row(BOARD, "e") == Row(8, "e", 3.0, (TOP, 0))
    assert store.top(BOARD, 10) == reference(entries)


def test_members_of_any_text_order_like_python_strings(store: RankStore):
    rng = random.Random(7)
    entries = [Entry(random_member(rng), 1.0, (2,)) for _ in range(300)]
    for entry in entries:
        store.set(BOARD, entry)
    assert store.top(BOARD, 1000) == reference(entries)


def test_invalid_entries_are_refused_and_change_nothing(store: RankStore):
    store.set(BOARD, Entry("kept", 2.0, (1,)))
    for bad in [
        Entry("kept", math.nan),
        Entry("kept", math.inf),
        Entry("kept", 1.0, (-1,)),
        Entry("kept", 1.0, (2**64,)),
    ]:
        with pytest.raises(ValueError):
            store.set(BOARD, bad)
    with pytest.raises(ValueError):
        store.set(BOARD, Entry("", 1.0))
    with pytest.raises(ValueError):
        store.add(BOARD, "kept", math.inf)
    with pytest.raises(ValueError):
        store.add(BOARD, "kept", 1.0, (2**64,))
    with pytest.raises(ValueError):
        store.rebuild(BOARD, [Entry("new", 1.0), Entry("bad", math.nan)])
    assert store.top(BOARD, 10) == [Row(1, "kept", 2.0, (1,))]
    assert not store.is_built(BOARD)


# --- many members ------------------------------------------------------------------------------------


def test_ten_thousand_members_agree_with_a_sorted_reference(store: RankStore):
    rng = random.Random(2024)
    scores = [float(rng.randint(0, 300)) / 4 for _ in range(50)] + [random_double(rng) for _ in range(50)]
    entries = [
        Entry(f"m{i:05d}", rng.choice(scores), (rng.randint(0, 3), rng.getrandbits(64) if rng.random() < 0.5 else 0))
        for i in range(10_000)
    ]
    # Most arrive through rebuild, the rest (and some replacements) one by one.
    assert store.rebuild(BOARD, entries[:9000]) == 9000
    replaced = [Entry(e.member, rng.choice(scores), (0, 0)) for e in rng.sample(entries[:9000], 300)]
    for entry in entries[9000:] + replaced:
        store.set(BOARD, entry)
    expected = reference(entries + replaced)

    assert store.size(BOARD) == 10_000
    assert store.top(BOARD, 10_000) == expected
    assert store.top(BOARD, 10) == expected[:10]
    assert store.top(BOARD, 25, offset=4990) == expected[4990:5015]
    assert store.top(BOARD, 50, offset=9990) == expected[9990:]
    picks = [0, 1, 2, 4999, 9997, 9998, 9999] + rng.sample(range(10_000), 10)
    for index in picks:
        member = expected[index].member
        assert store.row(BOARD, member) == expected[index]
        assert store.around(BOARD, member, 3) == expected[max(index - 3, 0) : index + 4]


# --- writes ------------------------------------------------------------------------------------------


def test_set_replaces_without_duplicates(store: RankStore):
    store.set(BOARD, Entry("a", 1.0, (9,)))
    store.set(BOARD, Entry("b", 2.0))
    store.set(BOARD, Entry("a", 5.0, (3,)))
    assert store.size(BOARD) == 2
    assert store.top(BOARD, 10) == [Row(1, "a", 5.0, (3,)), Row(2, "b", 2.0, ())]
    store.set(BOARD, Entry("a", 5.0, (3,)))  # the same entry again
    assert store.size(BOARD) == 2


def test_boards_are_independent(store: RankStore):
    store.set("one", Entry("a", 1.0))
    store.set("two", Entry("a", 7.0))
    store.set("two", Entry("b", 9.0))
    assert store.row("one", "a") == Row(1, "a", 1.0, ())
    assert store.row("two", "a") == Row(2, "a", 7.0, ())
    store.clear("two")
    assert store.size("one") == 1 and store.size("two") == 0


def test_remove(store: RankStore):
    for i, member in enumerate("abc"):
        store.set(BOARD, Entry(member, float(i)))
    assert store.remove(BOARD, "b") is True
    assert store.remove(BOARD, "b") is False
    assert store.remove("no-such-board", "b") is False
    assert store.row(BOARD, "b") is None
    assert store.around(BOARD, "b", 5) == []
    assert store.size(BOARD) == 2
    assert store.top(BOARD, 10) == [Row(1, "c", 2.0, ()), Row(2, "a", 0.0, ())]


def test_clear_empties_the_board_and_forgets_it_was_built(store: RankStore):
    store.rebuild(BOARD, [Entry("a", 1.0), Entry("b", 2.0)])
    store.set(BOARD, Entry("c", 3.0))
    assert store.is_built(BOARD)
    store.clear(BOARD)
    assert not store.is_built(BOARD)
    assert store.size(BOARD) == 0
    assert store.top(BOARD, 10) == []
    assert store.row(BOARD, "a") is None
    store.clear(BOARD)  # clearing an absent board is fine


def test_add_creates_and_accumulates(store: RankStore):
    assert store.add(BOARD, "a", 2.5) == 2.5
    assert store.add(BOARD, "a", 0.1, (4,)) == 2.5 + 0.1
    assert store.add(BOARD, "a", -10.0, (1, 2)) == 2.5 + 0.1 - 10.0
    assert store.add(BOARD, "b", 0.0) == 0.0
    assert store.size(BOARD) == 2
    assert store.top(BOARD, 10) == [Row(1, "b", 0.0, ()), Row(2, "a", 2.5 + 0.1 - 10.0, (1, 2))]


def test_add_from_many_threads_loses_no_increment(store: RankStore):
    threads, increments = 8, 200
    start = threading.Barrier(threads)
    results: list[list[float]] = [[] for _ in range(threads)]
    errors: list[BaseException] = []

    def work(index: int) -> None:
        try:
            start.wait()
            for _ in range(increments):
                results[index].append(store.add(BOARD, "hot", 1.0, (index,)))
                store.add(BOARD, f"own-{index}", 1.0)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, so an unguarded read-modify-write would lose updates
    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == []
    assert store.row(BOARD, "hot").score == threads * increments
    # Atomic: every add saw a different previous total.
    assert sorted(s for scores in results for s in scores) == [float(i) for i in range(1, threads * increments + 1)]
    assert all(store.row(BOARD, f"own-{i}").score == increments for i in range(threads))
    assert store.size(BOARD) == threads + 1


# --- rebuild -----------------------------------------------------------------------------------------


def test_rebuild_replaces_everything(store: RankStore):
    store.set(BOARD, Entry("old-1", 100.0))
    store.set(BOARD, Entry("keep", 1.0))
    assert not store.is_built(BOARD)
    new = [Entry("keep", 5.0, (1,)), Entry("new", 6.0), Entry("dup", 1.0), Entry("dup", 9.0, (2,))]
    assert store.rebuild(BOARD, iter(new)) == 3  # any iterable; a member listed twice keeps its last entry
    assert store.is_built(BOARD)
    assert store.row(BOARD, "old-1") is None
    assert store.top(BOARD, 10) == [Row(1, "dup", 9.0, (2,)), Row(2, "new", 6.0, ()), Row(3, "keep", 5.0, (1,))]
    # The board stays usable after a rebuild.
    store.set(BOARD, Entry("later", 7.0))
    assert store.row(BOARD, "later").rank == 2
    assert store.remove(BOARD, "dup")
    assert store.add(BOARD, "keep", 1.0, (1,)) == 6.0


def test_rebuild_with_nothing_empties_the_board_but_marks_it_built(store: RankStore):
    store.set(BOARD, Entry("a", 1.0))
    assert store.rebuild(BOARD, []) == 0
    assert store.is_built(BOARD)
    assert store.size(BOARD) == 0
    assert store.top(BOARD, 10) == []
    assert store.row(BOARD, "a") is None
    assert not store.is_built("another-board")


def test_readers_never_see_a_half_rebuilt_board(store: RankStore, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(store_module, "_CHUNK", 50)  # several staging round trips to interleave with
    old = [Entry(f"old-{i}", float(i)) for i in range(400)]
    new = [Entry(f"new-{i}", float(i)) for i in range(300)]
    store.rebuild(BOARD, old)
    done = threading.Event()
    seen: list[set[str]] = []

    def read() -> None:
        while not done.is_set():
            rows = store.top(BOARD, 1000)
            seen.append({r.member.split("-")[0] for r in rows} | {str(len(rows))})

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for _ in range(3):
            store.rebuild(BOARD, new)
            store.rebuild(BOARD, old)
    finally:
        done.set()
        reader.join()
    assert seen
    assert [s for s in seen if s not in ({"old", "400"}, {"new", "300"})] == []


# --- around ------------------------------------------------------------------------------------------


def test_around_at_the_edges(store: RankStore):
    entries = [Entry(f"m{i}", float(10 - i)) for i in range(5)]  # m0 first ... m4 last
    store.rebuild(BOARD, entries)
    rows = reference(entries)
    assert store.around(BOARD, "m0", 2) == rows[0:3]
    assert store.around(BOARD, "m4", 2) == rows[2:5]
    assert store.around(BOARD, "m2", 1) == rows[1:4]
    assert store.around(BOARD, "m2", 0) == [rows[2]]
    assert store.around(BOARD, "m3", 100) == rows
    assert store.around(BOARD, "absent", 2) == []
    assert store.around("no-such-board", "m0", 2) == []
    with pytest.raises(ValueError):
        store.around(BOARD, "m0", -1)


def test_top_windows(store: RankStore):
    entries = [Entry(f"m{i}", float(i)) for i in range(5)]
    store.rebuild(BOARD, entries)
    rows = reference(entries)
    assert store.top(BOARD, 0) == []
    assert store.top(BOARD, 2, offset=4) == rows[4:]
    assert store.top(BOARD, 3, offset=5) == []
    assert store.top("no-such-board", 3) == []
    with pytest.raises(ValueError):
        store.top(BOARD, 3, offset=-1)
    with pytest.raises(ValueError):
        store.top(BOARD, -1)


# --- Redis specifics ---------------------------------------------------------------------------------


@pytest.mark.redis
def test_redis_key_layout(redis_conn: redis.Redis):
    store = RedisRankStore(redis_conn)
    store.set("b", Entry("x|y", 2.0, (3,)))
    assert set(redis_conn.keys("*")) == {"thidua:lb:b:z", "thidua:lb:b:m"}
    key = encode(Entry("x|y", 2.0, (3,)))
    assert redis_conn.zrange("thidua:lb:b:z", 0, -1, withscores=True) == [(key, 0.0)]
    assert redis_conn.hgetall("thidua:lb:b:m") == {"x|y": key}
    store.rebuild("b", [Entry(f"m{i}", float(i)) for i in range(12)])
    assert set(redis_conn.keys("*")) == {"thidua:lb:b:z", "thidua:lb:b:m", "thidua:lb:b:built"}  # no staging left
    assert redis_conn.ttl("thidua:lb:b:z") == -1 and redis_conn.ttl("thidua:lb:b:m") == -1
    assert {score for _, score in redis_conn.zrange("thidua:lb:b:z", 0, -1, withscores=True)} == {0.0}


@pytest.mark.redis
def test_redis_forgets_the_board_after_flushdb(redis_conn: redis.Redis):
    store = RedisRankStore(redis_conn)
    store.rebuild(BOARD, [Entry("a", 1.0)])
    assert store.is_built(BOARD)
    redis_conn.flushdb()
    assert not store.is_built(BOARD)  # the caller's cue to rebuild from the database
    assert store.size(BOARD) == 0
    assert store.row(BOARD, "a") is None
    store.set(BOARD, Entry("a", 1.0))  # scripts are reloaded after SCRIPT FLUSH / restart, too
    redis_conn.script_flush()
    assert store.row(BOARD, "a") == Row(1, "a", 1.0, ())


@pytest.mark.redis
def test_redis_store_needs_string_replies(redis_url: str):
    client = redis.Redis.from_url(redis_url)
    with pytest.raises(ValueError):
        RedisRankStore(client)
    client.close()


def test_rank_store_without_redis_is_one_memory_store_per_app(app: Flask, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(app.config, "REDIS_URL", None)
    first = rank_store()
    assert isinstance(first, MemoryRankStore)
    assert rank_store() is first  # every request of the app sees the same boards
    assert app.extensions["thidua.rank_store"] is first


@pytest.mark.redis
def test_rank_store_with_redis_url_uses_redis(app: Flask, monkeypatch: pytest.MonkeyPatch, redis_url: str):
    monkeypatch.setitem(app.config, "REDIS_URL", redis_url)
    store = rank_store()
    assert isinstance(store, RedisRankStore)
    store.set(BOARD, Entry("a", 1.0))
    assert rank_store().row(BOARD, "a") == Row(1, "a", 1.0, ())
    assert redis.Redis.from_url(redis_url, decode_responses=True).exists("thidua:lb:round-1:z")


def test_set_many_is_set_for_each_entry_the_last_one_winning(store) -> None:  # noqa: ANN001
    store.set("b", Entry("kept", 1.0))
    store.set_many("b", [Entry("a", 3.0), Entry("b", 2.0), Entry("a", 1.5, (7,)), Entry("kept", 9.0)])
    assert [(r.member, r.score, r.tiebreaks) for r in store.top("b", 10)] == [
        ("kept", 9.0, ()), ("b", 2.0, ()), ("a", 1.5, (7,)),
    ]
    store.set_many("b", [])
    assert store.size("b") == 3
