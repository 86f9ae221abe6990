"""The live boards of rounds: what is on them, who may watch, coalesced updates, rebuilding.

Each test runs with the in-process rank store and with Redis (``board_store``), on SQLite and
PostgreSQL. The broadcaster is not running in tests: ``broadcast.tick()`` is one interval of it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from datetime import timedelta

import flask_babel
import pytest
import redis
import sqlalchemy as sa
from flask import Flask, g, session
from flask.testing import FlaskClient

from competitions import play, results
from competitions.boards import BoardName
from competitions.models import Round, RoundStatus, Series
from core.accounts.models import User
from core.accounts.roles import RoleCode
from core.db_types import utcnow
from core.errors import PermissionDenied
from core.extensions import db, socketio
from leaderboard import broadcast, service
from leaderboard.store import rank_store
from tests.competitions.play_world import PER_ATTEMPT, PlayWorld, open_round, world_fixture  # noqa: F401
from tests.competitions.test_results import T0, WEEK, Contest, _hours


@pytest.fixture(params=["memory", "redis"])
def board_store(request: pytest.FixtureRequest, app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The rank store in process, or in a real Redis (answers of attempts then go there too)."""
    if request.param == "redis":
        monkeypatch.setitem(app.config, "REDIS_URL", request.getfixturevalue("redis_url"))
        # Each tick() of a test is the next interval: no group is held back for being taken just now.
        monkeypatch.setitem(app.config, "BOARD_UPDATE_INTERVAL_MS", 1)
    monkeypatch.setitem(app.config, "BOARD_AGGREGATE_INTERVAL_MS", 0)
    app.extensions.pop("thidua.rank_store", None)  # a fresh in-process store per test
    app.extensions.pop("thidua.board_changes", None)
    app.extensions.pop("thidua.board_details", None)
    app.extensions.pop("thidua.board_sent", None)
    yield request.param
    for key in ("thidua.rank_store", "thidua.board_changes", "thidua.board_details", "thidua.board_sent"):
        app.extensions.pop(key, None)


class Watcher:
    """A Socket.IO test client on the boards namespace. Its handlers run in the test session's app
    context, so Flask-Login's cached user is dropped before each message, as a new request would."""

    def __init__(self, app: Flask, client: FlaskClient) -> None:
        g.pop("_login_user", None)
        self.socket = socketio.test_client(app, namespace=broadcast.NAMESPACE, flask_test_client=client)

    def send(self, event: str, message: object) -> None:
        g.pop("_login_user", None)
        self.socket.emit(event, message, namespace=broadcast.NAMESPACE)
        g.pop("_login_user", None)

    def received(self) -> list[dict]:
        return self.socket.get_received(broadcast.NAMESPACE)

    def names(self) -> list[str]:
        return [m["name"] for m in self.received()]


def _take(user: User, round_: Round, right: int, rng: random.Random) -> None:
    """A whole attempt with ``right`` correct answers, committed."""
    attempt = play.start_attempt(user, round_, rng=rng)
    for seq, item in enumerate(attempt.items, start=1):
        correct = [item.choice_order.index(i) for i in item.version.correct]
        wrong = [p for p in range(len(item.choice_order)) if p not in correct][:1]
        play.answer(user.id, attempt.id, item.id, correct if seq <= right else wrong, seq)
    play.submit(attempt, round_, now=attempt.started_at + timedelta(seconds=30 + right + rng.random()))
    db.session.commit()


@pytest.fixture
def crowd(world: PlayWorld) -> list[User]:
    """Eleven more members in three teams of two hamlets (world.member's team included)."""
    make, tree = world.make, world.tree
    second = make.team(tree.hamlet2, name="Tổ CNSCĐ ấp Phước Hòa")
    people = [world.member]
    people += [make.member(world.team, full_name=f"Thành viên A{n}").user for n in range(3)]
    people += [make.member(second, full_name=f"Thành viên B{n}").user for n in range(4)]
    third = make.team(tree.hamlet, name="Tổ CNSCĐ số 3")
    people += [make.member(third, full_name=f"Thành viên C{n}").user for n in range(4)]
    return people


def _members(board: str) -> list[str]:
    return [row["member"] for row in service.view(board, 100).top]


def _assert_boards_match_the_database(round_: Round) -> None:
    group = round_.context
    assert _members(f"{group}:people") == [str(s.user_id) for s in results.ranking(round_)]
    assert _members(f"{group}:teams") == [str(t.team_id) for t in results.team_results(round_)]
    communes = [u for u in results.unit_results(round_) if u.level == results.COMMUNE]
    assert _members(f"{group}:communes") == [str(u.unit_id) for u in communes]


def test_the_boards_follow_the_results_and_match_the_database(
    world: PlayWorld, crowd: list[User], board_store: str,
):
    rng = random.Random(7)
    round_ = world.round
    for user in crowd[:6]:
        _take(user, round_, rng.randint(0, PER_ATTEMPT), rng)
    broadcast.tick()  # the boards are built from the database on first use
    _assert_boards_match_the_database(round_)
    people = service.view(f"{round_.context}:people", 3, str(world.member.id))
    assert people.size == 6 and people.me is not None and people.me["label"] == "Nguyễn Thị Thu"
    assert people.top[0]["value"].endswith(f"/{PER_ATTEMPT}") and ":" in people.top[0]["extra"]

    for user in crowd[6:]:  # now placed one by one into the boards the store holds
        _take(user, round_, rng.randint(0, PER_ATTEMPT), rng)
    updates = broadcast.tick()
    assert {u.board for u in updates} >= {f"{round_.context}:people", f"{round_.context}:teams"}
    _assert_boards_match_the_database(round_)
    assert service.view(f"{round_.context}:people").size == len(crowd)


def test_equal_scores_are_ordered_by_the_rounds_tie_breaks(world: PlayWorld, crowd: list[User], board_store: str):
    rng = random.Random(3)
    for user in crowd[:5]:
        _take(user, world.round, 3, rng)  # one score, five durations
    broadcast.tick()
    ranked = results.ranking(world.round)
    assert len({s.score for s in ranked}) == 1
    assert _members(f"{world.round.context}:people") == [str(s.user_id) for s in ranked]
    durations = [s.duration_ms for s in ranked]
    assert durations == sorted(durations)


def test_many_results_make_one_update_per_board_and_interval(
    app: Flask, client: FlaskClient, world: PlayWorld, crowd: list[User], board_store: str,
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setitem(app.config, "BOARD_TOP_N", 10)  # fewer than the people: the update carries the top 10
    watcher = Watcher(app, client)
    watcher.send("subscribe", {"board": f"{world.round.context}:people"})
    snapshot = watcher.received()
    assert [m["name"] for m in snapshot] == ["snapshot"] and snapshot[0]["args"][0]["size"] == 0
    rng = random.Random(1)
    for user in crowd:
        _take(user, world.round, rng.randint(0, PER_ATTEMPT), rng)
    broadcast.tick()
    broadcast.tick()  # nothing new: nothing sent
    received = watcher.received()
    assert [m["name"] for m in received] == ["update"]
    update = received[0]["args"][0]
    assert update["size"] == len(crowd) and len(update["top"]) == app.config["BOARD_TOP_N"]
    assert update["stored_at"] <= update["sent_at"]
    assert [r["member"] for r in update["top"]] == [str(s.user_id) for s in results.ranking(world.round)][:10]


def test_subscribing_refuses_unknown_hidden_and_malformed_boards_with_an_error_event(
    app: Flask, client: FlaskClient, world: PlayWorld, board_store: str, login,  # noqa: ANN001
):
    draft = open_round(world.tree.commune, status=RoundStatus.DRAFT)
    anonymous, bystander = Watcher(app, client), Watcher(app, client)
    bystander.send("subscribe", {"board": f"{world.round.context}:people"})
    assert bystander.names() == ["snapshot"]
    cases = [
        ({"board": "round:99999:people"}, "Không có bảng xếp hạng"),
        ({"board": f"{world.round.context}:nonsense"}, "Không có bảng xếp hạng"),
        ({"board": f"{draft.context}:people"}, "không có quyền"),
        ("round:1:people", "Yêu cầu không hợp lệ"),
        ({"board": 7}, "Yêu cầu không hợp lệ"),
        ({"board": "x" * 500}, "Yêu cầu không hợp lệ"),
        ({}, "Yêu cầu không hợp lệ"),
    ]
    for message, error in cases:
        anonymous.send("subscribe", message)
        received = anonymous.received()
        assert [m["name"] for m in received] == ["board_error"], message
        assert error in received[0]["args"][0]["error"]
    assert anonymous.socket.is_connected(broadcast.NAMESPACE) and bystander.socket.is_connected(broadcast.NAMESPACE)
    # the bystander's board still moves
    _take(world.member, world.round, 2, random.Random(2))
    broadcast.tick()
    assert bystander.names() == ["update"]
    # staff of the round's area may watch the draft's board
    officer = world.make.user(RoleCode.OFFICER, world.tree.commune, full_name="Cán bộ xã")
    login(officer)
    staff = Watcher(app, client)
    staff.send("subscribe", {"board": f"{draft.context}:teams"})
    assert staff.names() == ["snapshot"]


def test_a_hidden_live_board_opens_to_everyone_at_closing(world: PlayWorld, board_store: str):
    round_ = open_round(world.tree.commune, live_board=False)
    board = f"{round_.context}:people"
    assert not service.board_info(board, world.make.user(RoleCode.OFFICER, world.tree.commune)).public
    with pytest.raises(PermissionDenied):
        service.board_info(board, world.member)
    round_.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert service.board_info(board, None).public


def test_what_a_board_is_about_is_read_once_per_delay_and_language(
    app: Flask, world: PlayWorld, board_store: str, monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setitem(app.config, "BOARD_INFO_CACHE_SECONDS", 60)
    app.extensions.pop("thidua.board_info", None)
    board = f"{world.round.context}:people"
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        with app.test_request_context():
            assert service.board_info(board, None).public
            read = len(statements)
            for _ in range(5):  # thousands of phones subscribing after the QR code
                assert service.board_info(board, None).title == "Cá nhân"
            assert len(statements) == read
            world.round.live_board = False  # hidden meanwhile: new watchers see it for the delay at most
            db.session.commit()
            assert service.board_info(board, None).public
            later = time.monotonic() + 61
            monkeypatch.setattr("core.kept.time.monotonic", lambda: later)
            with pytest.raises(PermissionDenied):
                service.board_info(board, None)
        with app.test_request_context():
            session["locale"] = "en"  # kept apart: the titles are in the watcher's language
            flask_babel.refresh()  # the test's app context remembers the first request's language
            assert service.board_info(board, world.make.user(RoleCode.ADMIN)).title == "Individuals"
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
        app.extensions.pop("thidua.board_info", None)
        flask_babel.refresh()  # Vietnamese again for the tests that follow


def test_after_the_store_is_lost_the_boards_are_rebuilt_and_equal_the_database(
    world: PlayWorld, crowd: list[User], board_store: str, app: Flask, monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setitem(app.config, "SERVER_NAME", None)  # the broadcaster rebuilds outside any request
    rng = random.Random(11)
    for user in crowd[:6]:
        _take(user, world.round, rng.randint(0, PER_ATTEMPT), rng)
    broadcast.tick()
    if board_store == "redis":
        redis.Redis.from_url(app.config["REDIS_URL"]).flushdb()  # Redis restarted without persistence
    else:
        app.extensions.pop("thidua.rank_store")  # a new process
    assert not rank_store().is_built(f"{world.round.context}:people")
    for user in crowd[6:]:  # submissions go on
        _take(user, world.round, rng.randint(0, PER_ATTEMPT), rng)
    broadcast.tick()
    _assert_boards_match_the_database(world.round)
    assert service.view(f"{world.round.context}:people").size == len(crowd)


def test_unit_filtered_boards_and_own_rows(world: PlayWorld, crowd: list[User], board_store: str):
    rng = random.Random(5)
    other_team = world.make.team(world.tree.other_hamlet, name="Tổ xã khác")
    outsider = world.make.member(other_team, full_name="Người xã khác").user
    province_round = open_round(world.tree.province)
    for user in [*crowd[:4], outsider]:
        _take(user, province_round, rng.randint(0, PER_ATTEMPT), rng)
    group = province_round.context
    commune_board = f"{group}:people:u{world.tree.commune.id}"
    info = service.board_info(commune_board, None)
    assert info.title.endswith(world.tree.commune.name) and (f"{group}:people", "Toàn phạm vi") in info.filters
    assert set(_members(commune_board)) == {str(u.id) for u in crowd[:4]}
    assert len(_members(f"{group}:people")) == 5
    late = crowd[4]
    _take(late, province_round, PER_ATTEMPT, rng)  # placed on the opened unit board too
    broadcast.tick()
    assert _members(commune_board)[0] == str(late.id)
    assert service.member_of(f"{group}:teams", world.member) == str(world.team.id)
    assert service.member_of(f"{group}:communes", world.member) == str(world.tree.commune.id)
    assert BoardName.parse(f"{group}:communes:u1") is None and BoardName.parse("round:x:people") is None


def test_board_pages_work_without_javascript(world: PlayWorld, crowd: list[User], board_store: str, login):  # noqa: ANN001
    rng = random.Random(9)
    for user in crowd[:3]:
        _take(user, world.round, rng.randint(0, PER_ATTEMPT), rng)
    client = login(world.member)
    page = client.get(f"/boards/{world.round.context}:people")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Nguyễn Thị Thu" in html and 'class="mine"' in html
    assert html.count("<tr data-member=") == 3 and "Tổ CNSCĐ" in html and "Trình chiếu" in html
    projector = client.get(f"/boards/{world.round.context}:teams/projector").get_data(as_text=True)
    assert "<svg" in projector and f"/rounds/{world.round.id}" in projector and "data-slide" in projector
    assert client.get("/boards/round:99999:people").status_code == 404
    hidden = open_round(world.tree.commune, status=RoundStatus.DRAFT)
    assert client.get(f"/boards/{hidden.context}:people").status_code == 403


def test_the_rebuild_command(app: Flask, world: PlayWorld, crowd: list[User], board_store: str):
    _take(crowd[0], world.round, 2, random.Random(4))
    runner = app.test_cli_runner()
    done = runner.invoke(args=["leaderboard", "rebuild", f"{world.round.context}:people"])
    assert done.exit_code == 0 and f"{world.round.context}:people: 1 rows" in done.output
    assert runner.invoke(args=["leaderboard", "rebuild", "round:0:nope"]).exit_code != 0
    everything = runner.invoke(args=["leaderboard", "rebuild"])
    assert everything.exit_code == 0 and f"{world.round.context}:teams" in everything.output


def test_season_boards_sum_the_closed_rounds_and_move_when_a_round_closes(make, board_store: str):  # noqa: ANN001
    contest = Contest(make)
    tree = make.tree()
    team = make.team(tree.hamlet)
    a, b = contest.member(team, "a"), contest.member(team, "b")
    series = Series(title="Quý I/2025", period_kind="quarterly", scope_unit_id=tree.province.id)
    db.session.add(series)
    db.session.flush()
    first = contest.round(tree.province, series_id=series.id)
    contest.take(first, a, 3, 100, _hours(1))
    contest.take(first, b, 2, 60, _hours(1))
    db.session.commit()
    board = f"series:{series.id}:people"
    assert service.board_info(board, None).public
    assert _members(board) == [str(a.id), str(b.id)]
    assert _members(f"series:{series.id}:teams") == [str(team.id)]

    second = contest.round(tree.province, opens=T0 + WEEK, series_id=series.id)
    contest.take(second, b, 3, 80, _hours(170))
    assert results.finalise(second, utcnow())
    db.session.commit()  # the closing queues the season's boards
    updates = broadcast.tick()
    assert board in {u.board for u in updates}
    assert _members(board) == [str(b.id), str(a.id)]
    assert _members(board) == [str(p.user_id) for p in results.series_people(series, utcnow())]
