"""Progress: verified achievement against target for teams and units, targets summed from below,
the expected share, laggards, the pages (SVG bars) and who sees them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from flask import render_template_string

from competitions.emulation import catalogue
from competitions.emulation.models import ActivityKind, ActivityReport, ReportLine, ReportStatus
from competitions.emulation.periods import Period
from competitions.emulation.progress import effective_targets, expected_share, team_progress, unit_progress
from competitions.emulation.targets import Holder, TargetEntry, set_targets
from core.accounts.models import User
from core.accounts.roles import RoleCode
from core.extensions import db
from core.teams.models import Team
from tests.factories import Tree

NOV = Period.parse("2026-11")
AFTER_DEADLINE = datetime(2026, 12, 25, tzinfo=UTC)  # November's reports were due by 20 December
BEFORE_DEADLINE = datetime(2026, 12, 5, tzinfo=UTC)


@dataclass
class World:
    tree: Tree
    team_a: Team  # Ấp Phước Lợi, Xã Châu Thành
    team_b: Team  # Ấp Tân Hòa, Xã Châu Thành
    team_c: Team  # Khu phố 1, Phường Rạch Giá
    admin: User
    officer: User  # Châu Thành
    other_officer: User  # Rạch Giá
    member_a: User
    member_c: User
    vneid: ActivityKind
    ewallet: ActivityKind


def report(team: Team, month: str, by: User, status: str = ReportStatus.VERIFIED, **lines: int) -> ActivityReport:
    """A report inserted as it is once filed and reviewed (the reports service is tested on its own)."""
    kinds = {kind.code: kind for kind in catalogue.kinds(active_only=False)}
    entry = ActivityReport(team_id=team.id, month=month, status=status, filed_by_id=by.id)
    entry.lines = [ReportLine(activity_id=kinds[code].id, quantity=quantity) for code, quantity in lines.items()]
    db.session.add(entry)
    db.session.flush()
    return entry


@pytest.fixture
def world(make) -> World:
    tree = make.tree()
    team_a, team_b, team_c = make.team(tree.hamlet), make.team(tree.hamlet2), make.team(tree.other_hamlet)
    kinds = {kind.code: kind for kind in catalogue.kinds()}
    w = World(
        tree, team_a, team_b, team_c, make.admin(),
        make.user(RoleCode.OFFICER, tree.commune, full_name="Cán bộ Châu Thành"),
        make.user(RoleCode.OFFICER, tree.other_commune, full_name="Cán bộ Rạch Giá"),
        make.member(team_a, full_name="Thành viên A").user, make.member(team_c, full_name="Thành viên C").user,
        kinds["vneid"], kinds["ewallet"],
    )
    set_targets(w.admin, NOV, [
        TargetEntry(Holder.of_unit(tree.province), w.vneid, 1000),
        TargetEntry(Holder.of_team(team_a), w.vneid, 100), TargetEntry(Holder.of_team(team_a), w.ewallet, 10),
        TargetEntry(Holder.of_team(team_b), w.vneid, 200),
        TargetEntry(Holder.of_team(team_c), w.vneid, 50),
    ])
    report(team_a, "2026-11", w.member_a, vneid=30, ewallet=10)
    report(team_a, "2026-11", w.member_a, vneid=20)  # entries of a month add up
    report(team_a, "2026-11", w.member_a, ReportStatus.SUBMITTED, vneid=500)  # not verified yet
    report(team_a, "2026-11", w.member_a, ReportStatus.REJECTED, vneid=500)
    report(team_a, "2026-10", w.member_a, vneid=77)  # another month
    report(team_b, "2026-11", w.member_a, vneid=190)
    report(team_c, "2026-11", w.member_c, vneid=60)
    return w


def by_code(rows):  # noqa: ANN001, ANN201
    return {row.activity.code: row for row in rows}


def test_expected_share_counts_months_whose_reports_are_due(app):
    assert expected_share(NOV, BEFORE_DEADLINE) == 0
    assert expected_share(NOV, AFTER_DEADLINE) == 1
    q4 = Period.parse("2026-Q4")
    assert expected_share(q4, datetime(2026, 12, 1, tzinfo=UTC)) == pytest.approx(1 / 3)  # October's were due
    assert expected_share(Period.parse("2026"), datetime(2026, 12, 1, tzinfo=UTC)) == pytest.approx(10 / 12)


def test_team_progress_counts_verified_work_of_the_period(world):
    rows = by_code(team_progress(world.team_a, NOV, now=AFTER_DEADLINE))
    vneid, ewallet, ocop = rows["vneid"], rows["ewallet"], rows["ocop"]
    assert (vneid.target, vneid.achieved, vneid.ratio) == (100, 50, 0.5)
    assert vneid.lagging and not vneid.derived
    assert (ewallet.target, ewallet.achieved, ewallet.ratio, ewallet.lagging) == (10, 10, 1.0, False)
    assert (ocop.target, ocop.achieved, ocop.ratio, ocop.lagging) == (None, 0, None, False)
    # before November's reports are due, nobody is behind yet
    assert not by_code(team_progress(world.team_a, NOV, now=BEFORE_DEADLINE))["vneid"].lagging
    assert by_code(team_progress(world.team_a, Period.parse("2026-Q4"), now=AFTER_DEADLINE))["vneid"].achieved == 127


def test_unit_target_falls_back_to_the_sum_below(world):
    tree = world.tree
    values, derived = effective_targets(tree.province, NOV)
    assert values[f"u{tree.commune.id}"][world.vneid.id] == 300 and world.vneid.id in derived[f"u{tree.commune.id}"]
    assert values[f"u{tree.province.id}"][world.vneid.id] == 1000  # set: not summed
    assert world.vneid.id not in derived[f"u{tree.province.id}"]
    province = f"u{tree.province.id}"
    assert values[province][world.ewallet.id] == 10 and world.ewallet.id in derived[province]


def test_commune_progress_ranks_its_teams(world):
    progress = unit_progress(world.tree.commune, NOV, now=AFTER_DEADLINE)
    rows = by_code(progress.rows)
    assert (rows["vneid"].target, rows["vneid"].achieved, rows["vneid"].derived) == (300, 240, True)
    assert progress.derived and progress.expected == 1
    names = [child.holder.name for child in progress.children]
    assert names == [world.team_b.name, world.team_a.name]  # 95% before mean(50%, 100%) = 75%
    assert progress.children[0].achievement == pytest.approx(0.95)
    assert progress.children[1].achievement == pytest.approx(0.75)
    assert [child.holder.name for child in progress.laggards] == [world.team_b.name, world.team_a.name]


def test_province_progress(world):
    progress = unit_progress(world.tree.province, NOV, now=AFTER_DEADLINE)
    rows = by_code(progress.rows)
    assert (rows["vneid"].target, rows["vneid"].achieved) == (1000, 300) and not rows["vneid"].derived
    children = {child.holder.name: child for child in progress.children}
    # Rạch Giá: 60 of 50, capped at 100%; Châu Thành: mean(240/300, 10/10) = 90%; the district has no target
    assert children["Phường Rạch Giá"].achievement == 1.0 and not children["Phường Rạch Giá"].lagging
    assert children["Xã Châu Thành"].achievement == pytest.approx(0.9)
    assert children["Huyện Giồng Riềng"].achievement is None
    assert [c.holder.name for c in progress.children] == ["Phường Rạch Giá", "Xã Châu Thành", "Huyện Giồng Riềng"]


# --- pages -----------------------------------------------------------------------------------------


def test_team_page_for_its_member(world, login, client):
    login(world.member_a)
    response = client.get(f"/emulation/progress/teams/{world.team_a.id}?period=2026-11")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Đạt 50 / 100 người" in page and "50%" in page and "<svg" in page
    assert "Đạt 10 / 10 người" in page and "Hoàn thành" in page
    assert client.get("/emulation/progress/?period=2026-11").headers["Location"].endswith(
        f"/emulation/progress/teams/{world.team_a.id}?period=2026-11")
    assert client.get(f"/emulation/progress/teams/{world.team_c.id}").status_code == 403
    assert client.get(f"/emulation/progress/units/{world.tree.commune.id}").status_code == 403


def test_unit_page_for_staff_in_scope(world, login, client):
    login(world.officer)
    response = client.get(f"/emulation/progress/units/{world.tree.commune.id}?period=2026-11")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Đạt 240 / 300 người*" in page and "tổng chỉ tiêu của các đơn vị, tổ trực thuộc" in page
    assert page.index(world.team_b.name) < page.index(world.team_a.name)
    assert "95%" in page and "75%" in page and 'role="img"' in page
    assert client.get(f"/emulation/progress/teams/{world.team_a.id}?period=2026-11").status_code == 200
    assert client.get(f"/emulation/progress/units/{world.tree.other_commune.id}").status_code == 403
    assert client.get(f"/emulation/progress/teams/{world.team_c.id}").status_code == 403


def test_province_page_for_admin_shows_laggards(world, login, client):
    login(world.admin)
    page = client.get(f"/emulation/progress/units/{world.tree.province.id}?period=2026-11").get_data(as_text=True)
    assert "Đạt 300 / 1.000 người" in page
    assert "Phường Rạch Giá" in page and "Xã Châu Thành" in page and "Chưa giao" in page
    assert f'href="/emulation/progress/units/{world.tree.commune.id}?period=2026-11"' in page


def test_partial_renders_team_rows(world, app):
    report(world.team_a, "2026-11", world.member_a, training=2)
    with app.test_request_context():
        html = render_template_string(
            '{% with progress_rows=rows %}{% include "emulation/_progress_team.html" %}{% endwith %}',
            rows=team_progress(world.team_a, NOV, now=AFTER_DEADLINE),
        )
    assert "Đạt 50 / 100 người" in html and "Chậm tiến độ" in html
    assert "Đạt 2 buổi · chưa giao chỉ tiêu" in html
    assert "OCOP" not in html  # neither a target nor anything done: left out
    with app.test_request_context():
        empty = render_template_string('{% include "emulation/_progress_team.html" %}',
                                       progress_rows=team_progress(world.team_c, Period.parse("2025-01")))
    assert "Chưa có chỉ tiêu hay kết quả nào trong kỳ này." in empty
