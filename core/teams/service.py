"""Team rules: naming, size limits, one leader and one deputy, joining and leaving with history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, true
from sqlalchemy.orm import joinedload, lazyload
from sqlalchemy.sql.elements import ColumnElement

from core.accounts import service as accounts
from core.accounts.models import User
from core.accounts.roles import RoleCode
from core.db_types import utcnow
from core.errors import PermissionDenied, ValidationError
from core.extensions import db
from core.org.models import Unit, UnitKind
from core.org.scope import in_scope, scope_path
from core.org.service import TEAM_HOLDERS
from core.pagination import PER_PAGE, Page, paginate_select, slice_ids
from core.phone import normalise_phone
from core.signals import membership_changed
from core.teams.models import Membership, MembershipStatus, Team, TeamRole
from core.text import clean, fold, is_web_link

ROLE_LABELS = {
    TeamRole.LEADER: _l("Tổ trưởng"),
    TeamRole.DEPUTY: _l("Tổ phó"),
    TeamRole.MEMBER: _l("Tổ viên"),
}


def role_label(role: str) -> str:
    return str(ROLE_LABELS[TeamRole(role)])


def default_team_name(unit: Unit) -> str:
    """"Tổ CNSCĐ Ấp Phước Lợi – Xã Châu Thành" for a hamlet; the unit's own name otherwise."""
    if unit.kind_enum == UnitKind.HAMLET and unit.parent is not None:
        return f"Tổ CNSCĐ {unit.name} – {unit.parent.name}"
    return f"Tổ CNSCĐ {unit.name}"


def _check_group_link(link: str | None) -> str | None:
    link = clean(link) or None
    if link is not None and not is_web_link(link):
        raise ValidationError(
            _("Liên kết nhóm phải là địa chỉ web bắt đầu bằng https:// (ví dụ https://zalo.me/g/abc123)."),
            field="group_link",
        )
    return link


def _check_team_name(name: str, unit: Unit, exclude_id: int | None = None) -> str:
    name = clean(name)
    if not name:
        raise ValidationError(_("Chưa nhập tên tổ."), field="name")
    if len(name) > 200:
        raise ValidationError(_("Tên tổ dài quá 200 ký tự."), field="name")
    # Compared in Python: SQLite's lower() folds ASCII only ("Tổ" and "TỔ" would differ there).
    others = db.session.execute(select(Team.id, Team.name).where(Team.unit_id == unit.id))
    if any(other.casefold() == name.casefold() and team_id != exclude_id for team_id, other in others):
        raise ValidationError(_("“%(u)s” đã có tổ tên “%(n)s”.", u=unit.name, n=name), field="name")
    return name


def create_team(unit: Unit, name: str | None = None, group_link: str | None = None) -> Team:
    if unit.kind_enum not in TEAM_HOLDERS:
        raise ValidationError(
            _(
                "Tổ CNSCĐ chỉ lập ở ấp/khu phố, xã/phường hoặc doanh nghiệp, không lập trực tiếp ở “%(u)s”.",
                u=unit.name,
            ),
            field="unit_id",
        )
    if not unit.active:
        raise ValidationError(_("Đơn vị “%(u)s” đã ngừng hoạt động.", u=unit.name), field="unit_id")
    team = Team(
        unit=unit,
        name=_check_team_name(name or default_team_name(unit), unit),
        group_link=_check_group_link(group_link),
    )
    db.session.add(team)
    db.session.flush()
    return team


def update_team(team: Team, name: str, group_link: str | None) -> Team:
    team.name = _check_team_name(name, team.unit, exclude_id=team.id)
    team.group_link = _check_group_link(group_link)
    return team


def active_memberships(team: Team) -> list[Membership]:
    order = {TeamRole.LEADER: 0, TeamRole.DEPUTY: 1, TeamRole.MEMBER: 2}
    rows = db.session.scalars(
        select(Membership).where(
            Membership.team_id == team.id, Membership.status == MembershipStatus.ACTIVE
        )
    ).all()
    return sorted(rows, key=lambda m: (order[TeamRole(m.role)], m.user.full_name))


def active_count(team: Team) -> int:
    return db.session.scalar(
        select(func.count()).where(
            Membership.team_id == team.id, Membership.status == MembershipStatus.ACTIVE
        )
    ) or 0


def member_counts(team_ids: list[int]) -> dict[int, int]:
    """Active member count per team in one query (for commune pages and lists)."""
    if not team_ids:
        return {}
    rows = db.session.execute(
        select(Membership.team_id, func.count())
        .where(Membership.team_id.in_(team_ids), Membership.status == MembershipStatus.ACTIVE)
        .group_by(Membership.team_id)
    ).all()  # a list of rows: dict() of a Result itself would treat it as a mapping and fail
    return dict(rows)


@dataclass(frozen=True)
class SizeStatus:
    count: int
    minimum: int
    maximum: int

    @property
    def below_minimum(self) -> bool:
        return self.count < self.minimum

    @property
    def full(self) -> bool:
        return self.count >= self.maximum


def size_status(team: Team, count: int | None = None) -> SizeStatus:
    cfg = current_app.config
    return SizeStatus(
        count=active_count(team) if count is None else count,
        minimum=cfg["TEAM_MIN_MEMBERS"], maximum=cfg["TEAM_MAX_MEMBERS"],
    )


def active_membership_of(user: User) -> Membership | None:
    # The team (and its unit) in the same query: every caller looks at it, an attempt start among
    # them. The user is at hand: not joined in again with their role and unit.
    return db.session.scalar(
        select(Membership).where(
            Membership.user_id == user.id, Membership.status == MembershipStatus.ACTIVE
        ).options(lazyload(Membership.user), joinedload(Membership.team))
    )


def _lock(team: Team) -> None:
    """Serialise roster changes of one team (PostgreSQL row lock; SQLite locks the file anyway)."""
    db.session.execute(select(Team.id).where(Team.id == team.id).with_for_update())


def _check_role_free(team: Team, role: TeamRole, exclude: Membership | None = None) -> None:
    if role == TeamRole.MEMBER:
        return
    holder = db.session.scalar(
        select(Membership).where(
            Membership.team_id == team.id, Membership.role == role,
            Membership.status == MembershipStatus.ACTIVE,
        )
    )
    if holder is not None and holder is not exclude:
        raise ValidationError(
            _(
                "Tổ đã có %(role)s là %(name)s; mỗi tổ chỉ có một %(role)s.",
                role=role_label(role).lower(), name=holder.user.full_name,
            ),
            field="role",
        )


def _check_team_active(team: Team) -> None:
    if not team.active:
        raise ValidationError(_("Tổ “%(t)s” đã giải thể.", t=team.name))


def _check_capacity(team: Team) -> None:
    status = size_status(team)
    if status.full:
        raise ValidationError(
            _("Tổ đã đủ %(n)d thành viên đang hoạt động; không thể thêm người nữa.", n=status.maximum),
            field="phone",
        )


def _check_not_in_other_team(user: User, team: Team) -> None:
    current = active_membership_of(user)
    if current is not None:
        if current.team_id == team.id:
            raise ValidationError(_("%(n)s đã là thành viên của tổ này.", n=user.full_name), field="phone")
        raise ValidationError(
            _("%(n)s đang là thành viên của “%(t)s”; cần rời tổ đó trước.", n=user.full_name, t=current.team.name),
            field="phone",
        )


def add_member(team: Team, user: User, role: TeamRole | str = TeamRole.MEMBER, actor: User | None = None) -> Membership:
    role = TeamRole(role)
    _check_team_active(team)
    _lock(team)
    _check_not_in_other_team(user, team)
    _check_capacity(team)
    _check_role_free(team, role)
    now = utcnow()
    membership = Membership(
        team=team, user=user, role=role, status=MembershipStatus.ACTIVE,
        requested_at=now, joined_at=now, decided_by_id=actor.id if actor else None,
    )
    db.session.add(membership)
    if user.unit_id is None and user.role_code == RoleCode.MEMBER:
        user.unit = team.unit
    db.session.flush()
    membership_changed.send(membership)
    return membership


def add_member_by_phone(
    team: Team, phone: str, full_name: str | None = None,
    role: TeamRole | str = TeamRole.MEMBER, actor: User | None = None,
) -> Membership:
    """Add the person with this phone number; someone not yet known gets a member account
    (in the team's unit, without a password until one is set for them)."""
    number = normalise_phone(phone)
    user = db.session.scalar(select(User).where(User.phone == number))
    if user is not None and not user.active:
        raise ValidationError(
            _("Tài khoản %(p)s (%(n)s) đang bị khóa; hãy nhờ quản trị viên mở lại.", p=number, n=user.full_name),
            field="phone",
        )
    if user is None:
        if not clean(full_name):
            raise ValidationError(
                _("Chưa có tài khoản với số %(p)s; hãy nhập họ và tên để thêm người mới.", p=number),
                field="full_name",
            )
        # Refuse a full team or a taken role before an account is created for nothing.
        _check_team_active(team)
        _check_capacity(team)
        _check_role_free(team, TeamRole(role))
        user = accounts.create_user(full_name or "", RoleCode.MEMBER, unit=team.unit, phone=number)
    return add_member(team, user, role, actor)


def join_area(user: User) -> Unit | None:
    """Where a person may look for a team to join: a hamlet's whole commune (a hamlet may have
    no team yet, and people join the team next door), otherwise their own unit."""
    unit = user.unit
    if unit is None:
        return None
    if unit.kind_enum == UnitKind.HAMLET and unit.parent is not None:
        return unit.parent
    return unit


def can_request_to_join(user: User, team: Team) -> bool:
    """Members ask; staff need not, they add people (themselves included) directly."""
    area = join_area(user)
    return (
        team.active and not is_staff(user) and area is not None and team.unit.path.startswith(area.path)
    )


def request_to_join(team: Team, user: User) -> Membership:
    if not can_request_to_join(user, team):
        raise PermissionDenied
    _check_not_in_other_team(user, team)
    pending = db.session.scalar(
        select(Membership).where(
            Membership.team_id == team.id, Membership.user_id == user.id,
            Membership.status == MembershipStatus.PENDING,
        )
    )
    if pending is not None:
        return pending  # asking twice is the same request
    _check_capacity(team)  # say "full" now rather than leave a request nobody can approve
    membership = Membership(team=team, user=user, role=TeamRole.MEMBER, status=MembershipStatus.PENDING)
    db.session.add(membership)
    db.session.flush()
    return membership


def pending_requests(team: Team) -> list[Membership]:
    return list(db.session.scalars(
        select(Membership).where(
            Membership.team_id == team.id, Membership.status == MembershipStatus.PENDING
        ).order_by(Membership.requested_at)
    ))


def pending_request_of(user: User, team: Team) -> Membership | None:
    return db.session.scalar(
        select(Membership).where(
            Membership.team_id == team.id, Membership.user_id == user.id,
            Membership.status == MembershipStatus.PENDING,
        )
    )


def past_memberships(team: Team) -> list[Membership]:
    """People who left, latest first: the team's history."""
    return list(db.session.scalars(
        select(Membership).where(
            Membership.team_id == team.id, Membership.status == MembershipStatus.LEFT
        ).order_by(Membership.left_at.desc(), Membership.id.desc())
    ))


def approve_request(membership: Membership, actor: User) -> Membership:
    if membership.status != MembershipStatus.PENDING:
        raise ValidationError(_("Yêu cầu này đã được xử lý."))
    team = membership.team
    _check_team_active(team)
    _lock(team)
    _check_not_in_other_team(membership.user, team)
    _check_capacity(team)
    membership.status = MembershipStatus.ACTIVE
    membership.joined_at = utcnow()
    membership.decided_by_id = actor.id
    if membership.user.unit_id is None:
        membership.user.unit = team.unit
    db.session.flush()
    membership_changed.send(membership)
    return membership


def reject_request(membership: Membership, actor: User) -> Membership:
    if membership.status != MembershipStatus.PENDING:
        raise ValidationError(_("Yêu cầu này đã được xử lý."))
    membership.status = MembershipStatus.REJECTED
    membership.decided_by_id = actor.id
    return membership


def change_role(membership: Membership, role: TeamRole | str) -> Membership:
    role = TeamRole(role)
    if not membership.is_active:
        raise ValidationError(_("Người này không còn trong tổ."))
    _lock(membership.team)
    _check_role_free(membership.team, role, exclude=membership)
    membership.role = role
    db.session.flush()
    membership_changed.send(membership)
    return membership


def remove_member(membership: Membership, actor: User) -> Membership:
    """Leaving closes the membership (left_at) instead of deleting it: past results keep their team."""
    if not membership.is_active:
        raise ValidationError(_("Người này không còn trong tổ."))
    membership.status = MembershipStatus.LEFT
    membership.left_at = utcnow()
    membership.decided_by_id = actor.id
    db.session.flush()
    membership_changed.send(membership)
    return membership


def dissolve_team(team: Team, actor: User) -> Team:
    """Giải thể: the team stops; everyone still in it leaves today and open requests are
    turned down, so the history (and past results) stays attached to the team."""
    _check_team_active(team)
    _lock(team)
    now = utcnow()
    open_ones = db.session.scalars(
        select(Membership).where(
            Membership.team_id == team.id,
            Membership.status.in_([MembershipStatus.ACTIVE, MembershipStatus.PENDING]),
        )
    ).all()
    leaving = [m for m in open_ones if m.is_active]
    for membership in open_ones:
        if membership.is_active:
            membership.status, membership.left_at = MembershipStatus.LEFT, now
        else:
            membership.status = MembershipStatus.REJECTED
        membership.decided_by_id = actor.id
    team.active = False
    db.session.flush()
    for membership in leaving:
        membership_changed.send(membership)
    return team


def team_on(user: User, moment: datetime) -> Team | None:
    """The team the user belonged to at ``moment`` (for attributing past results)."""
    return db.session.scalar(
        select(Team).join(Membership).where(
            Membership.user_id == user.id,
            Membership.joined_at <= moment,
            (Membership.left_at.is_(None)) | (Membership.left_at > moment),
        )
    )


def leads(user: User, team: Team) -> bool:
    """True for the active leader or deputy of ``team``."""
    return db.session.scalar(
        select(func.count()).where(
            Membership.team_id == team.id, Membership.user_id == user.id,
            Membership.status == MembershipStatus.ACTIVE,
            Membership.role.in_([TeamRole.LEADER, TeamRole.DEPUTY]),
        )
    ) > 0


def can_manage_team(user: User, team: Team) -> bool:
    """Staff act on teams in their scope; a leader or deputy acts on their own team's roster."""
    if is_staff(user) and in_scope(user, team.unit):
        return True
    return leads(user, team)


def require_manage_team(user: User, team: Team) -> None:
    if not can_manage_team(user, team):
        raise PermissionDenied


def can_view_team(user: User, team: Team) -> bool:
    """Managers; anyone who is, was or asks to be in the team; and people who may ask to join it."""
    if can_manage_team(user, team) or in_scope(user, team.unit):
        return True
    been_there = db.session.scalar(
        select(func.count()).where(
            Membership.team_id == team.id, Membership.user_id == user.id,
            Membership.status != MembershipStatus.REJECTED,
        )
    )
    if been_there:
        return True
    area = join_area(user)
    return area is not None and team.unit.path.startswith(area.path)


def require_view_team(user: User, team: Team) -> None:
    if not can_view_team(user, team):
        raise PermissionDenied


def is_staff(user: User) -> bool:
    return user.role_code in (RoleCode.ADMIN, RoleCode.OFFICER, RoleCode.ORGANISER)


def can_dissolve_team(user: User, team: Team) -> bool:
    """Dissolving is for staff whose scope holds the team, not for its own leader."""
    return is_staff(user) and in_scope(user, team.unit)


def _listing_clause(user: User) -> ColumnElement[bool]:
    """Staff list the teams in their scope; anyone else the teams of their join area."""
    if is_staff(user):
        prefix = scope_path(user)
    else:
        area = join_area(user)
        prefix = area.path if area is not None else "/nowhere/"
    return true() if prefix is None else Unit.path.startswith(prefix)


def list_teams(
    user: User, q: str = "", unit: Unit | None = None, page: int | None = 1, per_page: int = PER_PAGE,
) -> Page[Team]:
    """Active teams the user may see, optionally below ``unit`` and matching ``q`` without regard
    to accents or case ("to cnscd phuoc loi" finds "Tổ CNSCĐ Ấp Phước Lợi")."""
    query = (
        select(Team).join(Unit, Team.unit_id == Unit.id)
        .where(Team.active, _listing_clause(user))
    )
    if unit is not None:
        query = query.where(Unit.path.startswith(unit.path))
    needle = fold(q or "")
    if not needle:
        return paginate_select(query.order_by(Team.name, Team.id), page, per_page)
    # Folding happens in Python so SQLite and PostgreSQL agree; only (id, name) pairs are read,
    # which stays small at provincial scale (about a thousand teams).
    pairs = db.session.execute(query.with_only_columns(Team.id, Team.name)).all()
    matches = sorted((fold(name), team_id) for team_id, name in pairs if needle in fold(name))
    ids, page, total = slice_ids([team_id for _key, team_id in matches], page, per_page)
    by_id = {team.id: team for team in db.session.scalars(select(Team).where(Team.id.in_(ids)))}
    return Page([by_id[i] for i in ids], total, page, per_page)
