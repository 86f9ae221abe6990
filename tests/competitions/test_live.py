"""Live contests against the real Socket.IO server (Flask-SocketIO's test client): joining,
answering, scoring, streaks, team averages, reconnection, host controls and bad input.

Each test runs with the game state in process and in a real Redis (``contest_store``). Timers are
off in tests: ``events.reveal_if_due`` is the moment a question's time runs out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import Flask, g

from competitions.live import contests, events, game, scoring
from competitions.live.contests import ContestInput
from competitions.live.models import ContestMode, ContestStatus, LiveAnswer, LiveContest, LivePlayer
from core.accounts.models import User
from core.accounts.roles import RoleCode
from core.db_types import utcnow
from core.errors import PermissionDenied, ValidationError
from core.extensions import db, socketio
from core.teams.service import active_membership_of
from quiz.attempts import DrawRule
from quiz.models import Question
from tests.factories import Factory, QuizFactory, Tree

NS = events.NAMESPACE


@pytest.fixture(params=["memory", "redis"])
def contest_store(request: pytest.FixtureRequest, app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if request.param == "redis":
        monkeypatch.setitem(app.config, "REDIS_URL", request.getfixturevalue("redis_url"))
    app.extensions.pop("thidua.contest_store", None)
    yield request.param
    app.extensions.pop("thidua.contest_store", None)


class Phone:
    """One person's Socket.IO connection on /live, with their own signed-in Flask client."""

    def __init__(self, app: Flask, user: User | None = None) -> None:
        self.http = app.test_client()
        if user is not None:
            response = self.http.post("/login", data={"login": user.login_name, "password": Factory.PASSWORD})
            assert response.status_code == 302
        g.pop("_login_user", None)
        self.socket = socketio.test_client(app, namespace=NS, flask_test_client=self.http)
        self.inbox: list[tuple[str, dict]] = []

    def call(self, event: str, data: object = None) -> dict:
        g.pop("_login_user", None)  # handlers share the test's app context: no cached user from before
        ack = self.socket.emit(event, data, namespace=NS, callback=True)
        g.pop("_login_user", None)
        return ack

    def events(self, name: str) -> list[dict]:
        """Every ``name`` event received so far, oldest first."""
        self.inbox += [(m["name"], m["args"][0] if m["args"] else None) for m in self.socket.get_received(NS)]
        return [data for event, data in self.inbox if event == name]

    def last(self, name: str) -> dict:
        found = self.events(name)
        assert found, f"no {name} event"
        return found[-1]


@dataclass
class Hall:
    app: Flask
    make: Factory
    tree: Tree
    host: User
    questions: list[Question]
    members: list[User]
    contest: LiveContest

    def phone(self, user: User | None = None) -> Phone:
        return Phone(self.app, user)


@pytest.fixture
def hall(app: Flask, make: Factory, contest_store: str) -> Hall:
    tree = make.tree()
    quiz = QuizFactory(make)
    questions = [quiz.question(text=f"Câu trực tiếp {n}: ứng dụng định danh điện tử?",
                               choices=["VNeID", "Zalo", "Momo", "VssID"], correct=[n % 4]) for n in range(3)]
    first, second = make.team(tree.hamlet), make.team(tree.hamlet2, name="Tổ CNSCĐ ấp Tân Hòa")
    members = [make.member(first, full_name=f"Người chơi A{n}").user for n in range(2)]
    members += [make.member(second, full_name="Người chơi B0").user]
    host = make.user(RoleCode.ORGANISER, tree.province, full_name="Tỉnh đoàn")
    contest = contests.create_contest(
        ContestInput("Rung chuông vàng chuyển đổi số", ContestMode.TEAM, 20, allow_guests=True,
                     question_ids=[q.id for q in questions]), host,
    )
    db.session.commit()
    return Hall(app, make, tree, host, questions, members, contest)


def _launch(hall: Hall) -> tuple[Phone, str]:
    screen = hall.phone(hall.host)
    pin = contests.launch(hall.contest, hall.host)
    db.session.commit()
    assert screen.call("host", {"contest_id": hall.contest.id})["ok"]
    return screen, pin


def _right(hall: Hall, index: int) -> int:
    return hall.questions[index].current.correct[0]


def _time_up(hall: Hall, index: int) -> None:
    events.reveal_if_due(hall.contest.id, index, at=utcnow() + timedelta(seconds=30))


# --- scoring ------------------------------------------------------------------------------------------


def test_points_fall_with_time_to_half_and_streaks_add_a_bonus():
    assert scoring.score(True, 0, 20_000, 1000, 100, 0) == scoring.Scored(1000, 1)
    assert scoring.score(True, 10_000, 20_000, 1000, 100, 0).points == 750
    assert scoring.score(True, 20_000, 20_000, 1000, 100, 0).points == 500  # at the last moment: half
    assert scoring.score(True, 99_000, 20_000, 1000, 100, 0).points == 500  # never less for a right answer
    assert scoring.score(True, 0, 20_000, 1000, 100, 2) == scoring.Scored(1200, 3)  # third in a row: +200
    assert scoring.score(True, 0, 20_000, 1000, 100, 40).points == 1500  # the bonus stops growing at +500
    assert scoring.score(False, 0, 20_000, 1000, 100, 4) == scoring.Scored(0, 0)  # a miss ends the streak
    assert scoring.score(True, None, 20_000, 1000, 100, 4) == scoring.Scored(0, 0)
    assert scoring.team_scores([(1, 900), (1, 100), (2, 700), (None, 5000)]) == {1: 500.0, 2: 700.0}


# --- a whole contest ---------------------------------------------------------------------------------------


def test_a_team_contest_from_the_lobby_to_the_podium(hall: Hall):
    screen, pin = _launch(hall)
    phones = [hall.phone(member) for member in hall.members]
    joined = [phone.call("join", {"pin": pin}) for phone in phones]
    assert all(j["ok"] for j in joined) and [j["player"]["nickname"] for j in joined][0] == "Người chơi A0"
    assert joined[2]["player"]["team"] == "Tổ CNSCĐ ấp Tân Hòa" and joined[0]["state"]["status"] == "lobby"
    lobby = screen.events("player_joined")
    assert [e["players"] for e in lobby] == [1, 2, 3]

    assert screen.call("start")["ok"]
    question = phones[0].last("question")
    assert (question["index"], question["total"], question["seconds"]) == (0, 3, 20)
    assert question["choices"] == ["VNeID", "Zalo", "Momo", "VssID"] and "correct" not in question
    right = _right(hall, 0)
    acks = [phones[0].call("answer", {"index": 0, "choice": right}),
            phones[1].call("answer", {"index": 0, "choice": (right + 1) % 4})]
    assert all(a["ok"] for a in acks) and acks[0]["response_ms"] >= 0
    assert screen.last("answers")["count"] == 2
    # the last player answers: the reveal comes at once, without waiting for the time to run out
    phones[2].call("answer", {"index": 0, "choice": right})
    reveal = phones[1].last("reveal")
    assert reveal["correct"] == [right] and sum(reveal["distribution"]) == 3 and reveal["distribution"][right] == 2
    board = phones[1].last("leaderboard")
    assert reveal["explanation"] and (reveal["answered"], reveal["players"]) == (3, 3) and "top" not in reveal
    assert board["index"] == 0 and [row["nickname"] for row in board["top"]][2] == "Người chơi A1"
    mine = phones[0].last("result")
    assert mine["correct"] and 500 <= mine["points"] <= 1000 and mine["streak"] == 1 and mine["rank"] in (1, 2)
    wrong = phones[1].last("result")
    assert (wrong["correct"], wrong["points"], wrong["rank"], wrong["streak"]) == (False, 0, 3, 0)
    # team mode: the mean of the team's players, so two players are no advantage over one
    teams = {row["team_id"]: row["score"] for row in board["teams"]}
    first_team = active_membership_of(hall.members[0]).team_id
    assert teams[first_team] == pytest.approx(mine["points"] / 2, abs=0.1)

    for index in (1, 2):
        assert screen.call("next")["ok"]
        phones[0].call("answer", {"index": index, "choice": _right(hall, index)})
        _time_up(hall, index)  # the others never answer
        result = phones[0].last("result")
        assert result["streak"] == index + 1 and result["points"] >= 500 + index * 100
    assert screen.call("next")["ok"]  # after the last question: the podium
    finished = phones[2].last("finished")
    assert [p["nickname"] for p in finished["players"]][0] == "Người chơi A0" and len(finished["teams"]) == 2

    db.session.expire_all()
    assert (hall.contest.status, hall.contest.pin) == (ContestStatus.FINISHED, None)
    stored = db.session.query(LiveAnswer).filter_by(contest_id=hall.contest.id).count()
    assert stored == 3 * 3  # everyone, every question (no answer: stored as such)
    winner = db.session.query(LivePlayer).filter_by(contest_id=hall.contest.id, user_id=hall.members[0].id).one()
    assert winner.score == finished["players"][0]["score"] and winner.streak == 3


def test_guests_join_with_a_checked_nickname_and_their_team(hall: Hall):
    _screen, pin = _launch(hall)
    guest = hall.phone()
    team_id = active_membership_of(hall.members[0]).team_id
    refusals = [
        ({"pin": "000000", "nickname": "Minh Anh", "team_id": team_id}, "Mã PIN không đúng"),
        ({"pin": pin, "nickname": "A", "team_id": team_id}, "từ 2 đến 20"),
        ({"pin": pin, "nickname": "x" * 5000, "team_id": team_id}, "từ 2 đến 20"),
        ({"pin": pin, "nickname": "Đ.M thằng nào", "team_id": team_id}, "không phù hợp"),
        ({"pin": pin, "nickname": "Minh Anh"}, "chọn tổ"),
        ({"pin": pin, "nickname": "Minh Anh", "team_id": 999_999}, "chọn tổ"),
    ]
    for data, message in refusals:
        ack = guest.call("join", data)
        assert not ack["ok"] and message in ack["error"], data
    assert guest.call("join", {"pin": pin, "nickname": "Minh Anh", "team_id": team_id})["ok"]
    hall.contest.max_players = 2
    db.session.commit()
    assert hall.phone(hall.members[0]).call("join", {"pin": pin})["ok"]
    full = hall.phone(hall.members[1]).call("join", {"pin": pin})
    assert not full["ok"] and "đã đủ 2 người chơi" in full["error"]
    hall.contest.max_players = 5000
    db.session.commit()
    again = hall.phone().call("join", {"pin": pin, "nickname": "minh  ANH", "team_id": team_id})
    assert not again["ok"] and "đã có người dùng" in again["error"]
    assert game.snapshot(hall.contest)["players"] == 2


def test_a_player_comes_back_with_the_same_identity_score_and_streak(hall: Hall):
    screen, pin = _launch(hall)
    phone = hall.phone(hall.members[0])
    token = phone.call("join", {"pin": pin})["token"]
    screen.call("start")
    phone.call("answer", {"index": 0, "choice": _right(hall, 0)})
    _time_up(hall, 0)
    score = phone.last("result")["score"]
    phone.socket.disconnect(namespace=NS)  # the phone locks; the page reloads
    back = hall.phone()
    resumed = back.call("rejoin", {"token": token})
    assert resumed["ok"] and resumed["player"]["nickname"] == "Người chơi A0"
    assert resumed["state"]["me"] == {"player_id": resumed["player"]["id"], "score": score, "streak": 1,
                                      "answered": True}
    screen.call("next")
    assert back.last("question")["index"] == 1  # in the contest's room again
    back.call("answer", {"index": 1, "choice": _right(hall, 1)})
    _time_up(hall, 1)
    assert back.last("result")["streak"] == 2
    assert not hall.phone().call("rejoin", {"token": "forged"})["ok"]
    # the host's screen reloads too, and gets the state back
    assert hall.phone(hall.host).call("host", {"contest_id": hall.contest.id})["state"]["status"] == "reveal"


def test_host_controls(hall: Hall):
    screen, pin = _launch(hall)
    phones = [hall.phone(m) for m in hall.members[:2]]
    ids = [p.call("join", {"pin": pin})["player"]["id"] for p in phones]
    assert screen.call("lock", {"locked": True})["ok"]
    late = hall.phone(hall.members[2]).call("join", {"pin": pin})
    assert not late["ok"] and "đã khóa" in late["error"]
    assert screen.call("remove", {"player_id": ids[1]})["ok"]
    assert phones[1].last("removed")["message"].startswith("Người dẫn")
    assert not phones[1].call("answer", {"index": 0, "choice": 0})["ok"]
    assert not phones[1].call("rejoin", {"token": "x"})["ok"]

    screen.call("start")
    assert screen.call("pause")["ok"] and phones[0].last("paused")["index"] == 0
    paused = phones[0].call("answer", {"index": 0, "choice": 0})
    assert not paused["ok"] and "tạm dừng" in paused["error"]
    _time_up(hall, 0)  # the time of a paused question does not run out
    assert game.snapshot(hall.contest)["status"] == "paused"
    assert screen.call("resume")["ok"] and phones[0].last("resumed")["deadline"] > game.now_ms()
    assert phones[0].call("answer", {"index": 0, "choice": 0})["ok"]
    assert phones[0].last("reveal")["index"] == 0  # the only player left answered
    assert screen.call("next")["ok"]
    assert screen.call("skip")["ok"]  # question 2 dropped unscored: on to question 3
    assert phones[0].last("question")["index"] == 2 and phones[0].last("skipped")["index"] == 1
    assert screen.call("end")["ok"] and phones[0].last("finished")
    assert db.session.query(LiveAnswer).filter_by(contest_id=hall.contest.id, question_index=1).count() == 0
    assert not screen.call("start")["ok"]


def test_bad_input_changes_nothing_and_disturbs_no_one(hall: Hall):
    screen, pin = _launch(hall)
    phone, other = hall.phone(hall.members[0]), hall.phone(hall.members[1])
    stranger = hall.phone(hall.members[2])  # connected, never joined
    phone.call("join", {"pin": pin})
    other.call("join", {"pin": pin})
    early = phone.call("answer", {"index": 0, "choice": 0})
    assert not early["ok"] and early["reason"] == "other"
    screen.call("start")
    cases = [
        (phone, {"index": 0, "choice": 9}, "không hợp lệ"),
        (phone, {"index": 0, "choice": -1}, "không hợp lệ"),
        (phone, {"index": "0", "choice": 1}, "không hợp lệ"),
        (phone, {"index": 2, "choice": 1}, "không phải câu đang thi"),
        (phone, "answer everything", "không hợp lệ"),
        (stranger, {"index": 0, "choice": 1}, "chưa tham gia"),
        (stranger, {"index": 0, "choice": 1, "player_id": 1}, "chưa tham gia"),  # a forged player id is ignored
    ]
    for sender, data, message in cases:
        ack = sender.call("answer", data)
        assert not ack["ok"] and message in ack["error"], data
        assert sender.last("live_error")["error"] == ack["error"]
    assert phone.call("answer", {"index": 0, "choice": 1})["ok"]
    twice = phone.call("answer", {"index": 0, "choice": 2})
    assert not twice["ok"] and "câu trả lời đầu tiên" in twice["error"]
    assert game.snapshot(hall.contest)["answered"] == 1
    # commands are the host's only
    refused = other.call("next", {"contest_id": hall.contest.id})
    assert not refused["ok"] and "không có quyền" in refused["error"]
    # after the time (the server's clock): refused; the reveal counts only the first answer
    other_id = next(p.id for p in contests.players_of(hall.contest) if p.user_id == hall.members[1].id)
    late, _messages = game.answer(hall.contest.id, other_id, 0, 1, at=utcnow() + timedelta(seconds=25))
    assert late["reason"] == "late" and "hết giờ" in late["error"]
    _time_up(hall, 0)
    assert other.last("result")["points"] == 0 and phone.last("reveal")["answered"] == 1


def test_preparing_a_contest(hall: Hall):
    draft_question = QuizFactory(hall.make).question(text="Bản nháp?", status="draft")
    cases = [
        (ContestInput("", question_ids=[hall.questions[0].id]), "title"),
        (ContestInput("X", seconds_per_question=3, question_ids=[hall.questions[0].id]), "seconds_per_question"),
        (ContestInput("X", seconds_per_question=121, question_ids=[hall.questions[0].id]), "seconds_per_question"),
        (ContestInput("X", question_ids=[draft_question.id]), "question_ids"),
        (ContestInput("X"), "question_ids"),
        (ContestInput("X", draw=[DrawRule(50)]), "draw"),
    ]
    for data, field in cases:
        with pytest.raises(ValidationError) as refused:
            contests.create_contest(data, hall.host)
        assert refused.value.field == field, data
    drawn = contests.create_contest(ContestInput("Rút ngẫu nhiên", draw=[DrawRule(2)],
                                                 question_ids=[hall.questions[0].id]), hall.host)
    assert len(drawn.version_ids) == 3 and drawn.version_ids[0] == hall.questions[0].current.id
    with pytest.raises(PermissionDenied):
        contests.create_contest(ContestInput("Y", question_ids=[hall.questions[0].id]), hall.members[0])
    pin = contests.launch(drawn, hall.host)
    assert len(pin) == 6 and pin.isdigit() and contests.by_pin(pin) == drawn
