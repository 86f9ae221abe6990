"""Rules of the org tree (core.org.service)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.errors import ValidationError
from core.org import service as org
from core.org.models import Unit, UnitKind
from core.signals import unit_changed

K = UnitKind


@pytest.mark.parametrize(
    ("kind", "parent", "allowed"),
    [
        (K.PROVINCE, None, True),
        (K.DISTRICT, "province", True),
        (K.COMMUNE, "province", True),  # the tree without districts (since July 2025)
        (K.COMMUNE, "district", True),  # the older tree with them
        (K.WARD, "district", True),
        (K.SPECIAL_ZONE, "province", True),
        (K.HAMLET, "commune", True),
        (K.HAMLET, "district_commune", True),
        (K.ENTERPRISE, "other_commune", True),
        (K.ENTERPRISE, "province", True),
        (K.HAMLET, "province", False),
        (K.HAMLET, "district", False),
        (K.HAMLET, "hamlet", False),
        (K.COMMUNE, "commune", False),
        (K.DISTRICT, "district", False),
        (K.PROVINCE, "province", False),
        (K.ENTERPRISE, "hamlet", False),
        (K.COMMUNE, None, False),
        (K.HAMLET, "enterprise", False),
    ],
)
def test_allowed_parents_in_both_tree_shapes(make, kind, parent, allowed):
    tree = make.tree()
    parent_unit = getattr(tree, parent) if parent else None
    if allowed:
        unit = org.create_unit("Đơn vị mới", kind, parent_unit)
        assert unit.parent is parent_unit
        assert unit.path == f"{parent_unit.path if parent_unit else '/'}{unit.id}/"
    else:
        with pytest.raises(ValidationError) as caught:
            org.create_unit("Đơn vị mới", kind, parent_unit)
        assert caught.value.field == "parent"
        expected = "phải thuộc một đơn vị cấp trên" if parent_unit is None else "không thể trực thuộc"
        assert expected in caught.value.message


def test_wrong_parent_message_names_the_allowed_kinds(make):
    tree = make.tree()
    with pytest.raises(ValidationError) as caught:
        org.create_unit("Ấp Mới", K.HAMLET, tree.province)
    message = caught.value.message
    assert "Ấp / Khu phố / Thôn / Bản không thể trực thuộc tỉnh / thành phố “Tỉnh An Giang”" in message
    assert "Xã" in message and "Phường" in message


def test_depth_and_path_follow_the_parent(make):
    tree = make.tree()
    assert tree.district_hamlet.depth == 3
    assert tree.district_hamlet.ancestor_ids() == [
        tree.province.id, tree.district.id, tree.district_commune.id, tree.district_hamlet.id,
    ]
    assert [u.id for u in org.ancestors(tree.district_hamlet)] == tree.district_hamlet.ancestor_ids()[:-1]


def test_create_under_an_inactive_parent_is_refused(make):
    tree = make.tree()
    org.deactivate_unit(tree.hamlet2)
    with pytest.raises(ValidationError):
        org.create_unit("Tổ dân phố 9", K.HAMLET, tree.hamlet2)  # wrong kind anyway
    lone = make.unit("Phường Vĩnh Lạc", K.WARD, tree.province)
    org.deactivate_unit(lone)
    with pytest.raises(ValidationError) as caught:
        org.create_unit("Khu phố 2", K.HAMLET, lone)
    assert caught.value.field == "parent" and "ngừng hoạt động" in caught.value.message


def test_duplicate_sibling_names_are_refused_whatever_the_case(make):
    tree = make.tree()
    # Upper-case Vietnamese letters: SQLite's lower() would not fold them.
    for name in ("Ấp Phước Lợi", "ấp phước lợi", "ẤP PHƯỚC LỢI", "  Ấp   Phước Lợi "):
        with pytest.raises(ValidationError) as caught:
            org.create_unit(name, K.HAMLET, tree.commune)
        assert caught.value.field == "name"
        assert "Đã có đơn vị “" in caught.value.message and "Xã Châu Thành" in caught.value.message
    # The same name under another commune is another hamlet.
    assert org.create_unit("Ấp Phước Lợi", K.HAMLET, tree.other_commune).parent is tree.other_commune
    # And top-level names are checked too.
    with pytest.raises(ValidationError):
        org.create_unit("tỉnh an giang", K.PROVINCE, None)


def test_rename_to_a_siblings_name_is_refused_but_keeping_ones_own_name_is_fine(make):
    tree = make.tree()
    with pytest.raises(ValidationError) as caught:
        org.update_unit(tree.hamlet2, "Ấp PHƯỚC LỢI", None)
    assert caught.value.field == "name"
    org.update_unit(tree.hamlet, "Ấp Phước Lợi", "AG-001")
    assert tree.hamlet.code == "AG-001"
    with pytest.raises(ValidationError) as caught:
        org.update_unit(tree.hamlet2, "Ấp Tân Hòa", "AG-001")
    assert caught.value.field == "code" and "Ấp Phước Lợi" in caught.value.message


def test_blank_name_is_refused(make):
    tree = make.tree()
    with pytest.raises(ValidationError) as caught:
        org.create_unit("   ", K.HAMLET, tree.commune)
    assert caught.value.field == "name" and caught.value.message == "Chưa nhập tên đơn vị."


def test_a_cycle_is_refused_on_move(make):
    tree = make.tree()
    for target in (tree.district, tree.district_commune, tree.district_hamlet):
        with pytest.raises(ValidationError) as caught:
            org.move_unit(tree.district, target)
        assert caught.value.field == "parent"
        assert "vào chính nó hoặc đơn vị cấp dưới" in caught.value.message
    assert tree.district.parent is tree.province


def test_move_to_the_wrong_kind_of_parent_is_refused(make):
    tree = make.tree()
    with pytest.raises(ValidationError) as caught:
        org.move_unit(tree.hamlet, tree.province)
    assert caught.value.field == "parent" and "không thể trực thuộc" in caught.value.message


def test_move_into_a_parent_that_has_a_namesake_is_refused(make):
    tree = make.tree()
    make.unit("Ấp Thạnh Lợi", K.HAMLET, tree.commune)
    with pytest.raises(ValidationError) as caught:
        org.move_unit(tree.district_hamlet, tree.commune)
    assert caught.value.field == "name"


def test_move_rewrites_the_paths_of_the_whole_subtree(make, session):
    tree = make.tree()
    sub_hamlet = tree.district_hamlet
    team = make.team(sub_hamlet)
    sent = []

    def record(unit: Unit) -> None:
        sent.append(unit)

    with unit_changed.connected_to(record):
        # The district level is abolished: its commune goes straight under the province.
        org.move_unit(tree.district_commune, tree.province)
    commune = session.get(Unit, tree.district_commune.id)
    hamlet = session.get(Unit, sub_hamlet.id)
    assert commune.path == f"/{tree.province.id}/{commune.id}/" and commune.depth == 1
    assert hamlet.path == f"/{tree.province.id}/{commune.id}/{hamlet.id}/" and hamlet.depth == 2
    assert sent == [commune]
    # The district's subtree no longer holds them; the province's still does.
    below_district = {u.id for u in org.subtree(session.get(Unit, tree.district.id))}
    assert below_district == {tree.district.id}
    assert team in org.teams_below(commune)
    assert team not in org.teams_below(session.get(Unit, tree.district.id))
    # Units elsewhere are untouched.
    assert session.get(Unit, tree.hamlet.id).path == f"/{tree.province.id}/{tree.commune.id}/{tree.hamlet.id}/"


def test_moving_back_under_a_district_works_too(make, session):
    tree = make.tree()
    org.move_unit(tree.commune, tree.district)
    hamlet = session.get(Unit, tree.hamlet.id)
    assert hamlet.path == f"/{tree.province.id}/{tree.district.id}/{tree.commune.id}/{hamlet.id}/"
    assert hamlet.depth == 3


def test_move_under_an_inactive_parent_is_refused(make):
    tree = make.tree()
    empty = make.unit("Xã Trống", K.COMMUNE, tree.province)
    org.deactivate_unit(empty)
    with pytest.raises(ValidationError) as caught:
        org.move_unit(tree.hamlet2, empty)
    assert caught.value.field == "parent" and "ngừng hoạt động" in caught.value.message


def test_deactivate_is_refused_while_active_children_or_teams_remain(make):
    tree = make.tree()
    with pytest.raises(ValidationError) as caught:
        org.deactivate_unit(tree.commune)
    assert "còn đơn vị cấp dưới đang hoạt động" in caught.value.message
    make.team(tree.hamlet)
    with pytest.raises(ValidationError) as caught:
        org.deactivate_unit(tree.hamlet)
    assert "còn tổ CNSCĐ đang hoạt động" in caught.value.message
    assert tree.hamlet.active and tree.commune.active


def test_deactivate_and_reactivate_a_leaf(make):
    tree = make.tree()
    org.deactivate_unit(tree.hamlet2)
    assert not tree.hamlet2.active
    org.reactivate_unit(tree.hamlet2)
    assert tree.hamlet2.active


def test_reactivate_under_an_inactive_parent_is_refused(make):
    tree = make.tree()
    ward = make.unit("Phường Vĩnh Lạc", K.WARD, tree.province)
    quarter = make.unit("Khu phố 3", K.HAMLET, ward)
    org.deactivate_unit(quarter)
    org.deactivate_unit(ward)
    with pytest.raises(ValidationError) as caught:
        org.reactivate_unit(quarter)
    assert "Phường Vĩnh Lạc" in caught.value.message


def test_scope_tree_nests_units_and_counts_teams_of_the_subtree(make, session):
    tree = make.tree()
    make.team(tree.hamlet)
    make.team(tree.hamlet2)
    make.team(tree.commune)
    make.team(tree.enterprise)
    admin = make.admin()
    (root,) = org.scope_tree(admin)
    assert root.unit is tree.province
    assert root.team_count == 4
    by_name = {node.unit.name: node for node in org.flatten([root])}
    assert by_name["Xã Châu Thành"].team_count == 3
    assert [c.unit.name for c in by_name["Xã Châu Thành"].children] == ["Ấp Phước Lợi", "Ấp Tân Hòa"]
    assert by_name["Phường Rạch Giá"].team_count == 1
    assert by_name["Huyện Giồng Riềng"].team_count == 0
    # Children are sorted accent-insensitively: "Huyện" before "Phường" before "Xã".
    assert [c.unit.name for c in root.children] == [
        "Huyện Giồng Riềng", "Phường Rạch Giá", "Xã Châu Thành",
    ]
    assert {u.name: n for u, n in org.children_with_counts(tree.province)} == {
        "Huyện Giồng Riềng": 0, "Phường Rạch Giá": 1, "Xã Châu Thành": 3,
    }


def test_parent_choices_leave_out_leaves_and_the_moving_subtree(make):
    tree = make.tree()
    admin = make.admin()
    kinds = {u.kind_enum for u in org.parent_choices(admin)}
    assert K.HAMLET not in kinds and K.ENTERPRISE not in kinds
    moving = org.parent_choices(admin, moving=tree.district_commune)
    assert tree.district_commune not in moving  # itself
    assert set(moving) == {tree.province, tree.district}  # only kinds a commune may hang under
    assert tree.hamlet in org.team_holder_choices(admin)
    assert tree.district not in org.team_holder_choices(admin)


def test_subtree_lists_units_below(make, session):
    tree = make.tree()
    names = {u.name for u in org.subtree(tree.commune)}
    assert names == {"Xã Châu Thành", "Ấp Phước Lợi", "Ấp Tân Hòa"}
    assert session.scalar(select(Unit).where(Unit.id == tree.commune.id)).is_commune_level
