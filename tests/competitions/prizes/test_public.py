"""The public results (competitions.prizes.public_views): published decisions only, open without
signing in, phone numbers masked; a signed-in winner sees their prize and their notification is
marked read; the notifications page."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from competitions.prizes import notifications, workflow
from competitions.prizes.models import Notification
from core.extensions import db
from tests.competitions.prizes.worlds_workflow import AFTER, World, build
from tests.factories import Factory


@pytest.fixture
def w(make: Factory) -> World:
    return build(make)


def approve(w: World) -> None:
    workflow.settle_tie(w.award, w.tier("Giải Nhì").id, "pick", [w.p("Cường")], "Bốc thăm", w.officer, now=AFTER)
    workflow.approve(w.award, w.admin, now=AFTER)


def publish(w: World) -> None:
    approve(w)
    workflow.publish(w.award, w.officer)


def text(response) -> str:  # noqa: ANN001
    return response.get_data(as_text=True)


def test_only_published_decisions_have_a_public_page(w: World, client):  # noqa: ANN001
    link = f"/prizes/{w.award.id}"
    assert client.get(link).status_code == 404  # a draft
    approve(w)
    assert client.get(link).status_code == 404  # approved, not yet published
    assert w.award.title not in text(client.get("/prizes/"))
    workflow.publish(w.award, w.officer)
    assert client.get(link).status_code == 200
    assert w.award.title in text(client.get("/prizes/"))
    assert client.get("/prizes/999999").status_code == 404


def test_the_public_page_shows_the_winners_with_masked_phones(w: World, client):  # noqa: ANN001
    publish(w)
    page = text(client.get(f"/prizes/{w.award.id}"))  # nobody signed in
    for expected in (w.award.title, "Giải Nhất", "Giải Nhì", "Giải tổ xuất sắc", "Giải tập thể", "Nguyễn Văn An",
                     "Lê Văn Cường", "Tổ Ấp Phước Lợi", "Xã Châu Thành", "3/3"):
        assert expected in page, expected
    an = w.people["An"].phone
    assert an not in page and f"{an[:4]}***{an[-3:]}" in page
    assert "Trần Thị Bình" not in page  # next in line, not a winner
    assert "Bạn đoạt" not in page


def test_a_signed_in_winner_sees_their_prize_and_the_notification_is_read(w: World, client, login):  # noqa: ANN001
    publish(w)
    an = w.people["An"]
    assert len(notifications.unread(an)) == 2
    login(an)
    page = text(client.get(f"/prizes/{w.award.id}"))
    assert "Bạn đoạt Giải Nhất." in page and "Tổ của bạn (Tổ Ấp Phước Lợi) đoạt Giải tổ xuất sắc." in page
    assert notifications.unread(an) == []
    assert len(notifications.unread(w.people["Cường"])) == 1  # only the reader's own are marked


def test_someone_else_signed_in_sees_no_prize_of_theirs(w: World, client, login):  # noqa: ANN001
    publish(w)
    login(w.people["Phúc"])
    assert "Bạn đoạt" not in text(client.get(f"/prizes/{w.award.id}"))


def test_a_reopened_decision_leaves_the_public_page(w: World, client):  # noqa: ANN001
    publish(w)
    workflow.reopen(w.award, w.admin, "Sai sót")
    assert client.get(f"/prizes/{w.award.id}").status_code == 404
    assert w.award.title not in text(client.get("/prizes/"))


def test_the_notifications_page(w: World, client, login):  # noqa: ANN001
    assert client.get("/prizes/notifications").status_code == 302  # sign in first
    publish(w)
    login(w.people["Cường"])
    page = text(client.get("/prizes/notifications"))
    assert "Chúc mừng! Bạn đoạt Giải Nhì" in page and f'href="/prizes/{w.award.id}"' in page and "Mới" in page
    assert notifications.unread(w.people["Cường"]) == []
    assert "Mới" not in text(client.get("/prizes/notifications"))
    assert db.session.scalar(select(Notification).where(Notification.user_id == w.people["Cường"].id)) is not None
