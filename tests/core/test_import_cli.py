import pytest
from sqlalchemy import func, select

from core.org.models import Unit, UnitKind
from core.teams.models import Membership
from tests.core.sheets import csv_bytes, xlsx_bytes


@pytest.fixture
def run(app, session):
    runner = app.test_cli_runner()

    def invoke(*args: str):
        return runner.invoke(args=["import", *args])

    return invoke


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def units_file(tmp_path):
    path = tmp_path / "cay.xlsx"
    path.write_bytes(xlsx_bytes([
        ["Tên đơn vị", "Cấp", "Đơn vị cấp trên"],
        ["Tỉnh Bạc Liêu", "Tỉnh", None],
        ["Phường 1", "Phường", "Tỉnh Bạc Liêu"],
    ]))
    return path


def test_units_dry_run_reports_and_writes_nothing(session, run, units_file):
    before = count(session, Unit)
    result = run("units", str(units_file), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "2 dòng: 2 mới, 0 không đổi, 0 lỗi." in result.stdout and "Chạy thử: chưa ghi gì." in result.stdout
    assert count(session, Unit) == before


def test_units_import_writes_and_a_second_run_changes_nothing(session, run, units_file):
    before = count(session, Unit)
    assert run("units", str(units_file)).exit_code == 0
    assert count(session, Unit) == before + 2
    result = run("units", str(units_file))
    assert result.exit_code == 0 and "0 mới, 2 không đổi" in result.stdout
    assert count(session, Unit) == before + 2


def test_units_with_errors_print_every_row_and_exit_non_zero(session, run, tmp_path):
    path = tmp_path / "cay.csv"
    path.write_bytes(csv_bytes([
        ["Tên đơn vị", "Cấp", "Đơn vị cấp trên"], ["Tỉnh Sóc Trăng", "Tỉnh", ""],
        ["Xã Lạ", "Vùng", "Tỉnh Sóc Trăng"], ["Ấp Sai", "Ấp", "Tỉnh Sóc Trăng"],
    ]))
    before = count(session, Unit)
    result = run("units", str(path))
    assert result.exit_code == 1
    assert "row 3: “Tên đơn vị”" not in result.stderr
    assert "row 3: “Cấp”: Cấp “Vùng” không rõ" in result.stderr
    assert "row 4: “Đơn vị cấp trên”:" in result.stderr and "Tệp còn lỗi nên chưa ghi gì." in result.stderr
    assert count(session, Unit) == before


def test_a_file_that_is_not_a_spreadsheet_exits_non_zero(session, run, tmp_path):
    path = tmp_path / "anh.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    result = run("units", str(path))
    assert result.exit_code == 1 and "không phải bảng tính" in result.stderr


@pytest.fixture
def roster(tmp_path, make):
    tree = make.tree()
    make.team(tree.hamlet)
    path = tmp_path / "ds.csv"
    path.write_bytes(csv_bytes([
        ["STT", "Tên tổ", "Họ và tên", "Chức vụ", "SĐT"],
        ["1", "Ấp Phước Lợi", "Nguyễn Văn An", "Tổ trưởng", "0971000001"],
        ["2", "Ấp Phước Lợi", "Trần Thị Bình", "Tổ viên", "0971000002"],
    ], delimiter=";", bom=True))
    return tree, path


def test_members_import_into_a_unit_named_without_accents(session, run, roster):
    _, path = roster
    before = count(session, Membership)
    result = run("members", str(path), "--unit", "xa chau thanh")
    assert result.exit_code == 0, result.output
    assert count(session, Membership) == before + 2
    result = run("members", str(path), "--unit", "Xã Châu Thành")
    assert result.exit_code == 0 and "0 mới, 2 không đổi" in result.stdout
    assert count(session, Membership) == before + 2


def test_members_with_errors_exit_non_zero(session, run, roster):
    _, path = roster
    path.write_text(path.read_text(encoding="utf-8-sig").replace("0971000002", "0971"), encoding="utf-8")
    before = count(session, Membership)
    result = run("members", str(path), "--unit", "Xã Châu Thành")
    assert result.exit_code == 1 and "row 3: “Số điện thoại”" in result.stderr
    assert count(session, Membership) == before


def test_members_unit_must_be_known_and_unambiguous(session, make, run, roster):
    tree, path = roster
    assert "Không tìm thấy đơn vị “Xã Không Có”" in run("members", str(path), "--unit", "Xã Không Có").stderr
    make.unit("Xã Châu Thành", UnitKind.COMMUNE, tree.district)
    result = run("members", str(path), "--unit", "Xã Châu Thành")
    assert result.exit_code == 1 and "Có nhiều đơn vị tên" in result.stderr
