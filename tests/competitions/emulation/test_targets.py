"""Targets down the tree: who sets what, all-or-nothing saving, bad numbers, the split check, the grid screen."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from competitions.emulation import catalogue
from competitions.emulation.models import ActivityKind, Target
from competitions.emulation.periods import Period
from competitions.emulation.targets import (
    GridErrors,
    Holder,
    SplitStatus,
    TargetEntry,
    can_set,
    holders_below,
    parse_quantity,
    save_grid,
    set_targets,
    split_check,
    target_grid,
    targets_of,
)
from core.accounts.models import User
from core.accounts.roles import RoleCode
from core.errors import PermissionDenied, ValidationError
from core.teams.models import Team
from tests.factories import Tree, flashes

NOV = Period.parse("2026-11")


@dataclass
class Place:
    tree: Tree
    team_a: Team  # Ấp Phước Lợi (a hamlet of Xã Châu Thành)
    team_b: Team  # Ấp Tân Hòa (Châu Thành)
    commune_team: Team  # on Xã Châu Thành itself
    firm_team: Team  # the enterprise under Phường Rạch Giá
    admin: User
    organiser: User  # the province
    officer: User  # Xã Châu Thành
    other_officer: User  # Phường Rạch Giá
    member: User  # of team A
    vneid: ActivityKind
    ewallet: ActivityKind
    households: ActivityKind


@pytest.fixture
def place(make) -> Place:
    tree = make.tree()
    team_a, team_b = make.team(tree.hamlet), make.team(tree.hamlet2)
    commune_team = make.team(tree.commune, "Tổ CNSCĐ Xã Châu Thành")
    firm_team = make.team(tree.enterprise)
    by_code = {kind.code: kind for kind in catalogue.kinds()}
    return Place(
        tree, team_a, team_b, commune_team, firm_team, make.admin(),
        make.user(RoleCode.ORGANISER, tree.province, full_name="Tỉnh đoàn"),
        make.user(RoleCode.OFFICER, tree.commune, full_name="Cán bộ Châu Thành"),
        make.user(RoleCode.OFFICER, tree.other_commune, full_name="Cán bộ Rạch Giá"),
        make.member(team_a).user,
        by_code["vneid"], by_code["ewallet"], by_code["households"],
    )


def count(session) -> int:
    return session.scalar(select(func.count()).select_from(Target))


def u(unit) -> Holder:  # noqa: ANN001
    return Holder.of_unit(unit)


def t(team) -> Holder:  # noqa: ANN001
    return Holder.of_team(team)


# --- the tree of holders ---------------------------------------------------------------------------


def test_holders_below_are_units_then_teams_never_hamlets(place):
    tree = place.tree
    assert [h.name for h in holders_below(tree.province)] == ["Huyện Giồng Riềng", "Phường Rạch Giá", "Xã Châu Thành"]
    below = holders_below(tree.commune)
    assert {h.key for h in below} == {f"t{place.team_a.id}", f"t{place.team_b.id}", f"t{place.commune_team.id}"}
    assert all(h.is_team and h.code == f"T{h.team.id}" for h in below)
    # an enterprise holds no target itself: its team stands under the ward
    assert [h.key for h in holders_below(tree.other_commune)] == [f"t{place.firm_team.id}"]


def test_who_may_set_which_target(place):
    tree = place.tree
    assert can_set(place.admin, u(tree.province)) and can_set(place.admin, t(place.team_a))
    assert not can_set(place.organiser, u(tree.province))  # their own unit's target comes from above
    assert can_set(place.organiser, u(tree.commune)) and can_set(place.organiser, t(place.team_a))
    assert not can_set(place.officer, u(tree.commune))
    assert can_set(place.officer, t(place.team_a)) and can_set(place.officer, t(place.commune_team))
    assert not can_set(place.officer, t(place.firm_team)) and not can_set(place.officer, u(tree.other_commune))
    assert not can_set(place.member, t(place.team_a))


# --- quantities ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "value"), [("", None), ("  ", None), (None, None), ("0", 0), ("1200", 1200),
                                             ("1 200", 1200), ("+7", 7), (12.0, None)])
def test_parse_quantity_accepts_whole_numbers(text, value):
    if isinstance(text, float):
        with pytest.raises(ValidationError):
            parse_quantity(text)  # "12.0" is not typed by anyone: refused rather than guessed
    else:
        assert parse_quantity(text) == value


@pytest.mark.parametrize(("text", "words"), [("-5", "số âm"), ("2,5", "không phải số nguyên"),
                                             ("abc", "không phải số nguyên"), ("10000001", "quá lớn")])
def test_parse_quantity_says_what_is_wrong(text, words):
    with pytest.raises(ValidationError, match=words):
        parse_quantity(text)


# --- writing ---------------------------------------------------------------------------------------


def test_set_create_update_and_blank_removes(place, session):
    tree = place.tree
    saved = set_targets(place.admin, NOV, [TargetEntry(u(tree.province), place.vneid, 1000),
                                           TargetEntry(u(tree.province), place.ewallet, 500)])
    assert (saved.created, saved.updated, saved.removed) == (2, 0, 0)
    saved = set_targets(place.admin, NOV, [TargetEntry(u(tree.province), place.vneid, 1200),
                                           TargetEntry(u(tree.province), place.ewallet, None),
                                           TargetEntry(u(tree.province), place.households, None)])
    assert (saved.created, saved.updated, saved.removed) == (0, 1, 1)
    assert targets_of(NOV, [u(tree.province)]) == {(f"u{tree.province.id}", place.vneid.id): 1200}
    target = session.scalar(select(Target))
    assert target.unit_id == tree.province.id and target.team_id is None and target.set_by_id == place.admin.id
    assert target.period == "2026-11"
    assert targets_of(Period.parse("2026-Q4"), [u(tree.province)]) == {}  # a period is its own


def test_outside_scope_writes_nothing(place, session):
    with pytest.raises(PermissionDenied):
        set_targets(place.officer, NOV, [TargetEntry(t(place.team_a), place.vneid, 10),
                                         TargetEntry(t(place.firm_team), place.vneid, 10)])
    with pytest.raises(PermissionDenied):
        set_targets(place.officer, NOV, [TargetEntry(u(place.tree.commune), place.vneid, 10)])
    assert count(session) == 0


def test_inactive_kind_takes_no_new_target_but_keeps_old_ones(place, session):
    set_targets(place.officer, NOV, [TargetEntry(t(place.team_a), place.households, 8)])
    catalogue.set_active(place.households, False, place.admin)
    with pytest.raises(ValidationError, match="ngừng sử dụng"):
        set_targets(place.officer, NOV, [TargetEntry(t(place.team_b), place.households, 3)])
    set_targets(place.officer, NOV, [TargetEntry(t(place.team_a), place.households, 8)])  # unchanged: fine
    grid = target_grid(place.tree.commune, NOV, place.officer)
    assert place.households in grid.activities  # history shows
    assert place.households not in target_grid(place.tree.other_commune, NOV, place.admin).activities


def test_save_grid_is_all_or_nothing_and_names_row_and_column(place, session):
    commune = place.tree.commune
    cells = {
        f"t{place.team_a.id}": {place.vneid.id: "40", place.ewallet.id: "-3"},
        f"t{place.team_b.id}": {place.vneid.id: "2.5", place.ewallet.id: "7"},
        f"t{place.commune_team.id}": {place.vneid.id: "10"},
    }
    with pytest.raises(GridErrors) as caught:
        save_grid(place.officer, commune, NOV, cells)
    errors = caught.value.errors
    assert {(e.holder_key, e.activity_id) for e in errors} == {
        (f"t{place.team_a.id}", place.ewallet.id), (f"t{place.team_b.id}", place.vneid.id)}
    negative = next(e for e in errors if e.activity_id == place.ewallet.id)
    assert place.team_a.name in negative.message and place.ewallet.name in negative.message
    assert "số âm" in negative.message
    assert count(session) == 0

    cells[f"t{place.team_a.id}"][place.ewallet.id] = ""
    cells[f"t{place.team_b.id}"][place.vneid.id] = "25"
    saved = save_grid(place.officer, commune, NOV, cells)
    assert saved.created == 4 and count(session) == 4


def test_save_grid_refuses_rows_not_below_and_rows_not_ones_own(place, session):
    commune = place.tree.commune
    with pytest.raises(GridErrors, match="1 ô"):
        save_grid(place.officer, commune, NOV, {f"t{place.firm_team.id}": {place.vneid.id: "5"}})
    with pytest.raises(PermissionDenied):  # the commune's own target is set from above
        save_grid(place.officer, commune, NOV, {f"u{commune.id}": {place.vneid.id: "5"}})
    with pytest.raises(PermissionDenied):
        save_grid(place.other_officer, commune, NOV, {f"t{place.team_a.id}": {place.vneid.id: "5"}})
    assert count(session) == 0


# --- the split check -------------------------------------------------------------------------------


def test_split_check(place):
    tree = place.tree
    set_targets(place.admin, NOV, [
        TargetEntry(u(tree.province), place.vneid, 100), TargetEntry(u(tree.province), place.ewallet, 10),
        TargetEntry(u(tree.commune), place.vneid, 30), TargetEntry(u(tree.other_commune), place.vneid, 50),
        TargetEntry(u(tree.commune), place.ewallet, 15),
        TargetEntry(u(tree.district), place.households, 5),
        TargetEntry(t(place.team_a), place.vneid, 999),  # two levels down: not part of the province's split
    ])
    rows = {row.activity.code: row for row in split_check(tree.province, NOV)}
    assert (rows["vneid"].parent, rows["vneid"].children, rows["vneid"].assigned) == (100, 80, 2)
    assert rows["vneid"].status == SplitStatus.SHORT and rows["vneid"].gap == 20
    assert rows["ewallet"].status == SplitStatus.OVER and rows["ewallet"].gap == -5
    assert rows["households"].status == SplitStatus.UNSET
    assert rows["ocop"].status == SplitStatus.EMPTY
    set_targets(place.admin, NOV, [TargetEntry(u(tree.district), place.vneid, 20)])
    assert {r.activity.code: r for r in split_check(tree.province, NOV)}["vneid"].status == SplitStatus.OK


# --- the grid screen -------------------------------------------------------------------------------


def test_grid_page_for_the_commune_officer(place, login, client, session):
    tree = place.tree
    set_targets(place.admin, NOV, [TargetEntry(u(tree.commune), place.vneid, 120)])
    set_targets(place.officer, NOV, [TargetEntry(t(place.team_a), place.vneid, 70)])
    login(place.officer)
    response = client.get(f"/emulation/targets/{tree.commune.id}?period=2026-11")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert place.team_a.name in page and place.commune_team.name in page and place.firm_team.name not in page
    assert f'name="c-t{place.team_a.id}-{place.vneid.id}"' in page and 'value="70"' in page
    assert f'name="c-u{tree.commune.id}-' not in page  # their own row is read-only
    assert "Còn thiếu 50" in page  # 120 - 70
    assert "Tỉnh An Giang" in page  # breadcrumbs

    response = client.post(f"/emulation/targets/{tree.commune.id}?period=2026-11", data={
        f"c-t{place.team_a.id}-{place.vneid.id}": "70", f"c-t{place.team_b.id}-{place.vneid.id}": "50",
        f"c-t{place.commune_team.id}-{place.vneid.id}": "",
    })
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Khớp" in page and "1 ô thay đổi" in page

    response = client.post(f"/emulation/targets/{tree.commune.id}?period=2026-11", data={
        f"c-t{place.team_a.id}-{place.vneid.id}": "80", f"c-t{place.team_b.id}-{place.vneid.id}": "nhiều",
    })
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "không phải số nguyên" in page and 'value="nhiều"' in page and 'value="80"' in page
    assert flashes(page)
    assert targets_of(NOV, [t(place.team_a), t(place.team_b)]) == {
        (f"t{place.team_a.id}", place.vneid.id): 70, (f"t{place.team_b.id}", place.vneid.id): 50}


def test_grid_refuses_outsiders_and_crafted_rows(place, login, client, session):
    tree = place.tree
    login(place.other_officer)
    assert client.get(f"/emulation/targets/{tree.commune.id}").status_code == 403
    client.post("/logout")
    login(place.member)
    assert client.get(f"/emulation/targets/{tree.commune.id}").status_code == 403
    assert client.get("/emulation/targets/").status_code == 403
    client.post("/logout")
    login(place.officer)
    response = client.post(f"/emulation/targets/{tree.commune.id}?period=2026-11",
                           data={f"c-u{tree.commune.id}-{place.vneid.id}": "999"})
    assert response.status_code == 403 and count(session) == 0
    assert client.get(f"/emulation/targets/{tree.commune.id}?period=2026-13").status_code == 404


def test_admin_sets_the_province_and_navigates_down(place, login, client, session):
    tree = place.tree
    login(place.admin)
    response = client.get("/emulation/targets/?period=2026-Q4")
    assert response.status_code == 302  # one province: straight to it
    assert response.headers["Location"].endswith(f"/emulation/targets/{tree.province.id}?period=2026-Q4")
    page = client.get(f"/emulation/targets/{tree.province.id}?period=2026-Q4").get_data(as_text=True)
    assert f'name="c-u{tree.province.id}-{place.vneid.id}"' in page
    assert f'href="/emulation/targets/{tree.commune.id}?period=2026-Q4"' in page
    assert "Quý 4/2026" in page
    client.post(f"/emulation/targets/{tree.province.id}?period=2026-Q4", data={
        f"c-u{tree.province.id}-{place.vneid.id}": "3000", f"c-u{tree.commune.id}-{place.vneid.id}": "1000"})
    assert targets_of(Period.parse("2026-Q4"), [u(tree.province), u(tree.commune)]) == {
        (f"u{tree.province.id}", place.vneid.id): 3000, (f"u{tree.commune.id}", place.vneid.id): 1000}
    page = client.get(f"/emulation/targets/{tree.province.id}?period=2026-Q4").get_data(as_text=True)
    assert re.search(r"Còn thiếu 2000", page)
