"""The outputs of a prize decision: the page where staff set what is printed around it (issuing
body, date, signer, decision number) and download the certificates (one PDF for all, a zip of one
PDF per winner, one winner's) and the winners list (Excel). Only an approved or published award
has outputs. A winner downloads their own certificate once the award is published (for a team
prize its leader and deputy), printed with the default heading.

What may be downloaded by whom is decided by competitions.prizes.structures.can_manage and
competitions.prizes.certificates.is_own; the files are built by certificates and decision_list."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import asdict

from flask import Blueprint, render_template, request, send_file
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import StringField, TextAreaField

from competitions.prizes import certificates, decision_list, structures
from competitions.prizes.certificates import Signing
from competitions.prizes.models import Award, AwardStatus
from competitions.rounds import local_today
from core.accounts.permissions import SIGNED_IN, STAFF, access
from core.db_types import utcnow
from core.downloads import xlsx_download
from core.errors import NotFound, PermissionDenied, ValidationError
from core.forms import show_error

bp = Blueprint("award_outputs", __name__, url_prefix="/awards")

PDF_MIMETYPE = "application/pdf"
ZIP_MIMETYPE = "application/zip"


class SigningForm(FlaskForm):
    """What surrounds the decision on paper. A GET form that changes nothing (no CSRF token); the
    values travel with each download link. What is valid is decided by certificates.signing_from."""

    class Meta:
        csrf = False

    authority = StringField(_l("Cơ quan chủ quản"))
    issuer = StringField(_l("Cơ quan cấp"))
    place = StringField(_l("Địa danh ghi ngày tháng"))
    day = StringField(_l("Ngày ký"), render_kw={"type": "date"})
    signer_title = TextAreaField(_l("Chức danh người ký (mỗi dòng một chức danh)"), render_kw={"rows": 2})
    signer_name = StringField(_l("Họ và tên người ký"))
    decision_number = StringField(_l("Số quyết định khen thưởng"))


def _managed(award_id: int) -> Award:
    award = certificates.decided_award(award_id)
    structures.require_manage(current_user, award)
    return award


def _form(award: Award, signing: Signing) -> SigningForm:
    values = {**asdict(signing), "day": signing.day.isoformat()}
    return SigningForm(request.args if request.args else None, data=values)


def _page(award: Award, form: SigningForm, status: int = 200) -> tuple[str, int]:
    return render_template(
        "prizes/outputs.html", award=award, form=form, winners=certificates.ordered_winners(award),
        args={name: value for name, value in request.args.items() if name in form._fields},
        published=award.status == AwardStatus.PUBLISHED,
    ), status


def _with_signing(award_id: int, build: Callable[[Award, Signing], Response]) -> Response | tuple[str, int]:
    """A staff download printed with the page's settings; bad settings show the page with the error."""
    award = _managed(award_id)
    try:
        signing = certificates.signing_from(award, request.args, local_today())
    except ValidationError as error:
        form = _form(award, certificates.default_signing(award, local_today()))
        show_error(form, error)
        return _page(award, form, 400)
    return build(award, signing)


def _send(data: bytes, mimetype: str, filename: str, attachment: bool = True) -> Response:
    response = send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=attachment, download_name=filename)
    response.headers["Cache-Control"] = "private, no-store"  # names of people: never in a shared cache
    return response


@bp.route("/<int:award_id>/outputs")
@access(*STAFF)
def outputs(award_id: int) -> tuple[str, int]:
    award = _managed(award_id)
    form = _form(award, certificates.default_signing(award, local_today()))
    try:
        certificates.signing_from(award, request.args, local_today())
    except ValidationError as error:
        show_error(form, error)
        return _page(award, form, 400)
    return _page(award, form)


@bp.route("/<int:award_id>/certificates.pdf")
@access(*STAFF)
def all_certificates(award_id: int) -> Response | tuple[str, int]:
    return _with_signing(award_id, lambda award, signing: _send(
        certificates.all_certificates(award, signing), PDF_MIMETYPE, certificates.batch_filename(award, "pdf"),
    ))


@bp.route("/<int:award_id>/certificates.zip")
@access(*STAFF)
def certificates_zip(award_id: int) -> Response | tuple[str, int]:
    return _with_signing(award_id, lambda award, signing: _send(
        certificates.certificates_zip(award, signing, utcnow()), ZIP_MIMETYPE,
        certificates.batch_filename(award, "zip"),
    ))


@bp.route("/<int:award_id>/winners.xlsx")
@access(*STAFF)
def winners_list(award_id: int) -> Response | tuple[str, int]:
    return _with_signing(award_id, lambda award, signing: xlsx_download(
        decision_list.workbook(award, signing), decision_list.filename(award),
    ))


@bp.route("/<int:award_id>/certificates/<int:winner_id>.pdf")
@access(SIGNED_IN)
def certificate(award_id: int, winner_id: int) -> Response | tuple[str, int]:
    """Staff who manage the award, with the page's settings; the winner (published awards only)
    with the defaults: what the organiser typed on the outputs page is not stored."""
    award = certificates.decided_award(award_id)
    winner = certificates.winner_of(award, winner_id)
    if structures.can_manage(current_user, award):
        return _with_signing(award_id, lambda award, signing: _send(
            certificates.certificate(award, winner, signing), PDF_MIMETYPE,
            certificates.certificate_filename(winner), attachment=False,
        ))
    if award.status != AwardStatus.PUBLISHED:
        raise NotFound(_("Không tìm thấy quyết định khen thưởng này."))
    if not certificates.is_own(current_user, winner):
        raise PermissionDenied
    signing = certificates.default_signing(award, local_today())
    return _send(certificates.certificate(award, winner, signing), PDF_MIMETYPE,
                 certificates.certificate_filename(winner), attachment=False)
