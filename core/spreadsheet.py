"""Reading tables out of uploaded spreadsheets (.xlsx, .csv) and writing blank import templates.

A table is found by its header row: columns may come in any order and are recognised by their
names (case- and accent-insensitively), title rows above the header are skipped, blank rows are
ignored and every cell comes back as trimmed text. Used by the org-tree, roster and question imports.
An import whose rows must each stand on their own (the question bank) can also refuse formula cells
and merged cells below the header, which would otherwise read as blanks or stale values.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import IO

from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import CellRange
from openpyxl.worksheet.datavalidation import DataValidation

from core.errors import ValidationError
from core.text import fold

#: the header must be among the first this many non-blank rows (title, date, "Phụ lục 1" lines above it)
HEADER_SCAN_ROWS = 30
#: a workbook whose parts unpack to more than this is refused before parsing (a "zip bomb" must not hang us)
MAX_UNPACKED_BYTES = 200 * 1_048_576
#: this many blank rows in a row end the table: a sheet with formatting down to row 1,048,576 must not hang us
BLANK_RUN_END = 1000

_XLSX_EXTENSIONS = {"xlsx", "xlsm"}
_CSV_EXTENSIONS = {"csv", "txt"}
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary .xls
_PARENTHESISED = re.compile(r"\([^)]*\)")
_HEADER_NOISE = re.compile(r"[*:.\s]+")
_NUMBERING = re.compile(r"\(?\d{1,2}\)?")
_MERGE_CELL = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Z]{1,3}[0-9]+(?::[A-Z]{1,3}[0-9]+)?)"')
#: a message lists this many formula or merged cells, then "and N more"
_CELLS_NAMED = 5


@dataclass
class Row:
    number: int  # as Excel shows it (1-based, counting title and blank rows)
    values: dict[str, str]  # column key -> trimmed text ("" when blank or absent)


@dataclass
class Table:
    rows: list[Row]
    headers: dict[str, str] = field(default_factory=dict)  # key -> header as written, in file order
    header_row: int = 0


def header_key(text: str) -> str:
    """``"Số điện thoại (Bắt buộc)"`` → ``"so dien thoai"``: how header cells and aliases are compared."""
    return _HEADER_NOISE.sub(" ", _PARENTHESISED.sub(" ", fold(text))).strip()


def cell_text(value: object) -> str:
    """A cell as text: whole floats without ".0" (a phone 912345678.0), dates as ISO, strings trimmed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date | time):
        return value.isoformat()
    return unicodedata.normalize("NFC", str(value)).strip()


class _Formula(str):
    """A formula cell's text (``"=B5&C5"``), read instead of its value when formulas are refused."""


def read_table(
    filename: str,
    stream: IO[bytes],
    columns: dict[str, tuple[str, ...]],
    required: set[str],
    max_rows: int,
    *,
    refuse_formulas: bool = False,
    refuse_merged: bool = False,
) -> Table:
    """Read the first sheet (of a workbook) whose header row has every ``required`` column.

    ``columns`` maps a key to the header names accepted for it (the first one is shown in messages).
    Raises ValidationError for a file that is not a spreadsheet, an empty one, missing columns, or
    more than ``max_rows`` data rows (reading stops there, the rest of the file is never parsed);
    with ``refuse_formulas``, for a formula in a data cell of a recognised column; with
    ``refuse_merged``, for merged cells reaching below the header row. Both name the cells.
    """
    data = stream.read()
    name = filename or _("(không tên)")
    if not data:
        raise ValidationError(_("Tệp “%(f)s” trống.", f=name), field="file")
    sheets = _sheets(name, data, refuse_formulas)
    try:
        return _read_sheets(name, sheets, columns, required, max_rows, refuse_merged)
    finally:
        sheets.close()


def _no_merges() -> list[str]:
    return []


@dataclass
class _Sheet:
    rows: Iterator[Sequence[object]]
    merged: Callable[[], list[str]] = _no_merges  # ranges of merged cells ("A5:A7"), read on demand


class _Sheets:
    """The sheets of one file (a CSV file is one sheet)."""

    def __init__(self, sheets: list[_Sheet], *closing: object) -> None:
        self.sheets = sheets
        self._closing = closing

    def close(self) -> None:
        for resource in self._closing:
            resource.close()  # read-only workbooks keep their archive open until closed


def _not_a_spreadsheet(name: str) -> ValidationError:
    return ValidationError(
        _("Tệp “%(f)s” không phải bảng tính đọc được. Hãy chọn tệp Excel (.xlsx) hoặc CSV (.csv).", f=name),
        field="file",
    )


def _sheets(name: str, data: bytes, refuse_formulas: bool) -> _Sheets:
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    readable = _XLSX_EXTENSIONS | _CSV_EXTENSIONS | {""}
    # An encrypted .xlsx is an OLE compound file, like the old binary .xls: one message for both.
    if extension == "xls" or (data.startswith(_OLE_MAGIC) and extension in readable):  # not a .doc
        raise ValidationError(
            _("Tệp “%(f)s” có mật khẩu hoặc là định dạng Excel cũ (.xls). Hãy mở bằng Excel, chọn Lưu thành… "
              "dạng .xlsx không đặt mật khẩu rồi tải lên lại.", f=name),
            field="file",
        )
    if data.startswith(_ZIP_MAGIC) and extension in readable:
        return _xlsx_sheets(name, data, refuse_formulas)  # an .xlsx saved under a .csv name is still read
    if extension in _CSV_EXTENSIONS or extension == "":
        return _Sheets([_Sheet(_csv_rows(name, data))])
    raise _not_a_spreadsheet(name)


def _xlsx_sheets(name: str, data: bytes, refuse_formulas: bool) -> _Sheets:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise _not_a_spreadsheet(name) from exc
    if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED_BYTES:
        archive.close()
        raise ValidationError(
            _("Tệp “%(f)s” quá lớn khi giải nén (trên %(mb)d MB); hãy chia thành nhiều tệp nhỏ hơn.",
              f=name, mb=MAX_UNPACKED_BYTES // 1_048_576),
            field="file",
        )
    try:
        # data_only=False reads a formula cell's formula instead of its cached value
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=not refuse_formulas)
    except Exception as exc:  # openpyxl raises many kinds (BadZipFile, KeyError, ...) on a broken archive
        archive.close()
        raise _not_a_spreadsheet(name) from exc
    ordered = [workbook.active, *(ws for ws in workbook.worksheets if ws is not workbook.active)]
    sheets = [
        _Sheet(
            _guarded(name, _marking_formulas(ws.iter_rows()) if refuse_formulas else ws.iter_rows(values_only=True)),
            # openpyxl's read-only sheets do not parse merged cells; the sheet's part in the archive lists them
            lambda path=ws._worksheet_path: _merged_ranges(name, archive, path),
        )
        for ws in ordered if ws is not None
    ]
    return _Sheets(sheets, workbook, archive)


def _marking_formulas(rows: Iterable[Sequence[object]]) -> Iterator[tuple[object, ...]]:
    """Cell values, with a formula cell's formula wrapped in ``_Formula``."""
    for cells in rows:
        yield tuple(
            _Formula(getattr(cell.value, "text", cell.value) or "") if cell.data_type == "f" else cell.value
            for cell in cells
        )


def _merged_ranges(name: str, archive: zipfile.ZipFile, path: str) -> list[str]:
    """The sheet part scanned a megabyte at a time (it may unpack to MAX_UNPACKED_BYTES); each chunk
    carries the end of the one before, so that an element cut in two is still found."""
    found: dict[bytes, None] = {}
    carry = b""
    try:
        with archive.open(path) as part:
            while chunk := part.read(1_048_576):
                block = carry + chunk
                found.update(dict.fromkeys(_MERGE_CELL.findall(block)))
                carry = block[-200:]
    except Exception as exc:  # a missing or corrupt part (KeyError, BadZipFile, zlib.error, ...)
        raise _not_a_spreadsheet(name) from exc
    return [ref.decode() for ref in found]


def _guarded(name: str, rows: Iterable[Sequence[object]]) -> Iterator[Sequence[object]]:
    """Rows of a sheet; a file that breaks while being read (corrupt XML, a NUL in a CSV line, a
    field over the csv module's limit) is reported as unreadable instead of failing the request."""
    iterator = iter(rows)
    while True:
        try:
            row = next(iterator)
        except StopIteration:
            return
        except Exception as exc:  # openpyxl and csv raise many kinds; all mean "cannot read this"
            raise _not_a_spreadsheet(name) from exc
        yield row


def _csv_rows(name: str, data: bytes) -> Iterator[Sequence[object]]:
    sample = data[:4096]
    controls = sum(1 for byte in sample if byte < 32 and byte not in (9, 10, 12, 13))
    if b"\x00" in sample or controls > len(sample) // 20:
        raise _not_a_spreadsheet(name)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            _("Tệp “%(f)s” không dùng bảng mã UTF-8 nên tiếng Việt sẽ bị lỗi. Trong Excel hãy chọn "
              "Lưu thành… “CSV UTF-8 (Comma delimited)”, hoặc lưu dạng .xlsx.", f=name),
            field="file",
        ) from exc
    return _guarded(name, csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text)))


def _sniff_delimiter(text: str) -> str:
    """Comma or semicolon (Excel with a Vietnamese locale writes ";"), whichever splits the
    first lines into the most rows of one consistent width."""
    sample = [line for line in text[:65536].splitlines()[:50] if line.strip()]
    best, best_score = ",", (0, 0)
    for delimiter in (",", ";", "\t"):
        widths: dict[int, int] = {}
        for fields in csv.reader(sample, delimiter=delimiter):
            if len(fields) > 1:
                widths[len(fields)] = widths.get(len(fields), 0) + 1
        if widths:
            width, count = max(widths.items(), key=lambda item: (item[1], item[0]))
            if (count, width) > best_score:
                best, best_score = delimiter, (count, width)
    return best


@dataclass
class _Header:
    row: int
    cells: list[str]
    positions: dict[str, int]  # key -> column index


def _match_header(number: int, cells: list[str], aliases: dict[str, str]) -> _Header:
    positions: dict[str, int] = {}
    for index, cell in enumerate(cells):
        key = aliases.get(header_key(cell)) if cell else None
        if key is not None and key not in positions:
            positions[key] = index
    return _Header(number, cells, positions)


def _read_sheets(
    name: str, sheets: _Sheets, columns: dict[str, tuple[str, ...]], required: set[str], max_rows: int,
    refuse_merged: bool,
) -> Table:
    aliases = {header_key(alias): key for key, names in columns.items() for alias in names}
    first_failure: ValidationError | None = None
    for sheet in sheets.sheets:
        rows = _numbered(sheet.rows)
        header = _find_header(rows, aliases, required)
        if header is not None and required <= header.positions.keys():
            if refuse_merged:
                _check_merged(name, sheet, header)
            return _read_rows(name, rows, header, columns, max_rows)
        if first_failure is None:
            first_failure = _missing_columns(name, header, columns, required)
    assert first_failure is not None
    raise first_failure


def _some(names: list[str]) -> str:
    more = len(names) - _CELLS_NAMED
    listed = "; ".join(names[:_CELLS_NAMED])
    return listed + (_(" và %(n)d ô khác", n=more) if more > 0 else "")


def _check_merged(name: str, sheet: _Sheet, header: _Header) -> None:
    """Merged cells in the body read as one value and blanks: each row must carry its own values."""
    body = [ref for ref in sheet.merged() if CellRange(ref).max_row > header.row]
    if body:
        raise ValidationError(
            _("Tệp “%(f)s” có ô gộp (merge) trong phần dữ liệu: %(cells)s. Hãy bỏ gộp ô và ghi đủ giá trị "
              "vào từng dòng rồi tải lên lại.", f=name, cells=_some(body)),
            field="file",
        )


def _check_formulas(name: str, formulas: list[tuple[int, int]], header: _Header) -> None:
    if formulas:
        cells = [
            _("ô %(cell)s (dòng %(row)d, cột “%(col)s”)",
              cell=f"{get_column_letter(index + 1)}{number}", row=number, col=header.cells[index])
            for number, index in formulas
        ]
        raise ValidationError(
            _("Tệp “%(f)s” có ô chứa công thức, hãy dán giá trị (Dán đặc biệt → Giá trị) thay cho công thức: "
              "%(cells)s.", f=name, cells=_some(cells)),
            field="file",
        )


def _numbered(sheet: Iterable[Sequence[object]]) -> Iterator[tuple[int, Sequence[object]]]:
    return enumerate(sheet, start=1)


def _find_header(
    rows: Iterator[tuple[int, Sequence[object]]], aliases: dict[str, str], required: set[str]
) -> _Header | None:
    """The first of the top rows that has every required column, else the one that has the most."""
    best: _Header | None = None
    seen = 0
    for number, raw in rows:
        cells = [cell_text(value) for value in raw]
        if not any(cells):
            continue
        candidate = _match_header(number, cells, aliases)
        if required <= candidate.positions.keys():
            return candidate
        if best is None or len(candidate.positions) > len(best.positions):
            best = candidate
        seen += 1
        if seen >= HEADER_SCAN_ROWS:
            break
    return best


def _label(columns: dict[str, tuple[str, ...]], key: str) -> str:
    return f"“{columns[key][0]}”"


def _missing_columns(
    name: str, header: _Header | None, columns: dict[str, tuple[str, ...]], required: set[str]
) -> ValidationError:
    if header is None:
        return ValidationError(_("Tệp “%(f)s” không có dữ liệu.", f=name), field="file")
    missing = ", ".join(_label(columns, key) for key in columns if key in required - header.positions.keys())
    found = ", ".join(f"“{cell}”" for cell in header.cells if cell) or "—"
    return ValidationError(
        _(
            "Tệp “%(f)s” thiếu cột bắt buộc: %(missing)s. Dòng tiêu đề đọc được (dòng %(row)d) có các cột: "
            "%(found)s.",
            f=name, missing=missing, row=header.row, found=found,
        ),
        field="file",
    )


def _read_rows(
    name: str, rows: Iterator[tuple[int, Sequence[object]]], header: _Header,
    columns: dict[str, tuple[str, ...]], max_rows: int,
) -> Table:
    table = Table(
        rows=[],
        headers={key: header.cells[index] for key, index in sorted(header.positions.items(), key=lambda kv: kv[1])},
        header_row=header.row,
    )
    absent = {key: "" for key in columns if key not in header.positions}
    positions = list(header.positions.items())
    formulas: list[tuple[int, int]] = []  # (row, column index) of formula cells in recognised columns
    blank_run = 0
    first = True
    for number, raw in rows:
        width = len(raw)
        formulas += [(number, index) for _key, index in positions if index < width and type(raw[index]) is _Formula]
        # only the recognised columns are converted: a wide sheet costs no more than a narrow one
        values = {key: cell_text(raw[index]) if index < width else "" for key, index in positions}
        if not any(values.values()):
            blank_run += 1
            if blank_run >= BLANK_RUN_END:
                break
            continue
        blank_run = 0
        values.update(absent)
        if first and _is_numbering(values.values()):
            first = False
            continue  # "(1) (2) (3)…" under the header of a formal report
        first = False
        if len(table.rows) >= max_rows:
            raise ValidationError(
                _(
                    "Tệp “%(f)s” có hơn %(n)d dòng dữ liệu; mỗi lần chỉ nhập được tối đa %(n)d dòng. "
                    "Hãy chia thành nhiều tệp nhỏ hơn.",
                    f=name, n=max_rows,
                ),
                field="file",
            )
        table.rows.append(Row(number, values))
    _check_formulas(name, formulas, header)
    if not table.rows:
        raise ValidationError(
            _("Tệp “%(f)s” chỉ có dòng tiêu đề (dòng %(row)d), chưa có dòng dữ liệu nào.", f=name, row=header.row),
            field="file",
        )
    return table


def _is_numbering(values: Iterable[str]) -> bool:
    filled = [value for value in values if value]
    return len(filled) >= 2 and all(_NUMBERING.fullmatch(value) for value in filled)


def build_template(
    title: str,
    headers: list[str],
    text_columns: Iterable[int] = (),
    choices: dict[int, list[str]] | None = None,
    notes: list[str] | None = None,
    widths: dict[int, int] | None = None,
    example: Sequence[object] | None = None,
) -> bytes:
    """A blank .xlsx import template: a title row, the header row, an ``example`` row if given,
    columns typed as text where asked (phones keep their leading zero), drop-down lists for
    ``choices``, and a second sheet of notes. Column indexes are 1-based."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Danh sách"
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append(headers)
    if example is not None:
        sheet.append(list(example))
        for cell in sheet[3]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    fill = PatternFill("solid", fgColor="DDE7F3")
    for index in range(1, len(headers) + 1):
        cell = sheet.cell(row=2, column=index)
        cell.font, cell.fill = Font(bold=True), fill
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = (widths or {}).get(index, 22)
    last_row = 2001  # formats and drop-downs reach this far
    for index in text_columns:
        for row in range(3, last_row + 1):
            sheet.cell(row=row, column=index).number_format = "@"
    for index, options in (choices or {}).items():
        if any("," in option or '"' in option for option in options) or len(",".join(options)) > 255:
            continue  # Excel cannot express such a list (its limit, its separator); the notes name the values
        letter = get_column_letter(index)
        validation = DataValidation(type="list", formula1='"' + ",".join(options) + '"', allow_blank=True)
        validation.add(f"{letter}3:{letter}{last_row}")
        sheet.add_data_validation(validation)
    sheet.freeze_panes = "A3"
    if notes:
        help_sheet = workbook.create_sheet("Hướng dẫn")
        help_sheet.column_dimensions["A"].width = 110
        for note in notes:
            help_sheet.append([note])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
