"""Spreadsheet imports (org tree, member rosters) with preview and all-or-nothing commit.

``flask import units FILE [--dry-run]`` and ``flask import members FILE --unit NAME [--dry-run]``
print every row error and exit with status 1 when there is one; nothing is written then.
"""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import click
from flask.cli import AppGroup
from flask_babel import gettext as _
from sqlalchemy import select

from core.errors import ValidationError
from core.extensions import db
from core.imports.plan import ImportPlan, RowStatus
from core.org import importer as org_importer
from core.org.models import Unit
from core.teams import importer as team_importer
from core.text import fold

import_cli = AppGroup("import", help="Import spreadsheets (org tree, member rosters).")

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
_DRY_RUN = click.option("--dry-run", is_flag=True, help="Check and report only; write nothing.")


def _fail(message: str) -> NoReturn:
    # nothing to roll back: a plan with errors writes nothing, a failed write undoes its own SAVEPOINT
    click.echo(message, err=True)
    raise SystemExit(1)


def _finish(plan: ImportPlan, dry_run: bool) -> None:
    for line in plan.error_lines():
        click.echo(line, err=True)
    for warning in plan.warnings:
        click.echo(_("Lưu ý: %(w)s", w=warning))
    click.echo(
        _("%(n)d dòng: %(new)d mới, %(same)d không đổi, %(bad)d lỗi.", n=len(plan.rows),
          new=plan.count(RowStatus.NEW), same=plan.count(RowStatus.UNCHANGED), bad=plan.count(RowStatus.ERROR))
    )
    if not plan.ok:
        _fail(_("Tệp còn lỗi nên chưa ghi gì."))
    if dry_run:
        click.echo(_("Chạy thử: chưa ghi gì."))
        return
    db.session.commit()
    click.echo(_("Đã ghi %(n)d dòng mới.", n=plan.count(RowStatus.NEW)))


@import_cli.command("units")
@click.argument("file", type=_FILE)
@_DRY_RUN
def import_units_command(file: Path, dry_run: bool) -> None:
    """Import an org tree (columns: unit, kind, parent[, code])."""
    try:
        with file.open("rb") as stream:
            table = org_importer.read_units_file(file.name, stream)
        plan = org_importer.import_units(table.rows, dry_run=dry_run)
    except ValidationError as error:
        _fail(str(error))
    _finish(plan, dry_run)


def find_unit(text: str) -> Unit:
    """An active unit by its code or its name (accents and case ignored)."""
    wanted = fold(text)
    units = [
        unit for unit in db.session.scalars(select(Unit).where(Unit.active))
        if wanted in (fold(unit.name), fold(unit.code or ""))
    ]
    if not units:
        raise ValidationError(_("Không tìm thấy đơn vị “%(u)s”.", u=text))
    if len(units) > 1:
        names = "; ".join(f"{unit.name} (id {unit.id}, {_('mã')} {unit.code or '—'})" for unit in units)
        raise ValidationError(_("Có nhiều đơn vị tên “%(u)s”: %(names)s. Hãy ghi mã đơn vị.", u=text, names=names))
    return units[0]


@import_cli.command("members")
@click.argument("file", type=_FILE)
@click.option("--unit", "unit_name", required=True, help="The commune (or district, province) the teams belong to.")
@_DRY_RUN
def import_members_command(file: Path, unit_name: str, dry_run: bool) -> None:
    """Import team members (columns: team, full name, position, phone)."""
    try:
        unit = find_unit(unit_name)
        with file.open("rb") as stream:
            table = team_importer.read_members_file(file.name, stream)
        plan = team_importer.import_members(table.rows, unit, actor=None, dry_run=dry_run)
    except ValidationError as error:
        _fail(str(error))
    _finish(plan, dry_run)
