"""The live contest pages: preparing a contest through its form, launching it, the host screen, the
PIN and join pages, the results and their Excel export after a contest played through
competitions.live.game, and the demo's contest. The game over Socket.IO is tested in test_live.py."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from io import BytesIO

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

from competitions.demo import HOST
from competitions.live import contests, events, game, state
from competitions.live.contests import ContestInput
from competitions.live.models import ContestMode, ContestStatus, LiveContest, LivePlayer
from core.accounts.models import User
from core.accounts.roles import RoleCode
from core.db_types import utcnow
from core.demo import DEMO_PASSWORD
from core.extensions import db
from core.teams.service import active_membership_of
from quiz.models import Question, QuestionKind
from tests.factories import Factory, QuizFactory, Tree, field_errors, flashes


@pytest.fixture(autouse=True)
def _fresh_store(app: Flask) -> Iterator[None]:
    """Each test its own in-process game state (ids of rolled-back contests come back)."""
    app.extensions.pop("thidua.contest_store", None)
    yield
    app.extensions.pop("thidua.contest_store", None)


@dataclass
class Setting:
    tree: Tree
    host: User
    members: list[User]
    questions: list[Question]
    draft: Question


@pytest.fixture
def setting(make: Factory, quiz: QuizFactory) -> Setting:
    tree = make.tree()
    first, second = make.team(tree.hamlet), make.team(tree.hamlet2, name="Tổ CNSCĐ ấp Tân Hòa")
    members = [make.member(first, full_name="Nguyễn Thị Lan").user, make.member(first, full_name="Trần Văn Bảo").user,
               make.member(second, full_name="Lê Minh Châu").user]
    questions = [quiz.question(text=f"Câu hỏi trực tiếp số {n}: dịch vụ công trực tuyến?",
                               choices=["Một", "Hai", "Ba", "Bốn"], correct=[n % 4]) for n in range(4)]
    draft = quiz.question(text="Câu hỏi nháp chưa duyệt?", status="draft")
    host = make.user(RoleCode.ORGANISER, tree.province, full_name="Tỉnh đoàn An Giang")
    return Setting(tree, host, members, questions, draft)


def _form(**values: object) -> dict[str, object]:
    data: dict[str, object] = {"title": "Rung chuông vàng tháng 10", "mode": "team", "seconds_per_question": "30",
                               "allow_guests": "y", "streak_bonus": "100", "max_players": "200", "action": "create"}
    data.update(values)
    return data


def _contest(setting: Setting, **values: object) -> LiveContest:
    data = {"mode": ContestMode.TEAM, "seconds_per_question": 20, "allow_guests": True,
            "question_ids": [q.id for q in setting.questions[:3]], **values}
    contest = contests.create_contest(ContestInput("Thi trực tiếp ngày hội", **data), setting.host)
    db.session.commit()
    return contest


# --- preparing -----------------------------------------------------------------------------------------


def test_a_contest_is_created_from_picked_and_drawn_questions(client: FlaskClient, login, setting: Setting):
    login(setting.host)
    page = client.get("/live/contests/new").get_data(as_text=True)
    assert "Tạo cuộc thi trực tiếp" in page and 'name="question_ids"' in page
    assert '<option selected value="individual">' in page and 'value="20"' in page  # the defaults
    assert setting.draft.current.text not in page  # drafts are never offered

    first, third = setting.questions[0], setting.questions[2]
    # the picker's search keeps what was typed and what was ticked
    searched = client.post("/live/contests/new", data=_form(action="search", q="truc tiep so 2",
                                                            question_ids=[first.id]))
    page = searched.get_data(as_text=True)
    assert searched.status_code == 200 and "Rung chuông vàng tháng 10" in page
    assert f'value="{first.id}" id="question-{first.id}" checked' in page
    assert f'id="question-{third.id}"' in page and f'id="question-{setting.questions[1].id}"' not in page
    assert "1 câu phù hợp." in page
    assert db.session.query(LiveContest).count() == 0

    response = client.post("/live/contests/new", data=_form(
        question_ids=[third.id, first.id], **{"draw-0-count": "1", "draw-0-category_id": "0", "draw-0-difficulty": ""},
    ))
    assert response.status_code == 302
    contest = db.session.scalar(select(LiveContest))
    assert response.headers["Location"].endswith(f"/live/contests/{contest.id}")
    assert contest.version_ids[:2] == [third.current.id, first.current.id] and len(contest.version_ids) == 3
    assert (contest.mode, contest.seconds_per_question, contest.allow_guests, contest.max_players) == (
        "team", 30, True, 200)
    assert (contest.status, contest.host_id) == (ContestStatus.DRAFT, setting.host.id)
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Đã tạo cuộc thi “Rung chuông vàng tháng 10” gồm 3 câu hỏi." in flashes(detail, "success")
    assert "Mở phòng chờ" in detail and third.current.text in detail
    listing = client.get("/live/contests").get_data(as_text=True)
    assert "Rung chuông vàng tháng 10" in listing and "Bản nháp" in listing and "Đồng đội (theo tổ)" in listing


def test_errors_are_shown_on_the_field_they_name(client: FlaskClient, login, setting: Setting):
    login(setting.host)
    picked = [setting.questions[0].id]
    cases = [
        (_form(title="  ", question_ids=picked), "title", "Chưa nhập tên cuộc thi."),
        (_form(seconds_per_question="3", question_ids=picked), "seconds_per_question",
         "Thời gian mỗi câu từ 5 đến 120 giây."),
        (_form(seconds_per_question="nửa phút", question_ids=picked), "seconds_per_question",
         "Hãy nhập một số nguyên."),
        (_form(streak_bonus="900", question_ids=picked), "streak_bonus", "Điểm thưởng chuỗi từ 0 đến 500."),
        (_form(max_players="1", question_ids=picked), "max_players", "Số người chơi tối đa từ 2 đến 20.000."),
        (_form(), "question_ids", "Hãy chọn hoặc rút ít nhất một câu hỏi."),
        (_form(question_ids=[setting.draft.id]), "question_ids",
         f"Câu hỏi #{setting.draft.id} không có trong ngân hàng hoặc chưa được duyệt."),
        (_form(**{"draw-0-count": "50"}), "draw", "Ngân hàng chỉ còn 4 câu đã duyệt cho yêu cầu rút 50 câu."),
        (_form(**{"draw-1-count": "0", "draw-1-difficulty": "easy"}), "draw-1", "Dòng 2: Số câu phải từ 1 đến 100."),
    ]
    for data, field, message in cases:
        response = client.post("/live/contests/new", data=data)
        assert response.status_code == 200, field
        assert field_errors(response.get_data(as_text=True), field) == [message], field
    assert db.session.query(LiveContest).count() == 0


# --- launching and hosting -------------------------------------------------------------------------


def test_launching_opens_the_lobby_and_the_host_screen(client: FlaskClient, login, setting: Setting):
    contest = _contest(setting)
    login(setting.host)
    early = client.get(f"/live/contests/{contest.id}/host")
    assert early.status_code == 302 and early.headers["Location"].endswith(f"/live/contests/{contest.id}")
    assert client.post(f"/live/contests/{contest.id}/launch").status_code == 302
    db.session.expire_all()
    assert contest.status == ContestStatus.LOBBY and re.fullmatch(r"\d{6}", contest.pin)
    detail = client.get(f"/live/contests/{contest.id}").get_data(as_text=True)
    assert f"Phòng chờ đã mở với mã PIN {contest.pin}." in " ".join(flashes(detail, "success"))
    assert f'href="/live/contests/{contest.id}/host"' in detail and "Mở phòng chờ" not in detail
    assert "0 người chơi đã vào." in detail

    again = client.post(f"/live/contests/{contest.id}/launch", follow_redirects=True).get_data(as_text=True)
    assert "Cuộc thi đã được mở." in flashes(again)

    screen = client.get(f"/live/contests/{contest.id}/host")
    page = screen.get_data(as_text=True)
    assert screen.status_code == 200 and contest.pin in page and "<svg" in page
    assert "localhost/live" in page and "Quét mã để vào thi" in page
    assert "Điểm đội = trung bình điểm các thành viên, đội đông người không có lợi thế" in page
    assert "live_host.js" in page and f'"contest": {contest.id}' in page


def test_the_host_screen_is_the_hosts_only(client: FlaskClient, login, make: Factory, setting: Setting):
    contest = _contest(setting)
    contests.launch(contest, setting.host)
    db.session.commit()
    assert client.get(f"/live/contests/{contest.id}/host").status_code == 302  # to the sign-in page
    login(setting.members[0])
    assert client.get(f"/live/contests/{contest.id}/host").status_code == 403
    client.post("/logout")
    login(make.user(RoleCode.OFFICER, setting.tree.other_commune, full_name="Cán bộ xã khác"))
    assert client.get(f"/live/contests/{contest.id}/host").status_code == 403
    assert client.get(f"/live/contests/{contest.id}").status_code == 403
    assert client.post(f"/live/contests/{contest.id}/launch").status_code == 403
    assert contest.title not in client.get("/live/contests").get_data(as_text=True)
    client.post("/logout")
    login(setting.host)
    assert client.get("/live/contests/999999/host").status_code == 404
    assert client.get(f"/live/contests/{contest.id}/host").status_code == 200


# --- players -----------------------------------------------------------------------------------------------


def test_the_pin_and_join_pages_work_without_javascript(client: FlaskClient, login, setting: Setting):
    contest = _contest(setting)
    pin = contests.launch(contest, setting.host)
    db.session.commit()
    page = client.get("/live").get_data(as_text=True)
    assert 'action="/live/join"' in page and 'method="get"' in page and 'name="pin"' in page
    assert client.get("/live/join").headers["Location"].endswith("/live")

    wrong = client.get("/live/join?pin=000000")
    assert wrong.status_code == 200
    assert field_errors(wrong.get_data(as_text=True), "pin") == ["Mã PIN không đúng hoặc cuộc thi đã kết thúc."]

    # the game state of a contest launched elsewhere (`flask demo load` without Redis) comes back
    state.store().drop(contest.id)
    guest = client.get(f"/live/join?pin={pin}").get_data(as_text=True)
    assert state.store().phase(contest.id).status == "lobby"
    assert contest.title in guest and 'id="nickname"' in guest and 'id="team_id"' in guest
    assert "Tổ CNSCĐ ấp Tân Hòa" in guest and "live_player.js" in guest and f'"pin": "{pin}"' in guest
    assert "Cần bật JavaScript để chơi." in guest

    login(setting.members[0])
    member = client.get(f"/live/join?pin={pin}").get_data(as_text=True)
    assert "Bạn vào thi với tên <strong>Nguyễn Thị Lan</strong>." in member and 'id="nickname"' not in member
    client.post("/logout")

    closed = contests.create_contest(ContestInput("Chỉ thành viên", question_ids=[setting.questions[0].id]),
                                     setting.host)
    other_pin = contests.launch(closed, setting.host)
    db.session.commit()
    members_only = client.get(f"/live/join?pin={other_pin}").get_data(as_text=True)
    assert "Cuộc thi chỉ dành cho người đã đăng nhập." in members_only and "Đăng nhập để vào thi" in members_only
    assert 'id="nickname"' not in members_only

    assert client.post("/lang/en", data={"next": "/live"}).status_code == 302
    english = client.get(f"/live/join?pin={pin}").get_data(as_text=True)
    assert "Nickname" in english and "Your team" in english and "Waiting for the next question…" in english
    assert field_errors(client.get("/live/join?pin=12").get_data(as_text=True), "pin") == [
        "Wrong PIN, or the contest has ended."]


# --- results ---------------------------------------------------------------------------------------------


def _play(setting: Setting, contest: LiveContest) -> dict[str, LivePlayer]:
    """Three players (two members of one team, a guest of the other), three questions: Lan always
    right, Bảo right once, the guest never; the contest finished."""
    pin = contests.launch(contest, setting.host)
    db.session.commit()
    other_team = active_membership_of(setting.members[2]).team_id
    joined = {
        "lan": game.join(pin, setting.members[0])[0].player,
        "bao": game.join(pin, setting.members[1])[0].player,
        "guest": game.join(pin, None, "Khách Minh Anh", other_team)[0].player,
    }
    db.session.commit()
    game.start(contest)
    db.session.commit()
    for index in range(3):
        right = contests.versions_of(contest)[index].correct[0]
        game.answer(contest.id, joined["lan"].id, index, right)
        game.answer(contest.id, joined["bao"].id, index, right if index == 0 else (right + 1) % 4)
        game.answer(contest.id, joined["guest"].id, index, (right + 2) % 4)
        events.reveal_if_due(contest.id, index, at=utcnow() + timedelta(seconds=30))
        if index < 2:
            game.next_step(contest)
            db.session.commit()
    game.finish(contest)
    db.session.commit()
    return joined


def test_results_and_their_excel_export_after_a_finished_contest(client: FlaskClient, login, setting: Setting):
    contest = _contest(setting)
    players = _play(setting, contest)
    db.session.expire_all()
    assert contest.status == ContestStatus.FINISHED
    login(setting.host)
    page = client.get(f"/live/contests/{contest.id}").get_data(as_text=True)
    assert "Tải kết quả (Excel)" in page and "Đã kết thúc" in page
    table = page.split('class="live-team-results"')[0]
    ranked = re.findall(r'<tr>\s*<td class="num">(\d+)</td><td>([^<]+)</td>', table)
    assert ranked == [("1", "Nguyễn Thị Lan"), ("2", "Trần Văn Bảo"), ("3", "Khách Minh Anh")]
    assert "3/3" in page and "Khách" in page
    assert "Điểm đội = trung bình điểm các thành viên, đội đông người không có lợi thế" in page
    for member in setting.members:
        assert member.phone not in page  # phone numbers are never shown

    lan, bao = players["lan"].score, players["bao"].score
    assert lan > bao > 0 and players["guest"].score == 0
    export = client.get(f"/live/contests/{contest.id}/results.xlsx")
    assert export.status_code == 200 and "ket-qua-thi-truc-tiep" in export.headers["Content-Disposition"]
    book = load_workbook(BytesIO(export.data))
    assert book.sheetnames == ["Người chơi", "Tổ CNSCĐ", "Câu hỏi"]
    people = [[c.value for c in row] for row in book["Người chơi"].iter_rows(min_row=3)]
    assert people[0][:7] == [1, "Nguyễn Thị Lan", "Nguyễn Thị Lan", active_membership_of(setting.members[0]).team.name,
                             lan, 3, 3]
    assert people[2][1:3] == ["Khách Minh Anh", "Khách"] and people[2][4:6] == [0, 0]
    teams = [[c.value for c in row] for row in book["Tổ CNSCĐ"].iter_rows(min_row=3)]
    assert teams[0][1:] == [active_membership_of(setting.members[0]).team.name, 2, round((lan + bao) / 2, 1)]
    assert teams[1][1:] == ["Tổ CNSCĐ ấp Tân Hòa", 1, 0]
    questions = [[c.value for c in row] for row in book["Câu hỏi"].iter_rows(min_row=3)]
    assert [q[3:6] for q in questions] == [[3, 2, 2 / 3], [3, 1, 1 / 3], [3, 1, 1 / 3]]
    cells = " ".join(str(c.value) for sheet in book for row in sheet.iter_rows() for c in row)
    for member in setting.members:
        assert member.phone not in cells and member.phone[1:] not in cells


# --- the demo ----------------------------------------------------------------------------------------------


def test_the_demo_has_a_launched_team_contest_ready_to_host(app: Flask, client: FlaskClient, session):
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    host = session.scalar(select(User).where(User.username == HOST))
    contest = session.scalar(select(LiveContest).where(LiveContest.host_id == host.id))
    assert (contest.status, contest.mode, contest.allow_guests, contest.seconds_per_question) == (
        ContestStatus.LOBBY, ContestMode.TEAM, True, 20)
    assert re.fullmatch(r"\d{6}", contest.pin) and contest.unit_id == host.unit_id
    versions = contests.versions_of(contest)
    assert len(versions) == 5 and {v.kind for v in versions} == {QuestionKind.SINGLE}
    shown = app.test_cli_runner().invoke(args=["demo", "accounts"]).output
    assert f"/live/contests/{contest.id}/host" in shown and f"PIN {contest.pin}" in shown

    assert client.post("/login", data={"login": HOST, "password": DEMO_PASSWORD}).status_code == 302
    screen = client.get(f"/live/contests/{contest.id}/host").get_data(as_text=True)
    assert contest.pin in screen and contest.title in screen
    assert "already exists" in app.test_cli_runner().invoke(args=["demo", "load"]).output
    assert session.query(LiveContest).filter_by(host_id=host.id).count() == 1  # loaded once
