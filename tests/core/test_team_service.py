"""Team rules (core.teams.service): names, size limits, roles, joining and leaving with history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core.accounts.models import User
from core.accounts.roles import RoleCode
from core.errors import PermissionDenied, ValidationError
from core.signals import membership_changed
from core.teams import service as teams
from core.teams.models import Membership, MembershipStatus, TeamRole


def test_default_name_of_a_hamlet_team_names_its_commune(make):
    tree = make.tree()
    assert teams.default_team_name(tree.hamlet) == "Tổ CNSCĐ Ấp Phước Lợi – Xã Châu Thành"
    assert teams.default_team_name(tree.commune) == "Tổ CNSCĐ Xã Châu Thành"
    assert teams.default_team_name(tree.enterprise) == "Tổ CNSCĐ Công ty May Kiên Giang"
    assert teams.create_team(tree.hamlet).name == "Tổ CNSCĐ Ấp Phước Lợi – Xã Châu Thành"
    assert teams.create_team(tree.hamlet, "  Tổ   số 2 ").name == "Tổ số 2"


def test_teams_belong_to_hamlets_communes_or_enterprises_only(make):
    tree = make.tree()
    for unit in (tree.hamlet, tree.commune, tree.other_commune, tree.enterprise):
        teams.create_team(unit)
    for unit in (tree.province, tree.district):
        with pytest.raises(ValidationError) as caught:
            teams.create_team(unit)
        assert caught.value.field == "unit_id"


def test_duplicate_team_name_in_a_unit_is_refused_whatever_the_case(make):
    tree = make.tree()
    teams.create_team(tree.hamlet)
    with pytest.raises(ValidationError) as caught:
        teams.create_team(tree.hamlet, "TỔ CNSCĐ ẤP PHƯỚC LỢI – XÃ CHÂU THÀNH")
    assert caught.value.field == "name" and "đã có tổ tên" in caught.value.message


def test_group_link_must_be_a_web_address(make):
    tree = make.tree()
    with pytest.raises(ValidationError) as caught:
        teams.create_team(tree.hamlet, group_link="zalo nhóm ấp")
    assert caught.value.field == "group_link"
    team = teams.create_team(tree.hamlet, group_link=" https://zalo.me/g/abc123 ")
    assert team.group_link == "https://zalo.me/g/abc123"


def test_the_member_after_the_limit_is_refused_with_the_limit_from_config(make, app, monkeypatch):
    tree = make.tree()
    team = make.team(tree.hamlet)
    make.fill(team, 10)
    with pytest.raises(ValidationError) as caught:
        make.member(team, full_name="Người thứ mười một")
    assert caught.value.field == "phone"
    assert caught.value.message == "Tổ đã đủ 10 thành viên đang hoạt động; không thể thêm người nữa."
    assert teams.active_count(team) == 10

    small = make.team(tree.hamlet2)
    monkeypatch.setitem(app.config, "TEAM_MAX_MEMBERS", 4)
    make.fill(small, 4)
    with pytest.raises(ValidationError) as caught:
        make.member(small)
    assert "đủ 4 thành viên" in caught.value.message


def test_a_place_freed_by_leaving_can_be_taken(make, app, monkeypatch):
    monkeypatch.setitem(app.config, "TEAM_MAX_MEMBERS", 2)
    team = make.team(make.tree().hamlet)
    first, _second = make.fill(team, 2)
    teams.remove_member(first, actor=first.user)
    make.member(team)
    assert teams.active_count(team) == 2


def test_a_second_leader_or_deputy_is_refused(make):
    team = make.team(make.tree().hamlet)
    make.member(team, TeamRole.LEADER, full_name="Võ Văn Trưởng")
    make.member(team, TeamRole.DEPUTY, full_name="Phan Thị Phó")
    with pytest.raises(ValidationError) as caught:
        make.member(team, TeamRole.LEADER)
    assert caught.value.field == "role"
    assert caught.value.message == "Tổ đã có tổ trưởng là Võ Văn Trưởng; mỗi tổ chỉ có một tổ trưởng."
    with pytest.raises(ValidationError) as caught:
        make.member(team, TeamRole.DEPUTY)
    assert "Phan Thị Phó" in caught.value.message


def test_change_role_keeps_one_leader(make):
    team = make.team(make.tree().hamlet)
    leader = make.member(team, TeamRole.LEADER)
    member = make.member(team)
    with pytest.raises(ValidationError):
        teams.change_role(member, TeamRole.LEADER)
    teams.change_role(leader, TeamRole.MEMBER)
    teams.change_role(member, TeamRole.LEADER)
    teams.change_role(member, TeamRole.LEADER)  # keeping one's own role is not a second leader
    assert [m.role for m in teams.active_memberships(team)][0] == TeamRole.LEADER


@pytest.mark.parametrize("role", [TeamRole.LEADER, TeamRole.DEPUTY])
def test_the_database_refuses_a_second_leader_or_deputy(make, session, role):
    """The partial unique indexes hold even when a service check is bypassed (e.g. a race)."""
    team = make.team(make.tree().hamlet)
    make.member(team, role)
    intruder = make.user(RoleCode.MEMBER, team.unit)
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(Membership(team=team, user=intruder, role=role, status=MembershipStatus.ACTIVE))
        session.flush()
    # Past leaders do not count: a leader who left may be followed by a new one.
    with session.begin_nested():
        session.add(Membership(team=team, user=intruder, role=role, status=MembershipStatus.LEFT))
        session.flush()


def test_the_database_refuses_a_person_active_in_two_teams(make, session):
    tree = make.tree()
    membership = make.member(make.team(tree.hamlet))
    other = make.team(tree.hamlet2)
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(Membership(team=other, user=membership.user, status=MembershipStatus.ACTIVE))
        session.flush()


def test_a_person_active_in_one_team_cannot_join_another(make):
    tree = make.tree()
    membership = make.member(make.team(tree.hamlet), full_name="Lâm Thị Cúc")
    other = make.team(tree.hamlet2)
    with pytest.raises(ValidationError) as caught:
        teams.add_member(other, membership.user)
    assert caught.value.field == "phone"
    assert caught.value.message == (
        "Lâm Thị Cúc đang là thành viên của “Tổ CNSCĐ Ấp Phước Lợi – Xã Châu Thành”; cần rời tổ đó trước."
    )
    with pytest.raises(ValidationError) as caught:
        teams.add_member(membership.team, membership.user)
    assert "đã là thành viên của tổ này" in caught.value.message
    with pytest.raises(ValidationError):
        teams.request_to_join(other, membership.user)


def test_join_request_then_approve(make):
    tree = make.tree()
    team = make.team(tree.hamlet)
    leader = make.member(team, TeamRole.LEADER).user
    person = make.user(RoleCode.MEMBER, tree.hamlet2, full_name="Đặng Văn Mới")
    request = teams.request_to_join(team, person)
    assert request.status == MembershipStatus.PENDING and request.joined_at is None
    assert teams.request_to_join(team, person) is request  # asking twice is one request
    assert teams.pending_requests(team) == [request]
    assert teams.active_count(team) == 1
    assert teams.team_on(person, datetime.now(UTC)) is None  # not in a team while pending

    teams.approve_request(request, leader)
    assert request.status == MembershipStatus.ACTIVE
    assert request.joined_at is not None and request.decided_by_id == leader.id
    assert teams.active_membership_of(person) is request
    assert teams.pending_requests(team) == []
    with pytest.raises(ValidationError) as caught:
        teams.approve_request(request, leader)
    assert caught.value.message == "Yêu cầu này đã được xử lý."


def test_a_rejected_request_leaves_the_person_free(make):
    tree = make.tree()
    team = make.team(tree.hamlet)
    person = make.user(RoleCode.MEMBER, tree.hamlet)
    request = teams.request_to_join(team, person)
    teams.reject_request(request, make.admin())
    assert request.status == MembershipStatus.REJECTED
    assert teams.active_membership_of(person) is None
    assert teams.request_to_join(team, person) is not request  # may ask again


def test_approve_is_refused_when_the_team_filled_up_meanwhile(make, app, monkeypatch):
    monkeypatch.setitem(app.config, "TEAM_MAX_MEMBERS", 2)
    tree = make.tree()
    team = make.team(tree.hamlet)
    make.member(team)
    request = teams.request_to_join(team, make.user(RoleCode.MEMBER, tree.hamlet))
    make.member(team)
    with pytest.raises(ValidationError) as caught:
        teams.approve_request(request, make.admin())
    assert "đủ 2 thành viên" in caught.value.message
    assert request.status == MembershipStatus.PENDING
    with pytest.raises(ValidationError):  # and a new request to a full team is refused at once
        teams.request_to_join(team, make.user(RoleCode.MEMBER, tree.hamlet))


def test_people_ask_to_join_teams_of_their_commune_only(make):
    tree = make.tree()
    in_hamlet2 = make.user(RoleCode.MEMBER, tree.hamlet2)
    assert teams.join_area(in_hamlet2) is tree.commune
    neighbour = make.team(tree.hamlet)  # the next hamlet of the same commune
    assert teams.can_request_to_join(in_hamlet2, neighbour)
    assert teams.can_view_team(in_hamlet2, neighbour)
    far = make.team(tree.other_hamlet)
    assert not teams.can_request_to_join(in_hamlet2, far)
    assert not teams.can_view_team(in_hamlet2, far)
    with pytest.raises(PermissionDenied):
        teams.request_to_join(far, in_hamlet2)


def test_leaving_keeps_history(make, session):
    tree = make.tree()
    team = make.team(tree.hamlet)
    leader = make.member(team, TeamRole.LEADER).user
    membership = make.member(team, full_name="Hồ Văn Rời")
    teams.remove_member(membership, actor=leader)
    assert session.get(Membership, membership.id) is membership  # not deleted
    assert membership.status == MembershipStatus.LEFT
    assert membership.left_at is not None and membership.left_at >= membership.joined_at
    assert teams.past_memberships(team) == [membership]
    assert teams.active_count(team) == 1
    with pytest.raises(ValidationError):
        teams.remove_member(membership, actor=leader)
    # Leaving frees the person to join another team.
    again = teams.add_member(make.team(tree.hamlet2), membership.user)
    assert again.id != membership.id


def test_team_on_a_past_date(make):
    tree = make.tree()
    first, second = make.team(tree.hamlet), make.team(tree.hamlet2)
    person = make.user(RoleCode.MEMBER, tree.hamlet)
    stint = teams.add_member(first, person)
    january, march, may = (datetime(2025, month, 1, tzinfo=UTC) for month in (1, 3, 5))
    stint.joined_at = january
    teams.remove_member(stint, actor=person)
    stint.left_at = march
    later = teams.add_member(second, person)
    later.joined_at = march + timedelta(days=1)
    assert teams.team_on(person, january - timedelta(days=1)) is None
    assert teams.team_on(person, january) is first
    assert teams.team_on(person, datetime(2025, 2, 14, tzinfo=UTC)) is first
    assert teams.team_on(person, march) is None  # the day between the two teams
    assert teams.team_on(person, may) is second


def test_below_minimum_warning(make, app, monkeypatch):
    team = make.team(make.tree().hamlet)
    make.fill(team, 2)
    status = teams.size_status(team)
    assert status.count == 2 and status.minimum == 3 and status.below_minimum and not status.full
    make.member(team)
    assert not teams.size_status(team).below_minimum
    monkeypatch.setitem(app.config, "TEAM_MIN_MEMBERS", 5)
    assert teams.size_status(team).below_minimum


def test_member_counts_in_one_query(make):
    tree = make.tree()
    a, b, empty = make.team(tree.hamlet), make.team(tree.hamlet2), make.team(tree.commune)
    make.fill(a, 3)
    left = make.fill(b, 2)[0]
    teams.remove_member(left, actor=left.user)
    assert teams.member_counts([a.id, b.id, empty.id]) == {a.id: 3, b.id: 1}
    assert teams.member_counts([]) == {}


def test_add_member_by_phone_finds_or_creates_the_person(make, session):
    tree = make.tree()
    team = make.team(tree.hamlet)
    known = make.user(RoleCode.MEMBER, tree.hamlet2, full_name="Cao Thị Quen")
    membership = teams.add_member_by_phone(team, "+84 " + known.phone[1:], None, TeamRole.DEPUTY)
    assert membership.user is known and membership.role == TeamRole.DEPUTY

    with pytest.raises(ValidationError) as caught:
        teams.add_member_by_phone(team, "0987 654 321", "  ")
    assert caught.value.field == "full_name"
    assert session.scalar(select(func.count()).where(User.phone == "0987654321")) == 0

    created = teams.add_member_by_phone(team, "0987.654.321", "Mai Văn Mới").user
    assert (created.phone, created.full_name, created.role_code) == ("0987654321", "Mai Văn Mới", "member")
    assert created.unit is tree.hamlet and created.password_hash is None

    with pytest.raises(ValidationError) as caught:
        teams.add_member_by_phone(team, "0283 812 3456", "Số Bàn")
    assert caught.value.field == "phone"


def test_add_member_by_phone_creates_no_account_for_a_full_team(make, app, monkeypatch, session):
    monkeypatch.setitem(app.config, "TEAM_MAX_MEMBERS", 1)
    team = make.team(make.tree().hamlet)
    make.member(team)
    with pytest.raises(ValidationError):
        teams.add_member_by_phone(team, "0987654322", "Người Thừa")
    assert session.scalar(select(func.count()).where(User.phone == "0987654322")) == 0


def test_an_inactive_account_is_not_added(make):
    team = make.team(make.tree().hamlet)
    person = make.user(RoleCode.MEMBER, team.unit)
    person.active = False
    with pytest.raises(ValidationError) as caught:
        teams.add_member_by_phone(team, person.phone)
    assert caught.value.field == "phone" and "đang bị khóa" in caught.value.message


def test_dissolving_a_team_closes_memberships_and_keeps_them(make):
    tree = make.tree()
    team = make.team(tree.hamlet)
    officer = make.user(RoleCode.OFFICER, tree.commune)
    stays = make.fill(team, 2)
    waiting = teams.request_to_join(team, make.user(RoleCode.MEMBER, tree.hamlet))
    sent: list[Membership] = []

    def record(membership: Membership) -> None:
        sent.append(membership)

    with membership_changed.connected_to(record):  # rankings hear that these people left
        teams.dissolve_team(team, officer)
    assert sorted(sent, key=lambda m: m.id) == sorted(stays, key=lambda m: m.id)
    assert not team.active
    assert {m.status for m in stays} == {MembershipStatus.LEFT}
    assert waiting.status == MembershipStatus.REJECTED
    assert teams.past_memberships(team) == sorted(stays, key=lambda m: -m.id)
    with pytest.raises(ValidationError):
        make.member(team)
    with pytest.raises(ValidationError):
        teams.dissolve_team(team, officer)
    assert teams.can_dissolve_team(officer, team)
    assert not teams.can_dissolve_team(stays[0].user, team)


def test_list_teams_search_is_accent_insensitive_and_scoped(make):
    tree = make.tree()
    mine = make.team(tree.hamlet)
    make.team(tree.hamlet2)
    make.team(tree.other_hamlet)
    officer = make.user(RoleCode.OFFICER, tree.commune)
    assert teams.list_teams(officer).total == 2
    for query in ("phuoc loi", "PHƯỚC LỢI", "Phuoc  Loi", "cnscd ap phuoc"):
        assert teams.list_teams(officer, query).items == [mine], query
    assert teams.list_teams(officer, "khu pho 1").total == 0  # the other commune's team
    assert teams.list_teams(make.admin(), "khu pho 1").total == 1
    assert teams.list_teams(officer, unit=tree.hamlet2).total == 1


def test_list_teams_pages(make):
    tree = make.tree()
    for i in range(7):
        make.team(tree.commune, f"Tổ số {i + 1}")
    admin = make.admin()
    first = teams.list_teams(admin, page=1, per_page=3)
    assert (first.total, first.pages, len(first.items), first.has_next) == (7, 3, 3, True)
    last = teams.list_teams(admin, page=99, per_page=3)  # a stale link shows the last page
    assert last.page == 3 and len(last.items) == 1 and not last.has_next
    searched = teams.list_teams(admin, "to so", page=2, per_page=3)
    assert searched.total == 7 and [t.name for t in searched.items] == ["Tổ số 4", "Tổ số 5", "Tổ số 6"]
