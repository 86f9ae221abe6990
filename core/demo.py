"""The demo province: ``flask demo load`` builds it once, ``flask demo accounts`` lists who can sign in.

Everything is created through the services, so the demo obeys the same rules as real data. The demo
is built in parts (org tree, teams, members, staff accounts); each part is a small function with
its own random stream seeded from ``SEED`` and the part's name, so a part added later (question
bank, rounds, ...) never changes the data of the parts before it. Later parts follow the same
pattern: ``def build_<part>(demo: Demo) -> None`` appended to ``PARTS``.
"""

from __future__ import annotations

import random
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from core.accounts import service as accounts
from core.accounts.models import User
from core.accounts.roles import RoleCode
from core.db_types import utcnow
from core.errors import ValidationError
from core.extensions import db
from core.org import service as org
from core.org.models import Unit, UnitKind
from core.phone import normalise_phone
from core.teams import service as teams
from core.teams.models import Membership, MembershipStatus, Team, TeamRole

demo_cli = AppGroup("demo", help="The demo province.")

SEED = 2026
DEMO_PASSWORD = "ThiDua@2026"  # shared by every demo account; shown by `flask demo accounts`

# Tỉnh An Giang after the 2025 merger that absorbed Kiên Giang: communes straight under the
# province (the post-2025 shape) plus one district kept in the old shape, so both trees show.
PROVINCE = "Tỉnh An Giang"
DISTRICT = "Huyện Giồng Riềng"
#: (commune-level unit, kind, parent: None = the province, else the district; its hamlets/quarters)
COMMUNES: tuple[tuple[str, UnitKind, str | None, tuple[str, ...]], ...] = (
    ("Phường Rạch Giá", UnitKind.WARD, None, (
        "Khu phố Vĩnh Lạc", "Khu phố Vĩnh Thanh", "Khu phố An Hòa",
        "Khu phố An Bình", "Khu phố Rạch Sỏi", "Khu phố Vĩnh Bảo",
    )),
    ("Xã Châu Thành", UnitKind.COMMUNE, None, (
        "Ấp Phước Lợi", "Ấp Tân Hòa", "Ấp Minh Phong", "Ấp Minh Lương", "Ấp Giục Tượng", "Ấp Hòa Lợi",
    )),
    ("Xã Tân Hiệp", UnitKind.COMMUNE, None, (
        "Ấp Tân Phú", "Ấp Tân Đông", "Ấp Thạnh Đông", "Ấp Kênh Xáng", "Ấp Đông Thành",
    )),
    ("Đặc khu Phú Quốc", UnitKind.SPECIAL_ZONE, None, (
        "Khu phố Dương Đông", "Khu phố An Thới", "Ấp Cửa Cạn", "Ấp Gành Dầu", "Ấp Hàm Ninh",
    )),
    ("Xã Thạnh Hưng", UnitKind.COMMUNE, DISTRICT, (
        "Ấp Thạnh Lợi", "Ấp Thạnh Bình", "Ấp Thạnh Phú", "Ấp Thạnh An",
    )),
    ("Xã Hòa Hưng", UnitKind.COMMUNE, DISTRICT, (
        "Ấp Hòa Thuận", "Ấp Hòa Hiếu", "Ấp Hòa An", "Ấp Hòa Thạnh",
    )),
)
#: an enterprise of more than 300 workers keeps its own team (seed 004); fictitious company.
ENTERPRISE = "Công ty TNHH Chế biến Thủy sản Biển Tây (KCN Thạnh Lộc)"
ENTERPRISE_COMMUNE = "Xã Châu Thành"
#: the team whose leader and member are the demo team accounts.
SHOWCASE_COMMUNE = "Xã Châu Thành"
SHOWCASE_HAMLET = "Ấp Phước Lợi"

ACTIVE_MEMBERS = 196  # + 1 who left + 3 pending requests = 200 people in teams
SHOWCASE_SIZE = 8  # room left for the pending request its leader sees
SMALL_TEAM_SIZE = 2  # below TEAM_MIN_MEMBERS (3), so the warning shows
PENDING_REQUESTS = 3

# Family names weighted roughly as in the Mekong delta, with Khmer (Danh, Thạch) and Hoa (Lâm,
# Châu) names that are common in An Giang and Kiên Giang.
FAMILY_NAMES = {
    "Nguyễn": 30, "Trần": 11, "Lê": 9, "Phạm": 6, "Huỳnh": 6, "Võ": 5, "Phan": 4, "Trương": 3,
    "Bùi": 2, "Đặng": 2, "Đỗ": 2, "Ngô": 2, "Hồ": 2, "Dương": 2, "Lý": 2, "Lâm": 2, "Danh": 2,
    "Thạch": 1, "Châu": 1, "Tô": 1,
}
MALE_MIDDLE = ("Văn", "Văn", "Văn", "Minh", "Hoàng", "Thanh", "Quốc", "Hữu", "Đức", "Công", "Trọng", "Tấn", "Chí")
FEMALE_MIDDLE = (
    "Thị", "Thị", "Thị", "Ngọc", "Thanh", "Kim", "Mỹ", "Thu", "Hồng", "Bích",
    "Thị Ngọc", "Thị Kim", "Thị Thanh", "Thị Mỹ",
)
MALE_GIVEN = (
    "An", "Bình", "Cường", "Dũng", "Duy", "Hải", "Hậu", "Hiếu", "Hùng", "Hưng", "Khang", "Khoa",
    "Long", "Lộc", "Minh", "Nam", "Nghĩa", "Nhân", "Phúc", "Phước", "Quang", "Sang", "Sơn", "Tài",
    "Tâm", "Thắng", "Thành", "Tín", "Toàn", "Trí", "Trung", "Tuấn", "Vinh", "Vũ",
)
FEMALE_GIVEN = (
    "Anh", "Châu", "Diễm", "Dung", "Giang", "Hà", "Hân", "Hạnh", "Hằng", "Hoa", "Hương", "Lan",
    "Linh", "Loan", "Mai", "My", "Ngân", "Nhi", "Nhung", "Oanh", "Phượng", "Quyên", "Thảo", "Thủy",
    "Trang", "Trinh", "Tuyết", "Uyên", "Vân", "Xuân", "Yến",
)
# Mobile prefixes of Viettel, MobiFone and VinaPhone (10-digit numbering since 2018).
MOBILE_PREFIXES = (
    "032", "033", "034", "035", "036", "037", "038", "039", "070", "076", "077", "078", "079",
    "081", "082", "083", "084", "085", "086", "088", "089", "090", "091", "093", "094", "096",
    "097", "098",
)


@dataclass(frozen=True)
class StaffAccount:
    username: str
    full_name: str
    role: RoleCode
    unit: str  # name of the unit the account belongs to
    role_vi: str
    role_en: str


STAFF: tuple[StaffAccount, ...] = (
    StaffAccount("admin", "Trần Minh Khoa", RoleCode.ADMIN, PROVINCE,
                 "Quản trị – Sở KH&CN", "Admin (Department staff)"),
    StaffAccount("tinhdoan", "Lê Thị Ngọc Hân", RoleCode.ORGANISER, PROVINCE,
                 "Tổ chức – Tỉnh đoàn", "Organiser (provincial Youth Union)"),
    StaffAccount("doanxa.chauthanh", "Phạm Quốc Huy", RoleCode.ORGANISER, SHOWCASE_COMMUNE,
                 "Tổ chức – Đoàn xã", "Organiser (commune Youth Union)"),
    StaffAccount("canbo.chauthanh", "Huỳnh Thị Kim Loan", RoleCode.OFFICER, SHOWCASE_COMMUNE,
                 "Cán bộ xã", "Officer (commune staff)"),
)


@dataclass
class Demo:
    """What the parts built so far, handed from one part to the next."""

    password_hash: str
    now: datetime = field(default_factory=utcnow)
    units: dict[str, Unit] = field(default_factory=dict)  # by name (names are unique in the demo)
    teams: list[Team] = field(default_factory=list)
    people: list[User] = field(default_factory=list)  # team members, leaders, requesters
    added_parts: list[str] = field(default_factory=list)  # package parts built in this load

    def unit(self, name: str) -> Unit:
        return self.units[name]

    def count(self, *kinds: UnitKind) -> int:
        return sum(1 for unit in self.units.values() if unit.kind_enum in kinds)


def _rng(part: str) -> random.Random:
    # A string seed is hashed with SHA-512, so the stream is the same in every process.
    return random.Random(f"{SEED}:{part}")


class _People:
    """Unique fictitious Vietnamese names and valid, unique mobile numbers."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.names: set[str] = set()
        self.phones: set[str] = set()

    def name(self) -> str:
        rng = self.rng
        while True:
            family = rng.choices(list(FAMILY_NAMES), weights=list(FAMILY_NAMES.values()))[0]
            if rng.random() < 0.5:
                full = f"{family} {rng.choice(FEMALE_MIDDLE)} {rng.choice(FEMALE_GIVEN)}"
            else:
                full = f"{family} {rng.choice(MALE_MIDDLE)} {rng.choice(MALE_GIVEN)}"
            if full not in self.names:
                self.names.add(full)
                return full

    def phone(self) -> str:
        while True:
            raw = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10_000_000):07d}"
            if raw in self.phones:
                continue
            try:
                phone = normalise_phone(raw)
            except ValidationError:
                continue  # a range the numbering plan does not assign
            self.phones.add(phone)
            return phone


def find_province() -> Unit | None:
    return db.session.scalar(select(Unit).where(Unit.parent_id.is_(None), Unit.name == PROVINCE))


# --- parts -------------------------------------------------------------------------------------


def build_org_tree(demo: Demo) -> None:
    province = org.create_unit(PROVINCE, UnitKind.PROVINCE, None)
    district = org.create_unit(DISTRICT, UnitKind.DISTRICT, province)
    demo.units.update({PROVINCE: province, DISTRICT: district})
    for commune_name, kind, parent_name, hamlets in COMMUNES:
        commune = org.create_unit(commune_name, kind, district if parent_name else province)
        demo.units[commune_name] = commune
        for hamlet in hamlets:
            demo.units[hamlet] = org.create_unit(hamlet, UnitKind.HAMLET, commune)
    demo.units[ENTERPRISE] = org.create_unit(ENTERPRISE, UnitKind.ENTERPRISE, demo.unit(ENTERPRISE_COMMUNE))


def build_teams(demo: Demo) -> None:
    """One team per hamlet/quarter and one in the enterprise, each with its Zalo group."""
    rng = _rng("teams")
    holders = [u for u in demo.units.values() if u.kind_enum in (UnitKind.HAMLET, UnitKind.ENTERPRISE)]
    for unit in holders:
        code = "".join(rng.choices(string.ascii_lowercase, k=6)) + f"{rng.randrange(1000):03d}"
        demo.teams.append(teams.create_team(unit, group_link=f"https://zalo.me/g/{code}"))


def _team_sizes(rng: random.Random, demo: Demo) -> tuple[dict[int, int], list[Team]]:
    """Active size per team id, summing to ACTIVE_MEMBERS, and the teams kept below the minimum."""
    maximum = current_app.config["TEAM_MAX_MEMBERS"]
    showcase = _showcase_team(demo)
    enterprise = next(t for t in demo.teams if t.unit.kind_enum == UnitKind.ENTERPRISE)
    hamlet_teams = [t for t in demo.teams if t not in (showcase, enterprise)]
    small = rng.sample(hamlet_teams, 2)
    sizes = {showcase.id: SHOWCASE_SIZE, enterprise.id: 10} | {t.id: SMALL_TEAM_SIZE for t in small}
    others = [t for t in hamlet_teams if t not in small]
    sizes |= {t.id: rng.randint(4, 10) for t in others}
    # Nudge random teams one up or down until the total is right; sizes stay within 4–10.
    while (gap := ACTIVE_MEMBERS - sum(sizes.values())) != 0:
        team = rng.choice(others)
        step = 1 if gap > 0 else -1
        if 4 <= sizes[team.id] + step <= 10:
            sizes[team.id] += step
    return {team_id: min(size, maximum) for team_id, size in sizes.items()}, small


def _showcase_team(demo: Demo) -> Team:
    return next(t for t in demo.teams if t.unit is demo.unit(SHOWCASE_HAMLET))


def _person(demo: Demo, people: _People, unit: Unit) -> User:
    user = accounts.create_user(people.name(), RoleCode.MEMBER, unit, phone=people.phone())
    user.password_hash = demo.password_hash  # hashed once for everybody: loading stays fast
    demo.people.append(user)
    return user


def build_members(demo: Demo) -> None:
    """Leader (the hamlet head) and deputy (a Youth Union member) first, then the members; one
    deputy who left (history), and a few people waiting for a leader to accept them."""
    rng = _rng("members")
    people = _People(rng)
    sizes, small = _team_sizes(rng, demo)
    left_team = small[1]
    for team in demo.teams:
        # Backdated so that history reads naturally and later parts can seed past rounds.
        founded = demo.now - timedelta(days=rng.randint(150, 240))
        planned = sizes[team.id] + (1 if team is left_team else 0)
        roster: list[Membership] = []
        for index in range(planned):
            role = (TeamRole.LEADER, TeamRole.DEPUTY)[index] if index < 2 else TeamRole.MEMBER
            membership = teams.add_member(team, _person(demo, people, team.unit), role)
            membership.requested_at = membership.joined_at = (
                founded if index < 2 else founded + timedelta(days=rng.randint(0, 120))
            )
            roster.append(membership)
        if team is left_team:  # the deputy went to work far away; the team fell below the minimum
            leaving = roster[1]
            teams.remove_member(leaving, actor=roster[0].user)
            leaving.left_at = demo.now - timedelta(days=rng.randint(10, 40))

    maximum = current_app.config["TEAM_MAX_MEMBERS"]
    showcase = _showcase_team(demo)
    with_room = [t for t in demo.teams if t is not showcase and t not in small and sizes[t.id] < maximum]
    for team in [showcase, *rng.sample(with_room, PENDING_REQUESTS - 1)]:
        pending = teams.request_to_join(team, _person(demo, people, team.unit))
        pending.requested_at = demo.now - timedelta(days=rng.randint(1, 5))
    db.session.flush()


def build_staff(demo: Demo) -> None:
    for account in STAFF:
        user = accounts.create_user(
            account.full_name, account.role, demo.unit(account.unit), username=account.username
        )
        user.password_hash = demo.password_hash
    db.session.flush()


PARTS: tuple[Callable[[Demo], None], ...] = (build_org_tree, build_teams, build_members, build_staff)


@dataclass(frozen=True)
class DemoPart:
    """A part of the demo that a package above core adds (question bank, rounds, ...).

    ``present()`` tells whether it is loaded already, so a database made before the part existed
    gets it on the next ``flask demo load``; ``build(rng)`` creates it from its own random stream."""

    name: str
    present: Callable[[], bool]
    build: Callable[[random.Random], None]
    #: lines `flask demo accounts` prints after the accounts: where to see the part in the app
    showcase: Callable[[], list[str]] = lambda: []


_PACKAGE_PARTS: dict[str, DemoPart] = {}


def register_part(part: DemoPart) -> None:
    """Called by a package's init_app; registering the same name again replaces it."""
    _PACKAGE_PARTS[part.name] = part


def load_demo() -> Demo | None:
    """Build the demo in the current transaction (the caller commits); None if it already exists.

    The package parts are added to an existing demo province when they are missing."""
    demo = None
    if find_province() is None:
        demo = Demo(password_hash=generate_password_hash(DEMO_PASSWORD))
        for part in PARTS:
            part(demo)
    added = [part for part in _PACKAGE_PARTS.values() if not part.present()]
    for part in added:
        part.build(_rng(part.name))
    if demo is not None:
        demo.added_parts = [part.name for part in added]
    elif added:
        demo = Demo(password_hash="", added_parts=[part.name for part in added])
    return demo


# --- accounts table ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoAccount:
    role_vi: str
    role_en: str
    login: str
    where: str  # unit or team


def _showcase_membership(province: Unit, role: TeamRole) -> Membership | None:
    # The earliest (lowest id) active holder of the role: the same person on every backend.
    return db.session.scalar(
        select(Membership)
        .join(Team)
        .join(Unit, Team.unit_id == Unit.id)
        .where(
            Unit.name == SHOWCASE_HAMLET, Unit.path.startswith(province.path),
            Membership.role == role, Membership.status == MembershipStatus.ACTIVE,
        )
        .order_by(Membership.id)
        .limit(1)
    )


def demo_accounts() -> list[DemoAccount]:
    """The demo's sign-in accounts as they are in the database now (empty before loading)."""
    province = find_province()
    if province is None:
        return []
    rows: list[DemoAccount] = []
    for account in STAFF:
        user = db.session.scalar(select(User).where(User.username == account.username))
        if user is not None:
            unit = user.unit.name if user.unit else ""
            rows.append(DemoAccount(account.role_vi, account.role_en, user.login_name, unit))
    for role, role_vi, role_en in (
        (TeamRole.LEADER, "Tổ trưởng", "Team leader"),
        (TeamRole.MEMBER, "Tổ viên", "Team member"),
    ):
        membership = _showcase_membership(province, role)
        if membership is not None:
            rows.append(DemoAccount(role_vi, role_en, membership.user.login_name, membership.team.name))
    return rows


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
             for row in (header, *rows)]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


# --- commands ----------------------------------------------------------------------------------


@demo_cli.command("load")
def load_command() -> None:
    """Create the demo province once (does nothing if it exists)."""
    started = time.perf_counter()
    try:
        demo = load_demo()
    except ValidationError as error:
        db.session.rollback()
        raise click.ClickException(f"demo not loaded: {error}") from error
    if demo is None:
        click.echo(f"The demo province “{PROVINCE}” already exists; nothing changed.")
        return
    db.session.commit()
    parts = f" Parts added: {', '.join(demo.added_parts)}." if demo.added_parts else ""
    if not demo.units:
        click.echo(f"The demo province “{PROVINCE}” already exists.{parts}")
        return
    communes = demo.count(UnitKind.COMMUNE, UnitKind.WARD, UnitKind.TOWN, UnitKind.SPECIAL_ZONE)
    click.echo(
        f"Demo loaded in {time.perf_counter() - started:.1f} s: {PROVINCE} with "
        f"{demo.count(UnitKind.DISTRICT)} district, {communes} communes/wards, "
        f"{demo.count(UnitKind.HAMLET)} hamlets/quarters, {demo.count(UnitKind.ENTERPRISE)} enterprise; "
        f"{len(demo.teams)} teams, {len(demo.people)} members, {len(STAFF)} staff accounts.{parts}"
    )


@demo_cli.command("accounts")
def accounts_command() -> None:
    """Print the demo accounts and their shared password."""
    rows = demo_accounts()
    if not rows:
        raise click.ClickException("the demo is not loaded; run `flask demo load` first")
    header = ("Vai trò", "Role", "Đăng nhập / Login", "Mật khẩu / Password", "Đơn vị – Tổ / Unit – team")
    click.echo(_table(header, [(r.role_vi, r.role_en, r.login, DEMO_PASSWORD, r.where) for r in rows]))
    for part in _PACKAGE_PARTS.values():
        for line in part.showcase():
            click.echo(line)
