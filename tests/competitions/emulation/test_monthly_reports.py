"""Monthly reports as Excel (competitions.emulation.monthly_reports, export_views): the commune's
report and the province's compiled report open with openpyxl and hold the right numbers; who may
download which; the page listing the downloads."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from competitions.emulation import monthly_reports, scoring
from competitions.emulation.models import ReportStatus, Target, holder_key
from competitions.emulation.periods import Period
from competitions.emulation.schemes import NOT_DONE, scheme_for
from core.accounts.models import User
from core.accounts.roles import RoleCode
from core.errors import ValidationError
from core.extensions import db
from core.org.models import Unit
from core.teams.models import Team
from tests.competitions.emulation.worlds import MONTH, activity, file, review, set_target, verified
from tests.factories import Tree

PERIOD = Period.parse(MONTH)
TODAY = date(2025, 4, 5)
ACTIVITY_COLUMNS = 7 * 3  # the seven default activities, three columns each


def unit_target(unit: Unit, code: str, quantity: int) -> None:
    db.session.add(Target(period=MONTH, activity_id=activity(code).id, holder=holder_key(unit_id=unit.id),
                          unit_id=unit.id, quantity=quantity))
    db.session.flush()


@dataclass
class World:
    tree: Tree
    first: Team  # Ấp Phước Lợi, Xã Châu Thành
    second: Team  # Ấp Tân Hòa, Xã Châu Thành
    beside: Team  # Phường Rạch Giá
    far: Team  # Xã Thạnh Hưng, Huyện Giồng Riềng
    officer: User  # of Xã Châu Thành


@pytest.fixture
def world(make) -> World:
    tree = make.tree()
    first = make.team(tree.hamlet, "Tổ Phước Lợi")
    second = make.team(tree.hamlet2, "Tổ Tân Hòa")
    beside, far = make.team(tree.other_hamlet), make.team(tree.district_hamlet)
    for team, members in ((first, 3), (second, 2), (beside, 1), (far, 1)):
        make.fill(team, members)
    officer = make.user(RoleCode.OFFICER, tree.commune, full_name="Cán bộ xã")
    set_target(first, "vneid", 10)
    set_target(first, "ewallet", 20)
    set_target(second, "vneid", 10)
    unit_target(tree.province, "vneid", 50)
    unit_target(tree.commune, "vneid", 30)
    unit_target(tree.other_commune, "vneid", 5)
    unit_target(tree.district, "vneid", 8)
    unit_target(tree.district_commune, "vneid", 8)
    verified(first, {"vneid": 12, "ewallet": 5}, officer)
    verified(second, {"vneid": 4}, officer)
    file(second, {"vneid": 100}, officer)  # waiting: does not count
    review(file(first, {"ewallet": 50}, officer), ReportStatus.REJECTED, reason="Sai số liệu")  # does not count
    verified(beside, {"vneid": 5}, officer)
    verified(far, {"vneid": 2}, officer)
    return World(tree, first, second, beside, far, officer)


def _sheet(data: bytes) -> Worksheet:
    return load_workbook(io.BytesIO(data)).active


def _rows(sheet: Worksheet) -> list[list[object]]:
    """The data rows: after the two header rows that start with "STT", up to the first empty row."""
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    start = next(i for i, row in enumerate(values) if row[0] == "STT") + 2
    rows = []
    for row in values[start:]:
        if all(v in (None, "") for v in row):
            break
        rows.append(row)
    return rows


def _texts(sheet: Worksheet) -> list[str]:
    return [str(v) for row in sheet.iter_rows(values_only=True) for v in row if v not in (None, "")]


def test_commune_report_has_one_row_per_team_with_targets_achievements_points_and_band(world):
    report = monthly_reports.commune_report(world.tree.commune, PERIOD)
    sheet = _sheet(monthly_reports.commune_workbook(report, TODAY))
    scores = {s.team_id: s for s in scoring.team_scores(PERIOD, world.tree.commune)}
    first, second, total = _rows(sheet)
    width = 4 + ACTIVITY_COLUMNS + 2
    assert len(first) == width
    assert first[:4] == [1, "Tổ Phước Lợi", "Ấp Phước Lợi", 3]
    assert first[4:10] == [10, 12, pytest.approx(1.2), 20, 5, pytest.approx(0.25)]
    assert first[10:13] == [None, 0, None]  # OCOP: no target, nothing achieved
    assert first[-2:] == [round(scores[world.first.id].points, 2), scores[world.first.id].band]
    assert second[:7] == [2, "Tổ Tân Hòa", "Ấp Tân Hòa", 2, 10, 4, pytest.approx(0.4)]
    assert second[-2:] == [round(scores[world.second.id].points, 2), scores[world.second.id].band]
    mean = (scores[world.first.id].points + scores[world.second.id].points) / 2
    assert total[:10] == [None, "Tổng cộng", None, 5, 20, 16, pytest.approx(0.8), 20, 5, pytest.approx(0.25)]
    assert total[-2] == pytest.approx(round(mean, 2))
    texts = _texts(sheet)
    for expected in ("TỈNH AN GIANG", "XÃ CHÂU THÀNH", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                     "Độc lập - Tự do - Hạnh phúc", "Xã Châu Thành, ngày 05 tháng 04 năm 2025", "BÁO CÁO",
                     "Tháng 3/2025", "Chỉ tiêu", "Thực hiện", "Tỉ lệ", "Điểm thi đua", "Xếp loại", "NGƯỜI LẬP BIỂU"):
        assert expected in texts
    assert sheet.cell(row=_header_row(sheet), column=5).value.startswith("Hướng dẫn người dân cài đặt")


def _header_row(sheet: Worksheet) -> int:
    return next(cell.row for (cell,) in sheet.iter_rows(min_col=1, max_col=1) if cell.value == "STT")


def test_compiled_report_has_a_row_per_commune_grouped_under_districts(world):
    tree = world.tree
    report = monthly_reports.compiled_report(tree.province, PERIOD)
    sheet = _sheet(monthly_reports.compiled_workbook(report, TODAY))
    rows = _rows(sheet)
    assert [row[:2] for row in rows] == [
        ["1", "Phường Rạch Giá"], ["2", "Xã Châu Thành"], ["I", "Huyện Giồng Riềng"], ["1", "Xã Thạnh Hưng"],
        [None, "Tổng cộng: Tỉnh An Giang"],
    ]
    beside, commune, district, district_commune, total = rows
    scores = {s.team_id: s for s in scoring.team_scores(PERIOD, tree.province)}
    bands = [str(band["name"]) for band in scheme_for(PERIOD).bands] + [NOT_DONE]
    points_column = 4 + ACTIVITY_COLUMNS

    def expected_bands(*teams: Team) -> list[int]:
        return [sum(scores[t.id].band == band for t in teams) for band in bands]

    assert commune[2:7] == [2, 5, 30, 16, pytest.approx(16 / 30)]
    assert commune[7:10] == [None, 5, None]  # e-wallets: no target for the commune, 5 achieved by its teams
    mean = (scores[world.first.id].points + scores[world.second.id].points) / 2
    assert commune[points_column] == pytest.approx(round(mean, 2))
    assert commune[points_column + 1:] == expected_bands(world.first, world.second)
    assert beside[2:7] == [1, 1, 5, 5, pytest.approx(1.0)]
    assert district[2:7] == [1, 1, 8, 2, pytest.approx(0.25)]
    assert district_commune[2:7] == [1, 1, 8, 2, pytest.approx(0.25)]
    assert total[2:7] == [4, 7, 50, 23, pytest.approx(23 / 50)]
    assert total[points_column + 1:] == expected_bands(world.first, world.second, world.beside, world.far)
    assert sum(total[points_column + 1:]) == 4
    texts = _texts(sheet)
    assert "Điểm thi đua bình quân" in texts and f"Số tổ “{bands[0]}”" in texts
    assert "Tổng hợp kết quả hoạt động của các Tổ công nghệ số cộng đồng" in texts


def test_a_district_compiles_its_own_communes(world):
    report = monthly_reports.compiled_report(world.tree.district, PERIOD)
    assert [(row.kind, row.name) for row in report.rows] == [
        ("commune", "Xã Thạnh Hưng"), ("total", "Huyện Giồng Riềng"),
    ]


def test_report_month_must_be_a_month(app):
    assert monthly_reports.report_month("2025-03") == PERIOD
    for key in ("2025-Q1", "2025", "tháng ba"):
        with pytest.raises(ValidationError):
            monthly_reports.report_month(key)


def test_officers_download_their_commune_only(world, login, client, make):
    tree = world.tree
    login(world.officer)
    own = client.get(f"/emulation/exports/communes/{tree.commune.id}/{MONTH}.xlsx")
    assert own.status_code == 200
    assert own.headers["Content-Disposition"].endswith(f"bao-cao-thang-{MONTH}-xa-chau-thanh.xlsx")
    assert _rows(_sheet(own.data))[0][1] == "Tổ Phước Lợi"
    assert client.get(f"/emulation/exports/communes/{tree.other_commune.id}/{MONTH}.xlsx").status_code == 403
    assert client.get(f"/emulation/exports/compiled/{tree.province.id}/{MONTH}.xlsx").status_code == 403
    assert client.get(f"/emulation/exports/communes/{tree.commune.id}/2025-Q1.xlsx").status_code == 404
    page = client.get(f"/emulation/exports/?month={MONTH}").get_data(as_text=True)
    assert f"/emulation/exports/communes/{tree.commune.id}/{MONTH}.xlsx" in page
    assert f"/emulation/exports/communes/{tree.other_commune.id}/" not in page
    assert "/emulation/exports/compiled/" not in page


def test_organisers_and_admins_download_for_their_scope(world, login, client, make):
    tree = world.tree
    login(make.user(RoleCode.ORGANISER, tree.district))
    assert client.get(f"/emulation/exports/compiled/{tree.district.id}/{MONTH}.xlsx").status_code == 200
    assert client.get(f"/emulation/exports/communes/{tree.district_commune.id}/{MONTH}.xlsx").status_code == 200
    assert client.get(f"/emulation/exports/compiled/{tree.province.id}/{MONTH}.xlsx").status_code == 403
    assert client.get(f"/emulation/exports/communes/{tree.commune.id}/{MONTH}.xlsx").status_code == 403
    page = client.get(f"/emulation/exports/?month={MONTH}").get_data(as_text=True)
    assert f"/emulation/exports/compiled/{tree.district.id}/{MONTH}.xlsx" in page
    assert f"/emulation/exports/communes/{tree.district_commune.id}/{MONTH}.xlsx" in page
    assert f"/emulation/exports/compiled/{tree.province.id}/" not in page

    client.post("/logout")
    login(make.admin())
    response = client.get(f"/emulation/exports/compiled/{tree.province.id}/{MONTH}.xlsx")
    assert response.status_code == 200
    assert _rows(_sheet(response.data))[-1][1] == "Tổng cộng: Tỉnh An Giang"


def test_members_cannot_download_and_a_bad_month_is_explained(world, login, client, make):
    member = make.member(world.first).user
    login(member)
    assert client.get("/emulation/exports/").status_code == 403
    assert client.get(f"/emulation/exports/communes/{world.tree.commune.id}/{MONTH}.xlsx").status_code == 403
    client.post("/logout")
    login(world.officer)
    page = client.get("/emulation/exports/?month=2025-13").get_data(as_text=True)
    assert "Tháng phải từ 1 đến 12." in page
