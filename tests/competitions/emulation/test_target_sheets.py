"""Targets in Excel: the export holds the grid's numbers; the import reads it back, all or nothing,
with every row error named; upload → preview → confirm on the screen."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from competitions.emulation import catalogue, target_sheets
from competitions.emulation.models import Target
from competitions.emulation.periods import Period
from competitions.emulation.targets import Holder, TargetEntry, set_targets, targets_of
from core.accounts.roles import RoleCode
from core.errors import PermissionDenied, ValidationError
from core.imports.plan import RowStatus
from tests.core.sheets import csv_bytes, xlsx_bytes

NOV = Period.parse("2026-11")


@pytest.fixture
def place(make):
    tree = make.tree()
    team_a, team_b = make.team(tree.hamlet), make.team(tree.hamlet2)
    by_code = {kind.code: kind for kind in catalogue.kinds()}
    officer = make.user(RoleCode.OFFICER, tree.commune, full_name="Cán bộ Châu Thành")
    admin = make.admin()
    set_targets(admin, NOV, [TargetEntry(Holder.of_unit(tree.commune), by_code["vneid"], 100)])
    set_targets(officer, NOV, [TargetEntry(Holder.of_team(team_a), by_code["vneid"], 60),
                               TargetEntry(Holder.of_team(team_b), by_code["ewallet"], 7)])
    return tree, team_a, team_b, officer, admin, by_code


def sheet_rows(data: bytes) -> list[list[object]]:
    workbook = load_workbook(io.BytesIO(data))
    return [list(row) for row in workbook.active.iter_rows(values_only=True)]


def table(data: bytes, name: str = "chi-tieu.xlsx"):  # noqa: ANN201
    return target_sheets.read_targets_file(name, io.BytesIO(data))


def count(session) -> int:
    return session.scalar(select(func.count()).select_from(Target))


def test_export_holds_the_grid(place):
    tree, team_a, team_b, officer, _admin, by_code = place
    rows = sheet_rows(target_sheets.export_targets(tree.commune, NOV, officer))
    assert "Tháng 11/2026".upper() in rows[0][0] and tree.commune.name in rows[0][0]
    assert "100" in rows[1][0]  # the commune's own target, above the table
    header = rows[2]
    assert header[:3] == ["STT", "Mã", "Đơn vị / Tổ"]
    assert header[3] == f"{by_code['vneid'].name} (người)" and len(header) == 3 + len(catalogue.kinds())
    body = {row[1]: row for row in rows[3:]}
    assert body[f"T{team_a.id}"][2] == team_a.name
    assert body[f"T{team_a.id}"][3] == 60 and body[f"T{team_a.id}"][4] is None
    assert body[f"T{team_b.id}"][4] == 7


def test_round_trip_changes_only_what_changed(place, session):
    tree, team_a, team_b, officer, _admin, by_code = place
    rows = sheet_rows(target_sheets.export_targets(tree.commune, NOV, officer))
    unchanged = table(xlsx_bytes(rows))
    plan = target_sheets.import_targets(unchanged.rows, tree.commune, NOV, officer, unchanged.headers)
    assert plan.ok and not plan.written and plan.count(RowStatus.UNCHANGED) == 2

    for row in rows[3:]:
        if row[1] == f"T{team_a.id}":
            row[3], row[4] = 40, 5  # vneid changed, ewallet added
        else:
            row[4] = None  # ewallet removed
    edited = table(xlsx_bytes(rows))
    preview = target_sheets.import_targets(edited.rows, tree.commune, NOV, officer, edited.headers, dry_run=True)
    assert preview.ok and preview.count(RowStatus.NEW) == 2 and len(preview.entries) == 3
    assert targets_of(NOV, [Holder.of_team(team_a)])[(f"t{team_a.id}", by_code["vneid"].id)] == 60  # dry run
    plan = target_sheets.import_targets(edited.rows, tree.commune, NOV, officer, edited.headers)
    assert plan.written and (plan.saved.created, plan.saved.updated, plan.saved.removed) == (1, 1, 1)
    assert targets_of(NOV, [Holder.of_team(team_a), Holder.of_team(team_b)]) == {
        (f"t{team_a.id}", by_code["vneid"].id): 40, (f"t{team_a.id}", by_code["ewallet"].id): 5}


def test_row_errors_are_all_listed_and_nothing_is_written(place, session):
    tree, team_a, team_b, officer, _admin, by_code = place
    before = count(session)
    rows = sheet_rows(target_sheets.export_targets(tree.commune, NOV, officer))
    header = rows[2]
    rows = rows[:3] + [
        [1, f"T{team_a.id}", team_a.name, 999] + [None] * (len(header) - 4),  # fine on its own
        [2, f"T{team_b.id}", team_b.name, -4],  # negative
        [3, f"T{team_a.id}", team_a.name, 1],  # the same team twice
        [4, "T999999", "Tổ ma", 1],  # no such team
        [5, tree.other_hamlet.code or f"U{tree.other_commune.id}", "Phường Rạch Giá", 1],  # not under the commune
        [6, "", team_b.name, "mười"],  # found by name; bad number
    ]
    parsed = table(xlsx_bytes(rows))
    plan = target_sheets.import_targets(parsed.rows, tree.commune, NOV, officer, parsed.headers)
    assert not plan.ok and not plan.written
    errors = {row.number: " ".join(e.message for e in row.errors) for row in plan.error_rows}
    assert set(errors) == {5, 6, 7, 8, 9}
    assert "số âm" in errors[5]
    assert "dòng 4" in errors[6]
    assert "T999999" in errors[7]
    assert "không trực thuộc" in errors[8] and "Phường Rạch Giá" in errors[8]
    assert "không phải số nguyên" in errors[9]
    assert count(session) == before
    assert targets_of(NOV, [Holder.of_team(team_a)])[(f"t{team_a.id}", by_code["vneid"].id)] == 60
    assert any(line.startswith("row 5: ") for line in plan.error_lines())


def test_unknown_activity_column_stops_the_import(place):
    tree, team_a, *_rest = place
    data = csv_bytes([["STT", "Mã", "Đơn vị / Tổ", "Hướng dẫn dùng TikTok"], [1, f"T{team_a.id}", team_a.name, 3]])
    with pytest.raises(ValidationError, match="Hướng dẫn dùng TikTok") as caught:
        table(data, "chi-tieu.csv")
    assert "Dòng 1" in caught.value.message


def test_import_outside_scope_is_refused(place, make):
    tree, team_a, _team_b, _officer, _admin, _by_code = place
    other = make.user(RoleCode.OFFICER, tree.other_commune)
    parsed = table(csv_bytes([["Mã", "VNeID", "vneid"], [f"T{team_a.id}", 1, 1]]), "x.csv")
    with pytest.raises(PermissionDenied):
        target_sheets.import_targets(parsed.rows, tree.commune, NOV, other, parsed.headers)


# --- screens ---------------------------------------------------------------------------------------


def test_export_download(place, login, client):
    tree, team_a, *_rest = place
    login(place[3])
    response = client.get(f"/emulation/targets/{tree.commune.id}/chi-tieu.xlsx?period=2026-11")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    rows = sheet_rows(response.data)
    assert [row[3] for row in rows[3:] if row[1] == f"T{team_a.id}"] == [60]


def test_upload_preview_confirm(place, login, client, session):
    tree, team_a, team_b, officer, _admin, by_code = place
    login(officer)
    rows = sheet_rows(target_sheets.export_targets(tree.commune, NOV, officer))
    for row in rows[3:]:
        row[3] = 50
    url = f"/emulation/targets/{tree.commune.id}/import?period=2026-11"
    assert client.get(url).status_code == 200
    response = client.post(url, data={"file": (io.BytesIO(xlsx_bytes(rows)), "chi-tieu.xlsx")},
                           content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "2 có thay đổi" in page and 'name="token"' in page
    assert targets_of(NOV, [Holder.of_team(team_b)]).get((f"t{team_b.id}", by_code["vneid"].id)) is None
    token = page.split('name="token" type="hidden" value="')[1].split('"')[0]
    response = client.post("/emulation/targets/import/confirm", data={"token": token})
    assert response.status_code == 302
    assert targets_of(NOV, [Holder.of_team(team_a), Holder.of_team(team_b)])[(f"t{team_b.id}", by_code["vneid"].id)] \
        == 50
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Đã nhập chỉ tiêu" in page and "Vượt 0" not in page and "Khớp" in page


def test_upload_with_errors_lists_rows_and_offers_no_confirm(place, login, client, session):
    tree, team_a, _team_b, officer, _admin, _by_code = place
    login(officer)
    before = count(session)
    data = xlsx_bytes([["STT", "Mã", "Đơn vị / Tổ", "vneid"], [1, f"T{team_a.id}", team_a.name, -1],
                       [2, "T424242", "?", 3]])
    response = client.post(f"/emulation/targets/{tree.commune.id}/import?period=2026-11",
                           data={"file": (io.BytesIO(data), "sai.xlsx")}, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Dòng 2" in page and "số âm" in page and "Dòng 3" in page and "T424242" in page
    assert 'name="token"' not in page and count(session) == before


def test_import_page_needs_scope(place, login, client, make):
    tree, *_rest = place
    login(make.user(RoleCode.OFFICER, tree.other_commune))
    assert client.get(f"/emulation/targets/{tree.commune.id}/import").status_code == 403
