"""Results screens: who sees what (closed / open / draft rounds, scope, staff), exports, my results,
series standings and statistics."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook

from competitions.models import Round, RoundStatus, Series
from core.accounts.models import User
from core.accounts.roles import RoleCode
from core.db_types import utcnow
from core.extensions import db
from core.teams.models import Team
from tests.competitions.test_results import T0, Contest, _hours, contest  # noqa: F401 - fixture
from tests.factories import Tree


@dataclass
class World:
    tree: Tree
    team: Team
    ann: User  # took part in both rounds
    binh: User  # same team, took part in the closed round only
    elsewhere: User  # a member of Phường Rạch Giá
    officer: User  # Xã Châu Thành
    officer_elsewhere: User  # Phường Rạch Giá
    closed: Round  # scoped to Xã Châu Thành, with a prediction question
    running: Round  # the same scope, open now


@pytest.fixture
def world(make, contest) -> World:  # noqa: F811
    tree = make.tree()
    team = make.team(tree.hamlet)
    ann, binh = contest.member(team, "Nguyễn Thị Ân"), contest.member(team, "Trần Văn Bình")
    elsewhere = contest.member(make.team(tree.other_hamlet), "Lê Văn Khác")
    closed = contest.round(tree.commune, title="Tuần 1", prediction_kind="participants",
                           prediction_question="Bao nhiêu người dự thi?")
    now = utcnow()
    running = contest.round(tree.commune, title="Tuần đang chạy", opens=now - timedelta(days=1),
                            closes=now + timedelta(days=6))
    contest.take(closed, ann, 3, 95, _hours(1), prediction=2)
    contest.take(closed, binh, 2, 80, _hours(2), prediction=9)
    contest.take(running, ann, 1, 30, now - timedelta(hours=2))
    return World(
        tree, team, ann, binh, elsewhere,
        make.user(RoleCode.OFFICER, tree.commune, full_name="Cán bộ Châu Thành"),
        make.user(RoleCode.OFFICER, tree.other_commune, full_name="Cán bộ Rạch Giá"),
        closed, running,
    )


@pytest.fixture
def sign_in(client, login):  # noqa: ANN001, ANN201 - returns a helper
    """``login`` keeps whoever is signed in already; tests here switch between people."""

    def switch(user: User):  # noqa: ANN202
        client.post("/logout")
        return login(user)

    return switch


def _get(client, url: str) -> tuple[int, str]:  # noqa: ANN001
    response = client.get(url)
    return response.status_code, response.get_data(as_text=True)


def test_closed_round_results_for_people_of_its_area(world, sign_in):
    client = sign_in(world.binh)
    status, page = _get(client, f"/rounds/{world.closed.id}/results")
    assert status == 200
    assert "Nguyễn Thị Ân" in page and "Trần Văn Bình" in page
    assert world.ann.phone not in page and world.ann.phone[:4] + "***" in page
    assert '<tr class="mine" aria-current="true">' in page  # their own row
    assert "Xếp hạng theo điểm cao hơn, rồi dự đoán gần với đáp án hơn" in page
    assert "Đáp án câu hỏi dự đoán (“Bao nhiêu người dự thi?”): 2" in page  # finalised at the first look
    assert world.closed.prediction_answer == 2 and world.closed.finalised_at is not None
    assert "Tải tệp Excel" not in page  # exports are for staff
    for tab in ("teams", "units"):
        status, page = _get(client, f"/rounds/{world.closed.id}/results?tab={tab}")
        assert status == 200 and "Xã Châu Thành" in page


def test_results_refused_outside_the_area_unless_taken_part(world, sign_in, contest):  # noqa: F811
    assert _get(sign_in(world.elsewhere), f"/rounds/{world.closed.id}/results")[0] == 403
    contest.take(world.closed, world.elsewhere, 1, 50, _hours(3))  # a public participant, say
    assert _get(sign_in(world.elsewhere), f"/rounds/{world.closed.id}/results")[0] == 200


def test_open_round_members_see_counts_staff_see_live_results(world, sign_in):
    url = f"/rounds/{world.running.id}/results"
    status, page = _get(sign_in(world.binh), url)
    assert status == 200
    assert "Nguyễn Thị Ân" not in page and "Bảng xếp hạng được công bố khi đợt thi kết thúc." in page
    assert "Số người tham gia theo xã, phường" in page and "<td>Xã Châu Thành</td><td class=\"num\">1</td>" in page
    status, page = _get(sign_in(world.officer), url)
    assert status == 200
    assert "Nguyễn Thị Ân" in page and "Số người tham gia theo xã, phường" in page and "Tải tệp Excel" in page
    assert _get(sign_in(world.officer_elsewhere), url)[0] == 403


def test_draft_and_missing_rounds_are_not_found(world, make, contest, sign_in):  # noqa: F811
    draft = contest.round(world.tree.commune, status=RoundStatus.DRAFT)
    client = sign_in(make.admin())
    assert _get(client, f"/rounds/{draft.id}/results")[0] == 404
    assert _get(client, f"/rounds/{draft.id}/results/individuals.xlsx")[0] == 404
    assert _get(client, "/rounds/999999/results")[0] == 404
    assert _get(client, f"/rounds/{world.closed.id}/results?tab=bogus")[0] == 404
    assert _get(client, f"/rounds/{world.closed.id}/results?unit_id={world.tree.other_commune.id}")[0] == 404


def test_anonymous_visitors_are_sent_to_sign_in(world, client):
    for url in (f"/rounds/{world.closed.id}/results", "/me/results", f"/rounds/{world.closed.id}/stats"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("kind", ["individuals", "teams", "units"])
def test_exports_for_staff_of_the_round(world, sign_in, kind):
    url = f"/rounds/{world.closed.id}/results/{kind}.xlsx"
    assert _get(sign_in(world.ann), url)[0] == 403
    assert _get(sign_in(world.officer_elsewhere), url)[0] == 403
    response = sign_in(world.officer).get(url)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert rows[1][0] in ("Hạng", "Cấp")
    assert not any(world.ann.phone in str(cell) for row in rows for cell in row)


def test_export_follows_the_unit_filter(world, sign_in):
    client = sign_in(world.officer)
    response = client.get(f"/rounds/{world.closed.id}/results/individuals.xlsx?unit_id={world.tree.commune.id}")
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert rows[0][0].endswith("— Xã Châu Thành") and [row[1] for row in rows[2:]] == ["Nguyễn Thị Ân", "Trần Văn Bình"]


def test_round_statistics_for_staff(world, sign_in):
    url = f"/rounds/{world.closed.id}/stats"
    assert _get(sign_in(world.ann), url)[0] == 403
    assert _get(sign_in(world.officer_elsewhere), url)[0] == 403
    status, page = _get(sign_in(world.officer), url)
    assert status == 200 and "Phân bố điểm" in page and "Câu hỏi kết quả số" in page
    status, page = _get(sign_in(world.officer), f"/rounds/{world.running.id}/stats")
    assert status == 200 and "Câu hỏi kết quả số" not in page  # no question texts while it runs


def test_my_results(world, sign_in, contest):  # noqa: F811
    other = contest.round(world.tree.commune, title="Tuần chưa thi")
    status, page = _get(sign_in(world.ann), "/me/results")
    assert status == 200
    assert "Tuần 1" in page and "Tuần đang chạy" in page and other.title not in page
    assert f'href="/rounds/{world.closed.id}">Xem đáp án' in page  # closed: answers are out
    assert f'href="/rounds/{world.running.id}">Trang đợt thi' in page  # answers after closing
    assert "Đang diễn ra" in page  # no rank while the round runs
    assert f"/rounds/{world.closed.id}/results" in page


@pytest.fixture
def series(world, contest) -> Series:  # noqa: F811
    series = Series(title="Quý I/2025", period_kind="quarterly", scope_unit_id=world.tree.commune.id)
    db.session.add(series)
    db.session.flush()
    world.closed.series_id = series.id
    second = contest.round(world.tree.commune, title="Tuần 2", opens=T0 + timedelta(days=7), series_id=series.id)
    contest.take(second, world.binh, 3, 10, T0 + timedelta(days=8))
    return series


def test_series_standings(world, series, sign_in):
    url = f"/series/{series.id}/standings"
    status, page = _get(sign_in(world.binh), url)
    assert status == 200
    # Bình: 2 + 3 = 5 points; Ân: 3.
    assert page.index("Trần Văn Bình") < page.index("Nguyễn Thị Ân")
    assert "Bạn đứng hạng 1 với 5 điểm sau 2 đợt." in page and "Tải tệp Excel" not in page
    status, page = _get(sign_in(world.binh), url + "?tab=teams")
    assert status == 200 and world.team.name in page
    assert _get(sign_in(world.elsewhere), url)[0] == 403
    assert _get(sign_in(world.binh), f"/series/{series.id}/standings.xlsx")[0] == 403
    response = sign_in(world.officer).get(f"/series/{series.id}/standings.xlsx")
    assert response.status_code == 200
    assert load_workbook(io.BytesIO(response.data)).sheetnames == ["Cá nhân", "Tổ CNSCĐ"]


def test_individual_pages(world, make, contest, sign_in):  # noqa: F811
    crowd = contest.round(world.tree.commune, title="Đông người", opens=datetime(2025, 5, 5, tzinfo=UTC))
    teams = [make.team(world.tree.hamlet2, f"Tổ số {k}") for k in range(3)]
    for i in range(27):
        contest.take(crowd, contest.member(teams[i % 3], f"Người {i:02d}"), 3, 100 + i,
                     crowd.opens_at + timedelta(hours=1))
    contest.take(crowd, world.ann, 0, 5, crowd.opens_at + timedelta(hours=2))  # last of 28
    client = sign_in(world.ann)
    status, page = _get(client, f"/rounds/{crowd.id}/results")
    assert "Người 00" in page and "Người 25" not in page and "Trang 1 / 2" in page
    assert f"/rounds/{crowd.id}/results?tab=individuals&amp;page=2" in page  # "go to my page"
    status, page = _get(client, f"/rounds/{crowd.id}/results?page=2")
    assert status == 200 and '<tr class="mine" aria-current="true">' in page and "Người 26" in page
