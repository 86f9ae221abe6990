"""Playing a live contest: joining, answering, the host's controls, revealing and scoring.

Every function returns what must be sent as ``Message``s (competitions.live.events sends them),
so the rules are tested without sockets. The answer path touches only the game state (one atomic
step in Redis); scores and answers reach the database once per question, when it is revealed.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select, update

from competitions import signals
from competitions.live import contests, scoring, state
from competitions.live.models import ContestMode, ContestStatus, LiveAnswer, LiveContest, LivePlayer
from competitions.live.state import Phase, PlayerState, Status
from core.accounts.models import User
from core.db_types import utcnow
from core.errors import PermissionDenied, ValidationError
from core.extensions import db
from core.org.models import Unit
from core.teams.models import Team
from core.teams.service import active_membership_of
from core.text import clean, fold
from quiz.models import QuestionVersion

NICKNAME_MIN, NICKNAME_MAX = 2, 20
TOP = 5
# Words a nickname may not contain (folded: no accents, lower case), whole words only.
BLOCKED_WORDS = {"dit", "du ma", "dm", "dmm", "dcm", "dkm", "vcl", "vkl", "clgt", "cac", "lon", "buoi",
                 "fuck", "shit", "bitch", "cunt", "dick"}


@dataclass(frozen=True)
class Message:
    event: str
    data: dict[str, object]
    room: str


def room(contest_id: int) -> str:
    return f"contest:{contest_id}"


def host_room(contest_id: int) -> str:
    return f"contest:{contest_id}:host"


def player_room(player_id: int) -> str:
    return f"player:{player_id}"


def now_ms(moment: datetime | None = None) -> int:
    return int((moment or utcnow()).timestamp() * 1000)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- joining ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Joined:
    contest: LiveContest
    player: LivePlayer
    token: str  # kept on the phone to come back as the same player


def _check_nickname(nickname: object) -> str:
    name = clean(nickname if isinstance(nickname, str) else "")
    if not NICKNAME_MIN <= len(name) <= NICKNAME_MAX:
        raise ValidationError(_("Biệt danh dài từ %(a)d đến %(b)d ký tự.", a=NICKNAME_MIN, b=NICKNAME_MAX),
                              field="nickname")
    words = re.sub(r"[^a-z0-9]+", " ", fold(name)).split()
    # "Đ.M", "v c l": letters spelt one by one count as the word they spell
    spelt = re.sub(r"\b(\w) (?=\w\b)", r"\1", " ".join(words)).split()
    text = f" {' '.join(words)} "
    if any(f" {word} " in text for word in BLOCKED_WORDS) or BLOCKED_WORDS & set(spelt):
        raise ValidationError(_("Biệt danh có từ không phù hợp, hãy chọn biệt danh khác."), field="nickname")
    return name


def teams_for(contest: LiveContest) -> list[Team]:
    """The teams a guest may play for in team mode: the active teams of the host's area."""
    query = select(Team).where(Team.active).order_by(Team.name)
    if contest.unit is not None:
        query = query.join(Unit, Unit.id == Team.unit_id).where(Unit.path.startswith(contest.unit.path))
    return list(db.session.scalars(query))


def join(
    pin: object, user: User | None, nickname: object = None, team_id: object = None,
) -> tuple[Joined, list[Message]]:
    contest = contests.by_pin(pin)
    if contest is None or contest.status not in (ContestStatus.LOBBY, ContestStatus.RUNNING):
        raise ValidationError(_("Mã PIN không đúng hoặc cuộc thi đã kết thúc."), field="pin")
    contests.ensure_game(contest)
    phase = state.store().phase(contest.id)
    if phase is None or phase.status == Status.FINISHED:
        raise ValidationError(_("Mã PIN không đúng hoặc cuộc thi đã kết thúc."), field="pin")
    if user is not None:
        mine = db.session.scalar(select(LivePlayer).where(LivePlayer.contest_id == contest.id,
                                                          LivePlayer.user_id == user.id))
        if mine is not None:  # a second phone of the same person: the same player
            if mine.removed:
                raise PermissionDenied(_("Người dẫn đã mời bạn rời cuộc thi."))
            return _token_for(contest, mine), []
    if phase.locked:
        raise ValidationError(_("Phòng chờ đã khóa, không nhận thêm người chơi."), field="pin")
    if phase.active >= contest.max_players:
        raise ValidationError(_("Cuộc thi đã đủ %(n)d người chơi.", n=contest.max_players), field="pin")
    team: Team | None = None
    if user is not None:
        chose = isinstance(nickname, str) and nickname.strip()
        name = _check_nickname(nickname) if chose else user.full_name[:NICKNAME_MAX]
        membership = active_membership_of(user)
        team = membership.team if membership is not None else None
    else:
        if not contest.allow_guests:
            raise PermissionDenied(_("Cuộc thi chỉ dành cho người đã đăng nhập."))
        name = _check_nickname(nickname)
        if contest.mode == ContestMode.TEAM:
            team = next((t for t in teams_for(contest) if t.id == team_id), None)
            if team is None:
                raise ValidationError(_("Hãy chọn tổ của bạn."), field="team_id")
    if contest.mode == ContestMode.TEAM and team is None:
        raise ValidationError(_("Thi đồng đội: bạn cần thuộc một Tổ CNSCĐ để tham gia."), field="team_id")
    key = fold(name)
    if db.session.scalar(select(LivePlayer.id).where(LivePlayer.contest_id == contest.id,
                                                     LivePlayer.nickname_key == key)):
        raise ValidationError(_("Biệt danh “%(n)s” đã có người dùng, hãy chọn biệt danh khác.", n=name),
                              field="nickname")
    token = secrets.token_urlsafe(24)
    player = LivePlayer(contest_id=contest.id, user_id=user.id if user else None,
                        team_id=team.id if team and contest.mode == ContestMode.TEAM else None,
                        nickname=name, nickname_key=key, token_hash=_token_hash(token))
    db.session.add(player)
    db.session.flush()
    count = state.store().add_player(contest.id, player.id, player.team_id)
    lobby = Message("player_joined", {"player": player_row(player), "players": count}, host_room(contest.id))
    return Joined(contest, player, token), [lobby]


def _token_for(contest: LiveContest, player: LivePlayer) -> Joined:
    token = secrets.token_urlsafe(24)
    player.token_hash = _token_hash(token)
    return Joined(contest, player, token)


def rejoin(token: object) -> Joined:
    """Come back as the player the phone's token names (reload, lost network, locked phone)."""
    player = db.session.scalar(select(LivePlayer).where(
        LivePlayer.token_hash == _token_hash(token if isinstance(token, str) else ""))) if token else None
    if player is None:
        raise ValidationError(_("Không tìm thấy người chơi; hãy nhập mã PIN để tham gia lại."), field="token")
    if player.removed:
        raise PermissionDenied(_("Người dẫn đã mời bạn rời cuộc thi."))
    contest = db.session.get(LiveContest, player.contest_id)
    assert contest is not None
    return Joined(contest, player, token)  # type: ignore[arg-type]


def player_row(player: LivePlayer) -> dict[str, object]:
    return {"id": player.id, "nickname": player.nickname, "team": player.team.name if player.team else None}


# --- answering ---------------------------------------------------------------------------------------


_REFUSALS = {
    "twice": lambda: _("Bạn đã trả lời câu này; câu trả lời đầu tiên được tính."),
    "closed": lambda: _("Câu hỏi chưa mở hoặc đang tạm dừng."),
    "other": lambda: _("Câu hỏi này không phải câu đang thi."),
    "late": lambda: _("Đã hết giờ trả lời câu này."),
    "choice": lambda: _("Lựa chọn không hợp lệ."),
    "player": lambda: _("Bạn không còn trong cuộc thi."),
}


def answer(contest_id: int, player_id: int, index: object, choice: object,
           at: datetime | None = None) -> tuple[dict[str, object], list[Message]]:
    """Judge one answer (the server's clock; one per player and question, the first counts).
    Returns the acknowledgement for the sender and what the host screen must hear."""
    whole = all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (index, choice))
    if not whole:
        return {"ok": False, "error": _("Dữ liệu gửi lên không hợp lệ.")}, []
    got = state.store().answer(contest_id, player_id, index, choice, now_ms(at))
    if got.outcome != "ok":
        return {"ok": False, "error": _REFUSALS[got.outcome](), "reason": got.outcome}, []
    # "last": every player has answered, so the question can be revealed without waiting.
    ack = {"ok": True, "index": index, "response_ms": got.response_ms, "last": got.answered >= got.active}
    # The host screen counts answers; a few dozen updates per question are enough to watch it grow.
    step = max(1, got.active // 40)
    messages = []
    if got.answered % step == 0 or got.answered >= got.active:
        messages.append(Message("answers", {"index": index, "count": got.answered, "players": got.active},
                                host_room(contest_id)))
    return ack, messages


# --- the host's controls ---------------------------------------------------------------------------


def _phase(contest: LiveContest) -> Phase:
    phase = state.store().phase(contest.id)
    if phase is None or contest.status == ContestStatus.FINISHED:
        raise ValidationError(_("Cuộc thi đã kết thúc."), field="status")
    return phase


def _question_message(contest: LiveContest, phase: Phase, version: QuestionVersion) -> Message:
    return Message("question", {
        "index": phase.index, "total": len(contest.version_ids), "text": version.text, "choices": version.choices,
        "kind": version.kind, "seconds": contest.seconds_per_question, "deadline": phase.deadline,
        "server_time": now_ms(), "status": phase.status,
    }, room(contest.id))


def show(contest: LiveContest, index: int, at: datetime | None = None) -> list[Message]:
    """Show question ``index`` (from the lobby, or after a reveal)."""
    phase = _phase(contest)
    versions = contests.versions_of(contest)
    if not 0 <= index < len(versions):
        raise ValidationError(_("Không có câu hỏi này."), field="index")
    now = now_ms(at)
    after = replace(phase, status=Status.QUESTION, index=index, shown=now,
                    deadline=now + contest.seconds_per_question * 1000, left=0, choices=len(versions[index].choices))
    if not state.store().move(contest.id, phase, after):
        return []  # another command moved the game meanwhile
    if contest.status != ContestStatus.RUNNING:
        contest.status = ContestStatus.RUNNING
    return [_question_message(contest, after, versions[index])]


def start(contest: LiveContest, at: datetime | None = None) -> list[Message]:
    if _phase(contest).status != Status.LOBBY:
        raise ValidationError(_("Cuộc thi đã bắt đầu."), field="status")
    return show(contest, 0, at)


def next_step(contest: LiveContest, at: datetime | None = None) -> list[Message]:
    """After a reveal: the next question, or the podium after the last."""
    phase = _phase(contest)
    if phase.status != Status.REVEAL:
        raise ValidationError(_("Hãy chờ công bố đáp án trước khi sang câu tiếp."), field="status")
    if phase.index + 1 >= len(contest.version_ids):
        return finish(contest, at)
    return show(contest, phase.index + 1, at)


def pause(contest: LiveContest, at: datetime | None = None) -> list[Message]:
    phase = _phase(contest)
    if phase.status != Status.QUESTION:
        raise ValidationError(_("Chỉ tạm dừng được khi đang đếm giờ."), field="status")
    left = max(0, phase.deadline - now_ms(at))
    if not state.store().move(contest.id, phase, replace(phase, status=Status.PAUSED, left=left)):
        return []
    return [Message("paused", {"index": phase.index, "left_ms": left}, room(contest.id))]


def resume(contest: LiveContest, at: datetime | None = None) -> list[Message]:
    phase = _phase(contest)
    if phase.status != Status.PAUSED:
        raise ValidationError(_("Cuộc thi không tạm dừng."), field="status")
    now = now_ms(at)
    elapsed = contest.seconds_per_question * 1000 - phase.left  # the pause does not count in response times
    after = replace(phase, status=Status.QUESTION, shown=now - elapsed, deadline=now + phase.left, left=0)
    if not state.store().move(contest.id, phase, after):
        return []
    return [Message("resumed", {"index": phase.index, "deadline": after.deadline, "server_time": now},
                    room(contest.id))]


def skip(contest: LiveContest, at: datetime | None = None) -> list[Message]:
    """Drop the current question unscored (a faulty question) and go on."""
    phase = _phase(contest)
    if phase.status not in (Status.QUESTION, Status.PAUSED):
        raise ValidationError(_("Không có câu hỏi đang thi để bỏ qua."), field="status")
    if not state.store().move(contest.id, phase, replace(phase, status=Status.REVEAL)):
        return []
    skipped = Message("skipped", {"index": phase.index}, room(contest.id))
    return [skipped, *next_step(contest, at)]


def lock(contest: LiveContest, locked: object) -> list[Message]:
    phase = _phase(contest)
    if not isinstance(locked, bool):
        raise ValidationError(_("Dữ liệu gửi lên không hợp lệ."), field="locked")
    if not state.store().move(contest.id, phase, replace(phase, locked=locked)):
        return []
    return [Message("locked", {"locked": locked}, host_room(contest.id))]


def remove(contest: LiveContest, player_id: object) -> list[Message]:
    player = db.session.get(LivePlayer, player_id) if isinstance(player_id, int) else None
    if player is None or player.contest_id != contest.id:
        raise ValidationError(_("Không tìm thấy người chơi."), field="player_id")
    if not state.store().remove_player(contest.id, player.id):
        return []
    player.removed = True
    return [Message("removed", {"message": _("Người dẫn đã mời bạn rời cuộc thi.")}, player_room(player.id)),
            Message("player_removed", {"player_id": player.id}, host_room(contest.id))]


# --- revealing and scoring -----------------------------------------------------------------------------


def _ranked(players: dict[int, PlayerState]) -> list[int]:
    """Player ids, best first; equal scores in the order the players joined."""
    return sorted((pid for pid, p in players.items() if not p.removed), key=lambda pid: (-players[pid].score, pid))


def _boards(contest: LiveContest, players: dict[int, PlayerState],
            before: dict[int, PlayerState] | None = None) -> dict[str, object]:
    """Top players with their rank movement; in team mode the teams (mean of their players).
    Only the names shown are read from the database: a reveal must not load thousands of rows."""
    order = _ranked(players)
    earlier = {pid: rank for rank, pid in enumerate(_ranked(before), start=1)} if before else {}
    shown = order[:TOP]
    names = dict(db.session.execute(select(LivePlayer.id, LivePlayer.nickname).where(LivePlayer.id.in_(shown)))
                 .all()) if shown else {}
    top = [{"rank": rank, "player_id": pid, "nickname": names.get(pid, ""), "score": players[pid].score,
            "move": earlier[pid] - rank if pid in earlier else 0}
           for rank, pid in enumerate(shown, start=1)]
    teams: list[dict[str, object]] = []
    if contest.mode == ContestMode.TEAM:
        means = scoring.team_scores((players[pid].team_id, players[pid].score) for pid in order)
        team_names = dict(db.session.execute(select(Team.id, Team.name).where(Team.id.in_(means))).all()) \
            if means else {}
        ranked = sorted(means, key=lambda tid: (-means[tid], fold(team_names.get(tid, "")), tid))
        teams = [{"rank": rank, "team_id": tid, "name": team_names.get(tid, ""), "score": round(means[tid], 1)}
                 for rank, tid in enumerate(ranked, start=1)]
    return {"top": top, "teams": teams, "players": len(order)}


@dataclass(frozen=True)
class Closed:
    """A question whose time is up: its answers, and the reveal to send at once."""

    index: int
    version: QuestionVersion
    given: dict[int, tuple[int, int]]
    reveal: Message


@dataclass(frozen=True)
class Scored:
    """What scoring a closed question sends (the boards, each player's result) and leaves to write
    (``record``), after the reveal has gone out."""

    leaderboard: Message
    results: list[Message]
    answers: list[dict[str, object]]
    scores: dict[int, PlayerState]


def close_question(contest: LiveContest, index: int) -> Closed | None:
    """Time is up (or everyone answered): no more answers; the right answer and the distribution,
    to send before anything else. None when another call closed it first (a timer and the last
    answer race) or it is not the question in play."""
    phase = _phase(contest)
    if phase.index != index or phase.status not in (Status.QUESTION, Status.PAUSED):
        return None
    if not state.store().move(contest.id, phase, replace(phase, status=Status.REVEAL)):
        return None
    version = contests.versions_of(contest)[index]
    given = state.store().answers(contest.id, index)
    sheet = {"index": index, **_answer_sheet(version, given), "players": phase.active}
    return Closed(index, version, given, Message("reveal", sheet, room(contest.id)))


def score(contest: LiveContest, closed: Closed) -> Scored:
    """Judge and score the closed question: the boards for all, each player their own result."""
    index, version, given = closed.index, closed.version, closed.given
    before = state.store().players(contest.id)
    after: dict[int, PlayerState] = {}
    stored = []
    limit = contest.seconds_per_question * 1000
    for pid, player in before.items():
        if player.removed:
            continue
        choice, ms = given.get(pid, (None, None))
        correct = choice is not None and choice in version.correct  # one tap: any right choice of several
        earned = scoring.score(correct, ms, limit, contest.max_points, contest.streak_bonus, player.streak)
        after[pid] = replace(player, score=player.score + earned.points, streak=earned.streak)
        stored.append({"contest_id": contest.id, "player_id": pid, "question_index": index, "version_id": version.id,
                       "choice": choice, "is_correct": correct, "points": earned.points, "response_ms": ms})
    state.store().set_scores(contest.id, after)
    players = {**before, **after}
    board = Message("leaderboard", {"index": index, **_boards(contest, players, before)}, room(contest.id))
    ranks = {pid: rank for rank, pid in enumerate(_ranked(players), start=1)}
    points = {row["player_id"]: row for row in stored}
    results = [Message("result", {
        "index": index, "correct": points[pid]["is_correct"], "points": points[pid]["points"],
        "score": player.score, "streak": player.streak, "rank": ranks[pid], "players": len(ranks),
    }, player_room(pid)) for pid, player in after.items()]
    return Scored(board, results, stored, after)


def _answer_sheet(version: QuestionVersion, given: dict[int, tuple[int, int]]) -> dict[str, object]:
    """The right answer, how many picked each choice, the explanation."""
    distribution = [0] * len(version.choices)
    for choice, _ms in given.values():
        if choice < len(distribution):
            distribution[choice] += 1
    return {"correct": version.correct, "distribution": distribution, "explanation": version.explanation,
            "answered": len(given)}


def record(scored: Scored) -> None:
    """The question's answers and everyone's score so far, in the database (the caller commits)."""
    if scored.answers:
        db.session.execute(LiveAnswer.__table__.insert(), scored.answers)
    if scored.scores:
        db.session.execute(
            update(LivePlayer).execution_options(synchronize_session=False),
            [{"id": pid, "score": p.score, "streak": p.streak} for pid, p in scored.scores.items()],
        )
    db.session.flush()


def finish(contest: LiveContest, at: datetime | None = None) -> list[Message]:
    """End the contest (after the last question, or early): the podium; the PIN is freed."""
    phase = _phase(contest)
    if phase.status in (Status.QUESTION, Status.PAUSED):
        state.store().move(contest.id, phase, replace(phase, status=Status.REVEAL))  # the question in play is dropped
        phase = state.store().phase(contest.id) or phase
    state.store().move(contest.id, phase, replace(phase, status=Status.FINISHED))
    contest.status = ContestStatus.FINISHED
    contest.finished_at = at or utcnow()
    contest.pin = None
    signals.live_contest_finished.send(contest)
    players = state.store().players(contest.id)
    boards = _boards(contest, players)
    podium = {"players": boards["top"][:3], "teams": boards["teams"][:3], "players_count": boards["players"]}
    return [Message("finished", podium, room(contest.id))]


# --- what a (re)connecting screen needs ----------------------------------------------------------------


def snapshot(contest: LiveContest, player_id: int | None = None, at: datetime | None = None) -> dict[str, object]:
    phase = state.store().phase(contest.id) or Phase(status=Status.FINISHED)
    view: dict[str, object] = {
        "contest": {"id": contest.id, "title": contest.title, "mode": contest.mode, "pin": contest.pin,
                    "total": len(contest.version_ids), "seconds": contest.seconds_per_question},
        "status": phase.status, "index": phase.index, "locked": phase.locked, "players": phase.active,
        "answered": phase.answered, "server_time": now_ms(at),
    }
    if phase.status in (Status.QUESTION, Status.PAUSED) and phase.index >= 0:
        version = contests.versions_of(contest)[phase.index]
        view["question"] = {"text": version.text, "choices": version.choices, "kind": version.kind,
                            "deadline": phase.deadline, "left_ms": phase.left}
    if phase.status in (Status.REVEAL, Status.FINISHED):
        view.update(_boards(contest, state.store().players(contest.id)))
    if phase.status == Status.REVEAL and phase.index >= 0:  # a host screen reloaded during a reveal
        version = contests.versions_of(contest)[phase.index]
        view["reveal"] = _answer_sheet(version, state.store().answers(contest.id, phase.index))
    if player_id is not None:  # one player's row only: thousands join at once
        me = state.store().player(contest.id, player_id)
        if me is not None:
            given = state.store().answer_of(contest.id, phase.index, player_id) if phase.index >= 0 else None
            view["me"] = {"player_id": player_id, "score": me.score, "streak": me.streak,
                          "answered": given is not None}
    return view


def lobby(contest: LiveContest) -> list[dict[str, object]]:
    """The players the host screen lists."""
    return [player_row(p) for p in contests.players_of(contest) if not p.removed]
