"""The activity catalogue: the kinds of field work teams report and get targets for (admins only).

A kind is never deleted: deactivating it takes it off the report form and the target grid, while
reports, targets and scores that already use it keep showing it. Its ``code`` is made once from the
name and never changes (badges and exports refer to it).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import format_decimal
from flask_babel import gettext as _
from sqlalchemy import func, select

from competitions.emulation.models import ActivityKind
from core.accounts.models import User
from core.accounts.roles import RoleCode
from core.errors import PermissionDenied, ValidationError
from core.extensions import db
from core.text import clean, fold, slug

MAX_NAME, MAX_UNIT_LABEL, MAX_CODE = 200, 40, 30  # column widths
MAX_PLAUSIBLE = 100_000  # per active member and month: anything above is a typing slip
MAX_POSITION = 999


@dataclass
class ActivityInput:
    """What the form sends; field names are the form's, so errors land on the right input."""

    name: str
    unit_label: str
    evidence_required: bool = False
    plausible_per_member: int | None = None  # None: no limit
    position: int | None = None  # None: after the last one


def require_admin(user: User) -> None:
    if user.role_code != RoleCode.ADMIN:
        raise PermissionDenied


def kinds(active_only: bool = True) -> list[ActivityKind]:
    """The catalogue in display order (position, then name)."""
    query = select(ActivityKind).order_by(ActivityKind.position, ActivityKind.name, ActivityKind.id)
    if active_only:
        query = query.where(ActivityKind.active)
    return list(db.session.scalars(query))


def _validate(data: ActivityInput, editing: ActivityKind | None) -> ActivityInput:
    name, label = clean(data.name), clean(data.unit_label)
    if not name:
        raise ValidationError(_("Chưa nhập tên hoạt động."), field="name")
    if len(name) > MAX_NAME:
        raise ValidationError(_("Tên hoạt động dài quá %(n)d ký tự.", n=MAX_NAME), field="name")
    same = [kind for kind in kinds(active_only=False) if fold(kind.name) == fold(name) and kind is not editing]
    if same:
        message = _("Đã có hoạt động “%(n)s”.", n=same[0].name) if same[0].active else _(
            "Đã có hoạt động “%(n)s” (đang ngừng sử dụng); hãy cho hoạt động đó dùng lại thay vì tạo mới.",
            n=same[0].name,
        )
        raise ValidationError(message, field="name")
    if not label:
        raise ValidationError(_("Chưa nhập đơn vị tính (ví dụ: người, hộ, sản phẩm)."), field="unit_label")
    if len(label) > MAX_UNIT_LABEL:
        raise ValidationError(_("Đơn vị tính dài quá %(n)d ký tự.", n=MAX_UNIT_LABEL), field="unit_label")
    limit = data.plausible_per_member
    if limit is not None and not 1 <= limit <= MAX_PLAUSIBLE:
        raise ValidationError(
            _("Ngưỡng hợp lý phải là số nguyên từ 1 đến %(max)s; để trống nếu không giới hạn.",
              max=format_decimal(MAX_PLAUSIBLE)),
            field="plausible_per_member",
        )
    if data.position is not None and not 0 <= data.position <= MAX_POSITION:
        raise ValidationError(_("Thứ tự phải là số nguyên từ 0 đến %(max)d.", max=MAX_POSITION), field="position")
    return ActivityInput(name, label, bool(data.evidence_required), limit, data.position)


def _new_code(name: str) -> str:
    """``"Hướng dẫn cài VNeID"`` → ``"huong_dan_cai_vneid"``, made unique with a number if need be."""
    base = slug(name).replace("-", "_")[:MAX_CODE - 4] or "activity"
    taken = set(db.session.scalars(select(ActivityKind.code).where(ActivityKind.code.startswith(base))))
    code, number = base, 2
    while code in taken:
        code, number = f"{base}_{number}", number + 1
    return code


def create_kind(data: ActivityInput, actor: User) -> ActivityKind:
    require_admin(actor)
    data = _validate(data, None)
    position = data.position
    if position is None:
        position = min(MAX_POSITION, (db.session.scalar(select(func.max(ActivityKind.position))) or 0) + 1)
    kind = ActivityKind(
        code=_new_code(data.name), name=data.name, unit_label=data.unit_label,
        evidence_required=data.evidence_required, plausible_per_member=data.plausible_per_member, position=position,
    )
    db.session.add(kind)
    db.session.flush()
    return kind


def update_kind(kind: ActivityKind, data: ActivityInput, actor: User) -> ActivityKind:
    require_admin(actor)
    data = _validate(data, kind)
    kind.name, kind.unit_label = data.name, data.unit_label
    kind.evidence_required, kind.plausible_per_member = data.evidence_required, data.plausible_per_member
    if data.position is not None:
        kind.position = data.position
    db.session.flush()
    return kind


def set_active(kind: ActivityKind, active: bool, actor: User) -> ActivityKind:
    """Deactivate (history stays) or bring back a kind."""
    require_admin(actor)
    kind.active = active
    db.session.flush()
    return kind
