"""Results benchmark: how fast a big round is ranked and its team and unit results computed.

Builds, in a temporary directory, a fresh SQLite database (create_app + migrations) holding a
province of 20 communes and 500 hamlets with one team each, 10,000 members (20 per team, written
in bulk past the team-size rule), and a best-of-3 round with a prediction question in which 9,000
of them submitted 12,000 attempts (3,000 took two), inserted in bulk next to the 48,000 attempts
of four earlier rounds. Prints the best of three runs of each computation. Figures only; nothing
is asserted.  Run: .venv/bin/python bench/bench_results.py
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from competitions import results  # noqa: E402
from competitions.models import AttemptPolicy, Entry, Round, RoundStatus  # noqa: E402
from core.accounts.models import User  # noqa: E402
from core.app import create_app  # noqa: E402
from core.config import Config  # noqa: E402
from core.extensions import db  # noqa: E402
from core.org.models import Unit, UnitKind  # noqa: E402
from core.org.service import create_unit  # noqa: E402
from core.teams.models import Membership, MembershipStatus, Team  # noqa: E402
from quiz.models import Attempt, AttemptStatus  # noqa: E402

COMMUNES, HAMLETS_PER_COMMUNE, MEMBERS_PER_TEAM = 20, 25, 20
PARTICIPANTS, SECOND_ATTEMPTS, QUESTIONS, EARLIER_ROUNDS = 9_000, 3_000, 10, 4
OPENS = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)


def measure(label: str, step: Callable[[], object], runs: int = 3) -> object:
    best, result = float("inf"), None
    for _ in range(runs):
        started = time.perf_counter()
        result = step()
        best = min(best, time.perf_counter() - started)
    print(f"{label:<52} {best * 1000:8.1f} ms")
    return result


def build_province() -> list[Unit]:
    """The hamlets, each of which gets one team."""
    province = create_unit("Tỉnh Thử Nghiệm", UnitKind.PROVINCE, None)
    hamlets = []
    for c in range(COMMUNES):
        commune = create_unit(f"Xã Số {c + 1}", UnitKind.COMMUNE, province)
        hamlets += [create_unit(f"Ấp {h + 1}", UnitKind.HAMLET, commune) for h in range(HAMLETS_PER_COMMUNE)]
    db.session.flush()
    return hamlets


def build_people(hamlets: list[Unit]) -> list[tuple[int, int, int]]:
    """(user id, team id, unit id) of every member, written in bulk."""
    db.session.execute(insert(Team), [{"name": f"Tổ CNSCĐ {h.name} {h.id}", "unit_id": h.id} for h in hamlets])
    teams = list(db.session.execute(select(Team.id, Team.unit_id).order_by(Team.id)))
    db.session.execute(insert(User), [
        {"full_name": f"Thành viên {i}", "phone": f"09{i:08d}", "role_code": "member", "unit_id": unit_id}
        for i, (_team_id, unit_id) in enumerate(t for t in teams for _ in range(MEMBERS_PER_TEAM))
    ])
    user_ids = list(db.session.scalars(select(User.id).where(User.role_code == "member").order_by(User.id)))
    people = [(user_id, *teams[index // MEMBERS_PER_TEAM]) for index, user_id in enumerate(user_ids)]
    joined = OPENS - timedelta(days=30)
    db.session.execute(insert(Membership), [
        {"team_id": team_id, "user_id": user_id, "role": "member", "status": MembershipStatus.ACTIVE,
         "requested_at": joined, "joined_at": joined}
        for user_id, team_id, _unit_id in people
    ])
    return people


def build_round(province: Unit, people: list[tuple[int, int, int]], rng: random.Random) -> Round:
    round_ = Round(
        title="Tuần 1", opens_at=OPENS, closes_at=OPENS + timedelta(days=7), scope_unit_id=province.id,
        draw_plan=[{"count": QUESTIONS, "category_id": None, "difficulty": None}], status=RoundStatus.PUBLISHED,
        attempt_policy=AttemptPolicy.BEST_OF_N, max_attempts=3, prediction_kind="participants",
        prediction_question="Bao nhiêu người dự thi?",
    )
    db.session.add(round_)
    db.session.flush()
    takers = rng.sample(people, PARTICIPANTS)
    db.session.execute(insert(Entry), [
        {"round_id": round_.id, "user_id": user_id, "team_id": team_id, "unit_id": unit_id,
         "prediction": rng.randint(5_000, 12_000) if rng.random() < 0.9 else None}
        for user_id, team_id, unit_id in takers
    ])
    rows = []
    for user_id, _team_id, _unit_id in takers + takers[:SECOND_ATTEMPTS]:
        started = OPENS + timedelta(seconds=rng.randint(0, 7 * 86_400 - 700))
        duration = rng.randint(30_000, 600_000)
        rows.append({
            "user_id": user_id, "context": round_.context, "status": AttemptStatus.SUBMITTED,
            "started_at": started, "deadline_at": started + timedelta(minutes=10),
            "submitted_at": started + timedelta(milliseconds=duration), "duration_ms": duration,
            "score": rng.randint(0, QUESTIONS), "max_score": QUESTIONS,
        })
    db.session.execute(insert(Attempt), rows)
    # The same table holds the attempts of earlier rounds: a query must not read them.
    for earlier in range(1, EARLIER_ROUNDS + 1):
        db.session.execute(insert(Attempt), [{**row, "context": f"round:{round_.id + earlier}"} for row in rows])
    return round_


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(Config(SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder}/bench.sqlite3", SECRET_KEY="bench"))
        with app.app_context(), app.test_request_context():
            upgrade()
            rng = random.Random(42)
            hamlets = build_province()
            people = build_people(hamlets)
            round_ = build_round(db.session.get(Unit, hamlets[0].parent.parent_id), people, rng)
            db.session.commit()
            print(f"{len(hamlets)} teams, {len(people):,} members, {PARTICIPANTS:,} participants, "
                  f"{PARTICIPANTS + SECOND_ATTEMPTS:,} submitted attempts, "
                  f"{EARLIER_ROUNDS * (PARTICIPANTS + SECOND_ATTEMPTS):,} of earlier rounds (SQLite)")
            measure("finalise (prediction's true value)", lambda: results.finalise(round_, round_.closes_at), 1)
            print(f"  true value: {round_.prediction_answer}")
            measure("ranking, first page of 25", lambda: results.ranking_page(round_, None, 1))
            measure("ranking, last page of 25", lambda: results.ranking_page(round_, None, 10_000))
            measure("one person's rank (standing_of)", lambda: results.standing_of(round_, people[0][0]))
            measure("ranking, everyone", lambda: results.ranking(round_))
            measure("team results (500 teams)", lambda: results.team_results(round_))
            measure("unit results (province, 20 communes)", lambda: results.unit_results(round_))
            measure("live participation per commune", lambda: results.live_participation(round_))
            measure("round statistics (without questions)", lambda: results.round_stats(round_, False))
            measure("export of individuals (.xlsx)", lambda: results.export_individuals(round_), 1)
            db.session.remove()


if __name__ == "__main__":
    main()
