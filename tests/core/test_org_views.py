"""Org tree screens: the tree in scope, the unit (commune) page, and the admin's changes."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.accounts.roles import RoleCode
from core.org.models import Unit
from core.teams.models import TeamRole
from tests.factories import field_errors, flashes


def unit_count(session) -> int:
    return session.scalar(select(func.count(Unit.id)))


def test_admin_sees_the_whole_tree_with_kinds_counts_and_inactive_units(make, login, client):
    tree = make.tree()
    make.team(tree.hamlet)
    make.team(tree.hamlet2)
    from core.org import service as org

    org.deactivate_unit(make.unit("Ấp Bỏ Hoang", "hamlet", tree.commune))
    login(make.admin())
    page = client.get("/units/").get_data(as_text=True)
    for name in ("Tỉnh An Giang", "Huyện Giồng Riềng", "Xã Thạnh Hưng", "Ấp Thạnh Lợi", "Công ty May Kiên Giang"):
        assert name in page
    assert "Tỉnh / Thành phố" in page and "Ấp / Khu phố / Thôn / Bản" in page and "Doanh nghiệp" in page
    assert "2 tổ" in page  # Xã Châu Thành's subtree
    assert '<li class="muted">' in page and "Ngừng hoạt động" in page
    assert 'href="/units/new"' in page


def test_officer_sees_only_their_commune_subtree(make, login, client):
    tree = make.tree()
    login(make.user(RoleCode.OFFICER, tree.commune))
    page = client.get("/units/").get_data(as_text=True)
    assert "Xã Châu Thành" in page and "Ấp Phước Lợi" in page and "Ấp Tân Hòa" in page
    for outside in ("Tỉnh An Giang", "Phường Rạch Giá", "Khu phố 1", "Huyện Giồng Riềng", "Xã Thạnh Hưng"):
        assert outside not in page
    assert 'href="/units/new"' not in page  # only admin changes the tree


def test_members_may_not_open_the_tree(make, login, client):
    tree = make.tree()
    login(make.user(RoleCode.MEMBER, tree.hamlet))
    assert client.get("/units/").status_code == 403
    assert client.get(f"/units/{tree.hamlet.id}").status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client, make):
    tree = make.tree()
    response = client.get(f"/units/{tree.commune.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_unit_pages_outside_scope_are_refused(make, login, client):
    tree = make.tree()
    login(make.user(RoleCode.ORGANISER, tree.district))
    assert client.get(f"/units/{tree.district_hamlet.id}").status_code == 200
    assert client.get(f"/units/{tree.commune.id}").status_code == 403  # beside
    assert client.get(f"/units/{tree.province.id}").status_code == 403  # above
    assert client.get("/units/999999").status_code == 404


def test_commune_page_lists_its_teams_with_member_counts_and_a_warning(make, login, client):
    tree = make.tree()
    small = make.team(tree.hamlet)
    make.member(small, TeamRole.LEADER)
    full = make.team(tree.hamlet2)
    make.fill(full, 10)
    make.team(tree.other_hamlet, "Tổ Khu phố 1")  # another commune's team
    officer = make.user(RoleCode.OFFICER, tree.commune)
    login(officer)
    page = client.get(f"/units/{tree.commune.id}").get_data(as_text=True)
    assert "Tổ CNSCĐ Ấp Phước Lợi – Xã Châu Thành" in page and "Tổ CNSCĐ Ấp Tân Hòa – Xã Châu Thành" in page
    assert "Tổ Khu phố 1" not in page
    assert "1/10" in page and "10/10" in page
    assert page.count("Chưa đủ 3 người") == 1
    assert "Đủ người" in page
    # The province above is named in the breadcrumbs but not linked for an officer.
    assert "Tỉnh An Giang" in page and f'href="/units/{tree.province.id}"' not in page
    assert f'href="/teams/new?unit_id={tree.commune.id}"' in page


def test_unit_page_shows_children_with_team_counts(make, login, client):
    tree = make.tree()
    make.team(tree.hamlet)
    login(make.admin())
    page = client.get(f"/units/{tree.province.id}").get_data(as_text=True)
    assert "Đơn vị cấp dưới" in page and "Xã Châu Thành" in page and "Huyện Giồng Riềng" in page
    assert f'href="/units/new?parent={tree.province.id}"' in page


def test_admin_creates_a_hamlet(make, login, client, session):
    tree = make.tree()
    login(make.admin())
    form = client.get(f"/units/new?parent={tree.commune.id}&kind=hamlet").get_data(as_text=True)
    assert f'<option selected value="{tree.commune.id}">' in form
    response = client.post(
        "/units/new", data={"name": " Ấp  Mới ", "kind": "hamlet", "parent": tree.commune.id, "code": "AG-99"}
    )
    assert response.status_code == 302
    unit = session.scalar(select(Unit).where(Unit.name == "Ấp Mới"))
    assert unit.parent_id == tree.commune.id and unit.code == "AG-99"
    assert unit.path == f"{tree.commune.path}{unit.id}/"
    assert response.headers["Location"].endswith(f"/units/{unit.id}")


def test_admin_creates_a_province(make, login, client, session):
    login(make.admin())
    response = client.post("/units/new", data={"name": "Tỉnh Cà Mau", "kind": "province", "parent": 0})
    assert response.status_code == 302
    assert session.scalar(select(Unit.parent_id).where(Unit.name == "Tỉnh Cà Mau")) is None


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "Ấp Sai", "kind": "hamlet", "parent": "province"}, "parent", "không thể trực thuộc tỉnh"),
        ({"name": "Ấp Phước Lợi", "kind": "hamlet", "parent": "commune"}, "name", "Đã có đơn vị “Ấp Phước Lợi”"),
        ({"name": "", "kind": "hamlet", "parent": "commune"}, "name", "Chưa nhập tên đơn vị."),
        ({"name": "Xã Lạc", "kind": "commune", "parent": 0}, "parent", "phải thuộc một đơn vị cấp trên"),
        ({"name": "Ấp X", "kind": "galaxy", "parent": "commune"}, "kind", "Lựa chọn không hợp lệ."),
        ({"name": "Ấp X", "kind": "hamlet", "parent": 999999}, "parent", "ngoài phạm vi"),
    ],
)
def test_bad_unit_input_shows_the_field_message_and_writes_nothing(make, login, client, session, data, field, message):
    tree = make.tree()
    login(make.admin())
    if isinstance(data["parent"], str):
        data = {**data, "parent": getattr(tree, data["parent"]).id}
    before = unit_count(session)
    response = client.post("/units/new", data=data)
    assert response.status_code == 200
    errors = field_errors(response.get_data(as_text=True), field)
    assert any(message in error for error in errors), errors
    assert unit_count(session) == before


def test_only_admin_changes_the_tree(make, login, client, session):
    tree = make.tree()
    login(make.user(RoleCode.OFFICER, tree.commune))
    before = unit_count(session)
    assert client.get("/units/new").status_code == 403
    sneaky = {"name": "Ấp Lén", "kind": "hamlet", "parent": tree.commune.id}
    assert client.post("/units/new", data=sneaky).status_code == 403
    assert client.post(f"/units/{tree.hamlet.id}/edit", data={"name": "Đổi"}).status_code == 403
    assert client.post(f"/units/{tree.hamlet.id}/move", data={"parent": tree.commune.id}).status_code == 403
    assert client.post(f"/units/{tree.hamlet2.id}/deactivate").status_code == 403
    assert unit_count(session) == before
    session.expire_all()
    assert session.get(Unit, tree.hamlet2.id).active and session.get(Unit, tree.hamlet.id).name == "Ấp Phước Lợi"


def test_rename_and_code(make, login, client, session):
    tree = make.tree()
    login(make.admin())
    response = client.post(f"/units/{tree.hamlet.id}/edit", data={"name": "Ấp Phước Lợi A", "code": "30001"})
    assert response.status_code == 302
    session.expire_all()
    renamed = session.get(Unit, tree.hamlet.id)
    assert (renamed.name, renamed.code) == ("Ấp Phước Lợi A", "30001")
    bad = client.post(f"/units/{tree.hamlet2.id}/edit", data={"name": "ấp phước lợi a", "code": ""})
    assert "Đã có đơn vị" in field_errors(bad.get_data(as_text=True), "name")[0]
    session.expire_all()
    assert session.get(Unit, tree.hamlet2.id).name == "Ấp Tân Hòa"


def test_move_a_commune_out_of_its_district(make, login, client, session):
    tree = make.tree()
    login(make.admin())
    form = client.get(f"/units/{tree.district_commune.id}/move").get_data(as_text=True)
    assert "Tỉnh An Giang" in form and "Ấp Thạnh Lợi" not in form  # no leaf, no own subtree
    response = client.post(f"/units/{tree.district_commune.id}/move", data={"parent": tree.province.id})
    assert response.status_code == 302
    session.expire_all()
    hamlet = session.get(Unit, tree.district_hamlet.id)
    assert hamlet.path == f"/{tree.province.id}/{tree.district_commune.id}/{hamlet.id}/"


def test_move_into_own_subtree_shows_the_cycle_message_and_moves_nothing(make, login, client, session):
    tree = make.tree()
    login(make.admin())
    response = client.post(f"/units/{tree.district.id}/move", data={"parent": tree.district_commune.id})
    assert response.status_code == 200
    (error,) = field_errors(response.get_data(as_text=True), "parent")
    assert error == "Không thể chuyển “Huyện Giồng Riềng” vào chính nó hoặc đơn vị cấp dưới của nó."
    wrong_kind = client.post(f"/units/{tree.hamlet.id}/move", data={"parent": tree.province.id})
    assert "không thể trực thuộc" in field_errors(wrong_kind.get_data(as_text=True), "parent")[0]
    session.expire_all()
    assert session.get(Unit, tree.district.id).parent_id == tree.province.id
    assert session.get(Unit, tree.hamlet.id).parent_id == tree.commune.id


def test_deactivate_refused_with_children_then_allowed_on_a_leaf(make, login, client, session):
    tree = make.tree()
    login(make.admin())
    refused = client.post(f"/units/{tree.commune.id}/deactivate", follow_redirects=True)
    assert any("còn đơn vị cấp dưới đang hoạt động" in m for m in flashes(refused.get_data(as_text=True)))
    session.expire_all()
    assert session.get(Unit, tree.commune.id).active

    done = client.post(f"/units/{tree.hamlet2.id}/deactivate", follow_redirects=True)
    assert "Đã ngừng hoạt động đơn vị “Ấp Tân Hòa”." in flashes(done.get_data(as_text=True), "success")
    assert "Cho hoạt động trở lại" in done.get_data(as_text=True)
    session.expire_all()
    assert not session.get(Unit, tree.hamlet2.id).active

    client.post(f"/units/{tree.hamlet2.id}/reactivate")
    session.expire_all()
    assert session.get(Unit, tree.hamlet2.id).active


def test_deactivate_is_post_only(make, login, client):
    tree = make.tree()
    login(make.admin())
    assert client.get(f"/units/{tree.hamlet2.id}/deactivate").status_code == 405
