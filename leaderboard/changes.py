"""Results waiting to reach the boards: which groups of boards changed, for which members, since when.

A higher package calls ``notify`` after it has committed a result; the broadcaster takes the
pending changes once per interval (``take``: each pending change goes to exactly one process,
however many run, and a group is taken at most once per interval by all of them) and lets the
board's source apply them. Ten thousand results a minute thus
become at most one refresh and one update per board and interval.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

from flask import current_app

from core.redis_client import redis_client

_GROUPS = "thidua:lb:pending"  # set of groups with pending changes
_SINCE = "thidua:lb:pending-since"  # hash group -> epoch ms of the oldest pending change


def _members_key(group: str) -> str:
    return f"thidua:lb:pending:{group}"


_TAKEN = "thidua:lb:taken"  # hash group -> when a process last took it (Redis server clock, ms)

# Pops the pending groups with their members and age, atomically: a change notified while this runs
# is either taken now or left for a later tick, never lost or taken twice. A group some process took
# less than ARGV[1] ms ago is left where it is: every process ticks once per interval, but at its
# own moments, and without this two processes would each send the board an update per interval.
_TAKE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local gap = tonumber(ARGV[1])
local out = {}
for _, group in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local last = tonumber(redis.call('HGET', KEYS[3], group) or '0')
  if now - last >= gap then
    local key = KEYS[1] .. ':' .. group
    local members = redis.call('SMEMBERS', key)
    local since = redis.call('HGET', KEYS[2], group)
    redis.call('DEL', key)
    redis.call('HDEL', KEYS[2], group)
    redis.call('SREM', KEYS[1], group)
    redis.call('HSET', KEYS[3], group, now)
    table.insert(out, {group, since or '0', members})
  end
end
return out
"""


@dataclass(frozen=True)
class Pending:
    group: str  # e.g. "round:42": the boards whose names start with it
    members: frozenset[str]  # members whose results changed; empty: refresh everything
    since_ms: int  # when the oldest of these changes was stored (epoch ms)


class _MemoryQueue:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.groups: dict[str, tuple[set[str], int]] = {}


def _memory() -> _MemoryQueue:
    return current_app.extensions.setdefault("thidua.board_changes", _MemoryQueue())


def now_ms() -> int:
    return int(time.time() * 1000)


EVERYTHING = "*"  # a member name meaning "rebuild the whole group"


def notify(group: str, members: Iterable[str] = (), everything: bool = False) -> None:
    """Record that results of ``members`` in ``group`` changed (or, ``everything``, that the
    whole group must be rebuilt, e.g. when a round closes and its prediction answer is known)."""
    names = set(members) | ({EVERYTHING} if everything else set())
    if not names:
        return
    stamp = now_ms()
    client = redis_client()
    if client is None:
        queue = _memory()
        with queue.lock:
            pending, since = queue.groups.get(group, (set(), stamp))
            queue.groups[group] = (pending | names, since)
        return
    pipe = client.pipeline(transaction=True)
    pipe.sadd(_GROUPS, group)
    pipe.sadd(_members_key(group), *names)
    pipe.hsetnx(_SINCE, group, stamp)
    pipe.execute()


def take() -> list[Pending]:
    client = redis_client()
    if client is None:
        queue = _memory()
        with queue.lock:
            groups, queue.groups = queue.groups, {}
        return [Pending(g, frozenset(m), since) for g, (m, since) in groups.items()]
    # A tenth of the interval spared: a tick a little early or late must not wait a whole interval more.
    gap = int(current_app.config["BOARD_UPDATE_INTERVAL_MS"] * 0.9)
    script = client.register_script(_TAKE)
    taken = script(keys=[_GROUPS, _SINCE, _TAKEN], args=[gap])
    return [Pending(group, frozenset(members), int(since)) for group, since, members in taken]
