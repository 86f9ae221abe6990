"""The review screen of a prize decision (xét duyệt giải): the proposal by audience and prize, with
exclusions, tie decisions, approval, reopening, publication and the audit log. Every form carries
the award version it was made from, so acting on a page somebody else has changed since is refused.
The rules are in competitions.prizes.workflow."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import HiddenField, SelectMultipleField, StringField, TextAreaField

from competitions.prizes import workflow
from competitions.prizes.models import Award, AwardStatus
from competitions.prizes.proposal import LineStatus, propose
from competitions.prizes.structures import owner_label, require_manage
from core.accounts.permissions import STAFF, access
from core.accounts.roles import RoleCode
from core.db_types import utcnow
from core.extensions import db
from core.forms import saved

bp = Blueprint("award_review", __name__, url_prefix="/awards")

LINE_STATUS_LABELS = {
    LineStatus.WINNER: _l("Đoạt giải"),
    LineStatus.NEXT: _l("Dự bị"),
    LineStatus.EXCLUDED: _l("Bị loại"),
    LineStatus.INELIGIBLE: _l("Không đủ điều kiện"),
    LineStatus.TIED: _l("Đồng hạng, chờ quyết định"),
}
LINE_STATUS_BADGES = {
    LineStatus.WINNER: "ok", LineStatus.NEXT: "", LineStatus.EXCLUDED: "off", LineStatus.INELIGIBLE: "off",
    LineStatus.TIED: "warn",
}


# --- forms ---------------------------------------------------------------------------------------


class StepForm(FlaskForm):
    """Every step: the version of the decision the page showed. The screen renders the fields itself
    (one form per candidate and per tie); a refused form comes back as ``failed`` with its data."""

    kind = "step"
    seen_version = HiddenField()

    def seen(self) -> int | None:
        value = self.seen_version.data or ""
        return int(value) if value.isdigit() else None


class ExcludeForm(StepForm):
    kind = "exclude"
    subject = HiddenField()
    reason = TextAreaField()


class WithdrawForm(StepForm):
    kind = "withdraw"
    subject = HiddenField()


class TieForm(StepForm):
    kind = "tie"
    tier_id = HiddenField()
    decision = StringField()  # workflow.TieChoice
    picked = SelectMultipleField(choices=[], validate_choice=False)
    reason = TextAreaField()


class ReopenForm(StepForm):
    kind = "reopen"
    reason = TextAreaField()


# --- helpers -------------------------------------------------------------------------------------


def _award(award_id: int) -> Award:
    award = db.get_or_404(Award, award_id)
    require_manage(current_user, award)
    return award


def _page(award: Award, failed: StepForm | None = None) -> str:
    """The review screen; ``failed`` is the form whose step was just refused (its text is kept and
    its errors shown where it was)."""
    now = utcnow()
    proposal = propose(award, now) if award.status == AwardStatus.DRAFT else None
    return render_template(
        "prizes/review.html", award=award, owner=owner_label(award), proposal=proposal,
        groups=workflow.grouped(award, proposal) if proposal is not None else [],
        prizes=workflow.prize_groups(award) if proposal is None else [], failed=failed,
        is_admin=workflow.can_decide(current_user, award), statuses=LINE_STATUS_LABELS, badges=LINE_STATUS_BADGES,
        audit=workflow.audit(award),
    )


def _step(award_id: int, form: StepForm, action: Callable[[Award], object], success: str) -> str | Response:
    """Run one step: back to the screen on success, the screen with the refusal otherwise."""
    award = _award(award_id)
    done = saved(lambda: action(award), success, form=form)
    if done is None:
        return _page(_award(award_id), failed=form)
    return redirect(url_for("award_review.review", award_id=award_id))


# --- routes --------------------------------------------------------------------------------------


@bp.route("/<int:award_id>/review")
@access(*STAFF)
def review(award_id: int) -> str:
    return _page(_award(award_id))


@bp.route("/<int:award_id>/review/exclude", methods=["POST"])
@access(*STAFF)
def exclude(award_id: int) -> str | Response:
    form = ExcludeForm()
    return _step(award_id, form, lambda award: workflow.exclude(
        award, form.subject.data or "", form.reason.data or "", current_user, seen_version=form.seen(),
    ), _("Đã loại khỏi danh sách; người tiếp theo được xét thay."))


@bp.route("/<int:award_id>/review/withdraw", methods=["POST"])
@access(*STAFF)
def withdraw(award_id: int) -> str | Response:
    form = WithdrawForm()
    return _step(award_id, form, lambda award: workflow.withdraw_exclusion(
        award, form.subject.data or "", current_user, seen_version=form.seen(),
    ), _("Đã rút lại việc loại; danh sách đề xuất được tính lại."))


@bp.route("/<int:award_id>/review/tie", methods=["POST"])
@access(*STAFF)
def settle_tie(award_id: int) -> str | Response:
    form = TieForm()
    tier_id = int(form.tier_id.data) if (form.tier_id.data or "").isdigit() else 0
    return _step(award_id, form, lambda award: workflow.settle_tie(
        award, tier_id, form.decision.data or "", form.picked.data or [], form.reason.data or "", current_user,
        seen_version=form.seen(),
    ), _("Đã xử lý trường hợp đồng hạng."))


@bp.route("/<int:award_id>/review/approve", methods=["POST"])
@access(RoleCode.ADMIN)
def approve(award_id: int) -> str | Response:
    form = StepForm()
    return _step(award_id, form, lambda award: workflow.approve(award, current_user, seen_version=form.seen()),
                 _("Đã phê duyệt danh sách đoạt giải."))


@bp.route("/<int:award_id>/review/reopen", methods=["POST"])
@access(RoleCode.ADMIN)
def reopen(award_id: int) -> str | Response:
    form = ReopenForm()
    award = _award(award_id)
    published = award.status == AwardStatus.PUBLISHED
    return _step(award_id, form, lambda award: workflow.reopen(
        award, current_user, form.reason.data or "", seen_version=form.seen(),
    ), _("Đã mở lại quyết định; trang kết quả công khai đã được gỡ.") if published
        else _("Đã mở lại quyết định để xét lại."))


@bp.route("/<int:award_id>/review/publish", methods=["POST"])
@access(*STAFF)
def publish(award_id: int) -> str | Response:
    form = StepForm()
    return _step(award_id, form, lambda award: workflow.publish(award, current_user, seen_version=form.seen()),
                 _("Đã công bố kết quả và gửi thông báo cho người đoạt giải."))

