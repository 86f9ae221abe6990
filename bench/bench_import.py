"""Spreadsheet import benchmark: how fast an oversized roster is refused, how fast a big one is checked
and written.

Builds, in a temporary directory, a 50,000-row and a 10,000-row member workbook ("Phụ lục 1" columns)
and a fresh SQLite database (create_app + migrations) holding a province of 10 communes, 1,000
hamlets and 1,000 teams. Prints wall time and peak Python memory (tracemalloc) of each step.
Figures only; nothing is asserted.  Run: .venv/bin/python bench/bench_import.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from measuring import measure  # noqa: E402 - bench/ is on sys.path when run as a script
from openpyxl import Workbook  # noqa: E402

from core.app import create_app  # noqa: E402
from core.config import Config  # noqa: E402
from core.errors import ValidationError  # noqa: E402
from core.extensions import db  # noqa: E402
from core.org.importer import import_units  # noqa: E402
from core.org.models import Unit, UnitKind  # noqa: E402
from core.spreadsheet import Row, Table  # noqa: E402
from core.teams.importer import import_members, read_members_file  # noqa: E402
from core.teams.service import create_team  # noqa: E402

COMMUNES, HAMLETS_PER_COMMUNE, MEMBERS_PER_TEAM = 10, 100, 10


def hamlet(commune: int, number: int) -> str:
    return f"Thôn {number} - Xã Số {commune}"


def write_roster(path: Path, rows: int) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Danh sách")
    sheet.append(["DANH SÁCH TỔ CÔNG NGHỆ SỐ CỘNG ĐỒNG"])
    sheet.append(["STT", "Tên Tổ CNSCĐ", "Họ và tên", "Chức vụ", "Số điện thoại"])
    positions = ["Tổ trưởng", "Tổ phó"] + ["Tổ viên"] * (MEMBERS_PER_TEAM - 2)
    for i in range(rows):
        team = i // MEMBERS_PER_TEAM % (COMMUNES * HAMLETS_PER_COMMUNE)
        commune, number = team // HAMLETS_PER_COMMUNE + 1, team % HAMLETS_PER_COMMUNE + 1
        sheet.append([i + 1, hamlet(commune, number), f"Thành viên {i}", positions[i % MEMBERS_PER_TEAM],
                      float(970_000_000 + i)])  # as Excel stores a typed-in phone
    workbook.save(path)


def build_province() -> None:
    data = [("Tỉnh Thử Nghiệm", "Tỉnh", "")]
    for c in range(1, COMMUNES + 1):
        data.append((f"Xã Số {c}", "Xã", "Tỉnh Thử Nghiệm"))
        data += [(hamlet(c, h), "Thôn", f"Xã Số {c}") for h in range(1, HAMLETS_PER_COMMUNE + 1)]
    plan = import_units([Row(i + 2, dict(zip(("name", "kind", "parent"), values, strict=True)))
                         for i, values in enumerate(data)])
    assert plan.written, plan.error_lines()[:5]
    for unit in db.session.query(Unit).filter(Unit.kind == UnitKind.HAMLET):
        create_team(unit, f"Tổ CNSCĐ {unit.name}")
    db.session.commit()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        big, small = directory / "roster-50000.xlsx", directory / "roster-10000.xlsx"
        measure("write the 50,000-row workbook (openpyxl, write-only)", lambda: write_roster(big, 50_000), memory=False)
        measure("write the 10,000-row workbook", lambda: write_roster(small, 10_000), memory=False)
        app = create_app(Config(SQLALCHEMY_DATABASE_URI=f"sqlite:///{directory / 'bench.sqlite3'}", REDIS_URL=None))
        with app.app_context():
            upgrade()
            measure("org import: 1,011 units, then 1,000 teams (setup)", build_province, memory=False)
            province = db.session.query(Unit).filter(Unit.name == "Tỉnh Thử Nghiệm").one()
            limit = app.config["IMPORT_MAX_ROWS"]

            def refuse() -> str:
                try:
                    with big.open("rb") as stream:
                        read_members_file(big.name, stream)
                except ValidationError as error:
                    return error.message
                return "NOT REFUSED"

            message = measure(f"read + refuse 50,000 rows (limit {limit:,})", refuse)
            print(f"    → {message}")
            def read_small() -> Table:
                with small.open("rb") as stream:
                    return read_members_file(small.name, stream)

            table = measure("read 10,000 rows", read_small)
            plan = measure(
                "check 10,000 rows against the database (dry run)",
                lambda: import_members(table.rows, province, actor=None, dry_run=True),
            )
            print(f"    → {plan.count('new'):,} new, {len(plan.error_rows):,} with errors, {len(plan.teams):,} teams")

            def write() -> None:
                import_members(table.rows, province, actor=None)
                db.session.commit()

            measure("import 10,000 new members (checked again, written, committed)", write)
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
