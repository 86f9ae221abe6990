"""Item statistics benchmark: the whole bank's statistics and its export over a season of attempts.

Builds, in a fresh SQLite database in a temporary directory (create_app + migrations), 300 approved
questions (every fifth one reworded into a second version) and 20,000 submitted attempts of 10
items each, bulk-inserted, with answers drawn from a simple response model (each question has a
difficulty and a discrimination; a few have a wrong answer key). Prints wall time and peak Python
memory (tracemalloc) of all_item_stats, item_stats and stats_workbook.
Figures only; nothing is asserted.  Run: .venv/bin/python bench/bench_item_stats.py
"""

from __future__ import annotations

import math
import random
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from measuring import measure  # noqa: E402 - bench/ is on sys.path when run as a script
from sqlalchemy import insert  # noqa: E402

from core.accounts.roles import RoleCode  # noqa: E402
from core.accounts.service import create_user  # noqa: E402
from core.app import create_app  # noqa: E402
from core.config import Config  # noqa: E402
from core.db_types import utcnow  # noqa: E402
from core.extensions import db  # noqa: E402
from core.org.models import UnitKind  # noqa: E402
from core.org.service import create_unit  # noqa: E402
from quiz import bank  # noqa: E402
from quiz.models import Attempt, AttemptItem, AttemptStatus, QuestionStatus, QuestionVersion  # noqa: E402
from quiz.stats import all_item_stats, item_stats, stats_workbook  # noqa: E402

QUESTIONS, ATTEMPTS, ITEMS, BROKEN = 300, 20_000, 10, 6
CHUNK = 10_000  # rows per executemany: bounded memory while inserting


def build_bank() -> list[list[QuestionVersion]]:
    """The versions of each question; the questions' first BROKEN ones end with a wrong answer key."""
    category_id = bank.categories()[0].id
    versions = []
    for n in range(QUESTIONS):
        choices = [f"Phương án {letter} của câu {n}" for letter in "ABCD"]
        question = bank.create_question(
            bank.QuestionInput(text=f"Câu hỏi thử số {n}?", choices=choices, correct=[n % 4],
                               category_id=category_id, difficulty="medium"),
            None, status=QuestionStatus.APPROVED, check_duplicates=False,
        )
        current = [question.current]
        if n % 5 == 0:  # a rewording that moved the choices: the text-keyed counts must add up
            second = QuestionVersion(
                question=question, number=2, kind=question.current.kind, text=f"Câu hỏi thử số {n} (sửa)?",
                choices=choices[::-1], correct=[3 - n % 4], category_id=category_id, difficulty="medium",
            )
            db.session.add(second)
            question.current = second
            current.append(second)
        versions.append(current)
    db.session.commit()
    return versions


def build_attempts(versions: list[list[QuestionVersion]]) -> None:
    rng = random.Random(2025)
    difficulty = [rng.gauss(0, 1) for _ in range(QUESTIONS)]
    # A wrong key makes the best players "wrong": negative discrimination.
    slope = [-1.5 if n < BROKEN else rng.uniform(0.3, 2.0) for n in range(QUESTIONS)]
    user = create_user("Người thi thử", RoleCode.MEMBER,
                       create_unit("Xã Thử", UnitKind.COMMUNE, create_unit("Tỉnh Thử", UnitKind.PROVINCE, None)),
                       phone="0912000001")
    shapes = [[(v.id, len(v.choices), v.correct[0]) for v in question] for question in versions]
    start = utcnow() - timedelta(days=30)
    attempts, items = [], []
    for attempt_id in range(1, ATTEMPTS + 1):
        ability, elapsed, score = rng.gauss(0, 1), 0, 0
        for position, n in enumerate(rng.sample(range(QUESTIONS), ITEMS)):
            version_id, width, right = rng.choice(shapes[n])
            spent = rng.randint(3_000, 40_000)  # answer_ms: the time since the previous save
            elapsed += spent
            if rng.random() < 0.04:
                selected, ok, answer_ms = None, False, None
            else:
                ok = rng.random() < 1 / (1 + math.exp(-slope[n] * (ability - difficulty[n])))
                selected = [right if ok else rng.choice([i for i in range(width) if i != right])]
                answer_ms = spent
            score += ok
            items.append({"attempt_id": attempt_id, "position": position, "version_id": version_id,
                          "choice_order": list(range(width)), "selected": selected, "is_correct": ok,
                          "answered_at": None if answer_ms is None else start + timedelta(milliseconds=elapsed),
                          "answer_ms": answer_ms})
        attempts.append({"id": attempt_id, "user_id": user.id, "context": "bench", "status": AttemptStatus.SUBMITTED,
                         "started_at": start, "deadline_at": start + timedelta(minutes=15),
                         "submitted_at": start + timedelta(milliseconds=elapsed), "score": score,
                         "max_score": ITEMS, "duration_ms": elapsed})
    for rows, table in ((attempts, Attempt), (items, AttemptItem)):
        for offset in range(0, len(rows), CHUNK):
            db.session.execute(insert(table), rows[offset:offset + CHUNK])
    db.session.commit()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Config(SQLALCHEMY_DATABASE_URI=f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", REDIS_URL=None))
        with app.app_context():
            upgrade()
            versions = measure(f"{QUESTIONS} questions, {QUESTIONS // 5} with 2 versions (setup)", build_bank,
                               memory=False)
            measure(f"{ATTEMPTS:,} attempts x {ITEMS} items, bulk insert (setup)",
                    lambda: build_attempts(versions), memory=False)
            stats = measure("all_item_stats(): the whole bank", all_item_stats)
            flagged = sum(1 for s in stats.values() if s.flags)
            inverted = sum(1 for s in stats.values() if s.discrimination is not None and s.discrimination < 0)
            print(f"    → {len(stats)} questions, asked {min(s.asked for s in stats.values())}–"
                  f"{max(s.asked for s in stats.values())} times; {flagged} flagged, {inverted} with D < 0")
            means = [s.mean_answer_seconds for s in stats.values() if s.mean_answer_seconds is not None]
            print(f"    → mean answer time {min(means):.1f}–{max(means):.1f} s across questions "
                  f"(each item took 3–40 s after the previous one)")
            one = versions[0][0].question_id
            measure("item_stats(): one question (the question page)", lambda: item_stats(one))
            print(f"    → {item_stats(one)}")
            workbook = measure("stats_workbook(): the export", lambda: stats_workbook(stats))
            print(f"    → {len(workbook):,} bytes")
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
