"""Rows and worlds shared by the emulation test modules.

- Activities, targets and reports written as rows and announced with the report_changed signal,
  as the reports service does (badges, levels, feed, monthly reports): ``set_target``, ``file``,
  ``review``, ``verified``; ``feed_texts``.
- Schemes, targets and reports written as rows for scoring and standings: ``add_scheme``,
  ``target``, ``report``.
- The reports' world (a team with its leader, deputy, member and the commune's officers) and
  evidence photos: ``World``, ``build_world``, ``JPEG``/``PNG``/``WEBP``, ``upload``, ``files_in``,
  ``count_reports``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from competitions import signals
from competitions.emulation import feed
from competitions.emulation.models import (
    ActivityKind,
    ActivityReport,
    Criterion,
    ReportLine,
    ReportStatus,
    Scheme,
    Target,
    holder_key,
)
from competitions.emulation.periods import Period
from core.accounts.models import User
from core.accounts.roles import RoleCode
from core.extensions import db
from core.teams.models import Team, TeamRole
from tests.factories import Factory, Tree

MONTH = "2025-03"
VERIFIED_AT = datetime(2025, 3, 20, 3, 0, tzinfo=UTC)
MARCH = Period.parse(MONTH)
BANDS = [
    {"name": "Hoàn thành xuất sắc", "min_points": 90, "min_ratio": 0.85},
    {"name": "Hoàn thành tốt", "min_points": 80, "min_ratio": 0.80},
    {"name": "Hoàn thành", "min_points": 70, "min_ratio": 0.70},
]


# --- activities, targets and reports as rows, announced --------------------------------------------


def activity(code: str) -> ActivityKind:
    return db.session.scalar(select(ActivityKind).where(ActivityKind.code == code))


def set_target(team: Team, code: str, quantity: int, month: str = MONTH) -> Target:
    target = Target(period=month, activity_id=activity(code).id, holder=holder_key(team_id=team.id), team_id=team.id,
                    quantity=quantity)
    db.session.add(target)
    db.session.flush()
    return target


def file(team: Team, quantities: dict[str, int], by: User, month: str = MONTH) -> ActivityReport:
    """A submitted report (announced as filed)."""
    report = ActivityReport(team_id=team.id, month=month, filed_by_id=by.id, status=ReportStatus.SUBMITTED)
    report.lines = [ReportLine(activity_id=activity(code).id, quantity=q) for code, q in quantities.items()]
    db.session.add(report)
    db.session.flush()
    signals.report_changed.send(report, before=None)
    return report


def review(report: ActivityReport, status: str, at: datetime = VERIFIED_AT, reason: str = "") -> ActivityReport:
    """Verify or reject a report as the reports service does: change, flush, announce."""
    before = report.status
    report.status, report.reviewed_at, report.review_reason = status, at, reason
    db.session.flush()
    signals.report_changed.send(report, before=before)
    return report


def verified(team: Team, quantities: dict[str, int], by: User, at: datetime = VERIFIED_AT,
             month: str = MONTH) -> ActivityReport:
    return review(file(team, quantities, by, month), ReportStatus.VERIFIED, at)


def feed_texts(team: Team, kind: str) -> list[str]:
    return [item.text for item in feed.team_feed(team, limit=100) if item.kind.split(":")[0] == kind]


# --- schemes, targets and reports as rows (scoring, standings) -------------------------------------


def add_scheme(rows: list[tuple[str, str | None, float, float]], effective_from: str = "2024-01",
               bands: list[dict[str, object]] | None = None) -> Scheme:
    """A version in force from ``effective_from``: rows of (kind, activity code, points, cap)."""
    version = (db.session.scalar(select(func.max(Scheme.version))) or 0) + 1
    scheme = Scheme(version=version, name=f"Thử {version}", effective_from=effective_from, bands=bands or BANDS,
                    criteria=[Criterion(kind=kind, activity_id=activity(code).id if code else None, points=points,
                                        cap=cap, position=n) for n, (kind, code, points, cap) in enumerate(rows)])
    db.session.add(scheme)
    db.session.flush()
    return scheme


def target(team: Team, code: str, quantity: int, period: Period = MARCH) -> Target:
    return set_target(team, code, quantity, period.key)


def report(team: Team, lines: dict[str, int], filer: User, month: str = "2025-03",
           status: ReportStatus = ReportStatus.VERIFIED, filed_at: datetime | None = None) -> ActivityReport:
    entry = ActivityReport(team_id=team.id, month=month, status=status, filed_by_id=filer.id,
                           filed_at=filed_at or datetime(2025, 4, 2, tzinfo=UTC),
                           lines=[ReportLine(activity_id=activity(code).id, quantity=q) for code, q in lines.items()])
    db.session.add(entry)
    db.session.flush()
    return entry


# --- the reports' world and evidence photos --------------------------------------------------------


def _photo(kind: str) -> bytes:
    """A real (tiny) photo: stored photos are decoded and written again (competitions.emulation.evidence)."""
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 120, 40)).save(out, format=kind)
    return out.getvalue()


JPEG, PNG, WEBP = _photo("JPEG"), _photo("PNG"), _photo("WEBP")


def upload(data: bytes, name: str = "anh.jpg") -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=name)


@dataclass
class World:
    tree: Tree
    team: Team  # ten active members in Ấp Phước Lợi (Xã Châu Thành)
    leader: User
    deputy: User
    member: User
    officer: User  # cán bộ Xã Châu Thành
    other_officer: User  # cán bộ Phường Rạch Giá, beside it
    kinds: dict[str, ActivityKind]

    def q(self, **quantities: int) -> dict[int, int]:
        """Report lines by activity code: ``w.q(vneid=5)``."""
        return {self.kinds[code].id: quantity for code, quantity in quantities.items()}


def build_world(make: Factory, tree: Tree) -> World:
    team = make.team(tree.hamlet)
    leader = make.member(team, TeamRole.LEADER, full_name="Nguyễn Tổ Trưởng").user
    deputy = make.member(team, TeamRole.DEPUTY, full_name="Lê Tổ Phó").user
    member = make.fill(team, 8)[0].user
    kinds = {kind.code: kind for kind in db.session.scalars(select(ActivityKind))}
    return World(
        tree=tree, team=team, leader=leader, deputy=deputy, member=member,
        officer=make.user(RoleCode.OFFICER, tree.commune, full_name="Cán Bộ Xã"),
        other_officer=make.user(RoleCode.OFFICER, tree.other_commune, full_name="Cán Bộ Phường"),
        kinds=kinds,
    )


def count_reports() -> int:
    return db.session.scalar(select(func.count()).select_from(ActivityReport))


def files_in(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []
