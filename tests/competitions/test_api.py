"""The round page, the quiz page and the JSON API under them (docs/api.md)."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from competitions import play
from competitions.models import PredictionKind, Reveal, RoundStatus
from core.accounts.models import User
from core.accounts.roles import RoleCode
from core.db_types import utcnow
from core.extensions import db
from core.redis_client import redis_client
from quiz.models import Attempt, AttemptItem, AttemptStatus
from tests.competitions.play_world import PER_ATTEMPT, PlayWorld, open_round, world_fixture  # noqa: F401
from tests.factories import field_errors


def _start(client: FlaskClient, round_id: int, body: dict | None = None):  # noqa: ANN202
    return client.post(f"/api/rounds/{round_id}/attempts", json=body if body is not None else {})


def _answer(client: FlaskClient, attempt_id: int, item_id: int, choices: list, seq: int):  # noqa: ANN202
    return client.post(f"/api/attempts/{attempt_id}/answers", json={"item_id": item_id, "choices": choices, "seq": seq})


def _stored_answers() -> int:
    return db.session.scalar(select(func.count()).where(AttemptItem.selected.isnot(None)))


def test_a_whole_attempt_through_the_api(world: PlayWorld, login, answer_store: str):  # noqa: ANN001
    client = login(world.member)
    started = _start(client, world.round.id)
    assert started.status_code == 200, started.json
    state = started.json
    assert (state["status"], len(state["items"]), state["answered"]) == ("in_progress", PER_ATTEMPT, 0)
    assert state["score"] is None
    assert 595 <= state["remaining_seconds"] <= 600 and state["server_time"] and state["deadline"]
    assert all(set(i) == {"id", "position", "kind", "text", "choices", "selected", "seq"} for i in state["items"])
    # a second tap, another tab: the same attempt
    assert _start(client, world.round.id).json["id"] == state["id"]

    for seq, item in enumerate(state["items"], start=1):
        saved = _answer(client, state["id"], item["id"], [0], seq)
        assert saved.status_code == 200 and saved.json["seq"] == seq and saved.json["selected"] == [0]
    again = client.get(f"/api/attempts/{state['id']}").json
    assert again["answered"] == PER_ATTEMPT and [i["id"] for i in again["items"]] == [i["id"] for i in state["items"]]
    assert [i["choices"] for i in again["items"]] == [i["choices"] for i in state["items"]]

    submitted = client.post(f"/api/attempts/{state['id']}/submit")
    assert submitted.status_code == 200
    result = submitted.json
    assert result["status"] == "submitted" and 0 <= result["score"] <= PER_ATTEMPT and result["duration_ms"] >= 0
    assert not result["revealed"] and all("correct" not in i for i in result["items"])  # after the close only
    assert client.post(f"/api/attempts/{state['id']}/submit").json["score"] == result["score"]  # idempotent


def test_the_answers_come_with_the_result_when_the_round_reveals_them_on_submission(world: PlayWorld, login):  # noqa: ANN001
    round_ = open_round(world.tree.commune, reveal=Reveal.AFTER_SUBMIT)
    client = login(world.member)
    attempt_id = _start(client, round_.id).json["id"]
    result = client.post(f"/api/attempts/{attempt_id}/submit").json
    assert result["revealed"] and all({"correct", "is_correct", "explanation"} <= set(i) for i in result["items"])


def test_older_saves_do_not_overwrite_newer_ones(world: PlayWorld, login, answer_store: str):  # noqa: ANN001
    client = login(world.member)
    state = _start(client, world.round.id).json
    item = state["items"][0]["id"]
    assert _answer(client, state["id"], item, [1], 2).json["seq"] == 2
    late = _answer(client, state["id"], item, [0], 1)  # overtaken on the network
    assert late.status_code == 200 and late.json == {**late.json, "seq": 2, "selected": [1]}
    assert client.get(f"/api/attempts/{state['id']}").json["items"][0]["selected"] == [1]


def test_start_errors(world: PlayWorld, login, client):  # noqa: ANN001
    assert _start(client, world.round.id).status_code == 401  # not signed in: JSON, not a redirect
    assert _start(client, world.round.id).json["error"].startswith("Bạn cần đăng nhập")
    login(world.member)
    draft = open_round(world.tree.commune, status=RoundStatus.DRAFT)
    now = utcnow()
    closed = open_round(world.tree.commune, opens_at=now - timedelta(days=2), closes_at=now - timedelta(days=1))
    guessing = open_round(world.tree.commune, prediction_kind=PredictionKind.PARTICIPANTS)
    elsewhere = open_round(world.tree.other_commune)
    cases = [
        (_start(client, 99999), 404, None, "Không tìm thấy"),
        (_start(client, draft.id), 404, None, "Không tìm thấy"),
        (_start(client, closed.id), 409, None, "đã kết thúc"),
        (_start(client, guessing.id), 400, "prediction", "số nguyên không âm"),
        (_start(client, guessing.id, {"prediction": "-1"}), 400, "prediction", "số nguyên không âm"),
        (_start(client, elsewhere.id), 403, None, "không thuộc phạm vi"),
        (client.post(f"/api/rounds/{world.round.id}/attempts", data="[1]", content_type="application/json"),
         400, None, "đối tượng JSON"),
    ]
    for response, status, field, message in cases:
        assert response.status_code == status, response.json
        assert response.json["field"] == field and message in response.json["error"]
    assert db.session.scalar(select(func.count()).select_from(Attempt)) == 0
    started = _start(client, guessing.id, {"prediction": 1250})
    assert started.status_code == 200 and play.entry_of(world.member, guessing).prediction == 1250


def test_answer_errors_store_nothing(world: PlayWorld, login, answer_store: str):  # noqa: ANN001
    client = login(world.member)
    mine = _start(client, world.round.id).json
    other = world.make.member(world.team, full_name="Lý Thị Mười").user
    theirs = play.start_attempt(other, world.round)
    db.session.commit()
    item = mine["items"][0]["id"]
    cases = [
        (_answer(client, mine["id"], theirs.items[0].id, [0], 1), 400, "item", "không thuộc bài thi"),
        (_answer(client, mine["id"], item, [7], 1), 400, "choices", "không thuộc câu hỏi"),
        (_answer(client, mine["id"], item, ["A"], 1), 400, "choices", "không hợp lệ"),
        (_answer(client, mine["id"], item, [0], None), 400, "seq", "không hợp lệ"),
        (client.post(f"/api/attempts/{mine['id']}/answers", data="x", content_type="text/plain"), 400, None, "JSON"),
        (_answer(client, theirs.id, theirs.items[0].id, [0], 1), 403, None, "không có quyền"),
        (client.get(f"/api/attempts/{theirs.id}"), 403, None, "không có quyền"),
        (client.post(f"/api/attempts/{theirs.id}/submit"), 403, None, "không có quyền"),
        (_answer(client, 99999, item, [0], 1), 404, None, "Không tìm thấy"),
    ]
    for response, status, field, message in cases:
        assert response.status_code == status, response.json
        assert response.json["field"] == field and message in response.json["error"]
    assert _stored_answers() == 0 and theirs.status == AttemptStatus.IN_PROGRESS
    assert not any(i["selected"] for i in client.get(f"/api/attempts/{mine['id']}").json["items"])


def test_after_the_deadline_answers_get_409_and_reading_the_state_closes_the_attempt(
    world: PlayWorld, login, answer_store: str  # noqa: ANN001
):
    client = login(world.member)
    state = _start(client, world.round.id).json
    attempt = db.session.get(Attempt, state["id"])
    attempt.deadline_at = attempt.started_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    if answer_store == "redis":  # as after a Redis restart: the save rebuilds the hash from the database
        redis_client().delete(f"thidua:attempt:{attempt.id}")
    late = _answer(client, state["id"], state["items"][0]["id"], [0], 1)
    assert late.status_code == 409 and late.json["field"] == "attempt" and _stored_answers() == 0
    closed = client.get(f"/api/attempts/{state['id']}").json
    assert (closed["status"], closed["score"], closed["remaining_seconds"]) == ("submitted", 0, 0)


def test_api_posts_need_the_csrf_token_of_the_page(world: PlayWorld, login, app: Flask, monkeypatch):  # noqa: ANN001
    client = login(world.member)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    refused = _start(client, world.round.id)
    assert refused.status_code == 400 and "Phiên làm việc" in refused.json["error"]
    page = client.get(f"/rounds/{world.round.id}").get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)[1]
    started = client.post(f"/api/rounds/{world.round.id}/attempts", json={}, headers={"X-CSRFToken": token})
    assert started.status_code == 200 and started.json["status"] == "in_progress"


# --- pages ---------------------------------------------------------------------------------------------------


def test_the_round_page_states_the_rules_and_offers_the_start(world: PlayWorld, login):  # noqa: ANN001
    round_ = open_round(world.tree.commune, prediction_kind=PredictionKind.PARTICIPANTS, description="Tuần lễ VNeID")
    page = login(world.member).get(f"/rounds/{round_.id}").get_data(as_text=True)
    for text in ("Đợt thi tuần 1", "Tuần lễ VNeID", "Thể lệ", "5 câu · 10 phút", "Chỉ một lượt",
                 "Có bao nhiêu người tham gia", "Xếp hạng theo điểm cao hơn", "Bắt đầu làm bài",
                 'id="prediction"', 'name="csrf-token"', "js/play.js", "css/play.css"):
        assert text in page, text


def test_the_round_page_lists_my_attempts_and_says_why_i_cannot_start_again(world: PlayWorld, login):  # noqa: ANN001
    client = login(world.member)
    attempt_id = _start(client, world.round.id).json["id"]
    during = client.get(f"/rounds/{world.round.id}").get_data(as_text=True)
    assert "Làm tiếp" in during and "Đang làm" in during and "Bắt đầu làm bài" not in during
    client.post(f"/api/attempts/{attempt_id}/submit")
    after = client.get(f"/rounds/{world.round.id}").get_data(as_text=True)
    assert f"/rounds/{world.round.id}/play?attempt={attempt_id}" in after and f"0/{PER_ATTEMPT}" in after
    assert "chỉ được thi một lần" in after and "Bắt đầu làm bài" not in after


def test_the_round_page_to_visitors(world: PlayWorld, client: FlaskClient):
    members_only = client.get(f"/rounds/{world.round.id}").get_data(as_text=True)
    assert "Đăng nhập để dự thi" in members_only and "Ghi danh" not in members_only
    public = open_round(world.tree.commune, allow_public=True)
    page = client.get(f"/rounds/{public.id}").get_data(as_text=True)
    assert "Ghi danh và vào thi" in page and world.tree.commune.name in page
    assert client.get(f"/rounds/{open_round(world.tree.commune, status=RoundStatus.DRAFT).id}").status_code == 404


def test_a_guest_registers_and_is_signed_in(world: PlayWorld, client: FlaskClient):
    public = open_round(world.tree.commune, allow_public=True)
    form = {"full_name": "Trần Văn Bảy", "phone": "0987 654 321", "commune_id": str(world.tree.commune.id)}
    wrong = client.post(f"/rounds/{public.id}/join", data={**form, "phone": world.member.phone})
    assert wrong.status_code == 400
    assert "họ tên khác" in field_errors(wrong.get_data(as_text=True), "full_name")[0]
    joined = client.post(f"/rounds/{public.id}/join", data=form)
    assert joined.status_code == 302 and joined.headers["Location"].endswith(f"/rounds/{public.id}")
    guest = db.session.scalar(select(User).where(User.phone == "0987654321"))
    assert guest.role_code == RoleCode.MEMBER and guest.unit_id == world.tree.commune.id
    assert "Bắt đầu làm bài" in client.get(f"/rounds/{public.id}").get_data(as_text=True)
    assert _start(client, public.id).status_code == 200


def test_the_quiz_page(world: PlayWorld, login, app: Flask):  # noqa: ANN001
    client = login(world.member)
    take = f"/rounds/{world.round.id}/play"
    assert client.get(take).headers["Location"].endswith(f"/rounds/{world.round.id}")  # nothing started yet
    attempt_id = _start(client, world.round.id).json["id"]
    page = client.get(take).get_data(as_text=True)
    data = json.loads(re.search(r'<script type="application/json" id="play-data">(.*?)</script>', page, re.S)[1])
    assert data["attempt"] == attempt_id and data["urls"]["state"] == f"/api/attempts/{attempt_id}"
    assert data["strings"]["offline"] == "Mất kết nối, sẽ thử lại"
    other = play.start_attempt(world.make.member(world.team, full_name="Lý Thị Mười").user, world.round)
    elsewhere = open_round(world.tree.commune, title="Đợt khác")
    db.session.commit()
    assert client.get(f"{take}?attempt={other.id}").status_code == 403
    assert client.get(f"/rounds/{elsewhere.id}/play?attempt={attempt_id}").status_code == 404
