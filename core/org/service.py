"""Rules of the org tree: which kind of unit may sit under which, no cycles, paths kept right."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from core.errors import ValidationError
from core.extensions import db
from core.org.models import COMMUNE_LEVEL, Unit, UnitKind
from core.signals import unit_changed
from core.teams.models import Team
from core.text import clean

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
    query = select(Unit.id).where(
        func.lower(Unit.name) == name.lower(),
        Unit.parent_id.is_(None) if parent is None else Unit.parent_id == parent.id,
    )
    if exclude_id is not None:
        query = query.where(Unit.id != exclude_id)
    if db.session.scalar(query) is not None:
        where = parent.name if parent else _("cấp tỉnh")
        raise ValidationError(
            _("Đã có đơn vị “%(name)s” trong %(where)s.", name=name, where=where), field="name"
        )
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
        raise ValidationError(_("Đơn vị cấp trên “%(p)s” đang ngừng hoạt động.", p=unit.parent.name))
    unit.active = True
    unit_changed.send(unit)
    return unit


def subtree(unit: Unit, active_only: bool = True) -> list[Unit]:
    query = select(Unit).where(Unit.path.startswith(unit.path)).order_by(Unit.depth, Unit.name)
    if active_only:
        query = query.where(Unit.active)
    return list(db.session.scalars(query))
