"""Rank store: named boards of members ordered by score, with a Redis backend and an in-memory one.

Order
    Higher ``score`` first; then ``tiebreaks`` compared element-wise, smaller first (e.g. prediction
    distance, time taken in ms, submission time in epoch ms); then ``member`` ascending as a
    deterministic last resort. A row's rank is its 1-based position in that total order.

Encoding
    Redis sorted-set scores are doubles, so score and tiebreaks cannot be packed into one score without
    losing precision. Instead every entry is stored with score 0 under a *key string* whose
    lexicographic (byte) order is the board order, and both backends just keep those strings sorted::

        <16 hex: score><16 hex per tiebreak>|<member>

    - score: the IEEE-754 bits of the double (``struct.pack(">d")``) as an unsigned 64-bit integer,
      made to sort like the double (sign bit set: invert all bits; else: set the sign bit), then
      subtracted from 2**64-1 so that higher scores sort first. NaN and infinities are refused and -0.0
      is stored as 0.0; every finite double round-trips exactly.
    - tiebreaks: each an int with 0 <= t < 2**64. A board should use one number of tiebreaks for all
      its entries: when one entry's tiebreaks are a proper prefix of another's, "|" sorts after the hex
      digits, so the shorter one ranks *after* the longer one (unlike Python's tuple order).
    - member: any non-empty string, "|" included; decoding splits at the first "|", which the hex part
      never contains. UTF-8 byte order (Redis) equals code-point order (Python), so both backends agree.

Redis keys
    ``thidua:lb:<board>:z``      sorted set of encoded keys, all with score 0
    ``thidua:lb:<board>:m``      hash member -> encoded key, to find a member's entry
    ``thidua:lb:<board>:built``  marker set by ``rebuild``; gone after ``clear`` or a FLUSHDB
    ``thidua:lbtmp:<token>:z|m`` ``rebuild``'s staging keys (expire after an hour if a rebuild dies)
"""

from __future__ import annotations

import contextlib
import math
import re
import struct
import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

import redis
from flask import current_app
from sortedcontainers import SortedList

from core.redis_client import redis_client

_MASK = 2**64 - 1
_SIGN = 2**63
_KEY_RE = re.compile(r"([0-9a-f]{16})((?:[0-9a-f]{16})*)\|(.+)", re.DOTALL)


class Entry(NamedTuple):
    member: str
    score: float
    tiebreaks: tuple[int, ...] = ()


class Row(NamedTuple):
    rank: int
    member: str
    score: float
    tiebreaks: tuple[int, ...]


def _encode_score(score: float) -> str:
    value = float(score)
    if not math.isfinite(value):
        raise ValueError(f"score must be finite, got {score!r}")
    value += 0.0  # -0.0 + 0.0 == +0.0: both zeros must share one key
    (bits,) = struct.unpack(">Q", struct.pack(">d", value))
    ordered = bits ^ _MASK if bits & _SIGN else bits | _SIGN
    return f"{_MASK - ordered:016x}"


def _decode_score(text: str) -> float:
    ordered = _MASK - int(text, 16)
    bits = ordered ^ _SIGN if ordered & _SIGN else ordered ^ _MASK
    (value,) = struct.unpack(">d", struct.pack(">Q", bits))
    return value


def encode(entry: Entry) -> str:
    """The key string of ``entry``; lexicographic order of keys is board order (see module docstring)."""
    if not isinstance(entry.member, str) or not entry.member:
        raise ValueError("member must be a non-empty string")
    parts = [_encode_score(entry.score)]
    for t in entry.tiebreaks:
        if not isinstance(t, int):
            raise TypeError(f"tiebreak must be an int, got {t!r}")
        if not 0 <= t <= _MASK:
            raise ValueError(f"tiebreak must be in [0, 2**64), got {t}")
        parts.append(f"{t:016x}")
    parts.append("|")
    parts.append(entry.member)
    return "".join(parts)


def decode(key: str) -> Entry:
    """The entry that ``encode`` turned into ``key``."""
    match = _KEY_RE.fullmatch(key)
    if match is None:
        raise ValueError(f"not an encoded rank key: {key!r}")
    score_hex, tiebreaks_hex, member = match.groups()
    tiebreaks = tuple(int(tiebreaks_hex[i : i + 16], 16) for i in range(0, len(tiebreaks_hex), 16))
    return Entry(member, _decode_score(score_hex), tiebreaks)


def _row(rank: int, key: str) -> Row:
    member, score, tiebreaks = decode(key)
    return Row(rank, member, score, tiebreaks)


def _check_window(n: int, offset: int) -> None:
    if offset < 0:
        raise ValueError(f"offset must be >= 0, got {offset}")
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")


def _latest_keys(entries: Iterable[Entry]) -> dict[str, str]:
    """member -> key; a member listed twice keeps its last entry, as a sequence of ``set`` calls would."""
    return {entry.member: encode(entry) for entry in entries}


class RankStore(ABC):
    """Boards of members in the order described in the module docstring. Implementations are thread-safe."""

    @abstractmethod
    def set(self, board: str, entry: Entry) -> None:
        """Insert or replace the member's entry."""

    def set_many(self, board: str, entries: Iterable[Entry]) -> None:
        """``set`` for each entry (a backend may send them together)."""
        for entry in entries:
            self.set(board, entry)

    @abstractmethod
    def add(self, board: str, member: str, delta: float, tiebreaks: tuple[int, ...] = ()) -> float:
        """Atomically add ``delta`` to the member's score (0 when absent), set its tiebreaks, return the new score."""

    @abstractmethod
    def top(self, board: str, n: int, offset: int = 0) -> list[Row]:
        """Up to ``n`` rows starting after the first ``offset``."""

    @abstractmethod
    def row(self, board: str, member: str) -> Row | None:
        """The member's row, or None when absent."""

    @abstractmethod
    def around(self, board: str, member: str, radius: int) -> list[Row]:
        """Up to ``radius`` rows above and below the member and the member's own; [] when absent."""

    @abstractmethod
    def size(self, board: str) -> int:
        """Number of members on the board."""

    @abstractmethod
    def remove(self, board: str, member: str) -> bool:
        """Remove the member; True when it was there."""

    @abstractmethod
    def clear(self, board: str) -> None:
        """Drop the board and forget that it was built."""

    @abstractmethod
    def rebuild(self, board: str, entries: Iterable[Entry]) -> int:
        """Replace the whole board atomically, mark it built, return the number of members.

        Readers see the old board or the new one, never a mix. A member listed twice keeps its last
        entry. Writes to the board while a rebuild runs are lost when it swaps in; callers serialise.
        """

    @abstractmethod
    def is_built(self, board: str) -> bool:
        """Whether ``rebuild`` ran since the board was last cleared (or, for Redis, lost)."""


# --- in memory ---------------------------------------------------------------------------------------


@dataclass
class _Board:
    keys: SortedList = field(default_factory=SortedList)
    members: dict[str, str] = field(default_factory=dict)
    built: bool = False


class MemoryRankStore(RankStore):
    """Boards in this process (``make run`` without Redis); one lock guards all of them."""

    def __init__(self) -> None:
        self._boards: dict[str, _Board] = {}
        self._lock = threading.Lock()

    def _board(self, board: str) -> _Board:
        found = self._boards.get(board)
        if found is None:
            found = self._boards[board] = _Board()
        return found

    def _put(self, board: str, member: str, key: str) -> None:
        data = self._board(board)
        old = data.members.get(member)
        if old is not None:
            data.keys.remove(old)
        data.keys.add(key)
        data.members[member] = key

    def set(self, board: str, entry: Entry) -> None:
        key = encode(entry)
        with self._lock:
            self._put(board, entry.member, key)

    def add(self, board: str, member: str, delta: float, tiebreaks: tuple[int, ...] = ()) -> float:
        with self._lock:
            data = self._boards.get(board)
            old = data.members.get(member) if data is not None else None
            score = (decode(old).score if old else 0.0) + delta
            key = encode(Entry(member, score, tiebreaks))  # may raise: nothing changed yet
            self._put(board, member, key)
            return score

    def top(self, board: str, n: int, offset: int = 0) -> list[Row]:
        _check_window(n, offset)
        with self._lock:
            data = self._boards.get(board)
            keys = list(data.keys.islice(offset, offset + n)) if data is not None else []
        return [_row(offset + i + 1, key) for i, key in enumerate(keys)]

    def row(self, board: str, member: str) -> Row | None:
        with self._lock:
            data = self._boards.get(board)
            key = data.members.get(member) if data is not None else None
            if key is None:
                return None
            rank = data.keys.index(key)
        return _row(rank + 1, key)

    def around(self, board: str, member: str, radius: int) -> list[Row]:
        if radius < 0:
            raise ValueError(f"radius must be >= 0, got {radius}")
        with self._lock:
            data = self._boards.get(board)
            key = data.members.get(member) if data is not None else None
            if key is None:
                return []
            rank = data.keys.index(key)
            start = max(rank - radius, 0)
            keys = list(data.keys.islice(start, rank + radius + 1))
        return [_row(start + i + 1, k) for i, k in enumerate(keys)]

    def size(self, board: str) -> int:
        with self._lock:
            data = self._boards.get(board)
            return len(data.keys) if data is not None else 0

    def remove(self, board: str, member: str) -> bool:
        with self._lock:
            data = self._boards.get(board)
            key = data.members.pop(member, None) if data is not None else None
            if key is None:
                return False
            data.keys.remove(key)
            return True

    def clear(self, board: str) -> None:
        with self._lock:
            self._boards.pop(board, None)

    def rebuild(self, board: str, entries: Iterable[Entry]) -> int:
        # Built outside the lock so readers keep the old board meanwhile; then swapped in one step.
        members = _latest_keys(entries)
        fresh = _Board(SortedList(members.values()), members, built=True)
        with self._lock:
            self._boards[board] = fresh
        return len(members)

    def is_built(self, board: str) -> bool:
        with self._lock:
            data = self._boards.get(board)
            return data is not None and data.built


# --- Redis -------------------------------------------------------------------------------------------

# KEYS: z, m. ARGV: member, new key[, expected old key or "" for absent].
# With the third argument it is a compare-and-set (``add``): returns 0 and changes nothing when the
# member's key is no longer the one the caller read.
_PUT = """
local old = redis.call('HGET', KEYS[2], ARGV[1])
if ARGV[3] ~= nil and (old or '') ~= ARGV[3] then return 0 end
if old then redis.call('ZREM', KEYS[1], old) end
redis.call('ZADD', KEYS[1], 0, ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1
"""

# KEYS: z, m. ARGV: member.
_REMOVE = """
local old = redis.call('HGET', KEYS[2], ARGV[1])
if not old then return 0 end
redis.call('ZREM', KEYS[1], old)
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
"""

# KEYS: z, m. ARGV: member, radius. Returns {first rank (0-based), {keys...}} or nil when absent.
# ``row`` is the radius-0 case. One round trip instead of HGET, ZRANK and ZRANGE.
_AROUND = """
local key = redis.call('HGET', KEYS[2], ARGV[1])
if not key then return nil end
local rank = redis.call('ZRANK', KEYS[1], key)
if not rank then return nil end
local radius = tonumber(ARGV[2])
local start = math.max(rank - radius, 0)
return {start, redis.call('ZRANGE', KEYS[1], start, rank + radius)}
"""

_CHUNK = 5000
_STAGING_TTL = 3600


class RedisRankStore(RankStore):
    """Boards in Redis, shared by all workers. ``client`` must decode replies to str."""

    def __init__(self, client: redis.Redis) -> None:
        if not client.get_connection_kwargs().get("decode_responses"):
            raise ValueError("RedisRankStore needs a client with decode_responses=True")
        self._client = client
        self._put_script = client.register_script(_PUT)
        self._remove_script = client.register_script(_REMOVE)
        self._around_script = client.register_script(_AROUND)

    @staticmethod
    def _keys(board: str) -> tuple[str, str]:
        return f"thidua:lb:{board}:z", f"thidua:lb:{board}:m"

    @staticmethod
    def _built_key(board: str) -> str:
        return f"thidua:lb:{board}:built"

    def set(self, board: str, entry: Entry) -> None:
        self._put_script(keys=self._keys(board), args=[entry.member, encode(entry)])

    def set_many(self, board: str, entries: Iterable[Entry]) -> None:
        # One round trip for a tick's worth of results; each script call stays atomic.
        keys = self._keys(board)
        pipe = self._client.pipeline(transaction=False)
        for member, key in _latest_keys(entries).items():
            self._put_script(keys=keys, args=[member, key], client=pipe)
        pipe.execute()

    def add(self, board: str, member: str, delta: float, tiebreaks: tuple[int, ...] = ()) -> float:
        # Optimistic compare-and-set per member: the score is decoded in Python (no copy of the
        # encoding in Lua), and only a concurrent change to this same member forces a retry.
        keys = self._keys(board)
        while True:
            old = self._client.hget(keys[1], member)
            score = (decode(old).score if old else 0.0) + delta
            new = encode(Entry(member, score, tiebreaks))
            if self._put_script(keys=keys, args=[member, new, old or ""]):
                return score

    def top(self, board: str, n: int, offset: int = 0) -> list[Row]:
        _check_window(n, offset)
        if n == 0:
            return []  # ZRANGE 0 -1 would mean "everything"
        keys = self._client.zrange(self._keys(board)[0], offset, offset + n - 1)
        return [_row(offset + i + 1, key) for i, key in enumerate(keys)]

    def _around(self, board: str, member: str, radius: int) -> list[Row]:
        found = self._around_script(keys=self._keys(board), args=[member, radius])
        if not found:
            return []
        start, keys = found
        return [_row(start + i + 1, key) for i, key in enumerate(keys)]

    def row(self, board: str, member: str) -> Row | None:
        rows = self._around(board, member, 0)
        return rows[0] if rows else None

    def around(self, board: str, member: str, radius: int) -> list[Row]:
        if radius < 0:
            raise ValueError(f"radius must be >= 0, got {radius}")
        return self._around(board, member, radius)

    def size(self, board: str) -> int:
        return self._client.zcard(self._keys(board)[0])

    def remove(self, board: str, member: str) -> bool:
        return bool(self._remove_script(keys=self._keys(board), args=[member]))

    def clear(self, board: str) -> None:
        self._client.delete(*self._keys(board), self._built_key(board))

    def rebuild(self, board: str, entries: Iterable[Entry]) -> int:
        members = _latest_keys(entries)  # encoding errors surface before Redis is touched
        z, m = self._keys(board)
        token = uuid.uuid4().hex
        # A prefix of its own, so staging keys can never collide with another board's keys.
        tmp_z, tmp_m = f"thidua:lbtmp:{token}:z", f"thidua:lbtmp:{token}:m"
        items = list(members.items())
        try:
            for i in range(0, len(items), _CHUNK):
                chunk = items[i : i + _CHUNK]
                pipe = self._client.pipeline(transaction=False)
                pipe.zadd(tmp_z, {key: 0 for _, key in chunk})
                pipe.hset(tmp_m, mapping=dict(chunk))
                pipe.expire(tmp_z, _STAGING_TTL)
                pipe.expire(tmp_m, _STAGING_TTL)
                pipe.execute()
            swap = self._client.pipeline(transaction=True)
            if items:
                swap.rename(tmp_z, z)
                swap.rename(tmp_m, m)
                swap.persist(z)  # RENAME carries the staging TTL over
                swap.persist(m)
            else:
                swap.delete(z, m)
            swap.set(self._built_key(board), "1")
            swap.execute()
        except BaseException:
            with contextlib.suppress(redis.RedisError):  # the TTL cleans up if Redis is the problem
                self._client.delete(tmp_z, tmp_m)
            raise
        return len(items)

    def is_built(self, board: str) -> bool:
        return bool(self._client.exists(self._built_key(board)))


def rank_store() -> RankStore:
    """Redis when the app has ``REDIS_URL``; else one in-memory store per app (single process only)."""
    client = redis_client()
    if client is not None:
        return RedisRankStore(client)
    store = current_app.extensions.get("thidua.rank_store")
    if store is None:
        store = current_app.extensions["thidua.rank_store"] = MemoryRankStore()
    return store
