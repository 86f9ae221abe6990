import io
import time
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import Workbook, load_workbook

from core.errors import ValidationError
from core.spreadsheet import build_template, cell_text, header_key, read_table
from tests.core.sheets import csv_bytes, xlsx_bytes

COLUMNS = {
    "team": ("Tên tổ", "Tổ CNSCĐ"),
    "full_name": ("Họ và tên", "Họ tên"),
    "phone": ("Số điện thoại", "SĐT"),
    "joined": ("Ngày vào tổ",),
}
REQUIRED = {"team", "full_name", "phone"}


def read(name: str, data: bytes, max_rows: int = 100, columns=COLUMNS, required=REQUIRED, **options):
    return read_table(name, io.BytesIO(data), columns, required, max_rows, **options)


def error_of(name: str, data: bytes, **kwargs) -> str:
    with pytest.raises(ValidationError) as caught:
        read(name, data, **kwargs)
    assert caught.value.field == "file"
    return caught.value.message


def test_xlsx_with_banner_rows_columns_in_any_order_and_excel_types():
    data = xlsx_bytes(
        [
            ["DANH SÁCH TỔ CÔNG NGHỆ SỐ CỘNG ĐỒNG", None, None, None],  # merged banner
            ["Ngày 20/4/2022", None, None, None],
            [],
            ["  so dien thoai (Bắt buộc) ", "HỌ VÀ TÊN", "Stt", "tổ cnscđ", "Ngày vào tổ"],
            [912345678.0, "  Nguyễn   Văn An ", 1, "Thôn 1", datetime(2025, 3, 1)],
            [None, None, None, None, None],
            ["0987654321", "Trần Thị Bình", 2, "Thôn 2", date(2025, 4, 2)],
        ],
        merge="A1:D1",
    )
    table = read("ds.xlsx", data)
    assert table.header_row == 4
    assert list(table.headers) == ["phone", "full_name", "team", "joined"]
    assert [row.number for row in table.rows] == [5, 7]
    assert table.rows[0].values == {
        "phone": "912345678", "full_name": "Nguyễn   Văn An", "team": "Thôn 1", "joined": "2025-03-01",
    }
    assert table.rows[1].values["joined"] == "2025-04-02"


def test_numbering_row_under_the_header_is_skipped_and_absent_optional_columns_are_blank():
    data = xlsx_bytes([["Tên tổ", "Họ tên", "SĐT"], ["(1)", "(2)", "(3)"], ["Thôn 1", "An", "0912345678"]])
    table = read("ds.xlsx", data)
    assert [row.number for row in table.rows] == [3]
    assert table.rows[0].values["joined"] == ""


def test_the_sheet_holding_the_table_is_found_after_an_instructions_sheet():
    data = xlsx_bytes([["Hướng dẫn: điền danh sách ở trang sau"]], [["Tên tổ", "Họ tên", "SĐT"], ["Thôn 1", "An", "1"]])
    assert read("ds.xlsx", data).rows[0].values["team"] == "Thôn 1"


@pytest.mark.parametrize(
    ("delimiter", "bom"), [(",", True), (",", False), (";", True), (";", False)],
    ids=["comma-bom", "comma", "semi-bom", "semi"],
)
def test_csv_utf8_with_or_without_bom_comma_or_semicolon(delimiter, bom):
    rows = [
        ["Danh sách tổ, năm 2025"],
        ["STT", "Họ và tên", "Tên tổ", "Số điện thoại"],
        ["1", "Lê Văn Cường, trưởng ấp", "Ấp Phước Lợi", "0912 345 678"],
        [],
        ["2", "Phạm Thị Dung", "Ấp Tân Hòa", "+84 987 654 321"],
    ]
    table = read("ds.csv", csv_bytes(rows, delimiter=delimiter, bom=bom))
    assert table.header_row == 2
    assert [row.number for row in table.rows] == [3, 5]
    assert table.rows[0].values["full_name"] == "Lê Văn Cường, trưởng ấp"
    assert table.rows[1].values == {"full_name": "Phạm Thị Dung", "team": "Ấp Tân Hòa", "phone": "+84 987 654 321",
                                    "joined": ""}


def test_semicolon_csv_whose_text_is_full_of_commas_is_still_split_on_semicolons():
    text = "Tên tổ;Họ tên;SĐT\nThôn 1;An, Bình, Cường, Dung;0912345678\nThôn 2;Em;0912345679\n"
    table = read("ds.csv", text.encode())
    assert table.rows[0].values["full_name"] == "An, Bình, Cường, Dung"


def test_missing_required_columns_are_named_with_what_was_found():
    message = error_of("ds.xlsx", xlsx_bytes([["Tiêu đề"], ["Tên tổ", "Tên người", "Ghi chú"], ["Thôn 1", "An", ""]]))
    assert "thiếu cột bắt buộc" in message
    assert "“Họ và tên”" in message and "“Số điện thoại”" in message and "“Tên tổ”" not in message.split(":")[1]
    assert "“Tên người”" in message and "“Ghi chú”" in message and "dòng 2" in message


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("anh.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))),
        ("ds.xlsx", b"this is not a zip archive at all"),
        ("ds.csv", bytes(range(256)) * 4),
        ("bao-cao.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj"),
    ],
    ids=["image", "fake-xlsx", "binary-csv", "pdf"],
)
def test_a_file_that_is_not_a_spreadsheet_is_refused(name, data):
    assert "không phải bảng tính" in error_of(name, data)


def test_a_zip_that_is_not_a_workbook_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    assert "không phải bảng tính" in error_of("ds.xlsx", buffer.getvalue())


def test_a_csv_field_too_big_for_the_csv_module_is_reported_not_crashed():
    data = b"Ten to,Ho ten,SDT\nThon 1," + b"a" * 200_000 + b",0912345678\n"
    assert "không phải bảng tính" in error_of("ds.csv", data)


def test_a_workbook_that_unpacks_too_big_is_refused_before_parsing(monkeypatch):
    monkeypatch.setattr("core.spreadsheet.MAX_UNPACKED_BYTES", 1000)
    assert "quá lớn khi giải nén" in error_of("ds.xlsx", xlsx_bytes([["Tên tổ", "Họ tên", "SĐT"]]))


def test_old_binary_xls_gets_its_own_message():
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512
    assert "Excel cũ (.xls)" in error_of("ds.xls", ole)
    assert "không phải bảng tính" in error_of("bao-cao.doc", ole)


def test_csv_not_in_utf8_says_how_to_save_it():
    data = csv_bytes([["Tên to", "Ho tên", "SDT"], ["Thôn 1", "Nguyên Văn An", "0912345678"]], encoding="cp1258")
    assert "UTF-8" in error_of("ds.csv", data)


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("ds.csv", b"", "trống"),
        ("ds.csv", b"\xef\xbb\xbf\r\n;;\r\n\r\n", "không có dữ liệu"),
        ("ds.xlsx", xlsx_bytes([]), "không có dữ liệu"),
        ("ds.csv", "Tên tổ,Họ tên,SĐT\r\n,,\r\n".encode(), "chỉ có dòng tiêu đề"),
    ],
    ids=["zero-bytes", "blank-csv", "blank-xlsx", "header-only"],
)
def test_empty_files_are_refused(name, data, expected):
    assert expected in error_of(name, data)


def test_exactly_max_rows_is_accepted_and_one_more_is_refused():
    rows = [["Tên tổ", "Họ tên", "SĐT"]] + [["Thôn 1", f"Người {i}", "0912345678"] for i in range(5)]
    assert len(read("ds.csv", csv_bytes(rows), max_rows=5).rows) == 5
    assert "hơn 4 dòng" in error_of("ds.csv", csv_bytes(rows), max_rows=4)


@pytest.fixture(scope="module")
def fifty_thousand_rows() -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(["Tên tổ", "Họ tên", "SĐT"])
    for i in range(50_000):
        sheet.append(["T", "A", i])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_a_50000_row_workbook_is_refused_quickly_without_reading_it_all(fifty_thousand_rows):
    started = time.perf_counter()
    message = error_of("ds.xlsx", fifty_thousand_rows, max_rows=20_000)
    assert "hơn 20000 dòng dữ liệu" in message and "chia thành nhiều tệp" in message
    assert time.perf_counter() - started < 15  # a hang guard, not a benchmark (bench/bench_import.py)


def test_cell_text_and_header_key():
    assert cell_text(912345678.0) == "912345678"
    assert cell_text(2.5) == "2.5"
    assert cell_text(datetime(2025, 1, 2, 8, 30)) == "2025-01-02 08:30:00"
    assert cell_text(None) == "" and cell_text("  a\u00a0") == "a"
    assert header_key("Số điện thoại (Bắt buộc) *") == "so dien thoai"


def test_build_template_has_the_headers_text_phone_column_and_notes():
    data = build_template("TIÊU ĐỀ", ["Tên tổ", "Họ tên", "SĐT"], text_columns=(3,), choices={2: ["A", "B"]},
                          notes=["Ghi chú"])
    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook.worksheets[0]
    assert [cell.value for cell in sheet[2]] == ["Tên tổ", "Họ tên", "SĐT"]
    assert sheet["C3"].number_format == "@"
    assert workbook.worksheets[1]["A1"].value == "Ghi chú"
    assert "chỉ có dòng tiêu đề" in error_of("mau.xlsx", data)  # the blank template is recognised, not garbage


def _with_formulas() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for values in (['="Danh sách ngày " & TEXT(TODAY(), "dd/mm")'], ["Tên tổ", "Họ tên", "SĐT", "Ghi chú"],
                   ["Thôn 1", "An", "0912345678", "=1+1"], ["Thôn 1", "=B3", "=C3", None]):
        sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_formula_cells_in_the_data_are_refused_by_row_and_column_when_asked():
    message = error_of("ds.xlsx", _with_formulas(), refuse_formulas=True)
    assert "ô chứa công thức, hãy dán giá trị" in message
    assert "ô B4 (dòng 4, cột “Họ tên”); ô C4 (dòng 4, cột “SĐT”)" in message
    assert "A1" not in message and "D3" not in message  # a title row, an unrecognised column
    # without the option a formula reads as its cached value (none here: a file not saved by Excel)
    assert read("ds.xlsx", _with_formulas()).rows[1].values["full_name"] == ""


def test_many_formula_cells_are_counted_not_all_listed():
    rows = [["Tên tổ", "Họ tên", "SĐT"]] + [["Thôn 1", f"=\"Người {i}\"", "1"] for i in range(8)]
    assert "và 3 ô khác" in error_of("ds.xlsx", xlsx_bytes(rows), refuse_formulas=True)


def test_merged_cells_below_the_header_are_refused_and_named_when_asked():
    rows = [["DANH SÁCH"], ["Tên tổ", "Họ tên", "SĐT"], ["Thôn 1", "An", "1"], [None, "Bình", "2"]]
    message = error_of("ds.xlsx", xlsx_bytes(rows, merge="A3:A4"), refuse_merged=True)
    assert "ô gộp (merge) trong phần dữ liệu: A3:A4" in message
    assert len(read("ds.xlsx", xlsx_bytes(rows, merge="A1:C1"), refuse_merged=True).rows) == 2  # a banner is fine
    assert len(read("ds.xlsx", xlsx_bytes(rows, merge="A3:A4")).rows) == 2  # rosters merge their team cells


def test_an_encrypted_xlsx_is_an_ole_file_and_gets_the_password_message():
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4096
    message = error_of("ds.xlsx", ole)
    assert "có mật khẩu" in message and ".xlsx không đặt mật khẩu" in message


def test_build_template_with_an_example_row_and_a_list_excel_cannot_express():
    data = build_template("T", ["Tên", "Loại"], choices={2: ["Một, hai", "Ba"]}, example=["Ví dụ", "Ba"])
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    assert [cell.value for cell in sheet[3]] == ["Ví dụ", "Ba"]
    assert not sheet.data_validations.dataValidation  # "Một, hai" would split in two
