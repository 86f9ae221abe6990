"""Activity reports (báo cáo kết quả hoạt động): a team leader or deputy files what the team did in a
month, the commune officer verifies or rejects it, and only verified quantities count (tallies.py).

A month may hold several entries; they add up. An entry is filed for the current month or one of
the 12 before it; one filed after the month's deadline (Period.report_deadline) is accepted and
marked late — a correction keeps the lateness of the first filing, so a team is not made late by a
rejection that came after the deadline. A quantity above (active members × the activity's
plausible_per_member) is flagged, and the officer must confirm having checked it before verifying.

Every change locks the report row, checks that the report is still in the state the actor saw
(status and, when the form tells it, the last history entry), writes a ReportEvent with the report
before and after, flushes and sends ``report_changed``. A verified report is closed to the team; staff
may still reject it with a reason (the "un-verify": it stops counting, the history keeps both steps)
and the team may then correct and re-file it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from flask_babel import format_number
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from competitions.emulation import evidence
from competitions.emulation.evidence import Upload
from competitions.emulation.models import ActivityKind, ActivityReport, ReportEvent, ReportLine, ReportStatus
from competitions.emulation.periods import Period, PeriodKind, current_month
from competitions.signals import report_changed
from core.accounts.models import User
from core.db_types import utcnow
from core.errors import PermissionDenied, ValidationError
from core.extensions import db
from core.org.models import COMMUNE_LEVEL, Unit
from core.org.scope import in_scope, unit_scope_clause
from core.pagination import Page, clamp_page
from core.persistence import insert_or_existing
from core.teams.models import Team
from core.teams.service import active_count, active_membership_of, is_staff, leads
from core.text import clean, is_web_link

#: no team does a million of anything in a month: such a number is a typo, refused outright
HARD_LIMIT = 1_000_000
MONTHS_BACK = 12  # a report may be filed for the current month and this many before it
MAX_NOTE, MAX_REASON, MAX_LINK = 2000, 1000, 500
MONTHS_PER_PAGE = 6  # months on one page of a team's reports


class Action:
    """What a ReportEvent records (stored values)."""

    FILED = "filed"
    CORRECTED = "corrected"
    VERIFIED = "verified"
    REJECTED = "rejected"


STATUS_LABELS = {
    ReportStatus.SUBMITTED: _l("Chờ duyệt"),
    ReportStatus.VERIFIED: _l("Đã xác nhận"),
    ReportStatus.REJECTED: _l("Bị từ chối"),
}
#: why a report in this status cannot be changed (every action may act on a submitted one)
NOT_ALLOWED = {
    ReportStatus.VERIFIED: _l("Báo cáo đã được xác nhận nên không thể thay đổi."),
    ReportStatus.REJECTED: _l("Báo cáo đã bị từ chối; tổ cần sửa và gửi lại."),
}
ACTION_LABELS = {
    Action.FILED: _l("Gửi báo cáo"),
    Action.CORRECTED: _l("Sửa và gửi lại"),
    Action.VERIFIED: _l("Xác nhận"),
    Action.REJECTED: _l("Từ chối"),
}


# --- who may do what -----------------------------------------------------------------------------


def can_review(user: User, team: Team) -> bool:
    """Staff whose scope holds the team's unit (an admin everywhere)."""
    return is_staff(user) and in_scope(user, team.unit)


def can_view(user: User, team: Team) -> bool:
    """The team's own members, and staff whose scope holds it."""
    if can_review(user, team):
        return True
    membership = active_membership_of(user)  # a person is active in one team at most
    return membership is not None and membership.team_id == team.id


def _require_leader(user: User, team: Team) -> None:
    """Reports are filed by the team's active leader or deputy, nobody else (not even an admin)."""
    if not leads(user, team):
        raise PermissionDenied


def _require_reviewer(user: User, team: Team) -> None:
    if not can_review(user, team):
        raise PermissionDenied


# --- input ---------------------------------------------------------------------------------------


def active_kinds() -> list[ActivityKind]:
    return list(db.session.scalars(
        select(ActivityKind).where(ActivityKind.active).order_by(ActivityKind.position, ActivityKind.id)
    ))


def _month_index(period: Period) -> int:
    return period.year * 12 + period.number - 1


def fileable_months(now: datetime | None = None) -> list[Period]:
    """The months a report may be filed for, newest first: this month and the 12 before it."""
    index = _month_index(current_month(now or utcnow()))
    return [Period.month((index - back) // 12, (index - back) % 12 + 1) for back in range(MONTHS_BACK + 1)]


def default_month(now: datetime | None = None) -> Period:
    """Last month while its report is still due (early in the month people report the month just
    ended), this month after that."""
    now = now or utcnow()
    this, last = fileable_months(now)[:2]
    return last if now <= last.report_deadline() else this


def _check_month(month: Period, now: datetime) -> None:
    if month.kind != PeriodKind.MONTH:
        raise ValidationError(_("Báo cáo theo tháng: hãy chọn một tháng."), field="month")
    this = current_month(now)
    if month > this:
        raise ValidationError(
            _("%(m)s chưa bắt đầu: chưa thể báo cáo cho tháng này.", m=month.label), field="month"
        )
    if _month_index(this) - _month_index(month) > MONTHS_BACK:
        raise ValidationError(
            _("%(m)s đã quá lâu: chỉ báo cáo được cho tháng này và %(n)d tháng trước đó.",
              m=month.label, n=MONTHS_BACK),
            field="month",
        )


def line_field(activity_id: int) -> str:
    """The form field of one activity's quantity (errors name it)."""
    return f"q_{activity_id}"


def _check_lines(lines: dict[int, int]) -> dict[int, tuple[ActivityKind, int]]:
    """The positive quantities by activity id; every fault names its activity."""
    kinds = {kind.id: kind for kind in active_kinds()}
    unknown = [activity_id for activity_id in lines if activity_id not in kinds]
    if unknown:
        raise ValidationError(_("Hoạt động không có trong danh mục đang dùng (mã %(id)s).", id=unknown[0]))
    result: dict[int, tuple[ActivityKind, int]] = {}
    for activity_id, kind in kinds.items():
        quantity = lines.get(activity_id) or 0
        field = line_field(activity_id)
        if not isinstance(quantity, int) or isinstance(quantity, bool):
            raise ValidationError(_("“%(a)s”: hãy nhập một số nguyên.", a=kind.name), field=field)
        if quantity < 0:
            raise ValidationError(_("“%(a)s”: số lượng không được âm.", a=kind.name), field=field)
        if quantity > HARD_LIMIT:
            raise ValidationError(
                _("“%(a)s”: %(n)s %(u)s trong một tháng là không thể; hãy kiểm tra lại (tối đa %(max)s).",
                  a=kind.name, n=format_number(quantity), u=kind.unit_label, max=format_number(HARD_LIMIT)),
                field=field,
            )
        if quantity:
            result[activity_id] = (kind, quantity)
    if not result:
        raise ValidationError(_("Hãy nhập số lượng lớn hơn 0 cho ít nhất một hoạt động."))
    return result


def _check_link(link: str | None) -> str | None:
    link = clean(link) or None
    if link is None:
        return None
    if not is_web_link(link):
        raise ValidationError(
            _("Liên kết minh chứng phải là địa chỉ web bắt đầu bằng http:// hoặc https://."), field="evidence_link"
        )
    if len(link) > MAX_LINK:
        raise ValidationError(_("Liên kết minh chứng dài quá %(n)d ký tự.", n=MAX_LINK), field="evidence_link")
    return link


def _check_note(note: str | None) -> str:
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise ValidationError(_("Ghi chú dài quá %(n)d ký tự.", n=MAX_NOTE), field="note")
    return note


def _check_evidence(quantities: dict[int, tuple[ActivityKind, int]], has_evidence: bool) -> None:
    if has_evidence:
        return
    for kind, _quantity in quantities.values():
        if kind.evidence_required:
            raise ValidationError(
                _("“%(a)s” cần minh chứng: hãy gửi kèm ảnh chụp hoặc liên kết.", a=kind.name), field="photo"
            )


def _check_token(token: str | None) -> str | None:
    if not token:
        return None
    try:
        return str(uuid.UUID(token))
    except (ValueError, TypeError, AttributeError):
        raise ValidationError(_("Biểu mẫu không hợp lệ; hãy tải lại trang rồi gửi lại.")) from None


def _check_team_active(team: Team) -> None:
    if not team.active:
        raise ValidationError(_("Tổ “%(t)s” đã giải thể.", t=team.name))


# --- state, history ------------------------------------------------------------------------------


def _set_lines(report: ActivityReport, quantities: dict[int, tuple[ActivityKind, int]], members: int) -> dict[str, int]:
    """Write the lines in place (a line kept for the same activity is updated, never deleted and
    re-inserted, which the unique (report, activity) index would refuse within one flush) and flag
    the implausible ones. Returns the plausible limit of each flagged line, by activity id."""
    existing = {line.activity_id: line for line in report.lines}
    for activity_id, line in existing.items():
        if activity_id not in quantities:
            report.lines.remove(line)
    limits: dict[str, int] = {}
    for activity_id, (kind, quantity) in quantities.items():
        line = existing.get(activity_id)
        if line is None:
            line = ReportLine(activity=kind, activity_id=activity_id)
            report.lines.append(line)
        line.quantity = quantity
        limit = None if kind.plausible_per_member is None else members * kind.plausible_per_member
        line.flagged = limit is not None and quantity > limit
        if line.flagged:
            limits[str(activity_id)] = limit
    report.flagged = bool(limits)
    return limits


def snapshot(report: ActivityReport) -> dict[str, object]:
    """The report as the history keeps it (JSON: ids as strings)."""
    return {
        "status": report.status,
        "lines": {str(line.activity_id): line.quantity for line in report.lines},
        "note": report.note,
        "evidence_link": report.evidence_link,
        "evidence_file": report.evidence_file,
        "flagged": report.flagged,
        "late": report.late,
    }


def _record(
    report: ActivityReport, actor: User, action: str, before: dict[str, object] | None, now: datetime,
    reason: str = "", **extra: object,
) -> None:
    """Write the history entry, flush, and tell the other parts (standings, badges, feed)."""
    after = {**snapshot(report), **extra}
    db.session.add(ReportEvent(report=report, actor=actor, at=now, action=action, reason=reason,
                               before=before, after=after))
    db.session.flush()
    report_changed.send(report, before=None if before is None else before["status"])


def last_event_id(report: ActivityReport) -> int | None:
    return db.session.scalar(select(func.max(ReportEvent.id)).where(ReportEvent.report_id == report.id))


def _lock(report: ActivityReport, allowed: tuple[str, ...], seen_event: int | None) -> None:
    """Make sure the report is still as the actor saw it, and keep it so until the transaction ends.

    The row lock (PostgreSQL) makes a second officer, or the team correcting at the same moment,
    wait; it then reads the state the first one left and is refused, rather than both succeeding
    on a stale state. SQLite serialises writing transactions by itself."""
    if report.status not in allowed:
        raise ValidationError(str(NOT_ALLOWED[ReportStatus(report.status)]))
    db.session.flush()
    current = db.session.scalar(
        select(ActivityReport.status).where(ActivityReport.id == report.id).with_for_update()
    )
    if current != report.status or (seen_event is not None and last_event_id(report) != seen_event):
        raise ValidationError(
            _("Báo cáo vừa được người khác thay đổi. Hãy tải lại trang và xem lại trước khi thao tác.")
        )


# --- the team's side -----------------------------------------------------------------------------


def by_token(token: str) -> ActivityReport | None:
    return db.session.scalar(select(ActivityReport).where(ActivityReport.client_token == token))


def _resent(existing: ActivityReport, team: Team, actor: User) -> ActivityReport:
    """A resent form (double tap, retry on a weak network): the report it filed, nothing more."""
    if existing.team_id != team.id or existing.filed_by_id != actor.id:
        raise PermissionDenied  # a token copied from somebody else's form
    return existing


def file_report(
    team: Team, month: Period, lines: dict[int, int], actor: User, note: str = "",
    evidence_link: str | None = None, evidence_file: Upload | None = None, client_token: str | None = None,
    now: datetime | None = None,
) -> ActivityReport:
    """File one entry of the team's report for ``month``: quantities by activity kind id.

    With ``client_token`` (the form's one-time token) a resend returns the report already filed and
    writes nothing; a concurrent resend loses the race on the unique token and returns the winner."""
    now = now or utcnow()
    _require_leader(actor, team)
    token = _check_token(client_token)
    if token is not None and (existing := by_token(token)) is not None:
        return _resent(existing, team, actor)
    _check_team_active(team)
    _check_month(month, now)
    quantities = _check_lines(lines)
    note, link = _check_note(note), _check_link(evidence_link)
    photo = evidence.read_photo(evidence_file) if evidence_file is not None else None
    _check_evidence(quantities, link is not None or photo is not None)

    report = ActivityReport(
        team=team, month=month.key, status=ReportStatus.SUBMITTED, note=note, evidence_link=link,
        late=now > month.report_deadline(), client_token=token, filed_by=actor, filed_at=now,
    )
    members = active_count(team)
    limits = _set_lines(report, quantities, members)
    if photo is not None:
        report.evidence_file = evidence.save(*photo)
    winner = insert_or_existing(report, lambda: by_token(token) if token else None)
    if winner is not report:
        if report.evidence_file:
            evidence.discard(report.evidence_file)
        return _resent(winner, team, actor)
    _record(report, actor, Action.FILED, None, now, members=members, limits=limits)
    return report


def correct_report(
    report: ActivityReport, lines: dict[int, int], actor: User, note: str = "",
    evidence_link: str | None = None, evidence_file: Upload | None = None, now: datetime | None = None,
    drop_photo: bool = False,
) -> ActivityReport:
    """Correct a report still waiting for review, or re-file a rejected one (back to submitted).

    ``lines``, ``note`` and ``evidence_link`` replace what the report had; a new ``evidence_file``
    replaces its photo, which is otherwise kept unless ``drop_photo``. Replaced photos stay on disk:
    the history still shows them. A submitted report sent again unchanged writes nothing."""
    now = now or utcnow()
    team = report.team
    _require_leader(actor, team)
    _lock(report, (ReportStatus.SUBMITTED, ReportStatus.REJECTED), None)
    _check_team_active(team)
    _check_month(Period.parse(report.month), now)
    quantities = _check_lines(lines)
    note, link = _check_note(note), _check_link(evidence_link)
    photo = evidence.read_photo(evidence_file) if evidence_file is not None else None
    keeps_photo = report.evidence_file is not None and not drop_photo
    _check_evidence(quantities, link is not None or photo is not None or keeps_photo)
    before = snapshot(report)
    unchanged = (
        report.status == ReportStatus.SUBMITTED and photo is None and (keeps_photo or report.evidence_file is None)
        and before["lines"] == {str(activity_id): q for activity_id, (_kind, q) in quantities.items()}
        and (before["note"], before["evidence_link"]) == (note, link)
    )
    if unchanged:
        return report  # a resent correction (double tap): nothing to record

    members = active_count(team)
    limits = _set_lines(report, quantities, members)
    report.note, report.evidence_link = note, link
    if photo is not None:
        report.evidence_file = evidence.save(*photo)
    elif drop_photo:
        report.evidence_file = None
    report.status = ReportStatus.SUBMITTED
    report.reviewed_by, report.reviewed_at, report.review_reason = None, None, ""
    _record(report, actor, Action.CORRECTED, before, now, members=members, limits=limits)
    return report


# --- the officer's side --------------------------------------------------------------------------


def verify(
    report: ActivityReport, actor: User, confirm_flagged: bool = False, now: datetime | None = None,
    seen_event: int | None = None,
) -> ActivityReport:
    """Verify a submitted report: its quantities count from now on. A flagged one needs the
    officer's explicit word that the numbers were checked with the team."""
    now = now or utcnow()
    _require_reviewer(actor, report.team)
    _lock(report, (ReportStatus.SUBMITTED,), seen_event)
    if report.flagged and not confirm_flagged:
        raise ValidationError(
            _("Báo cáo có số liệu vượt mức hợp lý: hãy đánh dấu “Tôi đã kiểm tra số liệu vượt mức với tổ” "
              "trước khi xác nhận."),
            field="confirm_flagged",
        )
    before = snapshot(report)
    report.status = ReportStatus.VERIFIED
    report.reviewed_by, report.reviewed_at, report.review_reason = actor, now, ""
    _record(report, actor, Action.VERIFIED, before, now, confirmed_flagged=report.flagged)
    return report


def reject(
    report: ActivityReport, actor: User, reason: str, now: datetime | None = None, seen_event: int | None = None,
) -> ActivityReport:
    """Reject a submitted report, or a verified one found wrong later; the reason tells the team what
    to correct. It stops counting at once."""
    now = now or utcnow()
    _require_reviewer(actor, report.team)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Hãy ghi lý do từ chối để tổ biết cần sửa gì."), field="reason")
    if len(reason) > MAX_REASON:
        raise ValidationError(_("Lý do dài quá %(n)d ký tự.", n=MAX_REASON), field="reason")
    _lock(report, (ReportStatus.SUBMITTED, ReportStatus.VERIFIED), seen_event)
    before = snapshot(report)
    report.status = ReportStatus.REJECTED
    report.reviewed_by, report.reviewed_at, report.review_reason = actor, now, reason
    _record(report, actor, Action.REJECTED, before, now, reason=reason)
    return report


# --- reading -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Total:
    kind: ActivityKind
    verified: int
    pending: int  # submitted, not yet reviewed


@dataclass(frozen=True)
class MonthReports:
    month: Period
    reports: list[ActivityReport]
    totals: list[Total]  # the activities with anything verified or pending, in catalogue order


def reports_of(team: Team, month_keys: list[str]) -> dict[str, list[ActivityReport]]:
    """The team's entries for these months by month key, first filed first: one query."""
    by_month: dict[str, list[ActivityReport]] = {key: [] for key in month_keys}
    for report in db.session.scalars(
        select(ActivityReport).options(selectinload(ActivityReport.lines))
        .where(ActivityReport.team_id == team.id, ActivityReport.month.in_(month_keys))
        .order_by(ActivityReport.filed_at, ActivityReport.id)
    ).unique():
        by_month[report.month].append(report)
    return by_month


def month_totals(reports: list[ActivityReport]) -> list[Total]:
    verified: dict[int, int] = {}
    pending: dict[int, int] = {}
    kinds: dict[int, ActivityKind] = {}
    for report in reports:
        bucket = {ReportStatus.VERIFIED: verified, ReportStatus.SUBMITTED: pending}.get(ReportStatus(report.status))
        if bucket is None:
            continue  # a rejected entry counts nowhere
        for line in report.lines:
            kinds[line.activity_id] = line.activity
            bucket[line.activity_id] = bucket.get(line.activity_id, 0) + line.quantity
    ordered = sorted(kinds.values(), key=lambda kind: (kind.position, kind.id))
    return [Total(kind, verified.get(kind.id, 0), pending.get(kind.id, 0)) for kind in ordered]


def team_months(team: Team, page: int | None = None) -> Page[MonthReports]:
    """The months the team has reported, newest first, a page of months at a time."""
    keys = list(db.session.scalars(
        select(ActivityReport.month).distinct().where(ActivityReport.team_id == team.id)
        .order_by(ActivityReport.month.desc())
    ))
    page_number = clamp_page(page, len(keys), MONTHS_PER_PAGE)
    shown = keys[(page_number - 1) * MONTHS_PER_PAGE:page_number * MONTHS_PER_PAGE]
    items = [MonthReports(Period.parse(key), reports, month_totals(reports))
             for key, reports in reports_of(team, shown).items()]
    return Page(items, len(keys), page_number, MONTHS_PER_PAGE)


def review_queue(
    actor: User, unit: Unit | None = None, month: Period | None = None, status: str | None = ReportStatus.SUBMITTED,
) -> Select[tuple[ActivityReport]]:
    """Reports of the teams in the actor's scope (and under ``unit``), for one month or all, in one
    status or all: the waiting ones oldest first (first come, first served), others newest first."""
    query = (
        select(ActivityReport)
        .options(selectinload(ActivityReport.lines))  # each row shows its lines: one query for the page
        .join(Team, Team.id == ActivityReport.team_id)
        .join(Unit, Unit.id == Team.unit_id)
        .where(unit_scope_clause(actor))
    )
    if unit is not None:
        query = query.where(Unit.path.startswith(unit.path))
    if month is not None:
        query = query.where(ActivityReport.month == month.key)
    if status is not None:
        query = query.where(ActivityReport.status == status)
    if status == ReportStatus.SUBMITTED:
        return query.order_by(ActivityReport.filed_at, ActivityReport.id)
    return query.order_by(ActivityReport.filed_at.desc(), ActivityReport.id.desc())


def communes_in_scope(actor: User) -> list[Unit]:
    """The commune-level units the actor may filter the queue by."""
    return list(db.session.scalars(
        select(Unit).where(unit_scope_clause(actor), Unit.kind.in_([str(kind) for kind in COMMUNE_LEVEL]))
        .order_by(Unit.name)
    ))


def flag_reasons(report: ActivityReport) -> list[str]:
    """Why each flagged line looks implausible, with the team size and the limit at filing time."""
    filing = next((e for e in reversed(report.events) if e.action in (Action.FILED, Action.CORRECTED)), None)
    if filing is None or not report.flagged:
        return []
    after = filing.after or {}
    members = int(after.get("members", 0))  # type: ignore[arg-type]
    limits: dict[str, int] = after.get("limits") or {}  # type: ignore[assignment]
    reasons = []
    for line in report.lines:
        limit = limits.get(str(line.activity_id))
        if line.flagged and limit is not None:
            reasons.append(_(
                "Tổ %(m)d người báo cáo %(n)s %(u)s cho “%(a)s” trong tháng: vượt mức hợp lý %(limit)s "
                "(%(per)d %(u)s mỗi thành viên).",
                m=members, n=format_number(line.quantity), u=line.activity.unit_label, a=line.activity.name,
                limit=format_number(limit), per=line.activity.plausible_per_member or 0,
            ))
    return reasons


def photo_names(report: ActivityReport) -> set[str]:
    """Every photo the report has had (its history shows replaced ones too)."""
    names = {report.evidence_file} if report.evidence_file else set()
    for event in report.events:
        for state in (event.before, event.after):
            if state and state.get("evidence_file"):
                names.add(str(state["evidence_file"]))
    return names
