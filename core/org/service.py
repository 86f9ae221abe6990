"""Rules of the org tree: which kind of unit may sit under which, no cycles, paths kept right."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from core.accounts.models import User
from core.errors import PermissionDenied, ValidationError
from core.extensions import db
from core.org.models import COMMUNE_LEVEL, Unit, UnitKind
from core.org.scope import in_scope, unit_scope_clause
from core.signals import unit_changed
from core.teams.models import Team
from core.text import clean, fold

KIND_LABELS = {
    UnitKind.PROVINCE: _l("Tỉnh / Thành phố"),
    UnitKind.DISTRICT: _l("Huyện / Quận / Thị xã"),
    UnitKind.COMMUNE: _l("Xã"),
    UnitKind.WARD: _l("Phường"),
    UnitKind.TOWN: _l("Thị trấn"),
    UnitKind.SPECIAL_ZONE: _l("Đặc khu"),
    UnitKind.HAMLET: _l("Ấp / Khu phố / Thôn / Bản"),
    UnitKind.ENTERPRISE: _l("Doanh nghiệp"),
}

_TOP = frozenset({UnitKind.PROVINCE, UnitKind.DISTRICT})
#: kind -> kinds its parent may have (None: may be a root). Both trees, with and without
#: the district level, are valid: a commune sits under a district or straight under the province.
ALLOWED_PARENTS: dict[UnitKind, frozenset[UnitKind | None]] = {
    UnitKind.PROVINCE: frozenset({None}),
    UnitKind.DISTRICT: frozenset({UnitKind.PROVINCE}),
    **dict.fromkeys(COMMUNE_LEVEL, _TOP),
    UnitKind.HAMLET: COMMUNE_LEVEL,
    UnitKind.ENTERPRISE: _TOP | COMMUNE_LEVEL,
}

#: units that may own a team (a hamlet team, a commune team, an enterprise team).
TEAM_HOLDERS = COMMUNE_LEVEL | {UnitKind.HAMLET, UnitKind.ENTERPRISE}

#: kinds that may have units below them (the rest are leaves of the tree).
PARENT_KINDS = frozenset(k for kinds in ALLOWED_PARENTS.values() for k in kinds if k is not None)


def kind_label(kind: str) -> str:
    return str(KIND_LABELS[UnitKind(kind)])


def check_parent(kind: UnitKind, parent: Unit | None, field: str = "parent") -> None:
    allowed = ALLOWED_PARENTS[kind]
    parent_kind = parent.kind_enum if parent is not None else None
    if parent_kind in allowed:
        return
    if parent is None:
        raise ValidationError(
            _("%(kind)s phải thuộc một đơn vị cấp trên.", kind=kind_label(kind)), field=field
        )
    wanted = ", ".join(sorted(str(KIND_LABELS[k]) for k in allowed if k is not None))
    raise ValidationError(
        _(
            "%(kind)s không thể trực thuộc %(parent_kind)s “%(parent)s”; cấp trên phải là: %(wanted)s.",
            kind=kind_label(kind), parent_kind=kind_label(parent.kind).lower(),
            parent=parent.name, wanted=wanted,
        ),
        field=field,
    )


def _check_name(name: str, parent: Unit | None, exclude_id: int | None = None) -> str:
    name = clean(name)
    if not name:
        raise ValidationError(_("Chưa nhập tên đơn vị."), field="name")
    if len(name) > 200:
        raise ValidationError(_("Tên đơn vị dài quá 200 ký tự."), field="name")
    # Compared in Python: SQLite's lower() folds ASCII only, so "ấp" and "Ấp" would differ there.
    # Siblings are few (a commune has tens of hamlets), so reading their names is cheap.
    siblings = db.session.execute(
        select(Unit.id, Unit.name).where(
            Unit.parent_id.is_(None) if parent is None else Unit.parent_id == parent.id
        )
    )
    wanted = name.casefold()
    if any(other.casefold() == wanted and unit_id != exclude_id for unit_id, other in siblings):
        message = (
            _("Đã có đơn vị “%(name)s” trong %(where)s.", name=name, where=parent.name)
            if parent else _("Đã có đơn vị cấp tỉnh “%(name)s”.", name=name)
        )
        raise ValidationError(message, field="name")
    return name


def _check_code(code: str | None, exclude_id: int | None = None) -> str | None:
    code = clean(code) or None
    if code is None:
        return None
    query = select(Unit.name).where(Unit.code == code)
    if exclude_id is not None:
        query = query.where(Unit.id != exclude_id)
    other = db.session.scalar(query)
    if other is not None:
        raise ValidationError(
            _("Mã đơn vị %(code)s đã được dùng cho “%(other)s”.", code=code, other=other),
            field="code",
        )
    return code


def create_unit(name: str, kind: UnitKind | str, parent: Unit | None, code: str | None = None) -> Unit:
    kind = UnitKind(kind)
    check_parent(kind, parent)
    if parent is not None and not parent.active:
        raise ValidationError(_("Đơn vị cấp trên “%(p)s” đã ngừng hoạt động.", p=parent.name), field="parent")
    unit = Unit(
        name=_check_name(name, parent), kind=kind, code=_check_code(code), parent=parent,
        depth=parent.depth + 1 if parent else 0,
    )
    db.session.add(unit)
    db.session.flush()  # the id is part of the path
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    return unit


def update_unit(unit: Unit, name: str, code: str | None) -> Unit:
    unit.name = _check_name(name, unit.parent, exclude_id=unit.id)
    unit.code = _check_code(code, exclude_id=unit.id)
    return unit


def move_unit(unit: Unit, new_parent: Unit | None) -> Unit:
    """Re-hang ``unit`` (and its subtree) under ``new_parent``; refuses cycles and wrong kinds."""
    if new_parent is not None and new_parent.path.startswith(unit.path):
        raise ValidationError(
            _("Không thể chuyển “%(u)s” vào chính nó hoặc đơn vị cấp dưới của nó.", u=unit.name),
            field="parent",
        )
    check_parent(unit.kind_enum, new_parent)
    if new_parent is not None and not new_parent.active:
        raise ValidationError(
            _("Đơn vị cấp trên “%(p)s” đã ngừng hoạt động.", p=new_parent.name), field="parent"
        )
    if new_parent is unit.parent:
        return unit  # nothing moves; no signal, no rewrite
    _check_name(unit.name, new_parent, exclude_id=unit.id)
    old_path, old_depth = unit.path, unit.depth
    new_path = f"{new_parent.path if new_parent else '/'}{unit.id}/"
    new_depth = new_parent.depth + 1 if new_parent else 0
    unit.parent = new_parent
    db.session.flush()
    # One statement rewrites the whole subtree's paths; no row-by-row walk.
    db.session.execute(
        update(Unit)
        .where(Unit.path.startswith(old_path))
        .values(
            path=new_path + func.substr(Unit.path, len(old_path) + 1),
            depth=Unit.depth - old_depth + new_depth,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.expire_all()
    unit_changed.send(unit)
    return unit


def deactivate_unit(unit: Unit) -> Unit:
    """Deactivation keeps history; it is refused while active units or teams still hang below."""
    if db.session.scalar(select(func.count()).where(Unit.parent_id == unit.id, Unit.active)):
        raise ValidationError(
            _("“%(u)s” còn đơn vị cấp dưới đang hoạt động; hãy ngừng hoạt động các đơn vị đó trước.", u=unit.name)
        )
    if db.session.scalar(select(func.count()).where(Team.unit_id == unit.id, Team.active)):
        raise ValidationError(
            _("“%(u)s” còn tổ CNSCĐ đang hoạt động; hãy giải thể hoặc chuyển các tổ trước.", u=unit.name)
        )
    unit.active = False
    unit_changed.send(unit)
    return unit


def reactivate_unit(unit: Unit) -> Unit:
    if unit.parent is not None and not unit.parent.active:
        raise ValidationError(_("Đơn vị cấp trên “%(p)s” đã ngừng hoạt động.", p=unit.parent.name))
    unit.active = True
    unit_changed.send(unit)
    return unit


def subtree(unit: Unit, active_only: bool = True) -> list[Unit]:
    query = select(Unit).where(Unit.path.startswith(unit.path)).order_by(Unit.depth, Unit.name)
    if active_only:
        query = query.where(Unit.active)
    return list(db.session.scalars(query))


def require_in_scope(user: User, unit: Unit) -> None:
    """Object-level scope check for views: a unit outside the user's subtree is refused (403)."""
    if not in_scope(user, unit):
        raise PermissionDenied


def can_hold_team(unit: Unit) -> bool:
    return unit.kind_enum in TEAM_HOLDERS


def allowed_parent_labels(kind: UnitKind | str) -> list[str]:
    """Labels of the kinds a unit of ``kind`` may hang under (for form hints)."""
    return sorted(str(KIND_LABELS[k]) for k in ALLOWED_PARENTS[UnitKind(kind)] if k is not None)


@dataclass
class TreeNode:
    unit: Unit
    children: list[TreeNode] = dataclasses.field(default_factory=list)
    team_count: int = 0  # active teams in this unit and everything below it


def scope_tree(
    user: User, active_only: bool = False, kinds: frozenset[UnitKind] | None = None,
) -> list[TreeNode]:
    """The units in the user's scope as a forest (roots are the user's own unit, or the provinces
    for admin), children sorted by name, each node with its subtree's active team count.
    Two queries whatever the size of the tree. ``kinds`` keeps only those kinds; callers use it
    to drop leaf kinds (hamlets, enterprises), which leaves the rest of the tree connected."""
    query = select(Unit).where(unit_scope_clause(user)).order_by(Unit.depth)
    if active_only:
        query = query.where(Unit.active)
    if kinds is not None:
        query = query.where(Unit.kind.in_([str(k) for k in kinds]))
    units = list(db.session.scalars(query))
    counts = dict(
        db.session.execute(
            select(Team.unit_id, func.count())
            .join(Unit, Team.unit_id == Unit.id)
            .where(unit_scope_clause(user), Team.active)
            .group_by(Team.unit_id)
        ).all()
    )
    nodes = {unit.id: TreeNode(unit, team_count=counts.get(unit.id, 0)) for unit in units}
    roots: list[TreeNode] = []
    for unit in units:  # parents come first: ordered by depth
        parent = nodes.get(unit.parent_id) if unit.parent_id is not None else None
        (parent.children if parent is not None else roots).append(nodes[unit.id])
    for node in sorted(nodes.values(), key=lambda n: n.unit.depth, reverse=True):
        node.children.sort(key=lambda n: fold(n.unit.name))
        node.team_count += sum(child.team_count for child in node.children)
    roots.sort(key=lambda n: fold(n.unit.name))
    return roots


def flatten(nodes: list[TreeNode]) -> list[TreeNode]:
    """Depth-first order of a forest: the order of an indented <select>."""
    out: list[TreeNode] = []
    stack = list(reversed(nodes))
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(reversed(node.children))
    return out


def parent_choices(user: User, moving: Unit | None = None) -> list[Unit]:
    """Active units in scope that may have children, in tree order; when ``moving`` a unit,
    its own subtree is left out (it cannot go under itself)."""
    chosen = []
    for node in flatten(scope_tree(user, active_only=True, kinds=PARENT_KINDS)):
        unit = node.unit
        if moving is not None and unit.path.startswith(moving.path):
            continue
        if moving is not None and unit.kind_enum not in ALLOWED_PARENTS[moving.kind_enum]:
            continue
        chosen.append(unit)
    return chosen


def team_holder_choices(user: User) -> list[Unit]:
    """Active units in scope where a team may be set up, in tree order."""
    return [n.unit for n in flatten(scope_tree(user, active_only=True)) if can_hold_team(n.unit)]


def ancestors(unit: Unit) -> list[Unit]:
    """The units above ``unit``, root first (one query; for breadcrumbs)."""
    ids = unit.ancestor_ids()[:-1]
    if not ids:
        return []
    by_id = {u.id: u for u in db.session.scalars(select(Unit).where(Unit.id.in_(ids)))}
    return [by_id[i] for i in ids if i in by_id]


def children_with_counts(unit: Unit) -> list[tuple[Unit, int]]:
    """Direct children of ``unit`` with the active team count of each child's subtree."""
    children = list(db.session.scalars(select(Unit).where(Unit.parent_id == unit.id)))
    if not children:
        return []
    # A team belongs to a child's subtree when its unit path starts with the child's path.
    rows = db.session.execute(
        select(Unit.path).join(Team, Team.unit_id == Unit.id).where(
            Unit.path.startswith(unit.path), Unit.id != unit.id, Team.active
        )
    ).scalars()
    counts: dict[int, int] = {}
    depth_index = len(unit.ancestor_ids())  # position of the child's id in a descendant's path
    for path in rows:
        child_id = int(path.strip("/").split("/")[depth_index])
        counts[child_id] = counts.get(child_id, 0) + 1
    children.sort(key=lambda u: fold(u.name))
    return [(child, counts.get(child.id, 0)) for child in children]


def teams_below(unit: Unit) -> list[Team]:
    """Active teams of ``unit`` and every unit below it (the commune page's list)."""
    return list(
        db.session.scalars(
            select(Team).join(Unit, Team.unit_id == Unit.id)
            .where(Unit.path.startswith(unit.path), Team.active)
            .order_by(Team.name)
        )
    )
