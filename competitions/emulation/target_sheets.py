"""Targets in Excel: the grid of a unit for a period, exported, and imported back in the same shape.

The sheet has a title, then the header row: STT, Mã (the unit's code, "U<id>" for a unit without one,
or "T<team id>"), Đơn vị / Tổ, then one column per activity kind, headed by its name (the unit label
in brackets is ignored when reading). One row per unit or team directly below the unit; the unit's
own target is shown above the table and is set on the screen, not by import.

Import is all or nothing: every row is checked first and every error reported with its row number
(an unknown code, a unit or team that is not directly below, a bad or negative number, the same row
twice); nothing is written unless the whole file is clean. A blank cell removes that target; a
column left out of the file leaves its targets as they are. A column whose header is not an
activity of the catalogue stops the import with a message naming it.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import IO

from flask import current_app
from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy import select

from competitions.emulation.catalogue import kinds
from competitions.emulation.models import ActivityKind
from competitions.emulation.periods import Period
from competitions.emulation.targets import (
    Holder,
    Saved,
    TargetEntry,
    can_split,
    holders_below,
    parse_quantity,
    set_targets,
    target_grid,
    targets_of,
)
from core.accounts.models import User
from core.errors import PermissionDenied, ValidationError
from core.extensions import db
from core.imports.plan import ImportPlan, RowStatus
from core.org.models import Unit
from core.spreadsheet import Row, Table, cell_text, header_key, read_table
from core.teams.models import Team
from core.text import clean, fold

FIXED_COLUMNS: dict[str, tuple[str, ...]] = {
    "number": ("STT", "TT", "Số TT"),
    "code": ("Mã", "Mã đơn vị", "Mã tổ", "Code"),
    "name": ("Đơn vị / Tổ", "Đơn vị", "Tổ", "Tên đơn vị", "Tên tổ", "Đơn vị/Tổ CNSCĐ", "Name"),
}
_UNIT_CODE = re.compile(r"^u(\d+)$", re.I)
_TEAM_CODE = re.compile(r"^t(\d+)$", re.I)


def activity_key(activity: ActivityKind) -> str:
    return f"a{activity.id}"


def activity_header(activity: ActivityKind) -> str:
    return f"{activity.name} ({activity.unit_label})"


def export_targets(unit: Unit, period: Period, viewer: User) -> bytes:
    """The grid of ``unit`` for ``period`` as .xlsx: numbers stay numbers, blanks where no target."""
    grid = target_grid(unit, period, viewer)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Chỉ tiêu")
    sheet.append([_("CHỈ TIÊU %(p)s — %(u)s", p=period.label.upper(), u=unit.name)])
    sheet["A1"].font = Font(bold=True, size=13)
    own = "; ".join(f"{a.name}: {grid.own.values[a.id]}" for a in grid.activities if a.id in grid.own.values)
    sheet.append([_("Chỉ tiêu của %(u)s: %(t)s", u=unit.name, t=own or _("chưa giao"))])
    headers = ["STT", "Mã", "Đơn vị / Tổ", *(activity_header(a) for a in grid.activities)]
    sheet.append(headers)
    header_row = sheet.max_row
    for number, row in enumerate(grid.rows, start=1):
        sheet.append([number, row.holder.code, row.holder.name, *(row.values.get(a.id) for a in grid.activities)])
    fill = PatternFill("solid", fgColor="DDE7F3")
    for index in range(1, len(headers) + 1):
        cell = sheet.cell(row=header_row, column=index)
        cell.font, cell.fill = Font(bold=True), fill
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        sheet.column_dimensions[get_column_letter(index)].width = {1: 6, 2: 12, 3: 36}.get(index, 18)
    for row in sheet.iter_rows(min_row=header_row + 1, min_col=2, max_col=2):
        row[0].number_format = "@"  # a code like "0123" keeps its zero
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=4)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def target_columns(activities: list[ActivityKind]) -> dict[str, tuple[str, ...]]:
    """Header names accepted per column: the fixed ones, then each activity by name or code."""
    return {**FIXED_COLUMNS, **{activity_key(a): (activity_header(a), a.name, a.code) for a in activities}}


def read_targets_file(filename: str, stream: IO[bytes]) -> Table:
    """The rows of a targets file; ValidationError (field "file") for a file that cannot be read or
    has a column that is not an activity kind of the catalogue."""
    data = stream.read()
    activities = kinds(active_only=False)
    columns = target_columns(activities)
    table = read_table(filename, io.BytesIO(data), columns, {"code"}, current_app.config["IMPORT_MAX_ROWS"])
    known = {header_key(alias) for aliases in columns.values() for alias in aliases}
    unknown = [cell for cell in _header_cells(filename, data, table) if cell and header_key(cell) not in known]
    if unknown:
        raise ValidationError(
            _("Dòng %(row)d: cột %(cols)s không phải hoạt động nào trong danh mục; hãy sửa tiêu đề cho đúng tên "
              "hoạt động (xem tệp xuất từ trang chỉ tiêu) hoặc xóa cột đó.",
              row=table.header_row, cols=", ".join(f"“{cell}”" for cell in unknown)),
            field="file",
        )
    return table


def _header_cells(filename: str, data: bytes, table: Table) -> list[str]:
    """Every cell of the header row read_table found (it returns only the columns it knows)."""
    found = set(table.headers.values())
    candidates: list[list[str]] = []
    if data.startswith(b"PK"):
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            for sheet in workbook.worksheets:
                for cells in sheet.iter_rows(min_row=table.header_row, max_row=table.header_row, values_only=True):
                    candidates.append([cell_text(value) for value in cells])
        finally:
            workbook.close()
    else:
        lines = data.decode("utf-8-sig", errors="replace").splitlines()
        line = lines[table.header_row - 1] if len(lines) >= table.header_row else ""
        candidates += [[cell_text(v) for v in next(csv.reader([line], delimiter=d), [])] for d in (",", ";", "\t")]
    return next((cells for cells in candidates if found <= set(cells)), [])


@dataclass
class TargetPlan(ImportPlan):
    unit: Unit | None = None
    period: Period | None = None
    entries: list[TargetEntry] = field(default_factory=list)  # the changes, when clean
    saved: Saved | None = None


def _resolve(code: str, name: str, holders: list[Holder]) -> Holder:
    """The holder a row names, by code (or by name when the code is blank); a clear error otherwise."""
    by_code = {fold(h.code): h for h in holders}
    if code:
        holder = by_code.get(fold(code))
        if holder is not None:
            return holder
        elsewhere = _elsewhere(code)
        if elsewhere:
            raise ValidationError(_("“%(n)s” (mã %(c)s) không trực thuộc trực tiếp đơn vị này.", n=elsewhere, c=code))
        raise ValidationError(_("Không có đơn vị hay tổ nào mã “%(c)s”.", c=code))
    matches = [h for h in holders if fold(h.name) == fold(name)]
    if len(matches) == 1:
        return matches[0]
    if not name:
        raise ValidationError(_("Chưa ghi mã hay tên đơn vị / tổ."))
    raise ValidationError(_("Không có đơn vị hay tổ “%(n)s” trực thuộc trực tiếp đơn vị này; hãy ghi mã.", n=name))


def _elsewhere(code: str) -> str | None:
    """The name of the unit or team a code belongs to anywhere in the tree, if any."""
    if match := _TEAM_CODE.match(code):
        team = db.session.get(Team, int(match.group(1)))
        return team.name if team is not None else None
    match = _UNIT_CODE.match(code)
    unit = db.session.get(Unit, int(match.group(1))) if match else db.session.scalar(
        select(Unit).where(Unit.code == code)
    )
    return unit.name if unit is not None else None


def import_targets(
    rows: list[Row], unit: Unit, period: Period, actor: User, headers: dict[str, str], dry_run: bool = False,
) -> TargetPlan:
    """Check every row against the holders directly below ``unit``; unless ``dry_run``, write the
    changed targets when nothing is wrong (flushed, not committed). ``headers`` (Table.headers) says
    which activity columns the file has: the others are left alone."""
    if not can_split(actor, unit):
        raise PermissionDenied
    holders = holders_below(unit)
    activities = kinds(active_only=False)
    present = [a for a in activities if activity_key(a) in headers]
    columns = {key: ((headers[key], *names) if key in headers else names)
               for key, names in target_columns(activities).items()}
    plan = TargetPlan.from_rows(columns, rows)
    plan.unit, plan.period = unit, period
    current = targets_of(period, holders)
    seen: dict[str, int] = {}
    for row in plan.rows:
        try:
            holder = _resolve(clean(row.values.get("code")), clean(row.values.get("name")), holders)
        except ValidationError as error:
            plan.fail(row, "code", error.message)
            holder = None
        if holder is not None:
            first = seen.setdefault(holder.key, row.number)
            if first != row.number:
                plan.fail(row, "code", _("“%(n)s” đã có ở dòng %(r)d.", n=holder.name, r=first))
        changes: list[TargetEntry] = []
        for activity in present:
            key = activity_key(activity)
            try:
                quantity = parse_quantity(row.values.get(key))
            except ValidationError as error:
                plan.fail(row, key, error.message)
                continue
            if holder is None or quantity == current.get((holder.key, activity.id)):
                continue
            if not activity.active:
                plan.fail(row, key, _("Hoạt động này đã ngừng sử dụng; không giao chỉ tiêu mới."))
                continue
            changes.append(TargetEntry(holder, activity, quantity))
        if row.status == RowStatus.ERROR or holder is None:
            continue
        row.note = holder.name + (_(" · %(n)d thay đổi", n=len(changes)) if changes else "")
        if not changes:
            row.status = RowStatus.UNCHANGED
        plan.entries += changes
    if dry_run or not plan.ok or not plan.entries:
        return plan
    plan.saved = set_targets(actor, period, plan.entries)
    plan.written = True
    return plan

