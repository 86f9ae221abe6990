"""The demo's emulation: this month's and last month's targets, split down the tree, and the teams'
activity reports, most verified by the commune (one rejected and corrected, one waiting with an
implausible figure), so progress, standings, badges and the officer's queue have something to show.

Everything goes through the services, with the clock set inside the month reported on, so late
entries are late for the same reasons as real ones."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import exists, select

from competitions.emulation import badges, reports
from competitions.emulation.models import ActivityKind, ActivityReport, Target
from competitions.emulation.periods import Period
from competitions.emulation.targets import Holder, TargetEntry, set_targets
from core.accounts.models import User
from core.db_types import utcnow
from core.demo import SHOWCASE_COMMUNE, SHOWCASE_HAMLET, STAFF, DemoPart, find_province
from core.extensions import db
from core.org.models import Unit
from core.teams.models import Membership, MembershipStatus, Team, TeamRole
from core.timeutil import local_midnight

ADMIN = next(a.username for a in STAFF if a.role == "admin")
OFFICER = next(a.username for a in STAFF if a.role == "officer" and a.unit == SHOWCASE_COMMUNE)
#: a team's monthly target per activity kind code: (low, high), drawn per team
MONTHLY_TARGETS = {
    "vneid": (20, 40), "ewallet": (15, 30), "ocop": (2, 5), "public_service": (10, 25),
    "households": (40, 80), "health_app": (10, 25), "training": (1, 2),
}
EVIDENCE = {"ocop": "https://postmart.vn/", "training": "https://zalo.me/"}


def _present() -> bool:
    return bool(db.session.scalar(select(exists().where(ActivityReport.id.isnot(None)))))


def _previous(month: Period) -> Period:
    return Period.month(month.year - (month.number == 1), 12 if month.number == 1 else month.number - 1)


def _teams(province: Unit) -> list[Team]:
    return list(db.session.scalars(
        select(Team).join(Unit, Team.unit_id == Unit.id)
        .where(Team.active, Unit.path.startswith(province.path)).order_by(Team.id)
    ))


def _leader(team: Team) -> User | None:
    return db.session.scalar(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.team_id == team.id, Membership.status == MembershipStatus.ACTIVE,
               Membership.role == TeamRole.LEADER)
    )


def _set_targets(admin: User, month: Period, teams: list[Team], kinds: dict[str, ActivityKind],
                 rng: random.Random) -> None:
    """Team targets drawn per team; each unit above gets the sum of what is below it (so the split
    check shows "đủ"), except one commune left a little short, so the warning shows too."""
    entries: list[TargetEntry] = []
    sums: dict[tuple[int, str], int] = {}
    for team in teams:
        for code, (low, high) in MONTHLY_TARGETS.items():
            quantity = rng.randint(low, high)
            entries.append(TargetEntry(Holder.of_team(team), kinds[code], quantity))
            for unit_id in team.unit.ancestor_ids():
                sums[(unit_id, code)] = sums.get((unit_id, code), 0) + quantity
    holders = {unit.id: unit for unit in db.session.scalars(select(Unit).where(Unit.id.in_({u for u, _ in sums})))}
    short = next((u for u in holders.values() if u.name == SHOWCASE_COMMUNE), None)
    for (unit_id, code), quantity in sums.items():
        unit = holders[unit_id]
        if unit.kind in ("hamlet", "enterprise"):
            continue  # a hamlet's team holds the target, not the hamlet
        # the province asks Châu Thành for 10 % more VNeID activations than its teams were given
        extra = quantity // 10 if unit is short and code == "vneid" else 0
        entries.append(TargetEntry(Holder.of_unit(unit), kinds[code], quantity + extra))
    set_targets(admin, month, entries)


def _file(team: Team, leader: User, reviewer: User, month: Period, kinds: dict[str, ActivityKind],
          share: float, at: datetime, rng: random.Random) -> ActivityReport:
    targets = dict(db.session.execute(
        select(Target.activity_id, Target.quantity).where(Target.period == month.key, Target.holder == f"t{team.id}")
    ).all())
    lines = {kind.id: max(0, round(targets.get(kind.id, 0) * share * rng.uniform(0.8, 1.2)))
             for code, kind in kinds.items()}
    link = next((url for code, url in EVIDENCE.items() if lines.get(kinds[code].id)), None)
    return reports.file_report(team, month, lines, leader, note="Tổ đi từng ngõ, gõ từng nhà trong tháng.",
                               evidence_link=link, now=at)


def _build(rng: random.Random) -> None:
    province = find_province()
    admin = db.session.scalar(select(User).where(User.username == ADMIN))
    officer = db.session.scalar(select(User).where(User.username == OFFICER))
    if province is None or admin is None or officer is None:
        return
    kinds = {k.code: k for k in db.session.scalars(select(ActivityKind).where(ActivityKind.code.in_(MONTHLY_TARGETS)))}
    now = utcnow()
    this_month = Period.month_of((now + timedelta(hours=7)).date())
    last_month = _previous(this_month)
    teams = [team for team in _teams(province) if _leader(team) is not None]
    for month in (last_month, this_month):
        _set_targets(admin, month, teams, kinds, rng)
    deadline = last_month.report_deadline()
    for n, team in enumerate(teams):
        leader = _leader(team)
        reviewer = officer if team.unit.path.startswith(officer.unit.path) else admin
        showcase = team.unit.name == SHOWCASE_HAMLET
        # last month: filed in the first half of this month, one in six after the deadline
        early, late = timedelta(days=rng.randint(2, 15)), timedelta(hours=rng.randint(5, 48))
        filed = min(deadline - early if n % 6 else deadline + late, now - timedelta(hours=2))
        report = _file(team, leader, reviewer, last_month, kinds, rng.uniform(0.55, 1.15), filed, rng)
        if n % 9 == 4:
            reason = "Thiếu danh sách người dân được hướng dẫn kèm theo; tổ bổ sung và gửi lại."
            reports.reject(report, reviewer, reason, now=filed + timedelta(hours=20))
            reports.correct_report(report, {line.activity_id: line.quantity for line in report.lines}, leader,
                                   note="Đã bổ sung danh sách kèm theo.", evidence_link=report.evidence_link,
                                   now=filed + timedelta(days=1))
        reports.verify(report, reviewer, now=min(filed + timedelta(days=2), now - timedelta(hours=1)))
        # this month: an entry so far for most teams; the showcase team's waits for the officer
        start = max(local_midnight(this_month.first_day), now - timedelta(days=25))
        if n % 4 == 3 or now - start < timedelta(hours=2):  # (no time yet on a month's first hours)
            continue
        at = start + (now - start) * rng.uniform(0.1, 0.8)
        entry = _file(team, leader, reviewer, this_month, kinds, rng.uniform(0.3, 0.8), at, rng)
        if not showcase:
            reports.verify(entry, reviewer, now=at + (now - at) / 2)
    showcase_team = next((t for t in teams if t.unit.name == SHOWCASE_HAMLET), None)
    if showcase_team is not None:  # an implausible figure waiting in the officer's queue
        at = max(now - timedelta(hours=1), local_midnight(this_month.first_day))
        reports.file_report(showcase_team, this_month, {kinds["vneid"].id: 5000}, _leader(showcase_team),
                            note="Nhập nhầm số liệu?", now=at)
    badges.evaluate_all()


def _showcase() -> list[str]:
    return [
        "Thi đua / emulation: /emulation/standings (bảng xếp hạng), /emulation/progress (tiến độ), "
        "/emulation/targets (chỉ tiêu), /emulation/reports/review (duyệt báo cáo: canbo.chauthanh)"
    ]


DEMO_EMULATION = DemoPart(name="emulation", present=_present, build=_build, showcase=_showcase)
