import io

import pytest
from sqlalchemy import func, select

from core.errors import ValidationError
from core.imports.plan import RowStatus
from core.org import importer
from core.org.importer import import_units, parse_kind, read_units_file
from core.org.models import Unit, UnitKind
from core.spreadsheet import Row
from tests.core.sheets import csv_bytes, xlsx_bytes


def rows(*data: tuple[str, ...]) -> list[Row]:
    """Rows as the reader returns them, numbered from 2 (row 1 is the header)."""
    keys = ("name", "kind", "parent", "code")
    return [Row(i + 2, dict(zip(keys, (*values, "", "", "")[:4], strict=True))) for i, values in enumerate(data)]


def unit_count(session) -> int:
    return session.scalar(select(func.count()).select_from(Unit))


def by_name(session, name: str) -> Unit:
    return session.scalars(select(Unit).where(Unit.name == name)).one()


@pytest.mark.parametrize(
    ("text", "has_parent", "kind"),
    [
        ("Tỉnh", False, UnitKind.PROVINCE),
        ("Thành phố trực thuộc Trung ương", False, UnitKind.PROVINCE),
        ("Thành phố", False, UnitKind.PROVINCE),
        ("thành phố", True, UnitKind.DISTRICT),
        ("Thị xã", True, UnitKind.DISTRICT),
        ("QUẬN", True, UnitKind.DISTRICT),
        ("Cấp xã", True, UnitKind.COMMUNE),
        ("Phường", True, UnitKind.WARD),
        ("Thị trấn", True, UnitKind.TOWN),
        ("Đặc khu", True, UnitKind.SPECIAL_ZONE),
        ("Tổ dân phố", True, UnitKind.HAMLET),
        ("Khóm", True, UnitKind.HAMLET),
        ("Ấp / Khu phố / Thôn / Bản", True, UnitKind.HAMLET),
        ("Công ty", True, UnitKind.ENTERPRISE),
        ("special_zone", True, UnitKind.SPECIAL_ZONE),
        ("hamlet", True, UnitKind.HAMLET),
        ("Tổ", True, None),
        ("", True, None),
    ],
)
def test_parse_kind(text, has_parent, kind):
    assert parse_kind(text, has_parent) == kind


def test_whole_tree_in_any_row_order_with_and_without_district_level(session):
    before = unit_count(session)
    plan = import_units(rows(
        ("Ấp Phú Hòa", "Ấp", "Xã Bình An"),  # child before its parent
        ("Xã Bình An", "Xã", "Huyện Châu Thành"),
        ("Huyện Châu Thành", "huyện", "Tỉnh Kiên Giang"),
        ("Tỉnh Kiên Giang", "Tỉnh", "", "KG"),
        ("Phường Vĩnh Lạc", "PHƯỜNG", "tinh kien giang"),  # no district; parent without accents
        ("Khu phố 1", "Khu phố", "Phường Vĩnh Lạc"),
        ("Công ty May Kiên Giang", "Doanh nghiệp", "Phường Vĩnh Lạc"),
        ("Thành phố Rạch Giá", "Thành phố", "KG"),  # parent by code; a city under a province is district level
        ("Đặc khu Phú Quốc", "Đặc khu", "Tỉnh Kiên Giang"),
    ))
    assert plan.ok and plan.written, plan.error_lines()
    assert plan.count(RowStatus.NEW) == 9 and unit_count(session) == before + 9
    hamlet = by_name(session, "Ấp Phú Hòa")
    assert hamlet.kind == UnitKind.HAMLET and hamlet.parent.name == "Xã Bình An"
    assert hamlet.parent.parent.parent.name == "Tỉnh Kiên Giang" and hamlet.depth == 3
    assert hamlet.path.startswith(hamlet.parent.path) and hamlet.path.endswith(f"/{hamlet.id}/")
    assert by_name(session, "Thành phố Rạch Giá").kind == UnitKind.DISTRICT
    assert by_name(session, "Phường Vĩnh Lạc").parent.name == "Tỉnh Kiên Giang"
    assert by_name(session, "Tỉnh Kiên Giang").code == "KG"
    assert plan.rows[0].note.startswith("Ấp") and "Xã Bình An" in plan.rows[0].note


def test_importing_the_same_file_twice_changes_nothing(session, make):
    tree = make.tree()
    data = rows(
        ("Tỉnh An Giang", "Tỉnh", ""),
        ("Xã Châu Thành", "Xã", "Tỉnh An Giang"),
        ("Ấp Phước Lợi", "Ấp", "Xã Châu Thành"),
        ("Ấp Mới", "Ấp", "Xã Châu Thành"),
    )
    first = import_units(data)
    assert [row.status for row in first.rows] == ["unchanged", "unchanged", "unchanged", "new"]
    assert by_name(session, "Ấp Mới").parent_id == tree.commune.id
    count = unit_count(session)
    second = import_units(data)
    assert second.ok and second.count(RowStatus.UNCHANGED) == 4 and second.count(RowStatus.NEW) == 0
    assert unit_count(session) == count


def test_every_error_is_reported_with_its_row_and_column_and_nothing_is_written(session, make):
    make.tree()
    before = unit_count(session)
    plan = import_units(rows(
        ("Ấp Lạc", "Ấp", "Tỉnh An Giang"),  # 2: hamlet straight under a province
        ("Xã Kỳ Lạ", "Làng xã", "Tỉnh An Giang"),  # 3: unknown kind
        ("Ấp Xa", "Ấp", "Xã Không Có"),  # 4: unknown parent
        ("Xã A", "Xã", "Xã B"),  # 5, 6: a cycle
        ("Xã B", "Xã", "Xã A"),
        ("Xã Đôi", "Xã", "Tỉnh An Giang", "X1"),  # 7
        ("Xã Đôi", "Xã", "Tỉnh An Giang", "X2"),  # 8: same unit twice
        ("Xã Mã", "Xã", "Tỉnh An Giang", "X1"),  # 9: same code twice
        ("Xã Châu Thành", "Phường", "Tỉnh An Giang"),  # 10: exists as a commune
        ("Xã Mồ Côi", "Xã", ""),  # 11: a commune needs a parent
        ("", "Ấp", "Xã Châu Thành"),  # 12: no name
        ("Ấp Tốt", "Ấp", "Xã Châu Thành"),  # 13: fine, but the file has errors
    ))
    assert not plan.ok and not plan.written
    assert unit_count(session) == before
    errors = {row.number: row.errors for row in plan.rows}

    def only(number: int) -> tuple[str, str]:
        assert len(errors[number]) == 1, errors[number]
        return errors[number][0].column, errors[number][0].message

    column, message = only(2)
    assert column == "parent" and "không thể trực thuộc" in message and "Tỉnh An Giang" in message
    column, message = only(3)
    assert column == "kind" and "“Làng xã” không rõ" in message
    column, message = only(4)
    assert column == "parent" and "Không tìm thấy đơn vị cấp trên “Xã Không Có”" in message
    for number in (5, 6):
        column, message = only(number)
        assert column == "parent" and "Vòng lặp" in message and "dòng 5" in message and "dòng 6" in message
    assert errors[7] == []
    column, message = only(8)
    assert column == "name" and "đã có ở dòng 7" in message
    column, message = only(9)
    assert column == "code" and "Mã X1 đã có ở dòng 7" in message
    column, message = only(10)
    assert column == "kind" and "là xã" in message
    column, message = only(11)
    assert column == "kind" and "phải thuộc một đơn vị cấp trên" in message
    column, message = only(12)
    assert column == "name"
    assert plan.rows[-1].status == RowStatus.NEW
    lines = plan.error_lines()
    assert any(line.startswith("row 3: “Cấp”: ") for line in lines)


def test_a_unit_cannot_be_its_own_parent_but_may_sit_under_a_namesake(session):
    plan = import_units(rows(("Xã Lặp", "Xã", "Xã Lặp")))
    assert not plan.ok and plan.rows[0].errors[0].message == "Đơn vị không thể trực thuộc chính nó."
    plan = import_units(rows(
        ("Châu Thành", "Huyện", "Tỉnh Đồng Tháp"),
        ("Tỉnh Đồng Tháp", "Tỉnh", ""),
        ("Châu Thành", "Thị trấn", "Châu Thành"),  # the town of the district of the same name
    ))
    assert plan.written, plan.error_lines()
    town = session.scalars(select(Unit).where(Unit.kind == UnitKind.TOWN)).one()
    assert town.parent.name == "Châu Thành" and town.parent.kind == UnitKind.DISTRICT


def test_ambiguous_parent_asks_for_the_code_and_the_code_resolves_it(session, make):
    tree = make.tree()
    first = make.unit("Xã Tân Hòa", UnitKind.COMMUNE, tree.province)
    second = make.unit("Xã Tân Hòa", UnitKind.COMMUNE, tree.district)
    second.code = "TH-GR"
    before = unit_count(session)
    plan = import_units(rows(("Ấp 1", "Ấp", "Xã Tân Hòa")))
    (error,) = plan.rows[0].errors
    assert error.column == "parent" and "Có 2 đơn vị tên “Xã Tân Hòa”" in error.message and "mã" in error.message
    assert unit_count(session) == before
    plan = import_units(rows(("Ấp 1", "Ấp", "th-gr")))
    assert plan.written and by_name(session, "Ấp 1").parent_id == second.id != first.id


def test_existing_code_on_another_unit_and_inactive_parent_are_errors(session, make):
    tree = make.tree()
    tree.hamlet.code = "AP1"
    tree.hamlet2.active = False
    plan = import_units(rows(
        ("Ấp Khác", "Ấp", "Xã Châu Thành", "AP1"),
        ("Doanh nghiệp X", "Doanh nghiệp", "Xã Châu Thành"),
    ), dry_run=True)
    assert "Mã đơn vị AP1 đã được dùng cho “Ấp Phước Lợi”" in plan.rows[0].errors[0].message
    assert plan.rows[1].status == RowStatus.NEW
    plan = import_units(rows(("Ấp Con", "Ấp", "Ấp Tân Hòa")))
    assert not plan.ok  # a hamlet under a hamlet; the parent is inactive too
    assert {e.column for e in plan.rows[0].errors} == {"parent"}


def test_dry_run_writes_nothing(session):
    before = unit_count(session)
    plan = import_units(rows(("Tỉnh Mới", "Tỉnh", "")), dry_run=True)
    assert plan.ok and not plan.written and plan.count(RowStatus.NEW) == 1
    assert unit_count(session) == before


def test_a_failure_while_writing_rolls_back_every_unit_of_the_file(session, monkeypatch):
    before = unit_count(session)
    real = importer.create_unit
    calls = []

    def failing(name, kind, parent, code=None):
        calls.append(name)
        if len(calls) == 3:
            raise ValidationError("hỏng giữa chừng", field="name")
        return real(name, kind, parent, code)

    monkeypatch.setattr(importer, "create_unit", failing)
    with pytest.raises(ValidationError) as caught:
        import_units(rows(
            ("Tỉnh Mới", "Tỉnh", ""), ("Xã Một", "Xã", "Tỉnh Mới"), ("Xã Hai", "Xã", "Tỉnh Mới"),
        ))
    assert caught.value.row == 4 and str(caught.value) == "Dòng 4: hỏng giữa chừng"
    assert unit_count(session) == before
    assert session.scalar(select(Unit).where(Unit.name == "Tỉnh Mới")) is None


def test_from_a_file_with_vietnamese_headers_in_any_order(session):
    data = csv_bytes([
        ["CÂY TỔ CHỨC TỈNH HẬU GIANG"],
        ["Trực thuộc", "Mã", "Loại đơn vị", "Tên"],
        ["", "HG", "Tỉnh", "Tỉnh Hậu Giang"],
        ["HG", "", "Xã", "Xã Vị Thủy"],
    ], delimiter=";", bom=True)
    table = read_units_file("cay.csv", io.BytesIO(data))
    plan = import_units(table.rows)
    assert plan.written and by_name(session, "Xã Vị Thủy").parent.code == "HG"
    assert [row.number for row in plan.rows] == [3, 4]


def test_xlsx_file_is_read_the_same_way(session):
    data = xlsx_bytes([["Tên đơn vị", "Cấp", "Đơn vị cấp trên"], ["Tỉnh Cà Mau", "Tỉnh", None]])
    plan = import_units(read_units_file("cay.xlsx", io.BytesIO(data)).rows)
    assert plan.written and by_name(session, "Tỉnh Cà Mau").kind == UnitKind.PROVINCE
