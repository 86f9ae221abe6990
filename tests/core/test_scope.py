"""The scope rule: a user acts on their own unit and the units below it, never beside or above."""

from __future__ import annotations

import pytest

from core.accounts.models import User
from core.accounts.roles import RoleCode
from core.extensions import db
from core.org import service as org
from core.org.models import Unit
from core.org.scope import in_scope, scope_path, units_in_scope
from core.teams import service as teams
from core.teams.models import TeamRole


def visible(user: User) -> set[str]:
    return {unit.name for unit in db.session.scalars(units_in_scope(user))}


def test_officer_of_a_commune_sees_it_and_its_hamlets_only(make):
    tree = make.tree()
    officer = make.user(RoleCode.OFFICER, tree.commune)
    assert visible(officer) == {"Xã Châu Thành", "Ấp Phước Lợi", "Ấp Tân Hòa"}
    assert in_scope(officer, tree.commune) and in_scope(officer, tree.hamlet)
    for outside in (tree.other_commune, tree.other_hamlet, tree.province, tree.district, tree.district_commune):
        assert not in_scope(officer, outside), outside


def test_organiser_of_a_district_sees_the_district_subtree(make):
    tree = make.tree()
    organiser = make.user(RoleCode.ORGANISER, tree.district)
    assert visible(organiser) == {"Huyện Giồng Riềng", "Xã Thạnh Hưng", "Ấp Thạnh Lợi"}
    assert not in_scope(organiser, tree.province)  # above
    assert not in_scope(organiser, tree.commune)  # beside


def test_admin_sees_everything(make):
    tree = make.tree()
    admin = make.admin()
    assert scope_path(admin) is None
    assert len(visible(admin)) == 10
    assert all(in_scope(admin, unit) for unit in (tree.province, tree.other_hamlet, tree.enterprise))


def test_admin_scope_ignores_a_unit_set_on_the_account(make):
    tree = make.tree()
    admin = make.user(RoleCode.ADMIN, tree.commune, username="admin.unit")
    assert in_scope(admin, tree.province)


def test_a_member_sees_their_own_unit_only(make):
    tree = make.tree()
    member = make.user(RoleCode.MEMBER, tree.hamlet)
    assert visible(member) == {"Ấp Phước Lợi"}
    assert not in_scope(member, tree.commune)


def test_an_account_without_a_unit_acts_on_nothing(make):
    tree = make.tree()
    member = make.user(RoleCode.MEMBER, tree.hamlet)
    member.unit = None  # create_user refuses this; an account can still lose its unit in the data
    assert visible(member) == set()
    assert not in_scope(member, None)


def test_path_prefixes_do_not_leak_to_ids_that_merely_start_alike():
    """/1/2/ is not below /1/ 's sibling /12/: the trailing slash is part of the rule."""
    officer = User(role_code=RoleCode.OFFICER, unit=Unit(path="/1/"))
    assert in_scope(officer, Unit(path="/1/2/"))
    assert not in_scope(officer, Unit(path="/12/"))
    assert not in_scope(officer, Unit(path="/12/1/"))


def test_require_in_scope_refuses_units_beside(make):
    from core.errors import PermissionDenied

    tree = make.tree()
    officer = make.user(RoleCode.OFFICER, tree.commune)
    org.require_in_scope(officer, tree.hamlet)
    with pytest.raises(PermissionDenied):
        org.require_in_scope(officer, tree.other_commune)


def test_scope_tree_starts_at_the_users_own_unit(make):
    tree = make.tree()
    officer = make.user(RoleCode.OFFICER, tree.commune)
    (root,) = org.scope_tree(officer)
    assert root.unit is tree.commune
    assert {n.unit.name for n in org.flatten([root])} == {"Xã Châu Thành", "Ấp Phước Lợi", "Ấp Tân Hòa"}


def test_team_management_follows_scope(make):
    tree = make.tree()
    mine = make.team(tree.hamlet)
    beside = make.team(tree.other_hamlet)
    officer = make.user(RoleCode.OFFICER, tree.commune)
    assert teams.can_manage_team(officer, mine)
    assert not teams.can_manage_team(officer, beside)
    assert not teams.can_view_team(officer, beside)
    # A leader manages their own team only, whatever their unit.
    leader = make.member(mine, TeamRole.LEADER).user
    assert teams.can_manage_team(leader, mine)
    assert not teams.can_manage_team(leader, make.team(tree.hamlet2))
    # A plain member views but does not manage.
    member = make.member(mine).user
    assert teams.can_view_team(member, mine) and not teams.can_manage_team(member, mine)
    assert not teams.can_view_team(member, beside)
