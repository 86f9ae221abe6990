"""Benchmark: emulation scoring and standings for a province of tens of thousands of teams.

Builds (bulk inserts) a province of BENCH_COMMUNES communes with BENCH_TEAMS teams in all (one per
hamlet), BENCH_TEAM_SIZE members each, this month's targets for every team and activity kind, one
verified report per team, and a closed round of this month taken by 60 % of the members. Then prints
the time (best and median of BENCH_REPEAT runs) and SQL statements of:
  - scoring every team of the province for the month (scoring.team_scores), and for the quarter;
  - the communes' ranking (scoring.unit_scores);
  - the standings page (teams tab, province-wide) and a team page, through the app (test client);
  - moving the boards after one verified report: the verification, then the board refresh the
    broadcaster runs (leaderboard.broadcast.tick) with the month's, quarter's and year's boards built;
  - the province's compiled monthly report and one commune's report as Excel.

Settings (environment): BENCH_TEAMS (10000), BENCH_COMMUNES (100), BENCH_TEAM_SIZE (5),
BENCH_REPEAT (3), BENCH_DATABASE_URL (default: database bench_emulation on the local PostgreSQL,
dropped and rebuilt). The rank store is the in-process one (no Redis needed).
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.serving import SECRET, postgres_missing, recreate_database  # noqa: E402

TEAMS = int(os.environ.get("BENCH_TEAMS", "10000"))
COMMUNES = int(os.environ.get("BENCH_COMMUNES", "100"))
TEAM_SIZE = int(os.environ.get("BENCH_TEAM_SIZE", "5"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))
DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench_emulation")


class Statements:
    """Counts the SQL statements sent while it is active."""

    def __init__(self, engine: sa.Engine) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: object) -> None:
        self.count += 1


def measure(label: str, work: Callable[[], object], statements: Statements, repeat: int = REPEAT) -> None:
    times, counts = [], []
    for _ in range(repeat):
        before = statements.count
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
        counts.append(statements.count - before)
    print(f"{label:<58} best {min(times) * 1000:8.0f} ms  median {statistics.median(times) * 1000:8.0f} ms"
          f"  {max(counts):5d} statements")


def build() -> dict[str, int]:
    """The province, in bulk (seconds for 50,000 people). Returns ids the measurements need."""
    from competitions.emulation.models import ActivityKind, ActivityReport, ReportLine, ReportStatus, Target
    from competitions.emulation.periods import current_month
    from competitions.models import Entry, Round, RoundStatus
    from core.accounts.models import User
    from core.db_types import utcnow
    from core.extensions import db
    from core.org import service as org
    from core.org.models import Unit, UnitKind
    from core.teams.models import Membership, Team
    from quiz.models import Attempt

    rng = random.Random(7)
    now = utcnow()
    month = current_month(now)
    province = org.create_unit("Tỉnh Thử Tải", UnitKind.PROVINCE, None)
    communes = [org.create_unit(f"Xã Thử Tải {n}", UnitKind.COMMUNE, province) for n in range(COMMUNES)]
    db.session.execute(sa.insert(Unit), [
        {"name": f"Ấp {n}", "kind": UnitKind.HAMLET, "parent_id": communes[n % COMMUNES].id, "path": "",
         "depth": 3, "active": True, "created_at": now}
        for n in range(TEAMS)
    ])
    db.session.execute(sa.text(
        "UPDATE units SET path = (SELECT p.path FROM units p WHERE p.id = units.parent_id) || units.id || '/' "
        "WHERE kind = 'hamlet'"
    ))
    hamlets = db.session.execute(sa.select(Unit.id).where(Unit.kind == UnitKind.HAMLET).order_by(Unit.id)).scalars()
    db.session.execute(sa.insert(Team), [{"name": f"Tổ {n}", "unit_id": h, "created_at": now}
                                         for n, h in enumerate(hamlets)])
    teams = db.session.execute(sa.select(Team.id, Team.unit_id).order_by(Team.id)).all()
    people = TEAMS * TEAM_SIZE
    db.session.execute(sa.insert(User), [
        {"full_name": f"Thành viên {n}", "username": f"tv{n}", "role_code": "member",
         "unit_id": teams[n // TEAM_SIZE].unit_id, "created_at": now, "active": True}
        for n in range(people)
    ])
    user_ids = list(db.session.scalars(sa.select(User.id).where(User.username.like("tv%")).order_by(User.id)))
    joined = now - timedelta(days=90)
    db.session.execute(sa.insert(Membership), [
        {"team_id": teams[i // TEAM_SIZE].id, "user_id": uid, "role": "leader" if i % TEAM_SIZE == 0 else "member",
         "status": "active", "requested_at": joined, "joined_at": joined}
        for i, uid in enumerate(user_ids)
    ])
    kinds = list(db.session.scalars(sa.select(ActivityKind).order_by(ActivityKind.id)))
    db.session.execute(sa.insert(Target), [
        {"period": month.key, "activity_id": k.id, "holder": f"t{team_id}", "team_id": team_id,
         "quantity": rng.randint(10, 40), "updated_at": now}
        for team_id, _ in teams for k in kinds
    ])
    db.session.execute(sa.insert(ActivityReport), [
        {"team_id": team_id, "month": month.key, "status": ReportStatus.VERIFIED, "note": "", "late": False,
         "flagged": False, "filed_by_id": user_ids[i * TEAM_SIZE], "filed_at": now - timedelta(hours=3),
         "reviewed_at": now - timedelta(hours=2), "review_reason": ""}
        for i, (team_id, _) in enumerate(teams)
    ])
    report_ids = db.session.scalars(sa.select(ActivityReport.id).order_by(ActivityReport.id)).all()
    db.session.execute(sa.insert(ReportLine), [
        {"report_id": r, "activity_id": k.id, "quantity": rng.randint(0, 40), "flagged": False}
        for r in report_ids for k in kinds
    ])
    opened = max(month.starts_at, now - timedelta(days=2))
    round_ = Round(title="Đợt thi thử tải", opens_at=opened, closes_at=now - timedelta(minutes=5),
                   scope_unit_id=province.id, draw_plan=[{"count": 10, "category_id": None, "difficulty": None}],
                   time_limit_seconds=600, status=RoundStatus.PUBLISHED, published_at=opened, finalised_at=now)
    db.session.add(round_)
    db.session.flush()
    takers = [(i, uid) for i, uid in enumerate(user_ids) if rng.random() < 0.6]
    db.session.execute(sa.insert(Entry), [
        {"round_id": round_.id, "user_id": uid, "team_id": teams[i // TEAM_SIZE].id,
         "unit_id": teams[i // TEAM_SIZE].unit_id, "is_public": False, "created_at": opened}
        for i, uid in takers
    ])
    db.session.execute(sa.insert(Attempt), [
        {"user_id": uid, "context": round_.context, "status": "submitted", "started_at": opened,
         "deadline_at": opened + timedelta(minutes=10), "submitted_at": opened + timedelta(minutes=6),
         "score": rng.randint(3, 10), "max_score": 10, "duration_ms": 360_000}
        for _, uid in takers
    ])
    admin = User(full_name="Quản trị thử tải", username="admin", role_code="admin", active=True)
    db.session.add(admin)
    db.session.commit()
    pending = ActivityReport(team_id=teams[0].id, month=month.key, status=ReportStatus.SUBMITTED,
                             filed_by_id=user_ids[0], filed_at=now - timedelta(hours=1))
    pending.lines = [ReportLine(activity_id=kinds[0].id, quantity=30)]
    db.session.add(pending)
    db.session.commit()
    return {"province": province.id, "commune": communes[0].id, "team": teams[0].id, "admin": admin.id,
            "pending": pending.id}


def main() -> None:
    missing = postgres_missing()
    if missing:
        print(f"skipped: {missing}")
        return
    from flask_migrate import upgrade

    from competitions.emulation import monthly_reports, reports, scoring
    from competitions.emulation.models import ActivityReport
    from competitions.emulation.periods import current_month
    from core.accounts.models import User
    from core.app import create_app
    from core.config import Config
    from core.db_types import utcnow
    from core.extensions import db
    from core.org.models import Unit
    from leaderboard import broadcast, service

    recreate_database(DB_URL)
    app = create_app(Config(SQLALCHEMY_DATABASE_URI=DB_URL, SECRET_KEY=SECRET, REDIS_URL=None,
                            BOARD_BROADCASTER=False, BOARD_AGGREGATE_INTERVAL_MS=0, WTF_CSRF_ENABLED=False))
    with app.app_context():
        upgrade()
        started = time.perf_counter()
        ids = build()
        print(f"province: {COMMUNES} communes, {TEAMS} teams, {TEAMS * TEAM_SIZE} members; "
              f"built in {time.perf_counter() - started:.1f} s (bulk inserts)")
        statements = Statements(db.engine)
        month = current_month(utcnow())
        quarter = month.parents()[0]
        province = db.session.get(Unit, ids["province"])
        measure("score every team, month (scoring.team_scores)", lambda: scoring.team_scores(month), statements)
        measure("score every team, quarter", lambda: scoring.team_scores(quarter), statements)
        measure("rank the communes (scoring.unit_scores)",
                lambda: scoring.unit_scores(month, province, "commune"), statements)
        db.session.rollback()

    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(ids["admin"])
        session["_fresh"] = True

    def get(url: str) -> None:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    with app.app_context():
        statements = Statements(db.engine)
        measure("standings page, teams of the province (GET)", lambda: get("/emulation/standings"), statements)
        measure("standings page, communes tab (GET)", lambda: get("/emulation/standings?tab=communes"), statements)
        measure("team page with breakdown, progress, badges (GET)",
                lambda: get(f"/emulation/teams/{ids['team']}"), statements)
        for kind in ("teams", "communes"):  # the boards a projector would hold open
            for group in [month, *month.parents()]:
                service.ensure_built(f"emulation:{group.key}:{kind}")
        db.session.commit()
        broadcast.tick()  # what building queued

        def verify_and_move() -> None:
            report = db.session.get(ActivityReport, ids["pending"])
            reports.verify(report, db.session.get(User, ids["admin"]))
            db.session.commit()
            verified = time.perf_counter()
            updates = broadcast.tick()
            moved = time.perf_counter()
            print(f"    verify + commit then board refresh: refresh {(moved - verified) * 1000:.0f} ms, "
                  f"{len(updates)} board updates")

        measure("verify one report, then refresh its boards (tick)", verify_and_move, statements, repeat=1)
        province, commune = db.session.get(Unit, ids["province"]), db.session.get(Unit, ids["commune"])
        today = utcnow().date()
        measure("compiled monthly report of the province (Excel)",
                lambda: monthly_reports.compiled_workbook(monthly_reports.compiled_report(province, month), today),
                statements, repeat=1)
        measure("one commune's monthly report (Excel)",
                lambda: monthly_reports.commune_workbook(monthly_reports.commune_report(commune, month), today),
                statements)


if __name__ == "__main__":
    main()
