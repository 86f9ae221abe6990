"""What an import found, row by row: shared by the importers, the preview page and the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Self

from core.spreadsheet import Row


class RowStatus(StrEnum):
    NEW = "new"  # will be created
    UNCHANGED = "unchanged"  # already in place, nothing to do
    ERROR = "error"


@dataclass
class RowError:
    column: str | None  # column key, None: about the whole row (e.g. an 11th member)
    message: str


@dataclass
class PlanRow:
    number: int
    values: dict[str, str]
    status: RowStatus = RowStatus.NEW
    note: str = ""  # what the row resolved to, e.g. "Xã · thuộc Tỉnh An Giang"
    errors: list[RowError] = field(default_factory=list)

    @property
    def error_columns(self) -> set[str]:
        return {error.column for error in self.errors if error.column}


@dataclass
class ImportPlan:
    """The outcome of checking (and, when clean and asked to, writing) one file."""

    columns: dict[str, tuple[str, ...]]  # key -> header aliases; the first names the column in messages
    rows: list[PlanRow]
    warnings: list[str] = field(default_factory=list)
    written: bool = False

    @classmethod
    def from_rows(cls, columns: dict[str, tuple[str, ...]], rows: list[Row]) -> Self:
        return cls(columns, [PlanRow(row.number, dict(row.values)) for row in rows])

    def fail(self, row: PlanRow, column: str | None, message: str) -> None:
        row.status = RowStatus.ERROR
        row.errors.append(RowError(column, message))

    @property
    def ok(self) -> bool:
        return all(row.status != RowStatus.ERROR for row in self.rows)

    def count(self, status: RowStatus) -> int:
        return sum(1 for row in self.rows if row.status == status)

    @property
    def error_rows(self) -> list[PlanRow]:
        return [row for row in self.rows if row.status == RowStatus.ERROR]

    def visible_rows(self, clean_limit: int) -> list[PlanRow]:
        """What a preview shows: every row with an error, and the first ``clean_limit`` clean ones."""
        shown, clean = [], 0
        for row in self.rows:
            if row.status == RowStatus.ERROR:
                shown.append(row)
            elif clean < clean_limit:
                shown.append(row)
                clean += 1
        return shown

    def column_label(self, key: str | None) -> str:
        return self.columns[key][0] if key in self.columns else ""

    def error_lines(self) -> list[str]:
        """Every error as one line for the command line: ``row 5: “Số điện thoại”: …``. The
        ``row N:`` prefix stays untranslated so that scripts can read it."""
        lines = []
        for row in self.error_rows:
            for error in row.errors:
                column = f"“{self.column_label(error.column)}”: " if error.column else ""
                lines.append(f"row {row.number}: {column}{error.message}")
        return lines
