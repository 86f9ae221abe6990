"""Reading tables out of uploaded spreadsheets (.xlsx, .csv) and writing blank import templates.

A table is found by its header row: columns may come in any order and are recognised by their
names (case- and accent-insensitively), title rows above the header are skipped, blank rows are
ignored and every cell comes back as trimmed text. Used by the org-tree, roster and question imports.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import IO

from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
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


def read_table(
    filename: str,
    stream: IO[bytes],
    columns: dict[str, tuple[str, ...]],
    required: set[str],
    max_rows: int,
) -> Table:
    """Read the first sheet (of a workbook) whose header row has every ``required`` column.

    ``columns`` maps a key to the header names accepted for it (the first one is shown in messages).
    Raises ValidationError for a file that is not a spreadsheet, an empty one, missing columns, or
    more than ``max_rows`` data rows (reading stops there, the rest of the file is never parsed).
    """
    data = stream.read()
    name = filename or _("(không tên)")
    if not data:
        raise ValidationError(_("Tệp “%(f)s” trống.", f=name), field="file")
    sheets = _sheets(name, data)
    try:
        return _read_sheets(name, sheets, columns, required, max_rows)
    finally:
        sheets.close()


class _Sheets:
    """The sheets of one file as row iterators (a CSV file is one sheet)."""

    def __init__(self, sheets: list[Iterator[Sequence[object]]], workbook: object = None) -> None:
        self.sheets = sheets
        self._workbook = workbook

    def close(self) -> None:
        if self._workbook is not None:
            self._workbook.close()  # read-only workbooks keep the archive open until closed


def _not_a_spreadsheet(name: str) -> ValidationError:
    return ValidationError(
        _("Tệp “%(f)s” không phải bảng tính đọc được. Hãy chọn tệp Excel (.xlsx) hoặc CSV (.csv).", f=name),
        field="file",
    )


def _sheets(name: str, data: bytes) -> _Sheets:
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    readable = _XLSX_EXTENSIONS | _CSV_EXTENSIONS | {""}
    if extension == "xls" or (data.startswith(_OLE_MAGIC) and extension in readable):  # not a .doc
        raise ValidationError(
            _("Tệp “%(f)s” là định dạng Excel cũ (.xls). Hãy mở bằng Excel, chọn Lưu thành… dạng .xlsx "
              "rồi tải lên lại.", f=name),
            field="file",
        )
    if data.startswith(_ZIP_MAGIC) and extension in readable:
        return _xlsx_sheets(name, data)  # an .xlsx saved under a .csv name is still read
    if extension in _CSV_EXTENSIONS or extension == "":
        return _Sheets([_csv_rows(name, data)])
    raise _not_a_spreadsheet(name)


def _xlsx_sheets(name: str, data: bytes) -> _Sheets:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise _not_a_spreadsheet(name) from exc
    if unpacked > MAX_UNPACKED_BYTES:
        raise ValidationError(
            _("Tệp “%(f)s” quá lớn khi giải nén (trên %(mb)d MB); hãy chia thành nhiều tệp nhỏ hơn.",
              f=name, mb=MAX_UNPACKED_BYTES // 1_048_576),
            field="file",
        )
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds (BadZipFile, KeyError, ...) on a broken archive
        raise _not_a_spreadsheet(name) from exc
    ordered = [workbook.active, *(ws for ws in workbook.worksheets if ws is not workbook.active)]
    sheets = [_guarded(name, ws.iter_rows(values_only=True)) for ws in ordered if ws is not None]
    return _Sheets(sheets, workbook)


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
    name: str, sheets: _Sheets, columns: dict[str, tuple[str, ...]], required: set[str], max_rows: int
) -> Table:
    aliases = {header_key(alias): key for key, names in columns.items() for alias in names}
    first_failure: ValidationError | None = None
    for sheet in sheets.sheets:
        rows = _numbered(sheet)
        header = _find_header(rows, aliases, required)
        if header is not None and required <= header.positions.keys():
            return _read_rows(name, rows, header, columns, max_rows)
        if first_failure is None:
            first_failure = _missing_columns(name, header, columns, required)
    assert first_failure is not None
    raise first_failure


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
    blank_run = 0
    first = True
    for number, raw in rows:
        width = len(raw)
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
) -> bytes:
    """A blank .xlsx import template: a title row, the header row, columns typed as text where asked
    (phones keep their leading zero), drop-down lists for ``choices``, and a second sheet of notes.
    Column indexes are 1-based."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Danh sách"
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append(headers)
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
