"""`flask quiz …`: scripting the bank.

``flask quiz import FILE [--dry-run] [--status draft|approved] [--valid-only]`` prints every problem,
one per line ("Dòng N, cột “…”: …"), and exits with status 1 when there is one and nothing was
written; ``flask quiz export FILE.xlsx [--status …] [--category NAME]`` writes the bank in the same layout.
"""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import gettext as _

from core.errors import ValidationError
from core.extensions import db
from core.imports.plan import RowStatus
from quiz.bank import find_category
from quiz.exporter import export_questions
from quiz.importer import IMPORT_STATUSES, import_questions, read_questions_file
from quiz.models import QuestionStatus
from quiz.stats import all_item_stats, stats_workbook

quiz_cli = AppGroup("quiz", help="The question bank.")


def _fail(message: str) -> NoReturn:
    click.echo(message, err=True)
    raise SystemExit(1)


@quiz_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check and report only; write nothing.")
@click.option("--status", type=click.Choice([str(s) for s in IMPORT_STATUSES]), default=str(QuestionStatus.DRAFT),
              show_default=True, help="Status given to the imported questions.")
@click.option("--valid-only", is_flag=True, help="Import the rows without errors and skip the others.")
def import_command(file: Path, dry_run: bool, status: str, valid_only: bool) -> None:
    """Import questions from an .xlsx or .csv file (one question per row)."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if file.stat().st_size > limit:  # refused before reading, as the upload form would
        _fail(_("Tệp “%(f)s” lớn quá %(mb)d MB.", f=file.name, mb=limit // 1_048_576))
    try:
        with file.open("rb") as stream:
            table = read_questions_file(file.name, stream)
        plan = import_questions(table.rows, author=None, status=status, headers=table.headers,
                                dry_run=dry_run, valid_only=valid_only)
    except ValidationError as error:
        _fail(str(error))
    for line in plan.error_lines():
        click.echo(line, err=True)
    new, bad = plan.count(RowStatus.NEW), plan.count(RowStatus.ERROR)
    click.echo(_("%(n)d dòng: %(new)d hợp lệ, %(bad)d lỗi.", n=len(plan.rows), new=new, bad=bad))
    if dry_run:
        click.echo(_("Chạy thử: chưa ghi gì."))
        raise SystemExit(1 if bad else 0)
    if not plan.written:
        _fail(_("Tệp còn lỗi nên chưa ghi gì (dùng --valid-only để chỉ nhập các dòng hợp lệ).") if bad
              else _("Không có câu hỏi nào để nhập."))
    db.session.commit()
    click.echo(_("Đã nhập %(n)d câu hỏi.", n=len(plan.question_ids)))


@quiz_cli.command("stats")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def stats_command(file: Path) -> None:
    """Write the item statistics of every answered question to an .xlsx file."""
    stats = all_item_stats()
    file.write_bytes(stats_workbook(stats))
    click.echo(_("Đã ghi thống kê của %(n)d câu hỏi ra %(f)s.", n=len(stats), f=str(file)))


@quiz_cli.command("export")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--status", type=click.Choice([str(s) for s in QuestionStatus]), default=None,
              help="Only questions with this status (default: every question not retired).")
@click.option("--category", "category_name", default=None, help="Only this category (its name).")
def export_command(file: Path, status: str | None, category_name: str | None) -> None:
    """Write the bank to an .xlsx file in the import layout."""
    category_id = None
    if category_name:
        category = find_category(category_name)
        if category is None:
            _fail(_("Không có lĩnh vực “%(c)s”.", c=category_name))
        category_id = category.id
    file.write_bytes(export_questions(status, category_id))
    click.echo(_("Đã xuất ngân hàng câu hỏi ra %(f)s.", f=str(file)))
