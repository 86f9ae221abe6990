"""Emulation standings: the live boards (competitions.emulation.standings) and the pages.

Boards run with the in-process rank store and with Redis (``board_store`` of test_boards); the
broadcaster is not running in tests: ``broadcast.tick()`` is one interval of it."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from competitions import signals
from competitions.emulation import scoring, standings
from competitions.emulation.models import CriterionKind, ReportStatus
from competitions.emulation.periods import Period
from competitions.emulation.standings_views import can_view_team
from competitions.live.models import ContestStatus, LiveContest
from core.accounts.models import User
from core.accounts.roles import RoleCode
from core.errors import NotFound
from core.extensions import db
from core.teams.models import Team
from leaderboard import broadcast, changes, service
from tests.competitions.emulation.worlds import add_scheme, report, target
from tests.competitions.test_boards import board_store  # noqa: F401 - the fixture
from tests.competitions.test_results import Contest
from tests.factories import Factory, Tree

OCTOBER = Period.parse("2026-10")
BOARD = "emulation:2026-10:teams"


@pytest.fixture
def tree(make: Factory) -> Tree:
    return make.tree()


@pytest.fixture
def filer(make: Factory, tree: Tree) -> User:
    return make.user(RoleCode.OFFICER, tree.province, full_name="Cán bộ tỉnh")


@pytest.fixture
def teams(make: Factory, tree: Tree) -> dict[str, Team]:
    """Four teams with an October VNeID target of 10, and a scheme counting VNeID (60) and reports (40)."""
    add_scheme([(CriterionKind.ACTIVITY, "vneid", 60, 1.0), (CriterionKind.REPORTS_ON_TIME, None, 40, 1.0)])
    built = {}
    for key, unit, name in (("a", tree.hamlet, "Tổ Phước Lợi"), ("b", tree.hamlet2, "Tổ Tân Hòa"),
                            ("c", tree.other_hamlet, "Tổ Khu phố 1"), ("d", tree.district_hamlet, "Tổ Thạnh Lợi")):
        team = make.team(unit, name)
        team.created_at = datetime(2026, 1, 1, tzinfo=UTC)
        make.fill(team, 2)
        target(team, "vneid", 10, OCTOBER)
        built[key] = team
    return built


def _filed(team: Team, filer: User, quantity: int, status: ReportStatus = ReportStatus.VERIFIED) -> object:
    return report(team, {"vneid": quantity}, filer, "2026-10", status, filed_at=datetime(2026, 11, 3, tzinfo=UTC))


def _members(board: str) -> list[str]:
    return [row["member"] for row in service.view(board, 100).top]


def _pending_groups() -> set[str]:
    return {p.group for p in changes.take()}


def test_a_verified_report_moves_the_boards_after_the_commit(teams, filer, board_store):  # noqa: F811
    _filed(teams["a"], filer, 5)
    _filed(teams["b"], filer, 5)
    db.session.commit()
    assert _members(BOARD) == [str(teams[k].id) for k in ("a", "b", "c", "d")]  # built on first use
    assert service.view(BOARD).top[0]["value"] == "70"  # 30 + 40 on time
    commune = f"{BOARD}:u{teams['a'].unit.parent_id}"
    assert _members(commune) == [str(teams["a"].id), str(teams["b"].id)]
    assert _members("emulation:2026-10:communes")[0] == str(teams["a"].unit.parent_id)

    entry = _filed(teams["d"], filer, 9, ReportStatus.SUBMITTED)
    signals.report_changed.send(entry, before=None)
    entry.status = ReportStatus.VERIFIED  # the officer verifies it
    signals.report_changed.send(entry, before=ReportStatus.SUBMITTED)
    db.session.rollback()  # nothing moves for a change that did not commit
    assert changes.take() == []

    entry = _filed(teams["d"], filer, 9, ReportStatus.SUBMITTED)
    entry.status = ReportStatus.VERIFIED
    signals.report_changed.send(entry, before=ReportStatus.SUBMITTED)
    db.session.commit()
    updates = broadcast.tick()
    assert {u.board for u in updates} >= {BOARD, "emulation:2026-10:communes"}  # d's commune moved up
    ranked = scoring.team_scores(OCTOBER)
    assert _members(BOARD) == [str(s.team_id) for s in ranked]
    assert _members(BOARD)[0] == str(teams["d"].id)
    top = service.view(BOARD).top[0]
    assert (top["label"], top["value"], top["extra"]) == ("Tổ Thạnh Lợi", "94", "Hoàn thành xuất sắc")
    assert _members(commune) == [str(teams["a"].id), str(teams["b"].id)]  # not d's commune: same rows
    assert _members("emulation:2026-10:districts") == [str(teams["d"].unit.parent.parent_id)]


def test_equal_points_are_ordered_by_team_id_on_the_board_and_in_the_ranking(teams, filer, board_store):  # noqa: F811
    for key in ("d", "c", "b", "a"):
        _filed(teams[key], filer, 5)
    db.session.commit()
    by_id = sorted(teams.values(), key=lambda t: t.id)
    assert _members(BOARD) == [str(t.id) for t in by_id]
    assert [s.team_id for s in scoring.team_scores(OCTOBER)] == [t.id for t in by_id]


def test_a_report_moves_only_its_teams_rows_and_its_communes(teams, filer, board_store):  # noqa: F811
    """One verified report rescores one team (and its commune), not the province: a change nobody
    announced (team c's report, written without the signal) shows only at the next full refresh."""
    for board in (BOARD, "emulation:2026-10:communes"):
        service.ensure_built(board)
    changes.take()
    _filed(teams["c"], filer, 10)  # unannounced
    entry = _filed(teams["a"], filer, 10, ReportStatus.SUBMITTED)
    entry.status = ReportStatus.VERIFIED
    signals.report_changed.send(entry, before=ReportStatus.SUBMITTED)
    db.session.commit()
    broadcast.tick()
    values = {row["member"]: row["value"] for row in service.view(BOARD, 100).top}
    assert values[str(teams["a"].id)] == "100" and values[str(teams["c"].id)] == "0"
    communes = {row["member"]: row["value"] for row in service.view("emulation:2026-10:communes", 100).top}
    assert communes[str(teams["a"].unit.parent_id)] == "50"  # a's 100 and b's 0
    assert communes[str(teams["c"].unit.parent_id)] == "0"

    standings.queue_month(OCTOBER)  # everything: a round closed
    db.session.commit()
    broadcast.tick()
    values = {row["member"]: row["value"] for row in service.view(BOARD, 100).top}
    assert values[str(teams["c"].id)] == "100"


def test_report_rounds_and_contests_queue_their_month_quarter_and_year(teams, filer, make, tree, board_store):  # noqa: F811
    changes.take()
    entry = _filed(teams["a"], filer, 5)
    signals.report_changed.send(entry, before=ReportStatus.SUBMITTED)
    db.session.commit()
    assert _pending_groups() == {"emulation:2026-10", "emulation:2026-Q4", "emulation:2026"}

    entry.note = "sửa"  # a correction that leaves the status as it was moves nothing
    signals.report_changed.send(entry, before=ReportStatus.VERIFIED)
    db.session.commit()
    assert _pending_groups() == set()

    round_ = Contest(make).round(tree.province, opens=datetime(2026, 8, 20, tzinfo=UTC),
                                 closes=datetime(2026, 8, 31, 17, tzinfo=UTC))  # 1 September 00:00 in Vietnam
    signals.round_closed.send(round_)
    db.session.commit()
    assert "emulation:2026-08" in _pending_groups()  # the exclusive end belongs to August

    live = LiveContest(title="Rung chuông vàng", host_id=filer.id, status=ContestStatus.FINISHED,
                       finished_at=datetime(2026, 3, 31, 18, tzinfo=UTC))  # 1 April 01:00 in Vietnam
    db.session.add(live)
    db.session.flush()
    signals.live_contest_finished.send(live)
    db.session.commit()
    assert _pending_groups() == {"emulation:2026-04", "emulation:2026-Q2", "emulation:2026"}


def test_the_boards_are_public_and_only_real_ones_exist(teams, tree, board_store):  # noqa: F811
    info = service.board_info(BOARD, None)
    assert info.public and [name for name, _label in info.tabs] == [
        "emulation:2026-10:teams", "emulation:2026-10:communes", "emulation:2026-10:districts",
    ]
    assert service.board_info(f"{BOARD}:u{tree.commune.id}", None).title.endswith(tree.commune.name)
    assert service.board_info(f"{BOARD}:u{tree.district.id}", None).public
    for name in (f"{BOARD}:u{tree.hamlet.id}", f"{BOARD}:u999999", "emulation:2026-10:people",
                 "emulation:2099-01:teams", "emulation:26-10:teams", "emulation:2026-10:communes:u1",
                 "emulation:2026-13:teams"):
        with pytest.raises(NotFound):
            service.board_info(name, None)
    member = teams["a"].memberships[0].user
    assert service.member_of(BOARD, member) == str(teams["a"].id)
    assert service.member_of("emulation:2026-10:communes", member) == str(tree.commune.id)
    assert service.member_of("emulation:2026-10:districts", member) is None
    names = standings.EmulationBoards().names()
    assert len(names) == 9 and all(n.startswith("emulation:") for n in names)


# --- pages ------------------------------------------------------------------------------------------


def _cells(page: str, row_class: str = "mine") -> list[str]:
    row = re.search(rf'<tr class="{row_class}"[^>]*>(.*?)</tr>', page, flags=re.S)
    assert row is not None
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)]


def test_the_standings_page_ranks_teams_and_units_and_marks_mine(teams, filer, login, tree, board_store):  # noqa: F811
    _filed(teams["a"], filer, 10)
    _filed(teams["c"], filer, 5)
    client = login(teams["c"].memberships[0].user)
    page = client.get("/emulation/standings?period=2026-10").get_data(as_text=True)
    assert _cells(page) == ["2", "Tổ Khu phố 1", "Khu phố 1", "70", "Chưa hoàn thành"]  # 50% of VNeID: no band
    assert "/boards/emulation:2026-10:teams" in page and "/boards/emulation:2026-10:teams/projector" in page
    assert "Tổ của bạn: Tổ Khu phố 1 — hạng 2, 70 điểm." in page
    communes = client.get("/emulation/standings?period=2026-10&tab=communes").get_data(as_text=True)
    assert _cells(communes) == ["1", "Phường Rạch Giá", "70", "1 tổ", "2"]  # the member's own commune
    assert "<td>Xã Châu Thành</td>" not in communes and ">50<" in communes  # (100 + 0) / 2
    narrowed = client.get(f"/emulation/standings?period=2026-10&unit={tree.commune.id}").get_data(as_text=True)
    assert "Tổ Khu phố 1" not in narrowed and "Tổ Phước Lợi" in narrowed
    assert f"/boards/emulation:2026-10:teams:u{tree.commune.id}" in narrowed
    assert client.get("/emulation/standings?period=2099-01").status_code == 404
    assert client.get("/emulation/standings?period=abc").status_code == 404
    assert client.get(f"/emulation/standings?unit={tree.hamlet.id}").status_code == 404
    assert client.get("/emulation/standings").status_code == 200  # the current month by default


def test_the_team_page_breaks_the_score_down_for_its_members_and_staff_in_scope(
    teams, filer, make, tree, login, client, board_store,  # noqa: F811
):
    _filed(teams["a"], filer, 8)
    _filed(teams["b"], filer, 10)
    _filed(teams["c"], filer, 9)
    url = f"/emulation/teams/{teams['a'].id}?period=2026-10"
    login(teams["a"].memberships[0].user)
    page = client.get(url).get_data(as_text=True)
    assert "Điểm thi đua: 88/100" in page  # 48 + 40
    assert "8/10 người" in page and "48 / 60" in page and "Hoàn thành tốt" in page
    assert "1/1 tháng đúng hạn" in page
    assert "Hạng 2/2 trong Xã Châu Thành" in page and "Hạng 3/4 trong Toàn tỉnh" in page
    # another month: nothing to measure yet, and the page says why
    quiet = client.get(f"/emulation/teams/{teams['a'].id}?period=2026-09").get_data(as_text=True)
    assert "Không tính:" in quiet and "Tổ không có chỉ tiêu hoạt động này trong kỳ." in quiet
    for user, status in ((teams["c"].memberships[0].user, 403),
                         (make.user(RoleCode.OFFICER, tree.other_commune, full_name="Cán bộ phường"), 403),
                         (make.user(RoleCode.OFFICER, tree.commune, full_name="Cán bộ xã"), 200),
                         (make.admin(), 200)):
        client.post("/logout")
        login(user)
        assert client.get(url).status_code == status, user.full_name


def test_the_team_page_says_when_points_are_rescaled(teams, filer, login, client, board_store):  # noqa: F811
    report(teams["a"], {"vneid": 6}, filer, "2026-09", filed_at=datetime(2026, 10, 3, tzinfo=UTC))
    login(teams["a"].memberships[0].user)
    page = client.get(f"/emulation/teams/{teams['a'].id}?period=2026-09").get_data(as_text=True)
    assert "Điểm thi đua: 100/100" in page  # 40 of the 40 points that apply
    assert "40 / 40" in page and "quy về thang 100" in page
    full = client.get(f"/emulation/teams/{teams['a'].id}?period=2026-10").get_data(as_text=True)
    assert "Có tiêu chí không có gì để đo" not in full


def test_can_view_team_is_refused_outside_the_team_and_scope(teams, make, tree):
    assert can_view_team(teams["a"].memberships[0].user, teams["a"])
    assert not can_view_team(teams["b"].memberships[0].user, teams["a"])
    assert can_view_team(make.user(RoleCode.ORGANISER, tree.province), teams["d"])
    assert not can_view_team(make.user(RoleCode.ORGANISER, tree.district), teams["a"])


def test_the_teams_tab_is_paged_with_ranks_running_on(teams, filer, login, client, monkeypatch, board_store):  # noqa: F811
    from competitions.emulation import standings_views

    monkeypatch.setattr(standings_views, "PER_PAGE", 3)
    for key, quantity in (("a", 10), ("b", 8), ("c", 6), ("d", 4)):
        _filed(teams[key], filer, quantity)
    login(teams["d"].memberships[0].user)
    second = client.get("/emulation/standings?period=2026-10&page=2").get_data(as_text=True)
    assert _cells(second) == ["4", "Tổ Thạnh Lợi", "Ấp Thạnh Lợi", "64", "Chưa hoàn thành"]
    assert "Tổ Phước Lợi" not in second.split("<tbody>")[1]
    first = client.get("/emulation/standings?period=2026-10").get_data(as_text=True)
    assert "Tổ của bạn: Tổ Thạnh Lợi — hạng 4, 64 điểm." in first and 'class="mine"' not in first


def test_rescoring_a_period_is_throttled_and_nothing_is_lost(teams, filer, app, monkeypatch, board_store):  # noqa: F811
    monkeypatch.setitem(app.config, "BOARD_AGGREGATE_INTERVAL_MS", 60_000)
    assert _members(BOARD)[0] == str(teams["a"].id)  # built: everyone at 0, the first team first
    source = standings.EmulationBoards()
    assert source.refresh("emulation:2026-10", frozenset({changes.EVERYTHING})) == [BOARD]  # the first is due
    _filed(teams["d"], filer, 10)
    db.session.commit()
    assert source.refresh("emulation:2026-10", frozenset({changes.EVERYTHING})) == []  # too soon
    assert "emulation:2026-10" in _pending_groups()  # left for a later tick
    assert _members(BOARD)[0] != str(teams["d"].id)
    monkeypatch.setitem(app.config, "BOARD_AGGREGATE_INTERVAL_MS", 0)
    assert source.refresh("emulation:2026-10", frozenset({changes.EVERYTHING})) == [BOARD]
    assert _members(BOARD)[0] == str(teams["d"].id)
