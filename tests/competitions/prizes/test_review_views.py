"""The review screen (competitions.prizes.review_views): who may open it and act, what it shows, and
each step through HTTP, including refusals that keep the page and write nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from competitions.prizes import workflow
from competitions.prizes.models import AwardEvent, Exclusion, Winner
from core.extensions import db
from tests.competitions.prizes.worlds_workflow import AFTER, World, build
from tests.factories import Factory, flashes

STALE = "Quyết định vừa được người khác thay đổi"


@pytest.fixture
def w(make: Factory) -> World:
    return build(make)


def url(w: World, step: str = "") -> str:
    return f"/awards/{w.award.id}/review" + (f"/{step}" if step else "")


def page(response) -> str:  # noqa: ANN001
    return response.get_data(as_text=True)


def count(model: type, w: World) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(model.award_id == w.award.id))


def approve(w: World) -> None:
    workflow.settle_tie(w.award, w.tier("Giải Nhì").id, "pick", [w.p("Cường")], "Bốc thăm", w.officer, now=AFTER)
    workflow.approve(w.award, w.admin, now=AFTER)


# --- who ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "status"), [
    ("officer", 200), ("admin", 200), ("colleague", 200), ("elsewhere", 403), ("An", 403),
])
def test_who_may_open_the_review_screen(w: World, client, login, who: str, status: int):  # noqa: ANN001
    login(w.people[who] if who in w.people else getattr(w, who))
    assert client.get(url(w)).status_code == status


def test_anonymous_visitors_are_sent_to_sign_in(w: World, client):  # noqa: ANN001
    response = client.get(url(w))
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("step", ["exclude", "withdraw", "tie", "publish"])
def test_staff_outside_the_award_cannot_act(w: World, client, login, step: str):  # noqa: ANN001
    login(w.elsewhere)
    response = client.post(url(w, step), data={"subject": w.p("An"), "reason": "Lý do", "tier_id": "1"})
    assert response.status_code == 403
    assert count(AwardEvent, w) == 0


@pytest.mark.parametrize("step", ["approve", "reopen"])
def test_only_admins_approve_and_reopen(w: World, client, login, step: str):  # noqa: ANN001
    login(w.officer)
    assert client.post(url(w, step), data={"reason": "Lý do"}).status_code == 403
    assert w.award.status == "draft" and count(AwardEvent, w) == 0


# --- what it shows --------------------------------------------------------------------------------


def test_the_screen_shows_the_proposal_the_tie_and_what_blocks_approval(w: World, client, login):  # noqa: ANN001
    login(w.officer)
    text = page(client.get(url(w)))
    for expected in ("Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Tổ Ấp Phước Lợi", "Xã Châu Thành", "3/3",
                     "Giải Nhất", "Giải Nhì", "Đoạt giải", "Dự bị", "Đồng hạng, chờ quyết định",
                     "Chưa thể phê duyệt vì", "Đồng hạng ở Giải Nhì: 2 người tranh 1 giải"):
        assert expected in text, expected
    assert "Phê duyệt danh sách đoạt giải" not in text  # not an admin
    client.post("/logout")
    login(w.admin)
    assert "Phê duyệt danh sách đoạt giải" in page(client.get(url(w)))


# --- the steps ------------------------------------------------------------------------------------


def test_excluding_without_a_reason_keeps_the_page_and_writes_nothing(w: World, client, login):  # noqa: ANN001
    login(w.officer)
    response = client.post(url(w, "exclude"), data={"subject": w.p("An"), "reason": " ", "seen_version": "1"})
    assert response.status_code == 200
    assert "Hãy ghi lý do loại" in page(response)
    assert (count(Exclusion, w), count(AwardEvent, w)) == (0, 0)


def test_excluding_with_a_reason(w: World, client, login):  # noqa: ANN001
    login(w.officer)
    response = client.post(url(w, "exclude"), data={"subject": w.p("An"), "reason": "Thi hộ", "seen_version": "1"})
    assert response.status_code == 302 and response.headers["Location"].endswith(url(w))
    assert [(e.subject, e.reason) for e in w.award.exclusions] == [(w.p("An"), "Thi hộ")]
    text = page(client.get(url(w)))
    assert "Bị loại" in text and "Rút lại việc loại" in text and "Thi hộ" in text

    response = client.post(url(w, "withdraw"), data={"subject": w.p("An"), "seen_version": "2"})
    assert response.status_code == 302
    assert [e.active for e in w.award.exclusions] == [False]


def test_a_stale_page_is_refused_with_a_clear_message(w: World, client, login):  # noqa: ANN001
    login(w.officer)
    client.post(url(w, "exclude"), data={"subject": w.p("Em"), "reason": "Trùng", "seen_version": "1"})
    response = client.post(url(w, "exclude"), data={"subject": w.p("Dũng"), "reason": "Trùng", "seen_version": "1"})
    assert response.status_code == 200
    assert any(STALE in f for f in flashes(page(response)))
    assert count(Exclusion, w) == 1


def test_settling_the_tie_then_approving_and_approving_again(w: World, client, login):  # noqa: ANN001
    login(w.officer)
    response = client.post(url(w, "tie"), data={
        "tier_id": str(w.tier("Giải Nhì").id), "decision": "pick", "picked": [w.p("An")], "reason": "Chọn",
        "seen_version": "1",
    })
    assert "Chỉ được chọn trong số những người đồng hạng" in page(response)
    response = client.post(url(w, "tie"), data={
        "tier_id": str(w.tier("Giải Nhì").id), "decision": "pick", "picked": [w.p("Bình")], "reason": "Bốc thăm",
        "seen_version": "1",
    })
    assert response.status_code == 302
    client.post("/logout")
    login(w.admin)
    assert client.post(url(w, "approve"), data={"seen_version": "2"}).status_code == 302
    assert w.award.status == "approved" and count(Winner, w) == 4
    text = page(client.get(url(w)))
    assert "Danh sách đoạt giải đã phê duyệt" in text and "Trần Thị Bình" in text
    response = client.post(url(w, "approve"), data={"seen_version": "3"})
    assert "đã được phê duyệt rồi" in " ".join(flashes(page(response)))
    assert count(Winner, w) == 4


def test_approving_with_the_tie_open_is_refused(w: World, client, login):  # noqa: ANN001
    login(w.admin)
    response = client.post(url(w, "approve"), data={"seen_version": "1"})
    assert response.status_code == 200
    assert "đồng hạng" in " ".join(flashes(page(response)))
    assert w.award.status == "draft" and count(Winner, w) == 0


def test_publishing_and_reopening(w: World, client, login):  # noqa: ANN001
    approve(w)
    login(w.officer)
    assert client.post(url(w, "publish"), data={"seen_version": "3"}).status_code == 302
    assert w.award.status == "published"
    assert f"/prizes/{w.award.id}" in page(client.get(url(w)))

    client.post("/logout")
    login(w.admin)
    response = client.post(url(w, "reopen"), data={"reason": "", "seen_version": "4"})
    assert "Hãy ghi lý do mở lại" in page(response) and w.award.status == "published"
    response = client.post(url(w, "reopen"), data={"reason": "Khiếu nại", "seen_version": "4"}, follow_redirects=True)
    assert "trang kết quả công khai đã được gỡ" in " ".join(flashes(page(response), "success"))
    assert w.award.status == "draft" and count(Winner, w) == 0
    text = page(response)
    assert "Mở lại" in text and "Khiếu nại" in text  # in the audit log
