"""Activity report screens: the team's reports by month, the filing and correction form (phone first,
no JavaScript), a report's page with its history and the officer's review forms, the review queue,
and the evidence photos. The rules are in competitions.emulation.reports."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response
from wtforms import BooleanField, HiddenField, StringField, TextAreaField

from competitions.emulation import evidence, reports
from competitions.emulation.models import ActivityKind, ActivityReport, ReportStatus
from competitions.emulation.periods import Period
from competitions.forms import NumberField
from core.accounts.permissions import SIGNED_IN, STAFF, access
from core.db_types import utcnow
from core.errors import PermissionDenied
from core.extensions import db
from core.forms import ChoiceField, saved
from core.org.models import Unit
from core.pagination import paginate_select
from core.teams.models import Team
from core.teams.service import active_membership_of, is_staff, leads

bp = Blueprint("reports", __name__, url_prefix="/emulation/reports")


@bp.app_template_filter("report_status")
def report_status(value: str) -> str:
    return str(reports.STATUS_LABELS[ReportStatus(value)])


@bp.app_template_filter("report_action")
def report_action(value: str) -> str:
    label = reports.ACTION_LABELS.get(value)
    return str(label) if label is not None else value


@bp.app_template_filter("report_month")
def report_month(key: str) -> str:
    return Period.parse(key).label


# --- forms ---------------------------------------------------------------------------------------


class ReportForm(FlaskForm):
    """Filing and correcting; one quantity field per active activity kind is added by ``report_form``.
    No field validators: the service names the faults, on the field they concern."""

    month = ChoiceField(_l("Tháng báo cáo"), validate_choice=False)
    note = TextAreaField(_l("Ghi chú (không bắt buộc)"), render_kw={"rows": 3})
    evidence_link = StringField(
        _l("Liên kết minh chứng (không bắt buộc)"), render_kw={"inputmode": "url", "placeholder": "https://"}
    )
    photo = FileField(
        _l("Ảnh minh chứng (không bắt buộc)"), render_kw={"accept": "image/jpeg,image/png,image/webp"}
    )
    drop_photo = BooleanField(_l("Bỏ ảnh minh chứng đang có"))
    client_token = HiddenField()

    def quantity_fields(self, kinds: list[ActivityKind]) -> list[object]:
        return [self[reports.line_field(kind.id)] for kind in kinds]

    def lines(self, kinds: list[ActivityKind]) -> dict[int, int]:
        return {kind.id: self[reports.line_field(kind.id)].data or 0 for kind in kinds}

    def upload(self) -> FileStorage | None:
        """The chosen photo; a form sent without one still carries an empty file part."""
        data = self.photo.data
        return data if isinstance(data, FileStorage) and data.filename else None


def report_form(kinds: list[ActivityKind], data: dict[str, object] | None = None) -> ReportForm:
    fields = {
        reports.line_field(kind.id): NumberField(
            kind.name, render_kw={"min": 0, "max": reports.HARD_LIMIT, "inputmode": "numeric"}
        )
        for kind in kinds
    }
    form_class = type("ActivityReportForm", (ReportForm,), fields)
    return form_class(data=data if request.method == "GET" else None)


class VerifyForm(FlaskForm):
    confirm_flagged = BooleanField(_l("Tôi đã kiểm tra số liệu vượt mức với tổ và xác nhận là đúng"))
    seen = HiddenField()


class RejectForm(FlaskForm):
    reason = TextAreaField(_l("Lý do từ chối (tổ sẽ thấy để sửa)"), render_kw={"rows": 3})
    seen = HiddenField()


# --- helpers -------------------------------------------------------------------------------------


def _report(report_id: int) -> ActivityReport:
    report = db.get_or_404(ActivityReport, report_id)
    if not reports.can_view(current_user, report.team):
        raise PermissionDenied
    return report


def _seen(form: VerifyForm | RejectForm) -> int | None:
    """The last history entry the officer's page showed: acting on an older page is refused."""
    return int(form.seen.data) if (form.seen.data or "").isdigit() else None


def _report_page(report: ActivityReport, verify_form: VerifyForm | None = None,
                 reject_form: RejectForm | None = None) -> str:
    reviewer = reports.can_review(current_user, report.team)
    seen = reports.last_event_id(report)
    if reviewer:
        verify_form = verify_form or VerifyForm(data={"seen": seen})
        reject_form = reject_form or RejectForm(data={"seen": seen})
    return render_template(
        "emulation/report.html", report=report, reasons=reports.flag_reasons(report),
        reviewer=reviewer, leader=leads(current_user, report.team),
        verify_form=verify_form, reject_form=reject_form,
        kinds={kind.id: kind for kind in db.session.scalars(select(ActivityKind))},
    )


# --- the team's side -----------------------------------------------------------------------------


@bp.route("/mine")
@access(SIGNED_IN)
def my_team() -> Response:
    membership = active_membership_of(current_user)
    if membership is not None:
        return redirect(url_for("reports.team_reports", team_id=membership.team_id))
    if is_staff(current_user):
        return redirect(url_for("reports.queue"))
    flash(_("Bạn chưa thuộc Tổ CNSCĐ nào nên chưa có báo cáo để xem."), "info")
    return redirect(url_for("main.index"))


@bp.route("/team/<int:team_id>")
@access(SIGNED_IN)
def team_reports(team_id: int) -> str:
    team = db.get_or_404(Team, team_id)
    if not reports.can_view(current_user, team):
        raise PermissionDenied
    return render_template(
        "emulation/report_team.html", team=team, page=reports.team_months(team, request.args.get("page", type=int)),
        leader=leads(current_user, team) and team.active,
        fileable={month.key for month in reports.fileable_months()},
    )


@bp.route("/team/<int:team_id>/new", methods=["GET", "POST"])
@access(SIGNED_IN)
def file_report(team_id: int) -> str | Response:
    team = db.get_or_404(Team, team_id)
    if not leads(current_user, team):
        raise PermissionDenied
    kinds = reports.active_kinds()
    now = utcnow()
    months = reports.fileable_months(now)
    wanted = request.args.get("month")
    start = wanted if wanted in {m.key for m in months} else reports.default_month(now).key
    form = report_form(kinds, {"month": start, "client_token": str(uuid.uuid4())})
    form.month.choices = [(m.key, m.label) for m in months]
    if form.validate_on_submit():
        report = saved(
            lambda: reports.file_report(
                team, Period.parse(form.month.data or "", field="month"), form.lines(kinds), current_user,
                note=form.note.data or "", evidence_link=form.evidence_link.data, evidence_file=form.upload(),
                client_token=form.client_token.data, now=now,
            ),
            lambda r: _("Đã gửi báo cáo %(m)s của %(t)s; đang chờ xã xác nhận.",
                        m=Period.parse(r.month).label, t=team.name),
            form=form,
        )
        if report is not None:
            return redirect(url_for("reports.report_page", report_id=report.id))
    return render_template("emulation/report_form.html", form=form, team=team, kinds=kinds, report=None,
                           photo_mb=evidence.MAX_PHOTO_MB)


@bp.route("/<int:report_id>/edit", methods=["GET", "POST"])
@access(SIGNED_IN)
def correct_report(report_id: int) -> str | Response:
    report = _report(report_id)
    if not leads(current_user, report.team):
        raise PermissionDenied
    if report.status == ReportStatus.VERIFIED:
        flash(_("Báo cáo đã được xác nhận nên không thể thay đổi."), "error")
        return redirect(url_for("reports.report_page", report_id=report.id))
    kinds = reports.active_kinds()
    current = {reports.line_field(line.activity_id): line.quantity for line in report.lines}
    form = report_form(kinds, {**current, "note": report.note, "evidence_link": report.evidence_link})
    if form.validate_on_submit():
        done = saved(
            lambda: reports.correct_report(
                report, form.lines(kinds), current_user, note=form.note.data or "",
                evidence_link=form.evidence_link.data, evidence_file=form.upload(), drop_photo=form.drop_photo.data,
            ),
            _("Đã gửi lại báo cáo; đang chờ xã xác nhận."),
            form=form,
        )
        if done is not None:
            return redirect(url_for("reports.report_page", report_id=report.id))
    return render_template("emulation/report_form.html", form=form, team=report.team, kinds=kinds, report=report,
                           photo_mb=evidence.MAX_PHOTO_MB)


@bp.route("/<int:report_id>")
@access(SIGNED_IN)
def report_page(report_id: int) -> str:
    return _report_page(_report(report_id))


@bp.route("/<int:report_id>/photos/<path:name>")
@access(SIGNED_IN)
def photo(report_id: int, name: str) -> Response:
    """A photo of the report (the current one, or one its history shows), for its team and staff in scope."""
    report = _report(report_id)
    path = evidence.path_of(name) if name in reports.photo_names(report) else None
    if path is None:
        abort(404)
    response = send_file(path, mimetype=evidence.media_type(name), max_age=0, conditional=True)
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# --- the officer's side --------------------------------------------------------------------------


@bp.route("/<int:report_id>/verify", methods=["POST"])
@access(*STAFF)
def verify(report_id: int) -> str | Response:
    report = db.get_or_404(ActivityReport, report_id)
    form = VerifyForm()
    done = saved(
        lambda: reports.verify(report, current_user, confirm_flagged=form.confirm_flagged.data, seen_event=_seen(form)),
        _("Đã xác nhận báo cáo của %(t)s.", t=report.team.name),
        form=form,
    )
    if done is None:
        return _report_page(_report(report_id), verify_form=form)
    return redirect(url_for("reports.report_page", report_id=report.id))


@bp.route("/<int:report_id>/reject", methods=["POST"])
@access(*STAFF)
def reject(report_id: int) -> str | Response:
    report = db.get_or_404(ActivityReport, report_id)
    form = RejectForm()
    done = saved(
        lambda: reports.reject(report, current_user, form.reason.data or "", seen_event=_seen(form)),
        _("Đã từ chối báo cáo của %(t)s; tổ sẽ thấy lý do để sửa.", t=report.team.name),
        form=form,
    )
    if done is None:
        return _report_page(_report(report_id), reject_form=form)
    return redirect(url_for("reports.report_page", report_id=report.id))


STATUS_FILTERS = ("submitted", "verified", "rejected", "all")


@bp.route("/review")
@access(*STAFF)
def queue() -> str:
    """"Duyệt báo cáo": the reports of the teams in the officer's scope, waiting ones by default."""
    communes = reports.communes_in_scope(current_user)
    unit_id = request.args.get("unit", type=int)
    unit = next((u for u in communes if u.id == unit_id), None)
    months = reports.fileable_months()
    month_key = request.args.get("month", "")
    month = next((m for m in months if m.key == month_key), None)
    status = request.args.get("status", "submitted")
    if status not in STATUS_FILTERS:
        status = "submitted"
    query = reports.review_queue(current_user, unit, month, None if status == "all" else status)
    page = paginate_select(query, request.args.get("page", type=int))
    args = {"unit": unit.id if unit else "", "month": month.key if month else "", "status": status}
    return render_template(
        "emulation/report_queue.html", page=page, communes=communes, unit=unit, months=months, month=month,
        status=status, statuses=STATUS_FILTERS, args=args,
    )


@bp.app_template_filter("report_place")
def report_place(unit: Unit) -> str:
    """Where a team is: its unit, and the commune above a hamlet or an enterprise."""
    return unit.name if unit.is_commune_level or unit.parent is None else f"{unit.name} · {unit.parent.name}"
