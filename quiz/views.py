"""The question bank screens (Department staff and Youth Union organisers): the list with search,
filters and bulk review, the question page with its versions and statistics, the question form,
and the categories. The bank holds the answers, so nobody else opens any of it; who may edit or
review which question is decided by quiz.bank (can_edit / can_review)."""

from __future__ import annotations

from typing import TypeVar

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape
from werkzeug.wrappers import Response

from core.accounts.permissions import access
from core.accounts.roles import RoleCode
from core.db_types import utcnow
from core.downloads import xlsx_download
from core.extensions import db
from core.forms import saved
from core.timeutil import to_local
from quiz import bank
from quiz.forms import BankFilterForm, CategoryForm, QuestionForm, question_data
from quiz.models import Category, Question
from quiz.stats import all_item_stats, item_stats, stats_workbook

bp = Blueprint("quiz", __name__, url_prefix="/bank")
bp.add_app_template_filter(bank.status_label, "question_status")
bp.add_app_template_filter(bank.difficulty_label, "difficulty")
bp.add_app_template_filter(bank.kind_label, "question_kind")
bp.add_app_template_filter(format_percent, "percent")  # Vietnamese number formats: "0,35", "35%"
bp.add_app_template_filter(format_decimal, "decimal")

AUTHORS = (RoleCode.ADMIN, RoleCode.ORGANISER)  # bank.can_author
T = TypeVar("T")


@bp.app_template_filter("lines")
def lines(text: str | None) -> Markup:
    """User text with its line breaks shown: each line escaped, then joined with <br>."""
    return Markup("<br>\n").join(escape(line) for line in (text or "").split("\n"))


def _detail(question: Question) -> Response:
    return redirect(url_for("quiz.question_detail", question_id=question.id))


def _review(questions: list[Question]) -> None:
    """Approve or retire, as the button pressed says, and tell how many changed."""
    action = request.form.get("action")
    if action == "approve":
        flash(_("Đã duyệt %(n)d câu hỏi.", n=bank.approve(questions, current_user)), "success")
    elif action == "retire":
        flash(_("Đã ngừng sử dụng %(n)d câu hỏi.", n=bank.retire(questions, current_user)), "success")
    else:
        abort(400)
    db.session.commit()


# --- the bank ----------------------------------------------------------------------------------


@bp.route("/", endpoint="bank")
@access(*AUTHORS)
def bank_list() -> str:
    form = BankFilterForm(request.args)
    form.set_categories()
    page = bank.search(form.criteria(), request.args.get("page", type=int))
    return render_template(
        "quiz/bank.html", form=form, page=page, args=form.args(), tags=bank.all_tags(),
        can_review=bank.can_review(current_user),
    )


@bp.route("/review", methods=["POST"])
@access(RoleCode.ADMIN)
def bulk_review() -> Response:
    """The bank's checkboxes; the form's URL carries the list's filters and page to go back to."""
    questions = bank.questions_by_ids(request.form.getlist("ids", type=int))
    if questions:
        _review(questions)
    else:
        flash(_("Chưa chọn câu hỏi nào."), "error")
    back = BankFilterForm(request.args).args()  # only the known filters: url_for reads "_external" etc.
    return redirect(url_for("quiz.bank", page=request.args.get("page", type=int), **back))


# --- one question ------------------------------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
@access(*AUTHORS)
def question_new() -> str | Response:
    """Everyone proposes a draft; an admin approves it from the question page."""
    form = QuestionForm()
    form.set_categories()
    question = form.validate_on_submit() and saved(
        lambda: bank.create_question(form.to_input(), current_user), form=form
    )
    if question:
        flash(_("Đã lưu câu hỏi #%(id)d (bản nháp).", id=question.id), "success")
        return _detail(question)
    return render_template("quiz/question_form.html", form=form, question=None, asked=False)


@bp.route("/<int:question_id>")
@access(*AUTHORS)
def question_detail(question_id: int) -> str:
    question = db.get_or_404(Question, question_id)
    return render_template(
        "quiz/question_detail.html", question=question, version=question.current,
        stats=item_stats(question.id),
        can_edit=bank.can_edit(current_user, question), can_review=bank.can_review(current_user),
    )


@bp.route("/<int:question_id>/versions/<int:number>")
@access(*AUTHORS)
def question_version(question_id: int, number: int) -> str:
    """A version exactly as players saw it: text, choices and the answer counted correct then."""
    question = db.get_or_404(Question, question_id)
    version = bank.find_version(question, number)
    if version is None:
        abort(404)
    return render_template("quiz/question_version.html", question=question, version=version)


@bp.route("/<int:question_id>/edit", methods=["GET", "POST"])
@access(*AUTHORS)
def question_edit(question_id: int) -> str | Response:
    question = db.get_or_404(Question, question_id)
    bank.require_edit(current_user, question)
    form = QuestionForm(data=question_data(question) if request.method == "GET" else None)
    form.set_categories(question.category)
    number = question.current.number
    if form.validate_on_submit() and saved(
        lambda: bank.edit_question(question, form.to_input(), current_user), form=form
    ):
        if question.current.number != number:
            flash(_("Đã lưu phiên bản %(n)d; các bài thi cũ vẫn giữ phiên bản đã hỏi.",
                    n=question.current.number), "success")
        else:
            flash(_("Đã lưu câu hỏi."), "success")
        return _detail(question)
    return render_template(
        "quiz/question_form.html", form=form, question=question, asked=bank.was_asked(question.current)
    )


@bp.route("/<int:question_id>/review", methods=["POST"])
@access(RoleCode.ADMIN)
def question_review(question_id: int) -> Response:
    question = db.get_or_404(Question, question_id)
    _review([question])
    return _detail(question)


# --- categories --------------------------------------------------------------------------------


@bp.route("/stats.xlsx")
@access(RoleCode.ADMIN)
def stats_download() -> Response:
    """Item statistics of every question answered so far (they hold the answers: admin only)."""
    day = to_local(utcnow()).strftime("%Y%m%d")
    return xlsx_download(stats_workbook(all_item_stats()), f"thong-ke-cau-hoi-{day}.xlsx")


@bp.route("/categories")
@access(RoleCode.ADMIN)
def categories() -> str:
    return render_template(
        "quiz/categories.html", categories=bank.categories(active_only=False),
        counts=bank.category_question_counts(),
    )


@bp.route("/categories/new", methods=["GET", "POST"])
@bp.route("/categories/<int:category_id>/edit", methods=["GET", "POST"], endpoint="category_edit")
@access(RoleCode.ADMIN)
def category_new(category_id: int | None = None) -> str | Response:
    """One form adds or edits (rename, describe, deactivate); the rules are bank.save_category's."""
    category = db.get_or_404(Category, category_id) if category_id is not None else None
    form = CategoryForm(obj=category)
    # A new category starts in use; the checkbox is on the edit form only.
    active = form.active.data if category is not None else True
    if form.validate_on_submit() and saved(
        lambda: bank.save_category(form.name.data, form.description.data, category, active),
        lambda c: _("Đã lưu lĩnh vực “%(n)s”.", n=c.name), form,
    ):
        return redirect(url_for("quiz.categories"))
    return render_template("quiz/categories_form.html", form=form, category=category)
