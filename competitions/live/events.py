"""The ``/live`` Socket.IO namespace (docs/live-protocol.md): thin handlers over competitions.live.game.

Every client event is acknowledged with ``{"ok": true, ...}`` or ``{"ok": false, "error", "field"}``;
a refusal is also sent as a ``live_error`` event, for clients that do not use acknowledgements.
Which player a socket is comes from its own session (set when it joined), never from the payload.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from itertools import groupby
from operator import attrgetter

from flask import Flask, current_app, session
from flask_babel import gettext as _
from flask_login import current_user
from flask_socketio import join_room

from competitions.live import contests, game, state
from competitions.live.models import LiveContest
from competitions.live.state import Status
from core.errors import PermissionDenied, ValidationError
from core.extensions import db, socketio
from core.realtime import emit_each, reply

NAMESPACE = "/live"
Ack = dict[str, object]


def send(messages: list[game.Message]) -> None:
    # Messages of one event in a row (a question's personal results) leave as one queue message.
    for event, same in groupby(messages, key=attrgetter("event")):
        emit_each(event, [(message.room, message.data) for message in same], NAMESPACE)
    _schedule_timers(messages)


def _schedule_timers(messages: list[game.Message]) -> None:
    """A shown (or resumed) question is revealed when its time is up, by this process."""
    if not current_app.config["LIVE_TIMERS"]:
        return  # tests call reveal_if_due themselves
    for message in messages:
        if message.event in ("question", "resumed"):
            contest_id = int(message.room.split(":")[1])
            app = current_app._get_current_object()  # type: ignore[attr-defined]
            socketio.start_background_task(_time_up, app, contest_id, message.data["index"],
                                           message.data["deadline"])


def _time_up(app: Flask, contest_id: int, index: int, deadline: int) -> None:
    socketio.sleep(max(0.0, (deadline - game.now_ms()) / 1000) + 0.01)  # answers count up to the deadline itself
    with app.app_context():
        reveal_if_due(contest_id, index)


def reveal_if_due(contest_id: int, index: int, at: datetime | None = None) -> None:
    """Reveal the question if its time is up (a timer, or a host screen coming back late)."""
    phase = state.store().phase(contest_id)
    if phase is None or phase.status != Status.QUESTION or phase.index != index or game.now_ms(at) < phase.deadline:
        return
    contest = db.session.get(LiveContest, contest_id)
    if contest is not None:
        _reveal(contest, index)


RESULTS_AFTER = 0.3  # seconds between the reveal and the personal results (see _reveal)


def _reveal(contest: LiveContest, index: int) -> None:
    """The reveal goes out first and alone (it needs only the answers), then the boards, then each
    player's result, then the question is written to the database: scoring and publishing thousands
    of personal results take CPU that would otherwise hold up the reveal on every phone. In tests,
    without background work, there is no pause."""
    closed = game.close_question(contest, index)
    if closed is None:
        return
    send([closed.reveal])
    scored = game.score(contest, closed)
    send([scored.leaderboard])
    if current_app.config["LIVE_TIMERS"]:
        socketio.sleep(RESULTS_AFTER)
    send(scored.results)
    game.record(scored)
    db.session.commit()


def _reveal_in_background(app: Flask, contest_id: int, index: int) -> None:
    with app.app_context():
        contest = db.session.get(LiveContest, contest_id)
        if contest is not None:
            _reveal(contest, index)


def _refused(error: Exception) -> Ack:
    db.session.rollback()
    message = getattr(error, "message", None) or _("Bạn không có quyền thực hiện thao tác này.")
    ack: Ack = {"ok": False, "error": message, "field": getattr(error, "field", None)}
    reply("live_error", ack)
    return ack


def _guarded(handler: Callable[[dict[str, object]], Ack]) -> Callable[[object], Ack]:
    def run(message: object = None) -> Ack:
        if message is None:
            message = {}
        if not isinstance(message, dict):
            return _refused(ValidationError(_("Dữ liệu gửi lên không hợp lệ.")))
        try:
            return handler(message)
        except (ValidationError, PermissionDenied) as error:
            return _refused(error)
    return run


def _user():  # noqa: ANN202 - the signed-in User or None
    return current_user._get_current_object() if current_user.is_authenticated else None  # type: ignore[attr-defined]


# --- players -----------------------------------------------------------------------------------------


def _committed(joined: game.Joined) -> Ack:
    """Commit the join, then put the socket in the contest's rooms. The ack is read before the
    commit expires the contest and the player: read after it, they cost two queries per join, a
    sixth of the servers' CPU while thousands join."""
    contest_id, player_id = joined.contest.id, joined.player.id
    ack: Ack = {"ok": True, "token": joined.token, "player": game.player_row(joined.player),
                "state": game.snapshot(joined.contest, player_id)}
    db.session.commit()
    join_room(game.room(contest_id))
    join_room(game.player_room(player_id))
    session["live_player"] = [contest_id, player_id]
    return ack


def on_join(message: dict[str, object]) -> Ack:
    joined, messages = game.join(message.get("pin"), _user(), message.get("nickname"), message.get("team_id"))
    ack = _committed(joined)
    send(messages)
    return ack


def on_rejoin(message: dict[str, object]) -> Ack:
    return _committed(game.rejoin(message.get("token")))


def on_answer(message: dict[str, object]) -> Ack:
    mine = session.get("live_player")
    if not mine:
        raise ValidationError(_("Bạn chưa tham gia cuộc thi."), field="pin")
    contest_id, player_id = mine
    ack, messages = game.answer(contest_id, player_id, message.get("index"), message.get("choice"))
    if not ack["ok"]:
        reply("live_error", ack)
        return ack
    send(messages)
    if ack["last"]:  # everyone has answered: reveal now, without holding this player's ack
        if current_app.config["LIVE_TIMERS"]:
            app = current_app._get_current_object()  # type: ignore[attr-defined]
            socketio.start_background_task(_reveal_in_background, app, contest_id, ack["index"])
        else:
            contest = db.session.get(LiveContest, contest_id)
            if contest is not None:
                _reveal(contest, ack["index"])  # type: ignore[arg-type]
    return ack


# --- the host ------------------------------------------------------------------------------------------


def _hosted(message: dict[str, object]) -> LiveContest:
    contest_id = message.get("contest_id", session.get("live_host"))
    contest = db.session.get(LiveContest, contest_id) if isinstance(contest_id, int) else None
    if contest is None:
        raise ValidationError(_("Không tìm thấy cuộc thi."), field="contest_id")
    user = _user()
    if user is None or not contests.may_host(user, contest):
        raise PermissionDenied
    return contest


def on_host(message: dict[str, object]) -> Ack:
    contest = _hosted(message)
    contests.ensure_game(contest)
    join_room(game.room(contest.id))
    join_room(game.host_room(contest.id))
    session["live_host"] = contest.id
    phase = state.store().phase(contest.id)
    if phase is not None:
        reveal_if_due(contest.id, phase.index)  # its timer's process went away: catch up
    return {"ok": True, "state": game.snapshot(contest), "lobby": game.lobby(contest)}


Step = Callable[[LiveContest, dict[str, object]], list[game.Message]]


def _command(step: Step) -> Callable[[dict[str, object]], Ack]:
    def run(message: dict[str, object]) -> Ack:
        contest = _hosted(message)
        messages = step(contest, message)
        db.session.commit()
        send(messages)
        return {"ok": True, "state": game.snapshot(contest)}
    return run


COMMANDS: dict[str, Step] = {
    "start": lambda c, _m: game.start(c),
    "next": lambda c, _m: game.next_step(c),
    "pause": lambda c, _m: game.pause(c),
    "resume": lambda c, _m: game.resume(c),
    "skip": lambda c, _m: game.skip(c),
    "end": lambda c, _m: game.finish(c),
    "lock": lambda c, m: game.lock(c, m.get("locked")),
    "remove": lambda c, m: game.remove(c, m.get("player_id")),
}


def register() -> None:
    socketio.on_event("join", _guarded(on_join), namespace=NAMESPACE)
    socketio.on_event("rejoin", _guarded(on_rejoin), namespace=NAMESPACE)
    socketio.on_event("answer", _guarded(on_answer), namespace=NAMESPACE)
    socketio.on_event("host", _guarded(on_host), namespace=NAMESPACE)
    for name, step in COMMANDS.items():
        socketio.on_event(name, _guarded(_command(step)), namespace=NAMESPACE)
