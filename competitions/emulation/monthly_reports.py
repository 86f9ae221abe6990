"""The monthly reports that go up the tree, as Excel files in the shape of a Vietnamese
administrative report (title block, numbered rows, totals, signatures):

- a commune's report (báo cáo của xã): one row per team of the commune — its hamlet, members,
  per activity the target, the verified achievement and the ratio, then the emulation points and band;
- the compiled report of a province (or a district): one row per commune-level unit, grouped under
  its district where the tree has one, with teams, members, per activity the unit's target and
  what its teams achieved, the mean emulation points of its teams and how many teams are in each band.

Targets and achievements come from competitions.emulation.tallies, points and bands from
competitions.emulation.scoring (every team scored once per report).
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import or_, select

from competitions.emulation import scoring, tallies
from competitions.emulation.models import ActivityKind
from competitions.emulation.periods import Period, PeriodKind
from competitions.emulation.schemes import NOT_DONE, band_label, scheme_for
from core.accounts.models import User
from core.accounts.roles import RoleCode
from core.errors import PermissionDenied, ValidationError
from core.extensions import db
from core.org.models import COMMUNE_LEVEL, Unit, UnitKind
from core.org.scope import in_scope
from core.teams.service import is_staff
from core.text import fold

COMMUNE_KINDS = [str(kind) for kind in COMMUNE_LEVEL]


# --- access ----------------------------------------------------------------------------------------


def can_export_commune(user: User, commune: Unit) -> bool:
    """Staff whose scope holds the commune: its officers, organisers and admins above it."""
    return commune.is_commune_level and is_staff(user) and in_scope(user, commune)


def can_export_compiled(user: User, unit: Unit) -> bool:
    """Organisers and admins, for a province or district in their scope."""
    return (unit.kind in (UnitKind.PROVINCE, UnitKind.DISTRICT)
            and user.role_code in (RoleCode.ADMIN, RoleCode.ORGANISER) and in_scope(user, unit))


def require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def report_month(key: str) -> Period:
    """The month a report covers (a month key; quarters and years have no monthly report)."""
    period = Period.parse(key, field="month")
    if period.kind != PeriodKind.MONTH:
        raise ValidationError(_("Báo cáo hằng tháng: hãy chọn một tháng, ví dụ 2026-11."), field="month")
    return period


# --- the figures -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """One activity of one row: target (None when none was set), verified achievement and their ratio."""

    target: int | None
    achieved: int

    @property
    def ratio(self) -> float | None:
        return self.achieved / self.target if self.target else None


def _activities(used: set[int]) -> list[ActivityKind]:
    """The active kinds, and any inactive one that still has a target or an achievement this month."""
    return list(db.session.scalars(
        select(ActivityKind).where(or_(ActivityKind.active.is_(True), ActivityKind.id.in_(used)))
        .order_by(ActivityKind.position, ActivityKind.id)
    ))


def _figures(holder_id: int, activities: Sequence[ActivityKind], targets: dict[tallies.Key, int],
             achieved: dict[tallies.Key, int]) -> list[Figures]:
    return [Figures(targets.get((holder_id, a.id)), achieved.get((holder_id, a.id), 0)) for a in activities]


def _summed(rows: Sequence[list[Figures]]) -> list[Figures]:
    """Column totals; a target total only where some row has a target."""
    totals = []
    for column in zip(*rows, strict=True):
        targets = [f.target for f in column if f.target is not None]
        totals.append(Figures(sum(targets) if targets else None, sum(f.achieved for f in column)))
    return totals


@dataclass(frozen=True)
class TeamRow:
    number: int
    team_id: int
    name: str
    place: str  # the hamlet, quarter or enterprise of the team
    members: int
    figures: list[Figures]
    points: float
    band: str


@dataclass(frozen=True)
class CommuneReport:
    unit: Unit
    period: Period
    activities: list[ActivityKind]
    rows: list[TeamRow]
    totals: list[Figures]

    @property
    def members(self) -> int:
        return sum(row.members for row in self.rows)

    @property
    def mean_points(self) -> float | None:
        return sum(row.points for row in self.rows) / len(self.rows) if self.rows else None


def commune_report(commune: Unit, period: Period, now: datetime | None = None) -> CommuneReport:
    """Every active team of the commune, in the order of their hamlets, then names."""
    scores = scoring.team_scores(period, commune, now=now)
    targets = tallies.team_targets(period, commune)
    achieved = tallies.achieved_by_team(period, commune)
    activities = _activities({activity for _team, activity in [*targets, *achieved]})
    places = dict(db.session.execute(select(Unit.id, Unit.name).where(Unit.path.startswith(commune.path))).all())
    scores = sorted(scores, key=lambda s: (s.unit_id != commune.id, fold(places.get(s.unit_id, "")),
                                           fold(s.team_name), s.team_id))
    rows = [
        TeamRow(number, s.team_id, s.team_name, places.get(s.unit_id, ""), s.members,
                _figures(s.team_id, activities, targets, achieved), s.points, s.band)
        for number, s in enumerate(scores, start=1)
    ]
    return CommuneReport(commune, period, activities, rows, _summed([r.figures for r in rows]))


@dataclass(frozen=True)
class UnitRow:
    kind: str  # "district" (a group with its subtotal), "commune" or "total"
    number: str | None  # "1", "2", ... for communes; "I", "II", ... for districts; None for the total
    unit_id: int
    name: str
    teams: int
    members: int
    figures: list[Figures]
    mean_points: float | None
    bands: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class CompiledReport:
    unit: Unit
    period: Period
    activities: list[ActivityKind]
    bands: list[str]  # the scheme's band names, best first, then NOT_DONE
    rows: list[UnitRow]


_ROMAN = ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"), (40, "XL"),
          (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))


def roman(n: int) -> str:
    """Group numbers of administrative tables: I, II, III, IV, ..."""
    out = ""
    for value, letters in _ROMAN:
        count, n = divmod(n, value)
        out += letters * count
    return out


def compiled_report(unit: Unit, period: Period, now: datetime | None = None) -> CompiledReport:
    """The commune-level units under ``unit`` with their teams' figures; communes of a district
    follow their district's subtotal row; the last row is the total of ``unit``."""
    communes = list(db.session.scalars(
        select(Unit).where(Unit.path.startswith(unit.path), Unit.kind.in_(COMMUNE_KINDS))
    ))
    districts = list(db.session.scalars(
        select(Unit).where(Unit.path.startswith(unit.path), Unit.kind == UnitKind.DISTRICT, Unit.id != unit.id)
    ))
    holders = [unit, *districts, *communes]
    targets = tallies.unit_targets(period, [u.id for u in holders])
    achieved = tallies.achieved_by_unit(period, holders)
    activities = _activities({activity for _unit, activity in [*targets, *achieved]})
    scheme = scheme_for(period)
    bands = [str(band["name"]) for band in scheme.bands] + [NOT_DONE]
    scores = scoring.team_scores(period, unit, now=now)

    def row(kind: str, number: str | None, holder: Unit) -> UnitRow:
        mine = [s for s in scores if f"/{holder.id}/" in s.unit_path]
        return UnitRow(
            kind, number, holder.id, holder.name, len(mine), sum(s.members for s in mine),
            _figures(holder.id, activities, targets, achieved),
            sum(s.points for s in mine) / len(mine) if mine else None, dict(Counter(s.band for s in mine)),
        )

    def by_name(units: list[Unit]) -> list[Unit]:
        return sorted(units, key=lambda u: (fold(u.name), u.id))

    rows: list[UnitRow] = []
    loose = by_name([c for c in communes if not any(c.path.startswith(d.path) for d in districts)])
    rows += [row("commune", str(n), c) for n, c in enumerate(loose, start=1)]
    for index, district in enumerate(by_name(districts), start=1):
        rows.append(row("district", roman(index), district))
        inside = by_name([c for c in communes if c.path.startswith(district.path)])
        rows += [row("commune", str(n), c) for n, c in enumerate(inside, start=1)]
    rows.append(row("total", None, unit))
    return CompiledReport(unit, period, activities, bands, rows)


# --- the workbooks ---------------------------------------------------------------------------------


_THIN = Side(style="thin", color="000000")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_PERCENT, _POINTS, _COUNT = "0.0%", "0.00", "#,##0"
_FONT = "Times New Roman"  # the font of Vietnamese administrative documents (Decree 30/2020)


def _date_line(unit: Unit, today: date) -> str:
    return _("%(place)s, ngày %(d)02d tháng %(m)02d năm %(y)d", place=unit.name, d=today.day, m=today.month,
             y=today.year)


def _merge(sheet: Worksheet, row: int, first: int, last: int, value: object, bold: bool = False,
           italic: bool = False, size: int = 12) -> None:
    sheet.cell(row=row, column=first, value=value)
    if last > first:
        sheet.merge_cells(start_row=row, start_column=first, end_row=row, end_column=last)
    cell = sheet.cell(row=row, column=first)
    cell.font = Font(name=_FONT, bold=bold, italic=italic, size=size)
    cell.alignment = _CENTER


def _title_block(sheet: Worksheet, unit: Unit, title: str, subtitle: str, width: int, today: date) -> int:
    """The heading of an administrative report: the issuing body left, the national motto right,
    the place and date, then the title and the month. Returns the next free row."""
    left = max(3, width // 3)
    right_first = left + 1 if width > left + 1 else left
    parent = unit.parent.name.upper() if unit.parent is not None else ""
    _merge(sheet, 1, 1, left, parent)
    _merge(sheet, 1, right_first, width, _("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"), bold=True)
    _merge(sheet, 2, 1, left, unit.name.upper(), bold=True)
    _merge(sheet, 2, right_first, width, _("Độc lập - Tự do - Hạnh phúc"), bold=True)
    _merge(sheet, 3, 1, left, _("Số:        /BC"))
    _merge(sheet, 3, right_first, width, _date_line(unit, today), italic=True)
    _merge(sheet, 5, 1, width, _("BÁO CÁO"), bold=True, size=14)
    _merge(sheet, 6, 1, width, title, bold=True)
    _merge(sheet, 7, 1, width, subtitle, italic=True)
    return 9


def _headers(sheet: Worksheet, row: int, fixed: Sequence[str], activities: Sequence[ActivityKind],
             after: Sequence[str]) -> int:
    """Two header rows: the fixed and trailing columns span both; each activity spans its three
    columns (target, achieved, ratio). Returns the first data row."""
    column = 1
    for text in fixed:
        _header_cell(sheet, row, column, text, span_rows=True)
        column += 1
    for activity in activities:
        _header_cell(sheet, row, column, f"{activity.name} ({activity.unit_label})")
        sheet.merge_cells(start_row=row, start_column=column, end_row=row, end_column=column + 2)
        for offset, text in enumerate((_("Chỉ tiêu"), _("Thực hiện"), _("Tỉ lệ"))):
            _header_cell(sheet, row + 1, column + offset, text)
        column += 3
    for text in after:
        _header_cell(sheet, row, column, text, span_rows=True)
        column += 1
    for index in range(1, column):
        for r in (row, row + 1):
            sheet.cell(row=r, column=index).border = _BOX
    sheet.row_dimensions[row].height = 60
    return row + 2


def _header_cell(sheet: Worksheet, row: int, column: int, text: str, span_rows: bool = False) -> None:
    cell = sheet.cell(row=row, column=column, value=text)
    cell.font, cell.alignment, cell.border = Font(name=_FONT, bold=True, size=11), _CENTER, _BOX
    if span_rows:
        sheet.merge_cells(start_row=row, start_column=column, end_row=row + 1, end_column=column)


def _write_row(sheet: Worksheet, row: int, values: Sequence[object], formats: dict[int, str],
               bold: bool = False) -> None:
    for column, value in enumerate(values, start=1):
        cell = sheet.cell(row=row, column=column, value=value)
        cell.border = _BOX
        cell.font = Font(name=_FONT, bold=bold, size=11)
        if column in formats:
            cell.number_format = formats[column]


def _figure_values(figures: Sequence[Figures]) -> list[object]:
    values: list[object] = []
    for f in figures:
        values += [f.target, f.achieved, f.ratio]
    return values


def _figure_formats(first: int, count: int) -> dict[int, str]:
    formats: dict[int, str] = {}
    for index in range(count):
        column = first + 3 * index
        formats.update({column: _COUNT, column + 1: _COUNT, column + 2: _PERCENT})
    return formats


def _signatures(sheet: Worksheet, row: int, width: int) -> None:
    left = max(3, width // 3)
    _merge(sheet, row, 1, left, _("NGƯỜI LẬP BIỂU"), bold=True)
    _merge(sheet, row, left + 1, width, _("THỦ TRƯỞNG ĐƠN VỊ"), bold=True)
    _merge(sheet, row + 1, 1, left, _("(Ký, ghi rõ họ tên)"), italic=True)
    _merge(sheet, row + 1, left + 1, width, _("(Ký tên, đóng dấu)"), italic=True)


def _widths(sheet: Worksheet, widths: dict[int, float], default: float, count: int) -> None:
    for column in range(1, count + 1):
        sheet.column_dimensions[get_column_letter(column)].width = widths.get(column, default)


def _save(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _sheet(title: str) -> tuple[Workbook, Worksheet]:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31]
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    return workbook, sheet


@dataclass(frozen=True)
class _Table:
    workbook: Workbook
    sheet: Worksheet
    row: int  # the first data row
    width: int  # columns
    points_column: int  # the first column after the activities' ones
    formats: dict[int, str]  # number formats of the activity columns and the points column


def _table(sheet_title: str, heading: str, report: CommuneReport | CompiledReport, fixed: Sequence[str],
           after: Sequence[str], today: date) -> _Table:
    """A report's sheet up to its data rows: the title block, the headers (the fixed columns, three
    per activity, then ``after``), the panes frozen below them."""
    width = len(fixed) + 3 * len(report.activities) + len(after)
    workbook, sheet = _sheet(sheet_title)
    row = _title_block(sheet, report.unit, heading, report.period.label, width, today)
    row = _headers(sheet, row, fixed, report.activities, after)
    sheet.freeze_panes = sheet.cell(row=row, column=3)
    points_column = len(fixed) + 3 * len(report.activities) + 1
    formats = {points_column: _POINTS, **_figure_formats(len(fixed) + 1, len(report.activities))}
    return _Table(workbook, sheet, row, width, points_column, formats)


def commune_workbook(report: CommuneReport, today: date) -> bytes:
    """The commune's report: STT, team, hamlet, members, per activity target/achieved/ratio, points, band."""
    fixed = [_("STT"), _("Tổ CNSCĐ"), _("Ấp/khu phố"), _("Số thành viên")]
    after = [_("Điểm thi đua"), _("Xếp loại")]
    table = _table(_("Báo cáo tháng"), _("Kết quả hoạt động của các Tổ công nghệ số cộng đồng"), report,
                   fixed, after, today)
    sheet, row, points_column = table.sheet, table.row, table.points_column
    formats = {1: _COUNT, 4: _COUNT, **table.formats}
    for team in report.rows:
        values = [team.number, team.name, team.place, team.members, *_figure_values(team.figures),
                  round(team.points, 2), band_label(team.band)]
        _write_row(sheet, row, values, formats)
        row += 1
    mean = report.mean_points
    _write_row(sheet, row, [None, _("Tổng cộng"), None, report.members, *_figure_values(report.totals),
                            None if mean is None else round(mean, 2), None], formats, bold=True)
    _widths(sheet, {1: 6, 2: 28, 3: 22, 4: 11, points_column: 11, points_column + 1: 20}, 11, table.width)
    _signatures(sheet, row + 2, table.width)
    return _save(table.workbook)


def compiled_workbook(report: CompiledReport, today: date) -> bytes:
    """The compiled report: per commune (under its district), teams, members, per activity
    target/achieved/ratio, mean points and the number of teams in each band."""
    fixed = [_("STT"), _("Đơn vị"), _("Số tổ"), _("Số thành viên")]
    after = [_("Điểm thi đua bình quân"), *(_("Số tổ “%(band)s”", band=band_label(b)) for b in report.bands)]
    table = _table(_("Tổng hợp"), _("Tổng hợp kết quả hoạt động của các Tổ công nghệ số cộng đồng"), report,
                   fixed, after, today)
    sheet, row, points_column = table.sheet, table.row, table.points_column
    formats = {3: _COUNT, 4: _COUNT, **table.formats}
    formats.update({points_column + 1 + index: _COUNT for index in range(len(report.bands))})
    for unit_row in report.rows:
        name = _("Tổng cộng: %(unit)s", unit=unit_row.name) if unit_row.kind == "total" else unit_row.name
        values = [unit_row.number, name, unit_row.teams, unit_row.members, *_figure_values(unit_row.figures),
                  None if unit_row.mean_points is None else round(unit_row.mean_points, 2),
                  *(unit_row.bands.get(band, 0) for band in report.bands)]
        _write_row(sheet, row, values, formats, bold=unit_row.kind != "commune")
        row += 1
    _widths(sheet, {1: 6, 2: 30, 3: 9, 4: 11}, 11, table.width)
    _signatures(sheet, row + 1, table.width)
    return _save(table.workbook)
