"""`flask quiz import` and `flask quiz export`: output, exit codes, nothing written on errors."""

from __future__ import annotations

import time

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from quiz.importer import HEADERS
from quiz.models import Question
from tests.core.sheets import csv_bytes, xlsx_bytes
from tests.quiz.test_import import row, sheet


@pytest.fixture
def run(app, session):
    runner = app.test_cli_runner()

    def invoke(*args: str):
        return runner.invoke(args=["quiz", *args])

    return invoke


def count(session, status: str | None = None) -> int:
    query = select(func.count()).select_from(Question)
    return session.scalar(query.where(Question.status == status) if status else query)


@pytest.fixture
def bad_file(tmp_path):
    path = tmp_path / "cau-hoi.csv"
    path.write_bytes(csv_bytes(sheet(row("Câu tốt một?"), row(**{"Đáp án đúng": "E"}), row("Câu tốt hai?"),
                                     row("Câu lỗi?", **{"Mức độ": "Siêu khó"}))))
    return path


def test_import_writes_and_prints_how_many(session, run, tmp_path):
    path = tmp_path / "cau-hoi.xlsx"
    path.write_bytes(xlsx_bytes(sheet(row("Câu một?"), row("Câu hai?"))))
    result = run("import", str(path), "--status", "approved")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["2 dòng: 2 hợp lệ, 0 lỗi.", "Đã nhập 2 câu hỏi."]
    assert count(session, "approved") == 2


def test_errors_are_printed_one_per_line_with_row_and_column_and_nothing_is_written(session, run, bad_file):
    result = run("import", str(bad_file))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "row 6: “Đáp án đúng”: Đáp án đúng E không có phương án tương ứng.",
        "row 8: “Mức độ”: Mức độ “Siêu khó” không rõ; hãy ghi Dễ, Trung bình, Khó.",
        "Tệp còn lỗi nên chưa ghi gì (dùng --valid-only để chỉ nhập các dòng hợp lệ).",
    ]
    assert "4 dòng: 2 hợp lệ, 2 lỗi." in result.stdout and count(session) == 0


def test_valid_only_imports_the_good_rows_as_drafts(session, run, bad_file):
    result = run("import", str(bad_file), "--valid-only")
    assert result.exit_code == 0, result.output
    assert "Đã nhập 2 câu hỏi." in result.stdout and len(result.stderr.splitlines()) == 2
    assert count(session, "draft") == 2


@pytest.mark.parametrize(("args", "code"), [((), 0), (("--valid-only",), 1)], ids=["clean", "with-errors"])
def test_dry_run_writes_nothing_and_exits_non_zero_on_errors(session, run, tmp_path, bad_file, args, code):
    path = tmp_path / "tot.csv"
    path.write_bytes(csv_bytes(sheet(row())))
    result = run("import", str(bad_file if args else path), "--dry-run", *args)
    assert result.exit_code == code and "Chạy thử: chưa ghi gì." in result.stdout
    assert count(session) == 0


def test_twenty_megabytes_of_junk_is_refused_at_once(session, run, tmp_path):
    path = tmp_path / "rac.xlsx"
    path.write_bytes(b"\x00junk" * 4_200_000)
    started = time.perf_counter()
    result = run("import", str(path))
    assert result.exit_code == 1 and "lớn quá 10 MB" in result.stderr
    assert time.perf_counter() - started < 2


@pytest.mark.parametrize(("name", "data", "message"), [
    ("cau-hoi.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2048), "có mật khẩu"),
    ("cau-hoi.xlsx", b"PK\x03\x04 not really a zip" * 1000, "không phải bảng tính"),
], ids=["password", "broken-zip"])
def test_malformed_files_exit_non_zero_with_the_message(session, run, tmp_path, name, data, message):
    path = tmp_path / name
    path.write_bytes(data)
    result = run("import", str(path))
    assert result.exit_code == 1 and message in result.stderr and count(session) == 0


def test_export_writes_the_layout_and_filters(session, run, quiz, tmp_path):
    quiz.question(text="Câu đã duyệt?")
    quiz.question(text="Câu nháp?", status="draft")
    path = tmp_path / "ngan-hang.xlsx"
    result = run("export", str(path), "--status", "draft")
    assert result.exit_code == 0, result.output
    sheet_ = load_workbook(path).active
    assert [c.value for c in sheet_[3]] == HEADERS and [r[1] for r in sheet_.iter_rows(min_row=4, values_only=True)] \
        == ["Câu nháp?"]
    result = run("export", str(path), "--category", "Thể thao")
    assert result.exit_code == 1 and "Không có lĩnh vực “Thể thao”." in result.stderr
