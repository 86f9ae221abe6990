"""Answers of attempts in progress, kept in Redis when the app has one.

Saving an answer is the busiest request of a contest (ten per attempt, all in the last minutes
before a deadline). With Redis, a save is one atomic script on one hash and touches no database
row; the answers reach the attempt's items when it is closed (``quiz.attempts.close``), in the
same transaction that grades it. Without Redis (``make run``), saves go to the database directly.

Durability: an answer is as safe as Redis keeps it. Production Redis must persist (``appendonly
yes``, ``appendfsync everysec``: at most a second of answers lost if the Redis host fails); see
README, running at scale.

One hash per attempt, ``thidua:attempt:<id>``:
  ``user``, ``ctx``                 whose attempt, and its context ("round:42")
  ``until``                         deadline plus the network grace, epoch ms; later saves are refused
  ``last``                          the time of the attempt's latest save (or its start), epoch ms
  ``closed``                        set when the attempt is closed: saves are refused from then on
  ``i:<item>``                      "<number of choices>:<1 if several may be picked>"
  ``a:<item>``                      "<seq>:<display positions, comma-separated>:<saved at ms>:<answer ms>"
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from core.redis_client import redis_client

KEEP_AFTER_CLOSE = 3600  # seconds; a closing transaction that failed can read the answers again

# Checks and stores one save atomically. Replies {outcome[, stored answer]}; the outcomes mirror
# the database path's refusals in quiz.attempts.save_answer, in the same order.
# ARGV: user id, item id, display positions ("0,2"), seq, now (epoch ms), context prefix.
_SAVE = """
local m = redis.call('HMGET', KEYS[1], 'user', 'until', 'closed', 'last', 'i:' .. ARGV[2], 'a:' .. ARGV[2], 'ctx')
if not m[1] then return {'missing'} end
if string.sub(m[7], 1, #ARGV[6]) ~= ARGV[6] then return {'elsewhere'} end
if m[1] ~= ARGV[1] then return {'forbidden'} end
if m[3] then return {'closed'} end
local now = tonumber(ARGV[5])
if now > tonumber(m[2]) then return {'late'} end
if not m[5] then return {'item'} end
local size, multiple = string.match(m[5], '^(%d+):(%d)$')
local count = 0
for p in string.gmatch(ARGV[3], '%d+') do
  if tonumber(p) >= tonumber(size) then return {'choices'} end
  count = count + 1
end
if multiple == '0' and count > 1 then return {'single'} end
if m[6] and tonumber(string.match(m[6], '^%d+')) >= tonumber(ARGV[4]) then return {'kept', m[6]} end
local last = tonumber(m[4])
local value = ARGV[4] .. ':' .. ARGV[3] .. ':' .. now .. ':' .. math.max(0, now - last)
redis.call('HSET', KEYS[1], 'a:' .. ARGV[2], value, 'last', math.max(last, now))
return {'saved', value}
"""


@dataclass(frozen=True)
class LiveItem:
    item_id: int
    choices: int
    multiple: bool


@dataclass(frozen=True)
class LiveAnswer:
    seq: int
    positions: list[int]  # display positions, ascending
    saved_at: datetime
    answer_ms: int

    @classmethod
    def parse(cls, value: str) -> LiveAnswer:
        seq, positions, saved_ms, answer_ms = value.split(":")
        return cls(int(seq), [int(p) for p in positions.split(",") if p], _from_ms(int(saved_ms)), int(answer_ms))


@dataclass(frozen=True)
class SaveOutcome:
    """What the script found: ``outcome`` is one of saved, kept (an older or repeated save),
    missing (no live hash), elsewhere (another context), forbidden, closed, late, item, choices,
    single."""

    outcome: str
    answer: LiveAnswer | None = None


def enabled() -> bool:
    return redis_client() is not None


def _key(attempt_id: int) -> str:
    return f"thidua:attempt:{attempt_id}"


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def register(
    attempt_id: int, user_id: int, context: str, started_at: datetime, last_save: datetime,
    accepts_until: datetime, items: Iterable[LiveItem], new: bool,
) -> None:
    """Make the attempt's hash. For a ``new`` attempt, whatever the key held is dropped (left by an
    attempt of the same id in a database since reset or restored); otherwise answers are kept."""
    client = redis_client()
    assert client is not None
    key = _key(attempt_id)
    fields: dict[str, str | int] = {"user": user_id, "ctx": context, "until": _ms(accepts_until)}
    fields.update({f"i:{item.item_id}": f"{item.choices}:{int(item.multiple)}" for item in items})
    pipe = client.pipeline(transaction=True)
    if new:
        pipe.delete(key)
    pipe.hset(key, mapping=fields)
    pipe.hsetnx(key, "last", _ms(max(started_at, last_save)))
    # Kept a day past its deadline, or past now for an attempt replayed with past times (the demo).
    pipe.expireat(key, max(accepts_until, datetime.now(UTC)) + timedelta(days=1))
    pipe.execute()


def save(
    attempt_id: int, user_id: int, item_id: int, positions: Sequence[int], seq: int, now: datetime,
    context_prefix: str,
) -> SaveOutcome:
    """Store one answer to an attempt whose context starts with ``context_prefix``."""
    client = redis_client()
    assert client is not None
    script = client.register_script(_SAVE)  # sent by SHA after the first call
    args = [user_id, item_id, ",".join(str(p) for p in sorted(positions)), seq, _ms(now), context_prefix]
    reply = script(keys=[_key(attempt_id)], args=args)
    return SaveOutcome(reply[0], LiveAnswer.parse(reply[1]) if len(reply) > 1 else None)


def _answers(fields: dict[str, str]) -> dict[int, LiveAnswer]:
    return {int(name[2:]): LiveAnswer.parse(value) for name, value in fields.items() if name.startswith("a:")}


def peek(attempt_id: int) -> dict[int, LiveAnswer]:
    """The answers saved so far, by item id."""
    client = redis_client()
    assert client is not None
    return _answers(client.hgetall(_key(attempt_id)))


def close(attempt_id: int) -> dict[int, LiveAnswer]:
    """Refuse further saves and return the answers saved (kept an hour for a retried close)."""
    client = redis_client()
    assert client is not None
    key = _key(attempt_id)
    pipe = client.pipeline(transaction=True)
    pipe.hset(key, "closed", 1)
    pipe.hgetall(key)
    pipe.expire(key, KEEP_AFTER_CLOSE)
    _, fields, _ = pipe.execute()
    return _answers(fields)
