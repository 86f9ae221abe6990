"""Question import benchmark: read, preview (validation and duplicate checks) and import of 5,000 questions.

Builds a 5,000-question workbook in the import layout in a temporary directory, then on a fresh SQLite
database (create_app + migrations) and, when BENCH_DATABASE_URL names a PostgreSQL database (whose
public schema is DROPPED and recreated), on PostgreSQL too: reads the file, previews it into the
empty bank, imports it (flush rolled back, then flush + commit), previews it again against the full
bank (5,000 duplicates) and exports the bank. Prints wall time and peak Python memory (tracemalloc)
of each step. Figures only; nothing is asserted.  Run: .venv/bin/python bench/bench_quiz_import.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from bench_import import measure  # noqa: E402 - the sibling benchmark's timer
from flask_migrate import upgrade  # noqa: E402
from openpyxl import Workbook  # noqa: E402

from core.app import create_app  # noqa: E402
from core.config import Config  # noqa: E402
from core.extensions import db  # noqa: E402
from quiz.exporter import export_questions  # noqa: E402
from quiz.importer import HEADERS, import_questions, read_questions_file  # noqa: E402
from quiz.models import QuestionStatus  # noqa: E402

QUESTIONS = 5_000
CATEGORIES = ("Chính quyền số", "Kinh tế số", "Xã hội số", "Chủ trương – chính sách", "Kỹ năng số & an toàn thông tin")
LEVELS = ("Dễ", "Trung bình", "Khó")


def write_bank(path: Path) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Ngân hàng")
    sheet.append(["NGÂN HÀNG CÂU HỎI THI TÌM HIỂU CHUYỂN ĐỔI SỐ"])
    sheet.append(["Ngày 20/4/2025"])
    sheet.append(HEADERS)
    for i in range(QUESTIONS):
        if i % 5 == 4:
            kind, choices, correct = "Đúng/Sai", ["Đúng", "Sai"], "B"
        elif i % 5 == 3:
            kind, choices, correct = "Nhiều đáp án", [f"Phương án {c} của câu {i}" for c in "ABCDE"], "A, C"
        else:
            kind, choices, correct = "", [f"Phương án {c} của câu {i}" for c in "ABCD"], "ABCD"[i % 4]
        sheet.append([
            i + 1, f"Câu hỏi số {i} về chuyển đổi số:\nứng dụng, dịch vụ công và kỹ năng số ({i * 7919 % 10007})?",
            kind, *choices, *[""] * (6 - len(choices)), correct, CATEGORIES[i % 5], LEVELS[i % 3],
            f"Giải thích cho câu {i}: căn cứ theo hướng dẫn của Sở.", "Quyết định 06/QĐ-TTg", "chuyển đổi số, thử",
        ])
    workbook.save(path)


def database_urls(directory: Path) -> list[tuple[str, str]]:
    urls = [("SQLite", f"sqlite:///{directory / 'bench.sqlite3'}")]
    postgres = os.environ.get("BENCH_DATABASE_URL")
    if postgres:
        engine = sa.create_engine(postgres)
        try:
            with engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA public CASCADE"))
                conn.execute(sa.text("CREATE SCHEMA public"))
            urls.append(("PostgreSQL", postgres))
        except sa.exc.OperationalError as error:
            print(f"PostgreSQL at BENCH_DATABASE_URL not reachable ({error.__class__.__name__}); skipped")
        finally:
            engine.dispose()
    else:
        print("BENCH_DATABASE_URL not set: PostgreSQL skipped")
    return urls


def bench(backend: str, url: str, path: Path) -> None:
    print(f"== {backend}")
    app = create_app(Config(SQLALCHEMY_DATABASE_URI=url, REDIS_URL=None))
    with app.app_context():
        upgrade()

        def read():  # noqa: ANN202
            with path.open("rb") as stream:
                return read_questions_file(path.name, stream)

        table = measure(f"read {QUESTIONS:,} rows (openpyxl read-only, formulas refused)", read)

        def check():  # noqa: ANN202
            return import_questions(table.rows, None, QuestionStatus.APPROVED, table.headers, dry_run=True)

        plan = measure("preview into the empty bank (validate, duplicates)", check)
        print(f"    → {plan.count('new'):,} valid, {len(plan.error_rows):,} with errors")

        def import_rolled_back() -> None:
            import_questions(table.rows, None, QuestionStatus.APPROVED, table.headers)
            db.session.rollback()

        measure("import (check + write, rolled back)", import_rolled_back)

        def import_all() -> int:
            plan = import_questions(table.rows, None, QuestionStatus.APPROVED, table.headers)
            db.session.commit()
            return len(plan.question_ids)

        print(f"    → {measure('import (check + write + commit)', import_all, memory=False):,} questions written")
        db.session.expunge_all()
        plan = measure(f"preview again: {QUESTIONS:,} duplicates of the bank", check)
        print(f"    → {len(plan.error_rows):,} rows reported as duplicates")
        size = measure("export the bank to .xlsx", lambda: len(export_questions()))
        print(f"    → {size / 1_048_576:.1f} MiB")
        db.session.remove()
        db.engine.dispose()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        path = directory / "ngan-hang-5000.xlsx"
        measure(f"write the {QUESTIONS:,}-question workbook", lambda: write_bank(path), memory=False)
        print(f"    → {path.stat().st_size / 1_048_576:.1f} MiB")
        for backend, url in database_urls(directory):
            bench(backend, url, path)


if __name__ == "__main__":
    main()
