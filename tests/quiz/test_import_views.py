"""The import (upload → preview → confirm), template and export screens, and who may use them."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from core.accounts.roles import RoleCode
from quiz.importer import HEADERS, import_questions, read_questions_file
from quiz.models import Question
from tests.core.sheets import xlsx_bytes
from tests.factories import field_errors, flashes
from tests.quiz.test_import import row, sheet

TOKEN = re.compile(r'name="token" type="hidden" value="([^"]+)"')


@pytest.fixture(autouse=True)
def previews_in_tmp(app, tmp_path, monkeypatch) -> Path:
    """Previews are stored under instance/imports; keep the tests' ones out of the real instance folder."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    return tmp_path / "imports"


def count(session, status: str | None = None) -> int:
    query = select(func.count()).select_from(Question)
    return session.scalar(query.where(Question.status == status) if status else query)


def upload(client, data: bytes, name: str = "cau-hoi.xlsx", **fields):
    return client.post("/bank/import", data={"file": (io.BytesIO(data), name), **fields},
                       content_type="multipart/form-data")


def token_of(page: str) -> str:
    match = TOKEN.search(page)
    assert match, page[:2000]
    return match.group(1)


def test_admin_uploads_previews_then_confirms_approved_questions(session, make, login):
    client = login(make.admin())
    page = client.get("/bank/import").get_data(as_text=True)
    assert 'name="status"' in page and "/bank/import/template.xlsx" in page
    response = upload(client, xlsx_bytes(sheet(row("Câu một?"), row("Câu hai?"))), status="approved")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Xem trước: cau-hoi.xlsx" in page and "2 hợp lệ" in page
    assert "Một đáp án · Chính quyền số · Dễ · đáp án B" in page and "đã duyệt" in page
    assert 'name="valid_only"' not in page  # nothing to skip
    assert count(session) == 0  # the preview writes nothing
    response = client.post("/bank/import/confirm", data={"token": token_of(page)})
    assert response.status_code == 302 and response.location.endswith("/bank/")
    assert count(session, "approved") == 2
    page = client.get("/bank/import").get_data(as_text=True)
    assert flashes(page, "success") == ["Đã nhập 2 câu hỏi (đã duyệt); bỏ qua 0 dòng lỗi."]


def test_an_organisers_import_is_always_drafts(session, make, login):
    organiser = make.user(RoleCode.ORGANISER)
    client = login(organiser)
    assert 'name="status"' not in client.get("/bank/import").get_data(as_text=True)
    page = upload(client, xlsx_bytes(sheet(row())), status="approved").get_data(as_text=True)
    assert "bản nháp" in page
    assert client.post("/bank/import/confirm", data={"token": token_of(page)}).status_code == 302
    question = session.scalars(select(Question)).one()
    assert (question.status, question.author_id) == ("draft", organiser.id)


def test_errors_are_shown_per_row_and_only_an_explicit_valid_only_writes_the_good_rows(session, make, login):
    client = login(make.admin())
    data = xlsx_bytes(sheet(row("Câu tốt một?"), row(**{"Đáp án đúng": "E"}), row("Câu tốt hai?")))
    page = upload(client, data).get_data(as_text=True)
    assert 'class="row-error"' in page and '<td class="cell-error"><mark>E</mark></td>' in page
    assert "Đáp án đúng: Đáp án đúng E không có phương án tương ứng." in page
    assert "2 hợp lệ" in page and "1 lỗi" in page and 'name="valid_only"' in page
    token = token_of(page)
    response = client.post("/bank/import/confirm", data={"token": token})  # box not ticked: all or nothing
    assert response.status_code == 409 and count(session) == 0
    assert "Tệp còn lỗi nên chưa ghi gì" in flashes(response.get_data(as_text=True))[0]
    response = client.post("/bank/import/confirm", data={"token": token, "valid_only": "y"})
    assert response.status_code == 302 and count(session, "draft") == 2


def test_a_file_with_only_errors_offers_no_confirm(session, make, login):
    client = login(make.admin())
    page = upload(client, xlsx_bytes(sheet(row(**{"Mức độ": "?"})))).get_data(as_text=True)
    assert TOKEN.search(page) is None and "/bank/import/confirm" not in page


def test_a_duplicate_added_between_preview_and_confirm_is_caught_at_confirm(session, make, login, quiz):
    client = login(make.admin())
    page = upload(client, xlsx_bytes(sheet(row("Câu sắp bị trùng?")))).get_data(as_text=True)
    quiz.question(text="Câu sắp bị trùng?")
    response = client.post("/bank/import/confirm", data={"token": token_of(page)})
    assert response.status_code == 409 and "đã có trong ngân hàng" in response.get_data(as_text=True)
    assert count(session) == 1


@pytest.mark.parametrize(("name", "data", "expected"), [
    ("cau-hoi.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2048), "có mật khẩu hoặc là định dạng Excel cũ"),
    ("cau-hoi.csv", "Câu hỏi,Đáp án\r\nMột?,A\r\n".encode("utf-16"), "không phải bảng tính"),
    ("cau-hoi.xlsx", xlsx_bytes(sheet(row(), row("Câu hai?")), merge="C5:C6"),
     "ô gộp (merge) trong phần dữ liệu: C5:C6"),
], ids=["password", "utf16", "merged"])
def test_bad_files_get_their_message_on_the_file_field(session, make, login, name, data, expected):
    client = login(make.admin())
    page = upload(client, data, name).get_data(as_text=True)
    (message,) = field_errors(page, "file")
    assert expected in message and count(session) == 0


def test_an_upload_over_the_limit_is_refused_with_413(session, make, login, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 50_000)
    client = login(make.admin())
    response = upload(client, b"x" * 60_000, "rac.csv")
    assert response.status_code == 413 and "Tệp tải lên quá lớn" in response.get_data(as_text=True)


def test_the_template_has_the_layout_an_example_and_instructions_and_the_example_imports(session, make, login):
    client = login(make.user(RoleCode.ORGANISER))
    response = client.get("/bank/import/template.xlsx")
    assert response.status_code == 200 and "mau-ngan-hang-cau-hoi.xlsx" in response.headers["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.data))
    assert [c.value for c in workbook.worksheets[0][2]] == HEADERS
    assert any("Đáp án đúng" in (c.value or "") for c in workbook.worksheets[1]["A"])
    table = read_questions_file("mau.xlsx", io.BytesIO(response.data))
    plan = import_questions(table.rows, None, dry_run=True)
    assert plan.ok and [r.number for r in plan.rows] == [3]


def test_export_downloads_the_filtered_bank(session, make, login, quiz):
    quiz.question(text="Câu đã duyệt?")
    quiz.question(text="Câu nháp?", status="draft")
    client = login(make.admin())
    assert "/bank/export.xlsx" in client.get("/bank/export").get_data(as_text=True)
    response = client.get("/bank/export.xlsx", query_string={"status": "draft", "category": ""})
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    texts = [r[1] for r in load_workbook(io.BytesIO(response.data)).active.iter_rows(min_row=4, values_only=True)]
    assert texts == ["Câu nháp?"]
    category = quiz.category("Xã hội số").id
    response = client.get("/bank/export.xlsx", query_string={"category": str(category)})
    assert load_workbook(io.BytesIO(response.data)).active.max_row == 3  # the header only
    assert client.get("/bank/export.xlsx", query_string={"status": "lost"}).status_code == 400


@pytest.mark.parametrize(("role", "allowed"), [
    (RoleCode.MEMBER, set()), (RoleCode.OFFICER, set()), (RoleCode.ORGANISER, {"import", "template"}),
])
def test_who_may_import_and_export(session, make, login, role, allowed):
    client = login(make.user(role))
    urls = {"import": "/bank/import", "template": "/bank/import/template.xlsx", "export": "/bank/export",
            "download": "/bank/export.xlsx"}
    for name, url in urls.items():
        assert client.get(url).status_code == (200 if name in allowed else 403), name
    assert client.post("/bank/import/confirm", data={"token": "x" * 32}).status_code == (
        302 if allowed else 403)
