"""The emulation scheme: versions of weighted criteria (100 points) and grading bands.

A period is scored with the version in force at its first month (the latest ``effective_from`` not
after it, then the highest version), so a new version takes effect from the current month or a
later one and never rescores a past period. Versions are never edited: the next one is created.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from competitions.emulation.models import ActivityKind, Criterion, CriterionKind, Scheme
from competitions.emulation.periods import Period, PeriodKind, current_month
from core.accounts.models import User
from core.accounts.roles import RoleCode
from core.db_types import utcnow
from core.errors import PermissionDenied, ValidationError
from core.extensions import db
from core.text import clean

#: the band of a team that reaches none of the scheme's bands (stored data, like the band names)
NOT_DONE = "Chưa hoàn thành"
TOTAL_POINTS = 100
MIN_CAP, MAX_CAP = 1.0, 1.5

KIND_LABELS = {
    CriterionKind.ACTIVITY: _l("Hoạt động (đạt so với chỉ tiêu)"),
    CriterionKind.QUIZ_PARTICIPATION: _l("Tỷ lệ tham gia thi trực tuyến"),
    CriterionKind.QUIZ_SCORE: _l("Điểm thi trực tuyến"),
    CriterionKind.LIVE_CONTESTS: _l("Kết quả thi trực tiếp"),
    CriterionKind.REPORTS_ON_TIME: _l("Báo cáo đúng hạn"),
}
#: how each automatic criterion is measured, in words (the scheme page and the team page)
KIND_RULES = {
    CriterionKind.ACTIVITY: _l("Số lượng đã được xác nhận ÷ chỉ tiêu của tổ trong kỳ, tính tối đa đến mức trần."),
    CriterionKind.QUIZ_PARTICIPATION: _l(
        "Số lượt dự thi của thành viên ÷ (số thành viên × số đợt thi trực tuyến đã kết thúc trong kỳ)."
    ),
    CriterionKind.QUIZ_SCORE: _l(
        "Điểm trung bình của tổ (người không thi tính 0 điểm) so với điểm tối đa, bình quân các đợt thi."
    ),
    CriterionKind.LIVE_CONTESTS: _l(
        "Điểm trung bình của người chơi trong tổ so với người cao điểm nhất, bình quân các cuộc thi trực tiếp."
    ),
    CriterionKind.REPORTS_ON_TIME: _l("Số tháng nộp báo cáo trước hạn ÷ số tháng đã đến hạn nộp."),
}


def criterion_label(criterion: Criterion) -> str:
    if criterion.kind == CriterionKind.ACTIVITY and criterion.activity is not None:
        return criterion.activity.name
    return str(KIND_LABELS[CriterionKind(criterion.kind)])


def band_label(band: str) -> str:
    """A band as shown: the scheme's own names are stored data; the fallback band is translated."""
    return _("Chưa hoàn thành") if band == NOT_DONE else band


# --- reading ---------------------------------------------------------------------------------------


def scheme_for(period: Period) -> Scheme:
    """The version in force at the period's first month."""
    first = period.months[0].key
    scheme = db.session.scalar(
        select(Scheme).where(Scheme.effective_from <= first)
        .order_by(Scheme.effective_from.desc(), Scheme.version.desc()).limit(1)
    )
    if scheme is None:  # the migration's version 1 is in force from the first supported month
        raise LookupError(f"no emulation scheme in force in {first}")
    return scheme


def current_scheme(now: datetime | None = None) -> Scheme:
    return scheme_for(current_month(now or utcnow()))


def history() -> list[Scheme]:
    """Every version, the latest first."""
    return list(db.session.scalars(select(Scheme).order_by(Scheme.version.desc())))


def can_change(user: User) -> bool:
    """Only the Department changes the scheme; everybody signed in may read it."""
    return user.role_code == RoleCode.ADMIN


# --- creating a version ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionInput:
    kind: str
    points: float | None
    activity_id: int | None = None
    cap: float | None = 1.0


@dataclass(frozen=True)
class BandInput:
    name: str
    min_points: float | None
    min_ratio: float | None


@dataclass(frozen=True)
class SchemeInput:
    name: str
    effective_from: str  # a month key, "2026-12"
    criteria: list[CriterionInput] = field(default_factory=list)
    bands: list[BandInput] = field(default_factory=list)
    note: str = ""


def scheme_input(scheme: Scheme, effective_from: str) -> SchemeInput:
    """A version as input for the next one (the form starts from the version in force)."""
    return SchemeInput(
        name=scheme.name, effective_from=effective_from, note="",
        criteria=[CriterionInput(c.kind, c.points, c.activity_id, c.cap) for c in scheme.criteria],
        bands=[BandInput(str(b["name"]), float(b["min_points"]), float(b["min_ratio"]))  # type: ignore[arg-type]
               for b in scheme.bands],
    )


def _number(text: float | int | str | None) -> str:
    """A number as people write it: 100, 99.5."""
    value = float(text or 0)
    return f"{value:g}"


def _check_month(key: str, now: datetime) -> str:
    month = Period.parse(key, field="effective_from")
    if month.kind != PeriodKind.MONTH:
        raise ValidationError(_("Chọn tháng bắt đầu áp dụng theo dạng 2026-12."), field="effective_from")
    this_month = current_month(now)
    if month < this_month:
        raise ValidationError(
            _("Không thể áp dụng từ %(m)s: tháng đã qua. Kết quả thi đua của kỳ đã qua không bị tính lại; "
              "hãy chọn từ %(now)s trở đi.", m=month.label, now=this_month.label),
            field="effective_from",
        )
    return month.key


def _check_criteria(rows: list[CriterionInput]) -> list[Criterion]:
    if not rows:
        raise ValidationError(_("Bộ tiêu chí cần ít nhất một tiêu chí."), field="criteria")
    activities = {a.id: a for a in db.session.scalars(select(ActivityKind))}
    seen_activities: set[int] = set()
    seen_kinds: set[str] = set()
    criteria = []
    for row_number, row in enumerate(rows, start=1):
        try:
            kind = CriterionKind(row.kind)
        except ValueError:
            raise ValidationError(_("Chưa chọn loại tiêu chí."), field="criteria", row=row_number) from None
        if row.points is None or row.points <= 0:
            raise ValidationError(_("Điểm tối đa phải lớn hơn 0."), field="criteria", row=row_number)
        cap = 1.0 if row.cap is None else row.cap
        if not MIN_CAP <= cap <= MAX_CAP:
            raise ValidationError(
                _("Mức trần phải từ %(a)s đến %(b)s (1 = tính tối đa 100%% chỉ tiêu).",
                  a=_number(MIN_CAP), b=_number(MAX_CAP)),
                field="criteria", row=row_number,
            )
        activity_id = None
        if kind == CriterionKind.ACTIVITY:
            activity = activities.get(row.activity_id or 0)
            if activity is None or not activity.active:
                raise ValidationError(_("Chọn một hoạt động đang dùng cho tiêu chí này."), field="criteria",
                                      row=row_number)
            if activity.id in seen_activities:
                raise ValidationError(
                    _("Hoạt động “%(a)s” đã có một tiêu chí; mỗi hoạt động chỉ một tiêu chí.", a=activity.name),
                    field="criteria", row=row_number,
                )
            seen_activities.add(activity.id)
            activity_id = activity.id
        else:
            if kind in seen_kinds:
                raise ValidationError(
                    _("Tiêu chí “%(k)s” đã có; mỗi tiêu chí tự động chỉ một lần.", k=KIND_LABELS[kind]),
                    field="criteria", row=row_number,
                )
            seen_kinds.add(kind)
        criteria.append(Criterion(kind=str(kind), activity_id=activity_id, points=float(row.points), cap=float(cap),
                                  position=row_number))
    total = sum(c.points for c in criteria)
    if round(total, 6) != TOTAL_POINTS:
        raise ValidationError(
            _("Tổng điểm các tiêu chí phải đúng bằng 100; hiện đang là %(sum)s.", sum=_number(round(total, 6))),
            field="criteria",
        )
    return criteria


def _check_bands(rows: list[BandInput]) -> list[dict[str, object]]:
    if not rows:
        raise ValidationError(_("Cần ít nhất một mức xếp loại."), field="bands")
    bands: list[dict[str, object]] = []
    names: set[str] = set()
    for row_number, row in enumerate(rows, start=1):
        name = clean(row.name)
        if not name:
            raise ValidationError(_("Chưa nhập tên mức xếp loại."), field="bands", row=row_number)
        if name.casefold() in names or name.casefold() == NOT_DONE.casefold():
            raise ValidationError(_("Tên mức xếp loại “%(n)s” bị trùng.", n=name), field="bands", row=row_number)
        names.add(name.casefold())
        if row.min_points is None or not 0 < row.min_points <= TOTAL_POINTS:
            raise ValidationError(_("Điểm tối thiểu phải lớn hơn 0 và không quá 100."), field="bands", row=row_number)
        if bands and row.min_points >= float(bands[-1]["min_points"]):  # type: ignore[arg-type]
            raise ValidationError(
                _("Các mức xếp loại phải xếp từ cao xuống thấp: điểm tối thiểu của mức này phải nhỏ hơn "
                  "%(p)s của mức trên.", p=_number(bands[-1]["min_points"])),  # type: ignore[arg-type]
                field="bands", row=row_number,
            )
        if row.min_ratio is None or not 0 <= row.min_ratio <= 1:
            raise ValidationError(
                _("Tỷ lệ tối thiểu của mỗi tiêu chí phải từ 0 đến 1 (ví dụ 0,85 là đạt 85 phần trăm)."),
                field="bands", row=row_number,
            )
        bands.append({"name": name, "min_points": float(row.min_points), "min_ratio": float(row.min_ratio)})
    return bands


def create_version(data: SchemeInput, actor: User, now: datetime | None = None) -> Scheme:
    """The next version of the scheme, checked whole: nothing is written when any part is wrong."""
    if not can_change(actor):
        raise PermissionDenied
    name = clean(data.name)
    if not name:
        raise ValidationError(_("Chưa nhập tên bộ tiêu chí."), field="name")
    if len(name) > 200:
        raise ValidationError(_("Tên bộ tiêu chí dài quá 200 ký tự."), field="name")
    effective_from = _check_month(data.effective_from, now or utcnow())
    criteria = _check_criteria(data.criteria)
    bands = _check_bands(data.bands)
    version = (db.session.scalar(select(func.max(Scheme.version))) or 0) + 1
    scheme = Scheme(version=version, name=name, effective_from=effective_from, bands=bands,
                    note=(data.note or "").strip(), created_by_id=actor.id, criteria=criteria)
    db.session.add(scheme)
    db.session.flush()
    return scheme
