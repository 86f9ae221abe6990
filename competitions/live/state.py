"""The running game of a live contest, where every server process can reach it.

Redis when ``REDIS_URL`` is set (the contest then works across processes behind sticky sessions),
one in-process store otherwise; both keep the same contract (tests/competitions/live/test_state.py
runs it on both). The answer path is one atomic step: a Lua script in Redis, a lock in process.

Redis keys, per contest ``c``:
  thidua:live:c            hash: status, index, shown (ms), deadline (ms), left (ms, when paused),
                           choices (of the current question), locked, active (players), answered
  thidua:live:c:players    hash player id -> "team id or -:score:streak:removed(0/1)"
  thidua:live:c:a:<index>  hash player id -> "choice:response ms" (the first answer counts)
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace

from flask import current_app

from core.redis_client import redis_client

KEEP_SECONDS = 2 * 86400  # a contest's game state outlives any contest day


class Status:
    LOBBY = "lobby"
    QUESTION = "question"  # the current question is open for answers
    PAUSED = "paused"  # its countdown stopped; no answers
    REVEAL = "reveal"  # time is up: the answer, the distribution, the board
    FINISHED = "finished"


@dataclass(frozen=True)
class Phase:
    status: str = Status.LOBBY
    index: int = -1  # the current question (-1: none yet)
    shown: int = 0  # when it was shown (epoch ms), moved on by the time spent paused
    deadline: int = 0  # when its time is up (epoch ms)
    left: int = 0  # ms left when paused
    choices: int = 0  # choices of the current question
    locked: bool = False  # the lobby takes no new players
    active: int = 0  # players not removed
    answered: int = 0  # answers to the current question

    @classmethod
    def parse(cls, raw: dict[str, str]) -> Phase:
        return cls(raw["status"], int(raw["index"]), int(raw["shown"]), int(raw["deadline"]), int(raw["left"]),
                   int(raw["choices"]), raw["locked"] == "1", int(raw["active"]), int(raw["answered"]))

    def fields(self) -> dict[str, str]:
        return {"status": self.status, "index": str(self.index), "shown": str(self.shown),
                "deadline": str(self.deadline), "left": str(self.left), "choices": str(self.choices),
                "locked": "1" if self.locked else "0", "active": str(self.active), "answered": str(self.answered)}


@dataclass(frozen=True)
class PlayerState:
    team_id: int | None
    score: int = 0
    streak: int = 0
    removed: bool = False

    @classmethod
    def parse(cls, raw: str) -> PlayerState:
        team, score, streak, removed = raw.split(":")
        return cls(None if team == "-" else int(team), int(score), int(streak), removed == "1")

    def encode(self) -> str:
        return f"{'-' if self.team_id is None else self.team_id}:{self.score}:{self.streak}:{int(self.removed)}"


@dataclass(frozen=True)
class Answered:
    outcome: str  # ok, twice, closed (not open now), other (not the current question), late, choice, player
    response_ms: int = 0
    answered: int = 0  # answers to this question so far
    active: int = 0


def _key(contest_id: int) -> str:
    return f"thidua:live:{contest_id}"


# The answer path: state checks, the first answer kept, the count, in one step.
# KEYS: state, players, answers. ARGV: player, index, choice, now (ms).
_ANSWER = """
local s = redis.call('HMGET', KEYS[1], 'status', 'index', 'shown', 'deadline', 'choices', 'active')
if not s[1] then return {'closed', 0, 0, 0} end
local player = redis.call('HGET', KEYS[2], ARGV[1])
if not player or string.sub(player, -1) == '1' then return {'player', 0, 0, 0} end
if s[2] ~= ARGV[2] then return {'other', 0, 0, 0} end
if s[1] ~= 'question' then return {'closed', 0, 0, 0} end
local now = tonumber(ARGV[4])
if now > tonumber(s[4]) then return {'late', 0, 0, 0} end
if tonumber(ARGV[3]) >= tonumber(s[5]) then return {'choice', 0, 0, 0} end
local ms = math.max(0, now - tonumber(s[3]))
if redis.call('HSETNX', KEYS[3], ARGV[1], ARGV[3] .. ':' .. ms) == 0 then return {'twice', 0, 0, 0} end
redis.call('EXPIRE', KEYS[3], KEEP)
local n = redis.call('HINCRBY', KEYS[1], 'answered', 1)
return {'ok', ms, n, tonumber(s[6])}
""".replace("KEEP", str(KEEP_SECONDS))

# Compare and set the phase: host commands and timers race (a skip as time runs out); only the
# first move from a given status and question happens.
_MOVE = """
local s = redis.call('HMGET', KEYS[1], 'status', 'index')
if s[1] ~= ARGV[1] or s[2] ~= ARGV[2] then return 0 end
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1
"""


class ContestStore:
    """The contract; ``store()`` gives the app's."""

    def open(self, contest_id: int) -> None: ...
    def phase(self, contest_id: int) -> Phase | None: ...
    def move(self, contest_id: int, before: Phase, after: Phase) -> bool: ...
    def add_player(self, contest_id: int, player_id: int, team_id: int | None) -> int:
        """Add the player (once); returns how many players are in now."""
    def remove_player(self, contest_id: int, player_id: int) -> bool: ...
    def players(self, contest_id: int) -> dict[int, PlayerState]: ...
    def player(self, contest_id: int, player_id: int) -> PlayerState | None: ...
    def answer_of(self, contest_id: int, index: int, player_id: int) -> tuple[int, int] | None: ...
    def set_scores(self, contest_id: int, players: dict[int, PlayerState]) -> None: ...
    def answer(self, contest_id: int, player_id: int, index: int, choice: int, now_ms: int) -> Answered: ...
    def answers(self, contest_id: int, index: int) -> dict[int, tuple[int, int]]: ...
    def drop(self, contest_id: int) -> None: ...


class RedisContestStore(ContestStore):
    def __init__(self, client) -> None:  # noqa: ANN001 - redis.Redis with decode_responses
        self.client = client

    def open(self, contest_id: int) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.delete(_key(contest_id), f"{_key(contest_id)}:players")
        pipe.hset(_key(contest_id), mapping=Phase().fields())
        pipe.expire(_key(contest_id), KEEP_SECONDS)
        pipe.execute()

    def phase(self, contest_id: int) -> Phase | None:
        raw = self.client.hgetall(_key(contest_id))
        return Phase.parse(raw) if raw else None

    def move(self, contest_id: int, before: Phase, after: Phase) -> bool:
        changed = {k: v for k, v in after.fields().items() if k not in ("active", "answered")}
        if after.index != before.index:
            changed["answered"] = "0"
        args = [before.status, str(before.index)] + [x for pair in changed.items() for x in pair]
        return bool(self.client.register_script(_MOVE)(keys=[_key(contest_id)], args=args))

    def add_player(self, contest_id: int, player_id: int, team_id: int | None) -> int:
        if not self.client.hsetnx(f"{_key(contest_id)}:players", player_id, PlayerState(team_id).encode()):
            return int(self.client.hget(_key(contest_id), "active") or 0)
        pipe = self.client.pipeline(transaction=True)
        pipe.hincrby(_key(contest_id), "active", 1)
        pipe.expire(f"{_key(contest_id)}:players", KEEP_SECONDS)
        return int(pipe.execute()[0])

    def remove_player(self, contest_id: int, player_id: int) -> bool:
        key = f"{_key(contest_id)}:players"
        raw = self.client.hget(key, player_id)
        if raw is None or PlayerState.parse(raw).removed:
            return False
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(key, player_id, replace(PlayerState.parse(raw), removed=True).encode())
        pipe.hincrby(_key(contest_id), "active", -1)
        pipe.execute()
        return True

    def players(self, contest_id: int) -> dict[int, PlayerState]:
        raw = self.client.hgetall(f"{_key(contest_id)}:players")
        return {int(pid): PlayerState.parse(value) for pid, value in raw.items()}

    def player(self, contest_id: int, player_id: int) -> PlayerState | None:
        raw = self.client.hget(f"{_key(contest_id)}:players", player_id)
        return PlayerState.parse(raw) if raw else None

    def answer_of(self, contest_id: int, index: int, player_id: int) -> tuple[int, int] | None:
        raw = self.client.hget(f"{_key(contest_id)}:a:{index}", player_id)
        return tuple(int(x) for x in raw.split(":")) if raw else None  # type: ignore[return-value]

    def set_scores(self, contest_id: int, players: dict[int, PlayerState]) -> None:
        if players:
            self.client.hset(f"{_key(contest_id)}:players", mapping={pid: p.encode() for pid, p in players.items()})

    def answer(self, contest_id: int, player_id: int, index: int, choice: int, now_ms: int) -> Answered:
        key = _key(contest_id)
        reply = self.client.register_script(_ANSWER)(
            keys=[key, f"{key}:players", f"{key}:a:{index}"], args=[player_id, index, choice, now_ms],
        )
        return Answered(reply[0], int(reply[1]), int(reply[2]), int(reply[3]))

    def answers(self, contest_id: int, index: int) -> dict[int, tuple[int, int]]:
        raw = self.client.hgetall(f"{_key(contest_id)}:a:{index}")
        return {int(pid): tuple(int(x) for x in value.split(":")) for pid, value in raw.items()}  # type: ignore[misc]

    def drop(self, contest_id: int) -> None:
        keys = list(self.client.scan_iter(f"{_key(contest_id)}:a:*"))
        self.client.delete(_key(contest_id), f"{_key(contest_id)}:players", *keys)


@dataclass
class _Game:
    phase: Phase
    players: dict[int, PlayerState] = field(default_factory=dict)
    answers: dict[int, dict[int, tuple[int, int]]] = field(default_factory=dict)


class MemoryContestStore(ContestStore):
    """One process (``make run``): the same rules as the Lua scripts above, under one lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.games: dict[int, _Game] = {}

    def open(self, contest_id: int) -> None:
        with self.lock:
            self.games[contest_id] = _Game(Phase())

    def phase(self, contest_id: int) -> Phase | None:
        game = self.games.get(contest_id)
        return game.phase if game else None

    def move(self, contest_id: int, before: Phase, after: Phase) -> bool:
        with self.lock:
            game = self.games.get(contest_id)
            if game is None or (game.phase.status, game.phase.index) != (before.status, before.index):
                return False
            answered = 0 if after.index != game.phase.index else game.phase.answered
            game.phase = replace(after, active=game.phase.active, answered=answered)
            return True

    def add_player(self, contest_id: int, player_id: int, team_id: int | None) -> int:
        with self.lock:
            game = self.games[contest_id]
            if player_id not in game.players:
                game.players[player_id] = PlayerState(team_id)
                game.phase = replace(game.phase, active=game.phase.active + 1)
            return game.phase.active

    def remove_player(self, contest_id: int, player_id: int) -> bool:
        with self.lock:
            game = self.games[contest_id]
            player = game.players.get(player_id)
            if player is None or player.removed:
                return False
            game.players[player_id] = replace(player, removed=True)
            game.phase = replace(game.phase, active=game.phase.active - 1)
            return True

    def players(self, contest_id: int) -> dict[int, PlayerState]:
        game = self.games.get(contest_id)
        return dict(game.players) if game else {}

    def player(self, contest_id: int, player_id: int) -> PlayerState | None:
        game = self.games.get(contest_id)
        return game.players.get(player_id) if game else None

    def answer_of(self, contest_id: int, index: int, player_id: int) -> tuple[int, int] | None:
        game = self.games.get(contest_id)
        return game.answers.get(index, {}).get(player_id) if game else None

    def set_scores(self, contest_id: int, players: dict[int, PlayerState]) -> None:
        with self.lock:
            self.games[contest_id].players.update(players)

    def answer(self, contest_id: int, player_id: int, index: int, choice: int, now_ms: int) -> Answered:
        with self.lock:
            game = self.games.get(contest_id)
            if game is None:
                return Answered("closed")
            phase, player = game.phase, game.players.get(player_id)
            if player is None or player.removed:
                return Answered("player")
            if phase.index != index:
                return Answered("other")
            if phase.status != Status.QUESTION:
                return Answered("closed")
            if now_ms > phase.deadline:
                return Answered("late")
            if choice >= phase.choices:
                return Answered("choice")
            given = game.answers.setdefault(index, {})
            if player_id in given:
                return Answered("twice")
            ms = max(0, now_ms - phase.shown)
            given[player_id] = (choice, ms)
            game.phase = replace(phase, answered=phase.answered + 1)
            return Answered("ok", ms, game.phase.answered, phase.active)

    def answers(self, contest_id: int, index: int) -> dict[int, tuple[int, int]]:
        game = self.games.get(contest_id)
        return dict(game.answers.get(index, {})) if game else {}

    def drop(self, contest_id: int) -> None:
        with self.lock:
            self.games.pop(contest_id, None)


def store() -> ContestStore:
    client = redis_client()
    if client is not None:
        return RedisContestStore(client)
    return current_app.extensions.setdefault("thidua.contest_store", MemoryContestStore())
