"""The winners list as Excel (competitions.prizes.decision_list): the annex of a prize decision with
the right winners in the right order and columns, the collective prizes in their own section, the
values and their total, no phone numbers; the download is for the award's staff only."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from competitions.prizes import certificates, decision_list
from competitions.prizes.models import AwardStatus
from core.accounts.roles import RoleCode
from core.extensions import db
from tests.competitions.prizes.worlds_outputs import World, decided_award

TODAY = date(2026, 12, 3)
PEOPLE_HEADERS = ["STT", "Họ và tên", "Đơn vị", "Tổ", "Giải", "Điểm", "Thời gian", "Giá trị (đồng)"]
TEAM = "Tổ CNSCĐ Ấp Phước Lợi – Xã Châu Thành"


@pytest.fixture
def world(make, tree, make_round) -> World:
    return decided_award(make, tree, make_round)


def _sheet(data: bytes) -> Worksheet:
    return openpyxl.load_workbook(io.BytesIO(data)).active


def _rows(sheet: Worksheet) -> list[list[object]]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def _list(world: World, **values: str) -> list[list[object]]:
    signing = certificates.signing_from(world.award, values, TODAY)
    return _rows(_sheet(decision_list.workbook(world.award, signing)))


def _first_cells(rows: list[list[object]]) -> list[object]:
    return [row[0] for row in rows]


def test_title_block_of_the_annex(world: World) -> None:
    rows = _list(world, decision_number="125/QĐ-BTC")
    assert rows[0][0] == "UBND TỈNH AN GIANG" and rows[0][3] == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    assert rows[1][0] == "BAN TỔ CHỨC" and rows[1][3] == "Độc lập - Tự do - Hạnh phúc"
    assert rows[2][3] == "An Giang, ngày 30 tháng 11 năm 2026"
    firsts = _first_cells(rows)
    assert "DANH SÁCH KHEN THƯỞNG" in firsts
    assert "Giải thưởng Đợt thi tuần 45: Chuyển đổi số cộng đồng" in firsts
    assert "(Kèm theo Quyết định số 125/QĐ-BTC ngày 30/11/2026)" in firsts
    assert "(Kèm theo Quyết định số ……/QĐ-…… ngày 30/11/2026)" in _first_cells(_list(world))


def test_people_grouped_by_prize_in_order_with_their_columns(world: World) -> None:
    rows = _list(world)
    start = _first_cells(rows).index("A. KHEN THƯỞNG CÁ NHÂN")
    assert rows[start + 1] == PEOPLE_HEADERS
    section = rows[start + 2:_first_cells(rows).index("B. KHEN THƯỞNG TẬP THỂ")]
    assert section == [
        ["I. Giải Nhất (1)", *[None] * 7],
        # stored decomposed, written precomposed (the literal here is NFC)
        [1, "Nguyễn Thị Ánh Tuyết", "Xã Châu Thành", TEAM, "Giải Nhất", "10/10", "2 phút 05 giây", 2_000_000],
        ["II. Giải Nhì (2)", *[None] * 7],
        [2, "Huỳnh Văn Bé", "Xã Châu Thành", TEAM, "Giải Nhì", "10/10", "3 phút 12 giây", 1_000_000],
        [3, "Đặng Ngọc Phượng", "Xã Châu Thành", TEAM, "Giải Nhì", "9/10", "2 phút 40 giây", 1_000_000],
        ["III. Giải Khuyến khích (1)", *[None] * 7],
        [4, "Trần Thị Bình", "Xã Châu Thành", TEAM, "Giải Khuyến khích", "8/10", "4 phút 01 giây", None],
    ]


def test_collective_prizes_in_their_own_section_then_the_total(world: World) -> None:
    rows = _list(world)
    start = _first_cells(rows).index("B. KHEN THƯỞNG TẬP THỂ")
    assert rows[start + 1] == ["STT", "Tên tập thể", "Đơn vị", "Loại", "Giải", "Điểm", "Thời gian", "Giá trị (đồng)"]
    assert rows[start + 2:] == [
        ["I. Giải Nhất tập thể (1)", *[None] * 7],
        [1, TEAM, "Xã Châu Thành", "Tổ CNSCĐ", "Giải Nhất tập thể", "92,5 điểm", None, 3_000_000],
        ["II. Giải đơn vị có tỷ lệ tham gia cao nhất (1)", *[None] * 7],
        [2, "Xã Châu Thành", None, "Đơn vị", "Giải đơn vị có tỷ lệ tham gia cao nhất", "87 %", None, 5_000_000],
        [None, "Tổng cộng: 4 cá nhân, 2 tập thể", None, None, None, None, None, 12_000_000],
    ]


def test_the_order_follows_the_decision_not_the_insertion(world: World) -> None:
    """Two winners of one prize swapped in the decision (positions): the list follows the positions."""
    second, third = world.people[1], world.people[2]
    second.position, third.position = third.position, second.position
    db.session.flush()
    db.session.expire(world.award)
    names = [row[1] for row in _list(world) if isinstance(row[0], int)]
    assert names[:4] == ["Nguyễn Thị Ánh Tuyết", "Đặng Ngọc Phượng", "Huỳnh Văn Bé", "Trần Thị Bình"]


def test_no_phone_numbers_anywhere(world: World) -> None:
    cells = [str(value) for row in _list(world) for value in row if value is not None]
    for user in world.users:
        assert user.phone and not any(user.phone in cell or user.phone[-4:] in cell for cell in cells)


def test_without_values_there_is_no_value_column(world: World) -> None:
    for tier in world.tiers:
        tier.value_vnd = None
    db.session.flush()
    rows = _list(world)
    assert PEOPLE_HEADERS[:-1] in rows
    assert rows[-1] == [None, "Tổng cộng: 4 cá nhân, 2 tập thể", None, None, None, None, None]


def test_only_individual_prizes_make_one_section(world: World) -> None:
    for winner in (world.team_winner, world.unit_winner):
        db.session.delete(winner)
    db.session.flush()
    db.session.expire(world.award)
    rows = _list(world)
    assert "B. KHEN THƯỞNG TẬP THỂ" not in _first_cells(rows)
    assert rows[-1][1] == "Tổng cộng: 4 cá nhân, 0 tập thể" and rows[-1][-1] == 4_000_000


def test_staff_download_the_list(world: World, login) -> None:
    response = login(world.admin).get(f"/awards/{world.award.id}/winners.xlsx",
                                      query_string={"decision_number": "7/QĐ-SKHCN"})
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith(
        f"danh-sach-khen-thuong-giai-thuong-dot-thi-tuan-45-chuyen-doi-so-cong-dong-{world.award.id}.xlsx")
    assert "(Kèm theo Quyết định số 7/QĐ-SKHCN ngày 30/11/2026)" in _first_cells(_rows(_sheet(response.data)))


def test_members_and_undecided_awards_get_no_list(world: World, make, tree, login, client) -> None:
    url = f"/awards/{world.award.id}/winners.xlsx"
    world.award.status = AwardStatus.PUBLISHED
    db.session.flush()
    login(world.users[0])
    assert client.get(url).status_code == 403  # a winner, yet the list is for staff
    client.post("/logout")
    login(make.user(RoleCode.OFFICER, tree.commune, full_name="Cán Bộ Xã"))
    assert client.get(url).status_code == 403  # a commune cannot manage a provincial award
    client.post("/logout")
    login(world.admin)
    world.award.status = AwardStatus.DRAFT
    db.session.flush()
    assert client.get(url).status_code == 404
