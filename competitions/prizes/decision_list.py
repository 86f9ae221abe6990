"""The winners list as Excel, in the shape of the annex of a prize decision (danh sách khen thưởng
kèm theo quyết định): the issuing body and the national motto, the title and the decision it is
annexed to, then the individual prizes grouped by prize and the collective prizes (teams, units)
in their own section, each row numbered (STT), with the prize's value in VND when the structure
sets one and a total. Phone numbers are never printed.

Like the certificates it reads the frozen decision only (Winner rows); the heading comes from the
same ``Signing`` (competitions.prizes.certificates).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby

from flask_babel import force_locale
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from competitions.emulation.monthly_reports import roman
from competitions.prizes.certificates import DOCUMENT_LOCALE, Signing, ordered_winners
from competitions.prizes.models import Audience, Award, PrizeTier, Winner
from core.text import clean, slug

_FONT = "Times New Roman"  # the font of Vietnamese administrative documents (Decree 30/2020)
_THIN = Side(style="thin", color="000000")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
_VND = "#,##0"


@dataclass(frozen=True)
class Group:
    """The winners of one prize, in the decision's order."""

    tier: PrizeTier
    winners: list[Winner]


@dataclass(frozen=True)
class Section:
    collective: bool  # teams and units
    groups: list[Group]

    @property
    def count(self) -> int:
        return sum(len(group.winners) for group in self.groups)


def sections(award: Award) -> list[Section]:
    """The individual prizes, then the collective ones; prizes nobody won are left out."""
    groups = [Group(tier, list(winners)) for tier, winners in groupby(ordered_winners(award), key=lambda w: w.tier)]
    split = [
        Section(False, [g for g in groups if g.tier.audience == Audience.INDIVIDUAL]),
        Section(True, [g for g in groups if g.tier.audience != Audience.INDIVIDUAL]),
    ]
    return [section for section in split if section.groups]


def filename(award: Award) -> str:
    return f"danh-sach-khen-thuong-{slug(award.title) or 'giai-thuong'}-{award.id}.xlsx"


# --- the sheet --------------------------------------------------------------------------------------


class _Writer:
    """Rows written top to bottom over ``width`` columns, in the administrative font."""

    def __init__(self, sheet: Worksheet, width: int) -> None:
        self.sheet, self.width, self.row = sheet, width, 1

    def merged(self, text: object, first: int = 1, last: int | None = None, bold: bool = False,
               italic: bool = False, size: int = 12, align: Alignment = _CENTER, boxed: bool = False) -> None:
        last = self.width if last is None else last
        cell = self.sheet.cell(row=self.row, column=first, value=text)
        cell.font, cell.alignment = Font(name=_FONT, bold=bold, italic=italic, size=size), align
        if last > first:
            self.sheet.merge_cells(start_row=self.row, start_column=first, end_row=self.row, end_column=last)
        if boxed:
            for column in range(first, last + 1):
                self.sheet.cell(row=self.row, column=column).border = _BOX

    def cells(self, values: Sequence[object], bold: bool = False, formats: dict[int, str] | None = None) -> None:
        for column, value in enumerate(values, start=1):
            cell = self.sheet.cell(row=self.row, column=column, value=value)
            cell.font, cell.border = Font(name=_FONT, bold=bold, size=12), _BOX
            cell.alignment = _CENTER if bold or column == 1 or isinstance(value, int) else _LEFT
            if formats and column in formats:
                cell.number_format = formats[column]

    def next(self, rows: int = 1) -> None:
        self.row += rows


def _heading(out: _Writer, award: Award, signing: Signing) -> None:
    """The issuing body left and the motto right, the date line; the title, and the decision annexed to."""
    left = 3
    out.merged(signing.authority.upper(), 1, left, size=11)
    out.merged(_("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"), left + 1, bold=True, size=11)
    out.next()
    out.merged(signing.issuer.upper(), 1, left, bold=True, size=11)
    out.merged(_("Độc lập - Tự do - Hạnh phúc"), left + 1, bold=True)
    out.next()
    out.merged(signing.date_line, left + 1, italic=True)
    out.next(2)
    out.merged(_("DANH SÁCH KHEN THƯỞNG"), bold=True, size=14)
    out.next()
    out.merged(clean(award.title), bold=True)
    out.next()
    number = clean(signing.decision_number) or "……/QĐ-……"
    out.merged(_("(Kèm theo Quyết định số %(number)s ngày %(d)02d/%(m)02d/%(y)d)", number=number,
                 d=signing.day.day, m=signing.day.month, y=signing.day.year), italic=True)
    out.next(2)


def _headers(collective: bool, valued: bool) -> list[str]:
    names = [_("STT"), _("Tên tập thể") if collective else _("Họ và tên"), _("Đơn vị"),
             _("Loại") if collective else _("Tổ"), _("Giải"), _("Điểm"), _("Thời gian")]
    return names + [_("Giá trị (đồng)")] if valued else names


def _values(number: int, winner: Winner, collective: bool, valued: bool) -> list[object]:
    if collective:
        fourth = _("Tổ CNSCĐ") if winner.tier.audience == Audience.TEAM else _("Đơn vị")
        unit = winner.unit_name if clean(winner.unit_name) != clean(winner.name) else ""
    else:
        fourth, unit = winner.team_name, winner.unit_name
    values: list[object] = [number, clean(winner.name), clean(unit), clean(fourth), clean(winner.tier.label),
                            winner.score_text, winner.time_text]
    return values + [winner.tier.value_vnd] if valued else values


def _section(out: _Writer, letter: str, section: Section, valued: bool, formats: dict[int, str]) -> int:
    """A section's title, its header row, then each prize (I, II, ...) and its winners numbered
    from 1. Returns the sum of the section's prize values."""
    title = _("KHEN THƯỞNG TẬP THỂ") if section.collective else _("KHEN THƯỞNG CÁ NHÂN")
    out.merged(f"{letter}. {title}", bold=True, align=_LEFT, boxed=True)
    out.next()
    out.cells(_headers(section.collective, valued), bold=True)
    out.next()
    number = total = 0
    for index, group in enumerate(section.groups, start=1):
        out.merged(_("%(roman)s. %(prize)s (%(n)d)", roman=roman(index), prize=clean(group.tier.label),
                     n=len(group.winners)), bold=True, align=_LEFT, boxed=True)
        out.next()
        for winner in group.winners:
            number += 1
            out.cells(_values(number, winner, section.collective, valued), formats=formats)
            out.next()
            total += winner.tier.value_vnd or 0
    return total


def workbook(award: Award, signing: Signing) -> bytes:
    """The annex as an .xlsx: sections A (individuals) and B (teams and units), each grouped by
    prize (I, II, ...) and numbered from 1; a total row with the number of prizes and, when the
    prizes have values, their sum. In Vietnamese whatever the screens' language."""
    with force_locale(DOCUMENT_LOCALE):
        return _workbook(award, signing)


def _workbook(award: Award, signing: Signing) -> bytes:
    parts = sections(award)
    valued = any(tier.value_vnd for tier in award.tiers)
    width = len(_headers(False, valued))
    book = Workbook()
    sheet = book.active
    sheet.title = _("Danh sách khen thưởng")[:31]
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    out = _Writer(sheet, width)
    _heading(out, award, signing)
    formats = {width: _VND} if valued else {}
    total_value = sum(_section(out, letter, section, valued, formats)
                      for letter, section in zip("AB", parts, strict=False))
    people = sum(s.count for s in parts if not s.collective)
    groups = sum(s.count for s in parts if s.collective)
    summary = _("Tổng cộng: %(people)d cá nhân, %(groups)d tập thể", people=people, groups=groups)
    out.cells([None, summary, *[None] * (width - 3), total_value if valued else None], bold=True,
              formats=formats)
    sheet.merge_cells(start_row=out.row, start_column=2, end_row=out.row, end_column=width - 1 if valued else width)
    widths = {1: 6, 2: 28, 3: 24, 4: 30, 5: 20, 6: 11, 7: 16, 8: 16}
    for column in range(1, width + 1):
        sheet.column_dimensions[get_column_letter(column)].width = widths[column]
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
