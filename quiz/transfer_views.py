"""Import and export of the bank (routes on the quiz blueprint).

Import: upload → preview (nothing written) → confirm (re-checked against the bank as it is then,
written all-or-nothing, or only the valid rows when asked), through core.imports' stored previews.
Export holds the correct answers, so it is for Department staff only.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from core.accounts.permissions import access
from core.accounts.roles import RoleCode
from core.db_types import utcnow
from core.downloads import xlsx_download
from core.errors import ValidationError
from core.extensions import db
from core.forms import show_error
from core.imports.plan import RowStatus
from core.imports.preview import discard_plan, load_plan, save_plan
from core.imports.views import PREVIEW_ROWS
from core.timeutil import to_local
from quiz import importer
from quiz.bank import LETTERS, can_review, categories, status_label
from quiz.exporter import export_questions
from quiz.forms import ExportForm, QuestionsConfirmForm, UploadForm
from quiz.models import QuestionStatus
from quiz.views import bp

KIND = "questions"  # the stored-preview kind
AUTHORS = (RoleCode.ADMIN, RoleCode.ORGANISER)


def _upload_form() -> UploadForm:
    form = UploadForm()
    if can_review(current_user):
        form.status.choices = [(str(s), status_label(s)) for s in importer.IMPORT_STATUSES]
    else:
        del form.status  # an organiser's imports are drafts, for an admin to review
    return form


def _preview(plan: importer.QuestionPlan, filename: str, token: str | None, code: int = 200) -> tuple[str, int]:
    confirm = QuestionsConfirmForm(token=token) if token else None
    return render_template(
        "quiz/import_preview.html", plan=plan, filename=filename, rows=plan.visible_rows(PREVIEW_ROWS),
        preview_rows=PREVIEW_ROWS, confirm=confirm, letters=LETTERS, status=status_label(plan.status).lower(),
    ), code


@bp.route("/import", methods=["GET", "POST"])
@access(*AUTHORS)
def import_upload() -> str | tuple[str, int]:
    form = _upload_form()
    if form.validate_on_submit():
        upload = form.file.data
        status = form.status.data if "status" in form else QuestionStatus.DRAFT
        try:
            table = importer.read_questions_file(upload.filename, upload.stream)
        except ValidationError as error:
            show_error(form, error)
        else:
            plan = importer.import_questions(table.rows, current_user, status, table.headers, dry_run=True)
            params = {"headers": table.headers, "status": status}
            token = save_plan(KIND, current_user.id, upload.filename, table.rows, params) \
                if plan.count(RowStatus.NEW) else None
            return _preview(plan, upload.filename, token)
    return render_template("quiz/import_upload.html", form=form)


@bp.route("/import/confirm", methods=["POST"])
@access(*AUTHORS)
def import_confirm() -> Response | tuple[str, int]:
    form = QuestionsConfirmForm()
    try:
        stored = load_plan(KIND, form.token.data, current_user.id)
        plan = importer.import_questions(
            stored.rows, current_user, stored.params["status"], stored.params["headers"],
            valid_only=bool(form.valid_only.data),
        )
    except ValidationError as error:  # an expired preview
        flash(str(error), "error")
        return redirect(url_for(".import_upload"))
    if not plan.written:  # errors and no "valid rows only", or the bank changed since the preview
        flash(_("Tệp còn lỗi nên chưa ghi gì. Hãy sửa tệp rồi tải lên lại, hoặc chọn chỉ nhập các dòng hợp lệ."),
              "error")
        token = form.token.data if plan.count(RowStatus.NEW) else None
        return _preview(plan, stored.filename, token, code=409)
    db.session.commit()
    discard_plan(KIND)
    flash(
        _("Đã nhập %(n)d câu hỏi (%(status)s); bỏ qua %(bad)d dòng lỗi.", n=len(plan.question_ids),
          status=status_label(plan.status).lower(), bad=plan.count(RowStatus.ERROR)),
        "success",
    )
    return redirect(url_for(".bank"))


@bp.route("/import/template.xlsx")
@access(*AUTHORS)
def import_template() -> Response:
    return xlsx_download(importer.questions_template(), "mau-ngan-hang-cau-hoi.xlsx")


def _export_form() -> ExportForm:
    form = ExportForm(formdata=request.args)
    form.status.choices = [("", _("Tất cả, trừ câu ngừng sử dụng"))] + [
        (str(s), status_label(s)) for s in QuestionStatus
    ]
    form.category.choices = [("", _("Mọi lĩnh vực"))] + [
        (str(c.id), c.name) for c in categories(active_only=False)
    ]
    return form


@bp.route("/export")
@access(RoleCode.ADMIN)
def export_page() -> str:
    return render_template("quiz/export.html", form=_export_form())


@bp.route("/export.xlsx")
@access(RoleCode.ADMIN)
def export_download() -> Response | tuple[str, int]:
    form = _export_form()
    if not form.validate():
        return render_template("quiz/export.html", form=form), 400
    data = export_questions(form.status.data or None, int(form.category.data) if form.category.data else None)
    day = to_local(utcnow()).strftime("%Y%m%d")
    return xlsx_download(data, f"ngan-hang-cau-hoi-{day}.xlsx")
