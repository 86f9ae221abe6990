"""Team screens: list, create, the team page, roster changes, join requests."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select

from core.accounts.models import User
from core.accounts.roles import RoleCode
from core.extensions import db
from core.teams.models import Membership, MembershipStatus, Team, TeamRole
from tests.factories import field_errors, flashes


def count(session, column) -> int:
    return session.scalar(select(func.count(column)))


class QueryCounter:
    """Counts the statements the app sends while a request runs (to catch N+1 lists)."""

    def __init__(self) -> None:
        self.statements = 0

    def __call__(self, *_args: object) -> None:
        self.statements += 1

    def __enter__(self) -> QueryCounter:
        event.listen(db.engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(db.engine, "before_cursor_execute", self)


# --- list -------------------------------------------------------------------------------------


def test_officer_lists_the_teams_of_their_commune_only(make, login, client):
    tree = make.tree()
    make.fill(make.team(tree.hamlet), 2)
    make.team(tree.hamlet2)
    make.team(tree.other_hamlet, "Tổ Khu phố 1")
    login(make.user(RoleCode.OFFICER, tree.commune))
    page = client.get("/teams/").get_data(as_text=True)
    assert "Tổ CNSCĐ Ấp Phước Lợi – Xã Châu Thành" in page and "Tổ CNSCĐ Ấp Tân Hòa – Xã Châu Thành" in page
    assert "Tổ Khu phố 1" not in page
    assert "2/10" in page and "Chưa đủ 3 người" in page
    assert "2 tổ" in page


def test_search_is_accent_insensitive(make, login, client):
    tree = make.tree()
    make.team(tree.hamlet)
    make.team(tree.hamlet2)
    login(make.admin())
    page = client.get("/teams/?q=phuoc+loi").get_data(as_text=True)
    assert "Tổ CNSCĐ Ấp Phước Lợi – Xã Châu Thành" in page and "Ấp Tân Hòa" not in page
    assert 'value="phuoc loi"' in page


def test_unit_filter_must_be_in_scope(make, login, client):
    tree = make.tree()
    make.team(tree.hamlet)
    make.team(tree.hamlet2)
    login(make.user(RoleCode.OFFICER, tree.commune))
    page = client.get(f"/teams/?unit_id={tree.hamlet2.id}").get_data(as_text=True)
    assert "Ấp Tân Hòa – Xã Châu Thành" in page and "Ấp Phước Lợi – Xã Châu Thành" not in page
    assert f'<option value="{tree.hamlet2.id}" selected>' in page  # the filter stays visible
    assert client.get(f"/teams/?unit_id={tree.other_commune.id}").status_code == 403
    assert client.get("/teams/?unit_id=999999").status_code == 404


def test_the_list_pages_and_keeps_its_filters(make, login, client):
    tree = make.tree()
    for i in range(27):
        make.team(tree.commune, f"Tổ số {i + 1:02d}")
    login(make.admin())
    first = client.get("/teams/?q=to+so").get_data(as_text=True)
    assert "Tổ số 01" in first and "Tổ số 25" in first and "Tổ số 26" not in first
    assert "Trang 1 / 2" in first and 'href="/teams/?page=2&amp;q=to+so"' in first
    second = client.get("/teams/?q=to+so&page=2").get_data(as_text=True)
    assert "Tổ số 26" in second and "Tổ số 27" in second and "Tổ số 01" not in second


def test_the_list_does_not_query_per_team(make, login, client):
    tree = make.tree()
    login(make.admin())

    def statements() -> int:
        with QueryCounter() as counter:
            assert client.get("/teams/").status_code == 200
        return counter.statements

    make.fill(make.team(tree.hamlet), 2)
    few = statements()
    for unit in (tree.hamlet2, tree.other_hamlet, tree.district_hamlet, tree.enterprise, tree.commune):
        make.fill(make.team(unit), 3)
    assert statements() == few


def test_a_member_without_a_team_sees_the_teams_of_their_commune(make, login, client):
    tree = make.tree()
    make.team(tree.hamlet)
    make.team(tree.other_hamlet, "Tổ Khu phố 1")
    login(make.user(RoleCode.MEMBER, tree.hamlet2))
    page = client.get("/teams/").get_data(as_text=True)
    assert "Các tổ trong Xã Châu Thành" in page
    assert "Tổ CNSCĐ Ấp Phước Lợi – Xã Châu Thành" in page and "Tổ Khu phố 1" not in page
    assert "Lập tổ mới" not in page
    assert client.get(f"/teams/?unit_id={tree.other_commune.id}").status_code == 200  # filter ignored


# --- create -----------------------------------------------------------------------------------


def test_create_form_prefills_the_default_name(make, login, client):
    tree = make.tree()
    login(make.user(RoleCode.OFFICER, tree.commune))
    page = client.get(f"/teams/new?unit_id={tree.hamlet.id}").get_data(as_text=True)
    assert 'value="Tổ CNSCĐ Ấp Phước Lợi – Xã Châu Thành"' in page
    assert "Khu phố 1" not in page and "Tỉnh An Giang" not in page  # choices are in scope, team holders


def test_officer_creates_a_team_with_the_default_name(make, login, client, session):
    tree = make.tree()
    login(make.user(RoleCode.OFFICER, tree.commune))
    response = client.post(
        "/teams/new", data={"unit_id": tree.hamlet2.id, "name": "", "group_link": "https://zalo.me/g/tanhoa"}
    )
    assert response.status_code == 302
    team = session.scalar(select(Team).where(Team.unit_id == tree.hamlet2.id))
    assert team.name == "Tổ CNSCĐ Ấp Tân Hòa – Xã Châu Thành" and team.group_link == "https://zalo.me/g/tanhoa"
    assert response.headers["Location"].endswith(f"/teams/{team.id}")


@pytest.mark.parametrize(
    ("unit", "data", "field", "message"),
    [
        ("other_hamlet", {}, "unit_id", "Hãy chọn một đơn vị trong phạm vi của bạn."),
        ("province", {}, "unit_id", "Hãy chọn một đơn vị trong phạm vi của bạn."),
        (None, {}, "unit_id", "Hãy chọn một đơn vị trong phạm vi của bạn."),
        ("hamlet2", {"group_link": "nhóm zalo"}, "group_link", "https://"),
        ("hamlet", {"name": "tổ cnscđ ấp phước lợi – xã châu thành"}, "name", "đã có tổ tên"),
    ],
)
def test_bad_team_input_shows_the_field_message_and_writes_nothing(
    make, login, client, session, unit, data, field, message
):
    tree = make.tree()
    make.team(tree.hamlet)
    login(make.user(RoleCode.OFFICER, tree.commune))
    before = count(session, Team.id)
    response = client.post("/teams/new", data={"unit_id": getattr(tree, unit).id if unit else 0, **data})
    assert response.status_code == 200
    errors = field_errors(response.get_data(as_text=True), field)
    assert any(message in e for e in errors), errors
    assert count(session, Team.id) == before


def test_members_cannot_create_teams(make, login, client):
    tree = make.tree()
    login(make.user(RoleCode.MEMBER, tree.hamlet))
    assert client.post("/teams/new", data={"unit_id": tree.hamlet.id}).status_code == 403


# --- team page --------------------------------------------------------------------------------


def test_team_page_for_a_manager(make, login, client):
    tree = make.tree()
    team = make.team(tree.hamlet)
    leader = make.member(team, TeamRole.LEADER, full_name="Võ Văn Trưởng")
    deputy = make.member(team, TeamRole.DEPUTY, full_name="Phan Thị Phó")
    gone = make.member(team, full_name="Hồ Văn Rời")
    from core.teams import service as teams

    teams.remove_member(gone, actor=leader.user)
    login(make.user(RoleCode.OFFICER, tree.commune))
    page = client.get(f"/teams/{team.id}").get_data(as_text=True)
    assert "Võ Văn Trưởng" in page and "Tổ trưởng" in page and "Phan Thị Phó" in page and "Tổ phó" in page
    assert leader.user.phone in page and deputy.user.phone in page
    assert "Chưa đủ tối thiểu 3 người" in page
    assert "Thành viên đã rời tổ" in page and "Hồ Văn Rời" in page
    assert "Thêm thành viên" in page and "Giải thể tổ" in page and "Ấp Phước Lợi" in page


def test_plain_members_see_the_roster_without_phone_numbers(make, login, client):
    tree = make.tree()
    team = make.team(tree.hamlet, )
    team.group_link = "https://zalo.me/g/phuocloi"
    leader = make.member(team, TeamRole.LEADER)
    me = make.member(team)
    login(me.user)
    page = client.get(f"/teams/{team.id}").get_data(as_text=True)
    assert leader.user.full_name in page and leader.user.phone not in page
    assert "https://zalo.me/g/phuocloi" in page
    assert "Thêm thành viên" not in page and "Xin tham gia" not in page


def test_team_pages_outside_scope_are_refused(make, login, client):
    tree = make.tree()
    beside = make.team(tree.other_hamlet)
    login(make.user(RoleCode.OFFICER, tree.commune))
    assert client.get(f"/teams/{beside.id}").status_code == 403
    assert client.get(f"/teams/{beside.id}/edit").status_code == 403
    assert client.get(f"/teams/{beside.id}/members/new").status_code == 403
    assert client.post(f"/teams/{beside.id}/dissolve").status_code == 403
    assert client.get("/teams/999999").status_code == 404


def test_a_member_of_another_commune_cannot_see_the_team(make, login, client):
    tree = make.tree()
    team = make.team(tree.hamlet)
    login(make.user(RoleCode.MEMBER, tree.other_hamlet))
    assert client.get(f"/teams/{team.id}").status_code == 403
    assert client.post(f"/teams/{team.id}/join").status_code == 403


# --- roster changes ---------------------------------------------------------------------------


def test_leader_adds_an_existing_person_by_phone(make, login, client, session):
    tree = make.tree()
    team = make.team(tree.hamlet)
    leader = make.member(team, TeamRole.LEADER)
    person = make.user(RoleCode.MEMBER, tree.hamlet2, full_name="Cao Thị Quen")
    login(leader.user)
    response = client.post(
        f"/teams/{team.id}/members/new", data={"phone": "+84 " + person.phone[1:], "role": "deputy"},
        follow_redirects=True,
    )
    assert "Đã thêm Cao Thị Quen vào tổ." in flashes(response.get_data(as_text=True), "success")
    membership = session.scalar(select(Membership).where(Membership.user_id == person.id))
    assert (membership.team_id, membership.role, membership.status) == (team.id, "deputy", "active")
    assert membership.decided_by_id == leader.user_id


def test_officer_adds_a_new_person(make, login, client, session):
    tree = make.tree()
    team = make.team(tree.hamlet)
    login(make.user(RoleCode.OFFICER, tree.commune))
    response = client.post(
        f"/teams/{team.id}/members/new", data={"phone": "0987 654 321", "full_name": "Mai Văn Mới", "role": "member"}
    )
    assert response.status_code == 302
    person = session.scalar(select(User).where(User.phone == "0987654321"))
    assert person.full_name == "Mai Văn Mới" and person.unit_id == tree.hamlet.id


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"phone": "0283 812 3456", "full_name": "Số Bàn"}, "phone", "cần số di động Việt Nam 10 chữ số"),
        ({"phone": "", "full_name": "Không Số"}, "phone", "Chưa nhập số điện thoại."),
        ({"phone": "0987654321", "full_name": ""}, "full_name", "hãy nhập họ và tên"),
        ({"phone": "0987654321", "full_name": "Trưởng Hai", "role": "leader"}, "role", "mỗi tổ chỉ có một tổ trưởng"),
        ({"phone": "0987654321", "full_name": "Vai Lạ", "role": "boss"}, "role", "Lựa chọn không hợp lệ."),
    ],
)
def test_bad_member_input_shows_the_field_message_and_writes_nothing(
    make, login, client, session, data, field, message
):
    tree = make.tree()
    team = make.team(tree.hamlet)
    leader = make.member(team, TeamRole.LEADER)
    login(leader.user)
    users_before, memberships_before = count(session, User.id), count(session, Membership.id)
    response = client.post(f"/teams/{team.id}/members/new", data={"role": "member", **data})
    assert response.status_code == 200
    errors = field_errors(response.get_data(as_text=True), field)
    assert any(message in e for e in errors), errors
    assert (count(session, User.id), count(session, Membership.id)) == (users_before, memberships_before)


def test_an_eleventh_member_is_refused(make, login, client, session):
    tree = make.tree()
    team = make.team(tree.hamlet)
    make.fill(team, 10)
    person = make.user(RoleCode.MEMBER, tree.hamlet)
    login(make.user(RoleCode.OFFICER, tree.commune))
    form = client.get(f"/teams/{team.id}/members/new").get_data(as_text=True)
    assert "Tổ đã đủ 10 thành viên" in form  # warned before trying
    response = client.post(f"/teams/{team.id}/members/new", data={"phone": person.phone, "role": "member"})
    (error,) = field_errors(response.get_data(as_text=True), "phone")
    assert error == "Tổ đã đủ 10 thành viên đang hoạt động; không thể thêm người nữa."
    assert session.scalar(select(func.count()).where(Membership.user_id == person.id)) == 0


def test_a_person_already_in_another_team_is_refused(make, login, client):
    tree = make.tree()
    busy = make.member(make.team(tree.hamlet2), full_name="Lâm Thị Cúc")
    team = make.team(tree.hamlet)
    login(make.user(RoleCode.OFFICER, tree.commune))
    response = client.post(f"/teams/{team.id}/members/new", data={"phone": busy.user.phone, "role": "member"})
    assert "Lâm Thị Cúc đang là thành viên của" in field_errors(response.get_data(as_text=True), "phone")[0]


def test_change_role_and_the_second_leader_message(make, login, client, session):
    tree = make.tree()
    team = make.team(tree.hamlet)
    leader = make.member(team, TeamRole.LEADER, full_name="Võ Văn Trưởng")
    member = make.member(team)
    login(leader.user)
    refused = client.post(f"/teams/{team.id}/members/{member.id}/role", data={"role": "leader"}, follow_redirects=True)
    message = "Tổ đã có tổ trưởng là Võ Văn Trưởng; mỗi tổ chỉ có một tổ trưởng."
    assert message in flashes(refused.get_data(as_text=True))
    client.post(f"/teams/{team.id}/members/{member.id}/role", data={"role": "deputy"})
    session.expire_all()
    assert session.get(Membership, member.id).role == TeamRole.DEPUTY
    assert client.post(f"/teams/{team.id}/members/{member.id}/role", data={"role": "boss"}).status_code == 302
    session.expire_all()
    assert session.get(Membership, member.id).role == TeamRole.DEPUTY


def test_remove_a_member_keeps_history(make, login, client, session):
    tree = make.tree()
    team = make.team(tree.hamlet)
    leader = make.member(team, TeamRole.LEADER)
    member = make.member(team, full_name="Hồ Văn Rời")
    login(leader.user)
    page = client.post(f"/teams/{team.id}/members/{member.id}/remove", follow_redirects=True).get_data(as_text=True)
    assert "Hồ Văn Rời đã rời tổ; lịch sử tham gia vẫn được giữ." in flashes(page, "success")
    assert "Thành viên đã rời tổ" in page
    session.expire_all()
    stint = session.get(Membership, member.id)
    assert stint.status == MembershipStatus.LEFT and stint.left_at is not None
    # Removing again, or a membership of another team, is not found.
    assert client.post(f"/teams/{team.id}/members/{member.id}/remove").status_code == 404
    other = make.member(make.team(tree.hamlet2))
    assert client.post(f"/teams/{team.id}/members/{other.id}/remove").status_code == 404


def test_a_leader_cannot_manage_another_team_and_a_member_cannot_manage_theirs(make, login, client):
    tree = make.tree()
    team = make.team(tree.hamlet)
    other = make.team(tree.hamlet2)
    target = make.member(other)
    leader = make.member(team, TeamRole.LEADER)
    login(leader.user)
    assert client.get(f"/teams/{other.id}/members/new").status_code == 403
    assert client.post(f"/teams/{other.id}/members/{target.id}/remove").status_code == 403
    assert client.post(f"/teams/{team.id}/dissolve").status_code == 403  # staff only
    client.post("/logout")
    member = make.member(team)
    login(member.user)
    assert client.get(f"/teams/{team.id}/edit").status_code == 403
    assert client.post(f"/teams/{team.id}/members/{member.id}/role", data={"role": "leader"}).status_code == 403


def test_edit_team(make, login, client, session):
    tree = make.tree()
    team = make.team(tree.hamlet)
    leader = make.member(team, TeamRole.LEADER)
    login(leader.user)
    bad = client.post(f"/teams/{team.id}/edit", data={"name": "Tổ Mới", "group_link": "zalo"})
    assert "https://" in field_errors(bad.get_data(as_text=True), "group_link")[0]
    session.expire_all()
    assert session.get(Team, team.id).name == "Tổ CNSCĐ Ấp Phước Lợi – Xã Châu Thành"
    empty = client.post(f"/teams/{team.id}/edit", data={"name": " ", "group_link": ""})
    assert field_errors(empty.get_data(as_text=True), "name") == ["Chưa nhập tên tổ."]
    client.post(f"/teams/{team.id}/edit", data={"name": "Tổ Phước Lợi", "group_link": "https://zalo.me/g/pl"})
    session.expire_all()
    assert (session.get(Team, team.id).name, session.get(Team, team.id).group_link) == (
        "Tổ Phước Lợi", "https://zalo.me/g/pl",
    )


# --- join requests ----------------------------------------------------------------------------


def test_ask_to_join_then_the_leader_approves(make, login, client, session):
    tree = make.tree()
    team = make.team(tree.hamlet)
    leader = make.member(team, TeamRole.LEADER)
    person = make.user(RoleCode.MEMBER, tree.hamlet2, full_name="Đặng Văn Mới")
    login(person)
    page = client.get(f"/teams/{team.id}").get_data(as_text=True)
    assert "Xin tham gia tổ" in page
    asked = client.post(f"/teams/{team.id}/join", follow_redirects=True).get_data(as_text=True)
    assert "Đã gửi yêu cầu tham gia" in asked and "đang chờ duyệt" in asked
    request = session.scalar(select(Membership).where(Membership.user_id == person.id))
    assert request.status == MembershipStatus.PENDING
    client.post("/logout")

    login(leader.user)
    page = client.get(f"/teams/{team.id}").get_data(as_text=True)
    assert "Yêu cầu tham gia đang chờ duyệt" in page and "Đặng Văn Mới" in page
    client.post(f"/teams/{team.id}/requests/{request.id}/approve")
    session.expire_all()
    assert session.get(Membership, request.id).status == MembershipStatus.ACTIVE
    assert client.post(f"/teams/{team.id}/requests/{request.id}/approve").status_code == 404  # decided


def test_reject_a_request(make, login, client, session):
    tree = make.tree()
    team = make.team(tree.hamlet)
    from core.teams import service as teams

    request = teams.request_to_join(team, make.user(RoleCode.MEMBER, tree.hamlet))
    login(make.user(RoleCode.OFFICER, tree.commune))
    client.post(f"/teams/{team.id}/requests/{request.id}/reject")
    session.expire_all()
    assert session.get(Membership, request.id).status == MembershipStatus.REJECTED


def test_approving_into_a_full_team_shows_why(make, login, client, session, app, monkeypatch):
    monkeypatch.setitem(app.config, "TEAM_MAX_MEMBERS", 2)
    tree = make.tree()
    team = make.team(tree.hamlet)
    from core.teams import service as teams

    leader = make.member(team, TeamRole.LEADER)
    request = teams.request_to_join(team, make.user(RoleCode.MEMBER, tree.hamlet))
    make.member(team)
    login(leader.user)
    page = client.post(f"/teams/{team.id}/requests/{request.id}/approve", follow_redirects=True)
    assert any("đủ 2 thành viên" in m for m in flashes(page.get_data(as_text=True)))
    session.expire_all()
    assert session.get(Membership, request.id).status == MembershipStatus.PENDING


def test_a_member_with_a_team_is_not_offered_to_join_another(make, login, client):
    tree = make.tree()
    mine = make.member(make.team(tree.hamlet))
    other = make.team(tree.hamlet2)
    login(mine.user)
    assert "Xin tham gia tổ" not in client.get(f"/teams/{other.id}").get_data(as_text=True)
    refused = client.post(f"/teams/{other.id}/join", follow_redirects=True).get_data(as_text=True)
    assert any("đang là thành viên của" in m for m in flashes(refused))


# --- dissolve ---------------------------------------------------------------------------------


def test_officer_dissolves_a_team(make, login, client, session):
    tree = make.tree()
    team = make.team(tree.hamlet)
    members = make.fill(team, 2)
    login(make.user(RoleCode.OFFICER, tree.commune))
    confirm = client.get(f"/teams/{team.id}/dissolve").get_data(as_text=True)
    assert "2 thành viên hiện có được ghi nhận rời tổ hôm nay" in confirm
    session.expire_all()
    assert session.get(Team, team.id).active  # asking is not doing
    page = client.post(f"/teams/{team.id}/dissolve", follow_redirects=True).get_data(as_text=True)
    assert "Đã giải thể" in page and "Thành viên đã rời tổ" in page
    session.expire_all()
    assert not session.get(Team, team.id).active
    assert {session.get(Membership, m.id).status for m in members} == {MembershipStatus.LEFT}
