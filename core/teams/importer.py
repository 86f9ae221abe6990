"""Importing team rosters from the district report template ("Phụ lục 1": team, full name, position, phone).

The import works inside one unit (a commune, a district or the province). Every row is checked first
and every error reported at once (bad phone, same phone twice, a person already in another team, an
11th member, a second leader...); members are written only when the whole file is clean, through
the same services as the team pages, inside one SAVEPOINT so a failure leaves nothing behind.
Rows already in place are reported as unchanged, so importing the same file twice adds nothing.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import IO

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from core.accounts.models import User
from core.accounts.roles import RoleCode
from core.accounts.service import create_user
from core.errors import PermissionDenied, ValidationError
from core.extensions import db
from core.imports.plan import ImportPlan, PlanRow, RowStatus
from core.org.models import Unit
from core.org.scope import in_scope
from core.phone import normalise_phone
from core.spreadsheet import Row, Table, build_template, read_table
from core.teams.models import Membership, MembershipStatus, Team, TeamRole
from core.teams.service import add_member, member_counts, role_label
from core.text import clean, fold

MEMBER_COLUMNS: dict[str, tuple[str, ...]] = {
    "team": (
        "Tên tổ", "Tổ", "Tổ CNSCĐ", "Tên Tổ CNSCĐ", "Tên Tổ công nghệ số cộng đồng", "Tổ công nghệ số cộng đồng",
        "Thôn/Ấp", "Ấp/Thôn", "Thôn", "Ấp", "Ấp/Khu phố", "Team",
    ),
    "full_name": ("Họ và tên", "Họ tên", "Họ và tên thành viên", "Full name"),
    "position": ("Chức vụ", "Vị trí", "Chức danh", "Chức vụ trong tổ", "Position"),
    "phone": ("Số điện thoại", "Điện thoại", "SĐT", "Số ĐT", "ĐT", "Phone"),
}
MEMBER_REQUIRED = {"team", "full_name", "phone"}
IMPORTERS = (RoleCode.ADMIN, RoleCode.OFFICER)

_MEMBER_WORDS = {"", "thanh vien", "to vien", "tv", "member"}
_DEPUTY = re.compile(r"\b(to pho|pho to truong|deputy)\b")
_LEADER = re.compile(r"\b(to truong|leader)\b")
_DASHES = re.compile(r"\s*[-–—]\s*")
_TEAM_PREFIX = re.compile(r"^(to cnscd|to cong nghe so cong dong|to cns)\s+")
_CHUNK = 500  # phones per IN (...) query


def parse_position(text: str) -> TeamRole | None:
    """``"Tổ trưởng"`` → leader, ``"Tổ phó"``/``"Phó tổ trưởng"`` → deputy, blank/``"Tổ viên"`` → member."""
    word = fold(text)
    if word in _MEMBER_WORDS:
        return TeamRole.MEMBER
    if _DEPUTY.search(word):
        return TeamRole.DEPUTY
    if _LEADER.search(word):
        return TeamRole.LEADER
    return None


def team_key(text: str) -> str:
    """``"Tổ CNSCĐ Thôn 1 – Xã Minh Sơn"`` → ``"thon 1 - xa minh son"``: how team cells are compared."""
    return _TEAM_PREFIX.sub("", _DASHES.sub(" - ", fold(text)))


def read_members_file(filename: str, stream: IO[bytes]) -> Table:
    return read_table(filename, stream, MEMBER_COLUMNS, MEMBER_REQUIRED, current_app.config["IMPORT_MAX_ROWS"])


def members_template() -> bytes:
    cfg = current_app.config
    return build_template(
        _("DANH SÁCH TỔ CÔNG NGHỆ SỐ CỘNG ĐỒNG"),
        ["STT", "Tên Tổ CNSCĐ", "Họ và tên", "Chức vụ", "Số điện thoại"],
        text_columns=(5,),
        choices={4: ["Tổ trưởng", "Tổ phó", "Tổ viên"]},
        widths={1: 6, 2: 36, 3: 28, 4: 14, 5: 16},
        notes=[
            _("Mỗi dòng là một thành viên. “Tên Tổ CNSCĐ” ghi tên tổ hoặc tên thôn/ấp của tổ (ví dụ “Thôn 1”); "
              "để trống thì hiểu là cùng tổ với dòng trên (ô gộp)."),
            _("Chức vụ: Tổ trưởng, Tổ phó hoặc Tổ viên (để trống là Tổ viên). Mỗi tổ có một tổ trưởng, một tổ phó, "
              "tối đa %(max)d thành viên.", max=cfg["TEAM_MAX_MEMBERS"]),
            _("Số điện thoại di động 10 chữ số (0912345678) là tên đăng nhập của thành viên; bắt buộc."),
            _("Nhập lại cùng một tệp không tạo bản trùng: người đã có trong tổ được bỏ qua."),
        ],
    )


@dataclass
class TeamSummary:
    team: Team
    before: int  # active members now
    new: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    warning: str = ""

    @property
    def after(self) -> int:
        return self.before + len(self.new)


@dataclass
class MemberPlan(ImportPlan):
    unit: Unit | None = None
    teams: list[TeamSummary] = field(default_factory=list)


@dataclass(eq=False)
class _Item:
    row: PlanRow
    team: Team | None = None
    full_name: str = ""
    role: TeamRole | None = None
    phone: str | None = None
    user: User | None = None  # the existing account with this phone
    repeat: bool = False  # the same phone on an earlier row


class _Teams:
    """The active teams under the import unit, findable by full name or by the name of their hamlet."""

    def __init__(self, unit: Unit) -> None:
        teams = db.session.scalars(
            select(Team).join(Team.unit).where(Unit.path.startswith(unit.path), Team.active).order_by(Team.name)
        ).all()
        self.by_key: dict[str, list[Team]] = defaultdict(list)
        for team in teams:
            full = team_key(team.name)
            for key in {full, full.split(" - ")[0], team_key(team.unit.name)}:
                self.by_key[key].append(team)
        self.unit = unit
        # every place below, to tell "no team there yet" from "no such place"
        self.places = {
            team_key(name): name
            for name in db.session.scalars(select(Unit.name).where(Unit.path.startswith(unit.path), Unit.active))
        }

    def find(self, text: str) -> Team:
        key = team_key(text)
        found = self.by_key.get(key, [])
        if not found and key in self.places:
            raise ValidationError(
                _("“%(u)s” chưa có tổ CNSCĐ đang hoạt động; hãy lập tổ trước rồi nhập lại.", u=self.places[key])
            )
        if not found:
            raise ValidationError(
                _("Không tìm thấy tổ CNSCĐ “%(t)s” đang hoạt động trong %(u)s.", t=text, u=self.unit.name)
            )
        if len(found) > 1:
            raise ValidationError(
                _("Có %(n)d tổ khớp với “%(t)s”: %(names)s. Hãy ghi đầy đủ tên tổ.",
                  n=len(found), t=text, names="; ".join(f"“{team.name}”" for team in found))
            )
        return found[0]


def _parse(plan: MemberPlan, teams: _Teams) -> list[_Item]:
    items: list[_Item] = []
    team_text, team, team_error = "", None, ""
    for row in plan.rows:
        item = _Item(row)
        cell = clean(row.values.get("team"))
        if cell:  # a blank cell continues the team above (merged cells in the district template)
            team_text, team, team_error = cell, None, ""
            try:
                team = teams.find(cell)
            except ValidationError as error:
                team_error = error.message
        if not team_text:
            plan.fail(row, "team", _("Chưa ghi tên tổ."))
        elif team is None:
            plan.fail(row, "team", team_error)
        item.team = team
        item.full_name = clean(row.values.get("full_name"))
        if not item.full_name:
            plan.fail(row, "full_name", _("Chưa ghi họ và tên."))
        elif len(item.full_name) > 120:
            plan.fail(row, "full_name", _("Họ và tên dài quá 120 ký tự."))
        item.role = parse_position(row.values.get("position", ""))
        if item.role is None:
            plan.fail(
                row, "position",
                _("Chức vụ “%(p)s” không rõ; hãy ghi Tổ trưởng, Tổ phó hoặc Tổ viên.",
                  p=row.values.get("position", "")),
            )
        try:
            item.phone = normalise_phone(row.values.get("phone", ""))
        except ValidationError as error:
            plan.fail(row, "phone", error.message)
        items.append(item)
    return items


def _load_people(items: list[_Item]) -> dict[int, Membership]:
    """Attach existing accounts by phone; return their active memberships by user id (bulk queries)."""
    phones = sorted({item.phone for item in items if item.phone})
    users: dict[str, User] = {}
    for start in range(0, len(phones), _CHUNK):
        chunk = phones[start:start + _CHUNK]
        users.update((user.phone, user) for user in db.session.scalars(select(User).where(User.phone.in_(chunk))))
    for item in items:
        item.user = users.get(item.phone) if item.phone else None
    ids = sorted(user.id for user in users.values())
    memberships: dict[int, Membership] = {}
    for start in range(0, len(ids), _CHUNK):
        query = select(Membership).options(joinedload(Membership.team)).where(
            Membership.user_id.in_(ids[start:start + _CHUNK]), Membership.status == MembershipStatus.ACTIVE
        )
        memberships.update((m.user_id, m) for m in db.session.scalars(query))
    return memberships


def _role_holders(team_ids: list[int]) -> dict[tuple[int, str], Membership]:
    if not team_ids:
        return {}
    rows = db.session.scalars(
        select(Membership).where(
            Membership.team_id.in_(team_ids), Membership.status == MembershipStatus.ACTIVE,
            Membership.role.in_([TeamRole.LEADER, TeamRole.DEPUTY]),
        )
    )
    return {(m.team_id, m.role): m for m in rows}


def _check_people(plan: MemberPlan, items: list[_Item], memberships: dict[int, Membership]) -> None:
    first_by_phone: dict[str, _Item] = {}
    for item in items:
        row, user = item.row, item.user
        if item.phone:
            first = first_by_phone.setdefault(item.phone, item)
            if first is not item:
                plan.fail(
                    row, "phone", _("Số điện thoại %(p)s trùng với dòng %(n)d.", p=item.phone, n=first.row.number)
                )
                item.repeat = True
                continue
        if user is None:
            continue
        if not user.active:
            plan.fail(row, "phone", _("Tài khoản “%(n)s” (số %(p)s) đã bị khóa.", n=user.full_name, p=item.phone))
        if item.full_name and fold(item.full_name) != fold(user.full_name):
            plan.fail(
                row, "full_name",
                _("Số điện thoại %(p)s đã thuộc tài khoản “%(n)s”, khác với họ tên “%(f)s” ghi trong tệp.",
                  p=item.phone, n=user.full_name, f=item.full_name),
            )
        current = memberships.get(user.id)
        if current is None or item.team is None:
            continue
        if current.team_id != item.team.id:
            plan.fail(
                row, "phone",
                _("%(n)s đang là thành viên của “%(t)s”; cần rời tổ đó trước.", n=user.full_name, t=current.team.name),
            )
        elif item.role is not None and current.role != item.role:
            plan.fail(
                row, "position",
                _("%(n)s đã là %(old)s của tổ này, tệp ghi %(new)s; hãy đổi chức vụ trên trang của tổ.",
                  n=user.full_name, old=role_label(current.role).lower(), new=role_label(item.role).lower()),
            )
        elif row.status != RowStatus.ERROR:
            row.status = RowStatus.UNCHANGED


def _check_teams(plan: MemberPlan, items: list[_Item]) -> dict[int, TeamSummary]:
    """Size and one-leader/one-deputy limits per team, counting the database and the whole file."""
    cfg = current_app.config
    maximum, minimum = cfg["TEAM_MAX_MEMBERS"], cfg["TEAM_MIN_MEMBERS"]
    team_ids = sorted({item.team.id for item in items if item.team is not None})
    counts = member_counts(team_ids)
    holders = _role_holders(team_ids)
    labels = {role: role_label(role) for role in TeamRole}
    summaries: dict[int, TeamSummary] = {}
    joining: dict[int, int] = defaultdict(int)
    role_rows: dict[tuple[int, str], _Item] = {}
    for item in items:
        team, row = item.team, item.row
        if team is None:
            continue
        summary = summaries.setdefault(team.id, TeamSummary(team, counts.get(team.id, 0)))
        name = item.full_name or item.phone or ""
        if row.status == RowStatus.UNCHANGED:
            summary.unchanged.append(name)
            continue
        if item.repeat:
            continue  # the same person twice counts once
        joining[team.id] += 1
        total = summary.before + joining[team.id]
        if total > maximum:
            plan.fail(
                row, None,
                _("Tổ “%(t)s” chỉ được có tối đa %(max)d thành viên (đang có %(before)d); đây là người thứ %(k)d.",
                  t=team.name, max=maximum, before=summary.before, k=total),
            )
        if item.role in (TeamRole.LEADER, TeamRole.DEPUTY):
            label = labels[item.role].lower()
            holder = holders.get((team.id, item.role))
            earlier = role_rows.setdefault((team.id, item.role), item)
            if holder is not None and (item.user is None or holder.user_id != item.user.id):
                plan.fail(
                    row, "position",
                    _("Tổ “%(t)s” đã có %(role)s là %(n)s; mỗi tổ chỉ có một %(role)s.",
                      t=team.name, role=label, n=holder.user.full_name),
                )
            elif earlier is not item:
                plan.fail(
                    row, "position",
                    _("Tổ “%(t)s” đã có %(role)s ở dòng %(n)d; mỗi tổ chỉ có một %(role)s.",
                      t=team.name, role=label, n=earlier.row.number),
                )
        if row.status != RowStatus.ERROR:
            summary.new.append(f"{name} ({labels[item.role]})" if item.role != TeamRole.MEMBER else name)
    clean_file = plan.ok  # with errors left, "after" is not what will be
    for summary in summaries.values():
        if clean_file and summary.after < minimum:
            summary.warning = _(
                "Sau khi nhập, tổ chỉ có %(n)d thành viên, chưa đủ tối thiểu %(min)d.", n=summary.after, min=minimum
            )
            plan.warnings.append(f"{summary.team.name}: {summary.warning}")
    return summaries


def import_members(
    rows: list[Row], unit: Unit, actor: User | None, dry_run: bool = False
) -> MemberPlan:
    """Check a roster against the teams under ``unit``; unless ``dry_run``, add the new members when
    nothing is wrong (flushed, not committed: the caller commits). ``actor`` None is the command line."""
    if actor is not None and (actor.role_code not in IMPORTERS or not in_scope(actor, unit)):
        raise PermissionDenied
    plan = MemberPlan.from_rows(MEMBER_COLUMNS, rows)
    plan.unit = unit
    items = _parse(plan, _Teams(unit))
    _check_people(plan, items, _load_people(items))
    summaries = _check_teams(plan, items)
    plan.teams = sorted(summaries.values(), key=lambda summary: summary.team.name)
    labels, existing = {role: role_label(role) for role in TeamRole}, _(" · tài khoản có sẵn")
    for item in items:
        if item.team is not None and item.role is not None:
            item.row.note = f"{item.team.name} · {labels[item.role]}" + (existing if item.user is not None else "")
    if dry_run or not plan.ok:
        return plan
    _write(items, actor)
    plan.written = True
    return plan


def _write(items: list[_Item], actor: User | None) -> None:
    try:
        with db.session.begin_nested():
            for item in items:
                if item.row.status != RowStatus.NEW:
                    continue
                assert item.team is not None and item.role is not None
                try:
                    user = item.user or create_user(
                        item.full_name, role=RoleCode.MEMBER, unit=item.team.unit, phone=item.phone
                    )
                    add_member(item.team, user, item.role, actor=actor)
                except ValidationError as error:
                    raise ValidationError(error.message, field=error.field, row=item.row.number) from error
    except IntegrityError as error:
        raise ValidationError(_("Danh sách tổ vừa được người khác thay đổi; hãy xem trước và nhập lại.")) from error
