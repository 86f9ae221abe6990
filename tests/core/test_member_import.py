import io

import pytest
from sqlalchemy import func, select

from core.accounts.models import User
from core.accounts.roles import RoleCode
from core.errors import PermissionDenied, ValidationError
from core.imports.plan import RowStatus
from core.org.models import UnitKind
from core.spreadsheet import Row
from core.teams import importer
from core.teams.importer import import_members, parse_position, read_members_file, team_key
from core.teams.models import Membership, MembershipStatus, TeamRole
from tests.core.sheets import xlsx_bytes


def rows(*data: tuple[str, ...]) -> list[Row]:
    keys = ("team", "full_name", "position", "phone")
    return [Row(i + 2, dict(zip(keys, values, strict=True))) for i, values in enumerate(data)]


def counts(session) -> tuple[int, int]:
    users = session.scalar(select(func.count()).select_from(User))
    memberships = session.scalar(select(func.count()).select_from(Membership))
    return users, memberships


def roster(session, team) -> dict[str, str]:
    query = select(Membership).where(Membership.team_id == team.id, Membership.status == MembershipStatus.ACTIVE)
    return {m.user.full_name: m.role for m in session.scalars(query)}


@pytest.fixture
def place(make):
    tree = make.tree()
    officer = make.user(RoleCode.OFFICER, tree.commune, full_name="Cán Bộ Xã")
    return tree, officer, make.team(tree.hamlet), make.team(tree.hamlet2)


@pytest.mark.parametrize(
    ("text", "role"),
    [("Tổ trưởng", TeamRole.LEADER), ("TỔ PHÓ", TeamRole.DEPUTY), ("Phó tổ trưởng", TeamRole.DEPUTY),
     ("Trưởng ấp, tổ trưởng", TeamRole.LEADER), ("Thành viên", TeamRole.MEMBER), ("tổ viên", TeamRole.MEMBER),
     ("", TeamRole.MEMBER), ("Bí thư chi đoàn", None)],
)
def test_parse_position(text, role):
    assert parse_position(text) == role


def test_team_key_ignores_prefix_accents_and_dash_style():
    assert team_key("Tổ CNSCĐ Thôn 1 – Xã Minh Sơn") == team_key("thon 1 - xa minh son") == "thon 1 - xa minh son"


def phu_luc_1(*members: tuple[object, ...]) -> bytes:
    """The district report template (seed 002, "Phụ lục 1"): banner lines, then the list; the team
    name and member count are merged down the team's rows, so only the first row carries them."""
    return xlsx_bytes([
        ["PHỤ LỤC 1"],
        ["Tên đơn vị: UBND xã Châu Thành"],
        ["BÁO CÁO"],
        ["Danh sách Tổ công nghệ số cộng đồng"],
        ["Stt", "Tên Tổ công nghệ số cộng đồng", "Số lượng thành viên của tổ", "Họ tên", "Chức vụ",
         "Số điện thoại (Bắt buộc)"],
        *members,
    ])


def test_the_district_report_template_imports_with_merged_team_cells(session, place):
    tree, officer, phuoc_loi, tan_hoa = place
    data = phu_luc_1(
        [1, "Ấp Phước Lợi", 3, "Nguyễn Văn An", "Tổ trưởng", 987000001.0],
        [2, None, None, "Trần Thị Bình", "Tổ phó", "0987 000 002"],
        [3, None, None, "Lê Văn Cường", "Thành viên", "+84987000003"],
        [4, "Tổ CNSCĐ Ấp Tân Hòa", 1, "Phạm Thị Dung", "", "0987000004"],
    )
    table = read_members_file("phu-luc-1.xlsx", io.BytesIO(data))
    plan = import_members(table.rows, tree.commune, officer)
    assert plan.ok and plan.written, plan.error_lines()
    assert roster(session, phuoc_loi) == {
        "Nguyễn Văn An": "leader", "Trần Thị Bình": "deputy", "Lê Văn Cường": "member",
    }
    assert roster(session, tan_hoa) == {"Phạm Thị Dung": "member"}
    an = session.scalar(select(User).where(User.phone == "0987000001"))
    assert an.role_code == RoleCode.MEMBER and an.unit_id == tree.hamlet.id and an.password_hash is None
    summary = {s.team.id: s for s in plan.teams}
    assert summary[phuoc_loi.id].after == 3 and summary[phuoc_loi.id].warning == ""
    assert "chưa đủ tối thiểu 3" in summary[tan_hoa.id].warning
    assert any("Tân Hòa" in warning for warning in plan.warnings)
    assert plan.rows[1].note.startswith(phuoc_loi.name)  # the blank team cell continued the row above


def test_importing_the_same_file_twice_adds_nobody(session, place):
    tree, officer, phuoc_loi, _ = place
    data = rows(
        ("Ấp Phước Lợi", "Nguyễn Văn An", "Tổ trưởng", "0987000011"),
        ("Ấp Phước Lợi", "Trần Thị Bình", "", "0987000012"),
    )
    assert import_members(data, tree.commune, officer).written
    before = counts(session)
    again = import_members(data, tree.commune, officer)
    assert again.ok and again.count(RowStatus.UNCHANGED) == 2 and again.count(RowStatus.NEW) == 0
    assert counts(session) == before
    assert again.teams[0].unchanged == ["Nguyễn Văn An", "Trần Thị Bình"] and again.teams[0].new == []


def test_an_existing_account_is_found_by_phone_and_joins(session, make, place):
    tree, officer, phuoc_loi, _ = place
    person = make.user(RoleCode.MEMBER, tree.commune, full_name="Võ Thị Em")
    users_before, _ = counts(session)
    plan = import_members(rows(("Ap Phuoc Loi", "VÕ THỊ EM", "Tổ viên", person.phone)), tree.commune, officer)
    assert plan.written and "tài khoản có sẵn" in plan.rows[0].note
    assert counts(session)[0] == users_before
    assert roster(session, phuoc_loi) == {"Võ Thị Em": "member"}


def test_every_error_in_the_file_is_reported_at_once_and_nothing_is_written(session, make, place):
    tree, officer, phuoc_loi, tan_hoa = place
    make.fill(phuoc_loi, 8)  # room for two more
    make.member(tan_hoa, TeamRole.LEADER, full_name="Tổ Trưởng Cũ")
    elsewhere = make.member(make.team(tree.other_hamlet), full_name="Người Phường Khác")
    stranger = make.user(RoleCode.MEMBER, tree.commune, full_name="Đặng Văn Giàu")
    before = counts(session)
    plan = import_members(rows(
        ("Ấp Phước Lợi", "Người Chín", "", "0913000001"),  # 2: 9th, fine
        ("Ấp Phước Lợi", "Người Mười", "", "0913000002"),  # 3: 10th, fine
        ("Ấp Phước Lợi", "Người Mười Một", "", "0913000003"),  # 4: 11th
        ("Ấp Tân Hòa", "Lý Văn Hai", "Tổ trưởng", "0913000004"),  # 5: second leader (one in the database)
        ("Ấp Tân Hòa", "Mai Thị Ba", "Tổ phó", "0913000005"),  # 6: fine
        ("Ấp Tân Hòa", "Hồ Thị Tư", "Tổ phó", "0913000006"),  # 7: second deputy in the file
        ("Ấp Tân Hòa", "Số Sai", "", "12345"),  # 8: bad phone
        ("Ấp Tân Hòa", "Trùng Số", "", "0913 000 005"),  # 9: same phone as row 6
        ("Ấp Tân Hòa", "Người Phường Khác", "", elsewhere.user.phone),  # 10: active in another team
        ("Ấp Tân Hòa", "Tên Khác Hẳn", "", stranger.phone),  # 11: phone belongs to someone else's name
        ("Ấp Không Có", "Vô Danh", "", "0913000007"),  # 12: unknown team
        ("Khu phố 1", "Ngoài Xã", "", "0913000008"),  # 13: a team outside this commune
        ("Ấp Tân Hòa", "Chức Lạ", "Bí thư", "0913000009"),  # 14: unknown position
        ("Công ty May Kiên Giang", "Công Nhân", "", "0913000010"),  # 15: outside the commune as well
    ), tree.commune, officer)
    assert not plan.ok and not plan.written
    assert counts(session) == before
    found = {row.number: [(e.column, e.message) for e in row.errors] for row in plan.rows}
    assert found[2] == [] and found[3] == [] and found[6] == []
    ((column, message),) = found[4]
    assert column is None and "tối đa 10 thành viên" in message and "người thứ 11" in message
    ((column, message),) = found[5]
    assert column == "position" and "đã có tổ trưởng là Tổ Trưởng Cũ" in message
    ((column, message),) = found[7]
    assert column == "position" and "đã có tổ phó ở dòng 6" in message
    ((column, message),) = found[8]
    assert column == "phone" and "không hợp lệ" in message
    ((column, message),) = found[9]
    assert column == "phone" and "trùng với dòng 6" in message
    ((column, message),) = found[10]
    assert column == "phone" and "đang là thành viên của “Tổ CNSCĐ Khu phố 1 – Phường Rạch Giá”" in message
    ((column, message),) = found[11]
    assert column == "full_name" and "Đặng Văn Giàu" in message
    ((column, message),) = found[12]
    assert column == "team" and "Không tìm thấy tổ CNSCĐ “Ấp Không Có”" in message
    ((column, message),) = found[13]
    assert column == "team" and "Không tìm thấy" in message
    ((column, message),) = found[14]
    assert column == "position" and "“Bí thư” không rõ" in message
    assert "Không tìm thấy" in found[15][0][1]


def test_a_hamlet_without_a_team_is_named_as_such(session, place):
    tree = place[0]
    plan = import_members(rows(("Công ty May Kiên Giang", "Công Nhân", "", "0913000010")), tree.province, None)
    assert plan.rows[0].errors[0].message == (
        "“Công ty May Kiên Giang” chưa có tổ CNSCĐ đang hoạt động; hãy lập tổ trước rồi nhập lại."
    )


def test_ambiguous_team_name_asks_for_the_full_name(session, make, place):
    tree, _officer, _, _ = place
    admin = make.admin()
    make.team(tree.other_hamlet)
    make.team(make.unit("Khu phố 1", UnitKind.HAMLET, tree.commune))
    plan = import_members(rows(("Khu phố 1", "Ai Đó", "", "0914000001")), tree.province, admin)
    ((error),) = plan.rows[0].errors
    assert error.column == "team" and "Có 2 tổ khớp" in error.message and "ghi đầy đủ tên tổ" in error.message
    plan = import_members(rows(("Khu phố 1 - Phường Rạch Giá", "Ai Đó", "", "0914000001")), tree.province, admin)
    assert plan.written


def test_a_role_different_from_the_database_is_an_error_not_a_silent_change(session, make, place):
    tree, officer, phuoc_loi, _ = place
    member = make.member(phuoc_loi, full_name="Ông Ba")
    plan = import_members(rows(("Ấp Phước Lợi", "Ông Ba", "Tổ trưởng", member.user.phone)), tree.commune, officer)
    assert plan.rows[0].errors[0].column == "position" and "đã là tổ viên" in plan.rows[0].errors[0].message
    assert roster(session, phuoc_loi) == {"Ông Ba": "member"}


def test_outside_the_actors_scope_or_without_the_role_is_refused(session, make, place):
    tree, officer, _, _ = place
    data = rows(("Khu phố 1", "Ai Đó", "", "0914000002"))
    with pytest.raises(PermissionDenied):
        import_members(data, tree.other_commune, officer)
    member = make.user(RoleCode.MEMBER, tree.commune)
    with pytest.raises(PermissionDenied):
        import_members(rows(("Ấp Phước Lợi", "Ai Đó", "", "0914000002")), tree.commune, member)


def test_a_failure_while_writing_rolls_back_every_row(session, place, monkeypatch):
    tree, officer, _, _ = place
    before = counts(session)
    real = importer.add_member
    calls = []

    def failing(team, user, role=TeamRole.MEMBER, actor=None):
        calls.append(user)
        if len(calls) == 2:
            raise ValidationError("Tổ đã đủ người.", field="phone")
        return real(team, user, role, actor=actor)

    monkeypatch.setattr(importer, "add_member", failing)
    with pytest.raises(ValidationError) as caught:
        import_members(rows(
            ("Ấp Phước Lợi", "Một", "", "0915000001"), ("Ấp Phước Lợi", "Hai", "", "0915000002"),
        ), tree.commune, officer)
    assert caught.value.row == 3
    assert counts(session) == before  # the account created for row 2 is gone too


def test_dry_run_writes_nothing_and_the_command_line_has_no_actor(session, place):
    tree, _, _, _ = place
    before = counts(session)
    plan = import_members(rows(("Ấp Tân Hòa", "Ai Đó", "", "0916000001")), tree.province, None, dry_run=True)
    assert plan.ok and not plan.written and plan.count(RowStatus.NEW) == 1
    assert counts(session) == before
