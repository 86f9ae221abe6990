import io
import json
import re
import time
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from core.accounts.models import User
from core.accounts.roles import RoleCode
from core.org.models import Unit
from core.teams.models import Membership
from tests.core.sheets import csv_bytes, xlsx_bytes
from tests.factories import field_errors, flashes

TOKEN = re.compile(r'name="token" type="hidden" value="([^"]+)"')
MEMBER_HEADER = ["STT", "Tên Tổ CNSCĐ", "Họ và tên", "Chức vụ", "Số điện thoại"]


@pytest.fixture(autouse=True)
def previews_in_tmp(app, tmp_path, monkeypatch) -> Path:
    """Previews are stored under instance/imports; keep the tests' ones out of the real instance folder."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    return tmp_path / "imports"


@pytest.fixture(scope="module")
def fifty_thousand_rows_csv() -> bytes:
    lines = ["STT,Tên Tổ CNSCĐ,Họ và tên,Chức vụ,Số điện thoại"]
    lines += [f"{i},Ấp Phước Lợi,Người {i},,09{i:08d}" for i in range(50_000)]
    return "\n".join(lines).encode()


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def upload(client, url: str, name: str, data: bytes, **fields):
    return client.post(url, data={"file": (io.BytesIO(data), name), **fields}, content_type="multipart/form-data")


def token_of(page: str) -> str:
    match = TOKEN.search(page)
    assert match, page[:2000]
    return match.group(1)


# ---- units ----------------------------------------------------------------------------------

def test_units_upload_preview_then_confirm(session, make, login):
    tree = make.tree()
    client = login(make.admin())
    assert client.get("/import/units").status_code == 200
    data = xlsx_bytes([["Tên đơn vị", "Cấp", "Đơn vị cấp trên"], ["Ấp Mới", "Ấp", "Xã Châu Thành"],
                       ["Xã Châu Thành", "Xã", "Tỉnh An Giang"]])
    before = count(session, Unit)
    response = upload(client, "/import/units", "cay.xlsx", data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Xem trước: cay.xlsx" in page and 'class="table-wrap"' in page
    assert "Ấp Mới" in page and "Đã có, không đổi" in page
    assert count(session, Unit) == before  # the preview writes nothing
    token = token_of(page)
    response = client.post("/import/units/confirm", data={"token": token})
    assert response.status_code == 302 and response.location.endswith("/units/")
    assert count(session, Unit) == before + 1
    assert session.scalar(select(Unit).where(Unit.name == "Ấp Mới")).parent_id == tree.commune.id
    page = client.get("/import/units").get_data(as_text=True)
    assert flashes(page, "success") == ["Đã nhập 1 đơn vị mới; 1 dòng đã có sẵn, không thay đổi."]
    # the plan was used up: confirming it again is refused
    response = client.post("/import/units/confirm", data={"token": token})
    assert response.status_code == 302 and count(session, Unit) == before + 1
    assert "không còn hiệu lực" in flashes(client.get("/import/units").get_data(as_text=True))[0]


def test_units_preview_with_errors_highlights_them_and_offers_no_confirm(session, make, login):
    make.tree()
    client = login(make.admin())
    before = count(session, Unit)
    data = csv_bytes([
        ["Tên đơn vị", "Cấp", "Đơn vị cấp trên"], ["Ấp Sai", "Ấp", "Tỉnh An Giang"], ["Xã Đúng", "Xã", "Tỉnh An Giang"],
    ])
    page = upload(client, "/import/units", "cay.csv", data).get_data(as_text=True)
    assert 'class="row-error"' in page and '<td class="cell-error"><mark>Tỉnh An Giang</mark></td>' in page
    assert "không thể trực thuộc" in page and "Tệp còn lỗi nên chưa ghi gì" in page
    assert TOKEN.search(page) is None and "/import/units/confirm" not in page
    assert count(session, Unit) == before


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("anh.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + bytes(range(200)), "không phải bảng tính"),
        ("cay.csv", b"", "trống"),
        ("cay.csv", "Tên,Ghi chú\r\nA,B\r\n".encode(), "thiếu cột bắt buộc"),
    ],
    ids=["not-a-spreadsheet", "empty", "missing-columns"],
)
def test_units_upload_bad_files_get_their_message_on_the_file_field(session, make, login, name, data, expected):
    client = login(make.admin())
    before = count(session, Unit)
    page = upload(client, "/import/units", name, data).get_data(as_text=True)
    (message,) = field_errors(page, "file")
    assert expected in message
    assert count(session, Unit) == before


def test_units_import_is_for_admins_only(session, make, login):
    tree = make.tree()
    client = login(make.user(RoleCode.OFFICER, tree.commune))
    assert client.get("/import/units").status_code == 403
    assert client.post("/import/units/confirm", data={"token": "x" * 32}).status_code == 403
    assert client.get("/import/units/template.xlsx").status_code == 403


@pytest.mark.parametrize(
    ("url", "headers"),
    [
        ("/import/units/template.xlsx", ["Tên đơn vị", "Cấp", "Đơn vị cấp trên", "Mã đơn vị"]),
        ("/import/members/template.xlsx", MEMBER_HEADER),
    ],
)
def test_templates_download_as_xlsx_with_vietnamese_headers(session, make, login, url, headers):
    client = login(make.admin())
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    assert "attachment" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    assert [cell.value for cell in sheet[2]] == headers


# ---- members --------------------------------------------------------------------------------

@pytest.fixture
def commune(make):
    tree = make.tree()
    officer = make.user(RoleCode.OFFICER, tree.commune, full_name="Cán Bộ Xã")
    return tree, officer, make.team(tree.hamlet)


def roster_file(*members: tuple[str, str, str, str]) -> bytes:
    return xlsx_bytes([["DANH SÁCH TỔ CNSCĐ XÃ CHÂU THÀNH"], MEMBER_HEADER,
                       *[[i + 1, *member] for i, member in enumerate(members)]])


def test_members_upload_lists_only_units_in_the_officers_scope(session, commune, login):
    tree, officer, _ = commune
    page = login(officer).get("/import/members").get_data(as_text=True)
    assert "Xã Châu Thành" in page and "Phường Rạch Giá" not in page and "Tỉnh An Giang" not in page
    data = roster_file(("Khu phố 1", "Ai Đó", "", "0981000001"))
    response = upload(login(officer), "/import/members", "ds.xlsx", data, unit_id=tree.other_commune.id)
    page = response.get_data(as_text=True)
    assert field_errors(page, "unit_id") == ["Hãy chọn một đơn vị trong danh sách."] and TOKEN.search(page) is None


def test_members_preview_confirm_and_reimport_reports_unchanged(session, commune, login):
    tree, officer, team = commune
    client = login(officer)
    data = roster_file(
        ("Ấp Phước Lợi", "Nguyễn Văn An", "Tổ trưởng", "0981000001"),
        ("", "Trần Thị Bình", "Tổ phó", "0981000002"),
        ("", "Lê Văn Cường", "", "0981000003"),
    )
    before = count(session, Membership), count(session, User)
    page = upload(client, "/import/members", "ds.xlsx", data, unit_id=tree.commune.id).get_data(as_text=True)
    assert "Theo tổ" in page and team.name in page and "Nguyễn Văn An (Tổ trưởng)" in page
    assert (count(session, Membership), count(session, User)) == before
    response = client.post("/import/members/confirm", data={"token": token_of(page)})
    assert response.status_code == 302
    assert count(session, Membership) == before[0] + 3 and count(session, User) == before[1] + 3
    page = client.get("/import/members").get_data(as_text=True)
    assert flashes(page, "success") == ["Đã thêm 3 thành viên vào 1 tổ; 0 dòng đã có sẵn, không thay đổi."]

    page = upload(client, "/import/members", "ds.xlsx", data, unit_id=tree.commune.id).get_data(as_text=True)
    assert "Mọi dòng đều đã có sẵn" in page and "3 không đổi" in page
    assert TOKEN.search(page) is None  # nothing to confirm
    assert count(session, Membership) == before[0] + 3 and count(session, User) == before[1] + 3


def test_confirm_rechecks_against_the_database_and_writes_nothing_if_it_changed(session, make, commune, login):
    tree, officer, team = commune
    client = login(officer)
    make.fill(team, 8)
    data = roster_file(
        ("Ấp Phước Lợi", "Người Chín", "", "0982000001"), ("Ấp Phước Lợi", "Người Mười", "", "0982000002"),
    )
    page = upload(client, "/import/members", "ds.xlsx", data, unit_id=tree.commune.id).get_data(as_text=True)
    token = token_of(page)
    make.fill(team, 1)  # someone joined meanwhile: the second row would be the 11th
    before = count(session, Membership), count(session, User)
    response = client.post("/import/members/confirm", data={"token": token})
    page = response.get_data(as_text=True)
    assert response.status_code == 409 and "người thứ 11" in page and "chưa ghi gì" in page
    assert (count(session, Membership), count(session, User)) == before


def test_an_expired_or_foreign_preview_cannot_be_confirmed(session, make, commune, login, previews_in_tmp):
    tree, officer, _ = commune
    client = login(officer)
    data = roster_file(("Ấp Phước Lợi", "Người Một", "", "0983000001"))
    token = token_of(upload(client, "/import/members", "ds.xlsx", data, unit_id=tree.commune.id).get_data(as_text=True))
    path = previews_in_tmp / f"{token}.json"
    payload = json.loads(path.read_text())
    payload["created"] = time.time() - 3601
    path.write_text(json.dumps(payload))
    before = count(session, Membership)
    response = client.post("/import/members/confirm", data={"token": token})
    assert response.status_code == 302 and count(session, Membership) == before
    assert "không còn hiệu lực" in flashes(client.get("/import/members").get_data(as_text=True))[0]


def test_a_50000_row_upload_is_refused_with_the_too_many_rows_message(session, commune, login, fifty_thousand_rows_csv):
    tree, officer, _ = commune
    started = time.perf_counter()
    response = upload(login(officer), "/import/members", "ds.csv", fifty_thousand_rows_csv, unit_id=tree.commune.id)
    (message,) = field_errors(response.get_data(as_text=True), "file")
    assert "hơn 20000 dòng dữ liệu" in message
    assert time.perf_counter() - started < 15  # a hang guard only


def test_members_import_is_closed_to_members_and_strangers(session, make, commune, client, login):
    tree, _, _ = commune
    assert client.get("/import/members").status_code == 302  # to the sign-in page
    login(make.user(RoleCode.MEMBER, tree.commune))
    assert client.get("/import/members").status_code == 403
