"""Emulation periods: a month, a quarter or a year, named by a key ("2026-11", "2026-Q4", "2026").

Targets and scores belong to a period; reports to a month. A month's report is due by the deadline
day (setting REPORT_DEADLINE_DAY, default 20) of the following month, 23:59 local time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from flask import abort, current_app, request
from flask_babel import gettext as _

from core.db_types import utcnow
from core.errors import ValidationError
from core.timeutil import local_midnight, to_local

MIN_YEAR, MAX_YEAR = 2020, 2100
_KEY = re.compile(r"^(\d{4})(?:-(Q[1-4]|\d{2}))?$")


class PeriodKind(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


@dataclass(frozen=True, order=True)
class Period:
    year: int
    kind: PeriodKind
    number: int  # the month (1–12), the quarter (1–4), or 1 for a year

    @classmethod
    def parse(cls, key: str, field: str = "period") -> Period:
        """A period from its key; a clear error for anything else."""
        match = _KEY.match((key or "").strip())
        if match is None:
            raise ValidationError(
                _("Kỳ “%(key)s” không hợp lệ: dùng dạng 2026-11 (tháng), 2026-Q4 (quý) hoặc 2026 (năm).", key=key),
                field=field,
            )
        year, part = int(match.group(1)), match.group(2)
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise ValidationError(_("Năm phải từ %(a)d đến %(b)d.", a=MIN_YEAR, b=MAX_YEAR), field=field)
        if part is None:
            return cls(year, PeriodKind.YEAR, 1)
        if part.startswith("Q"):
            return cls(year, PeriodKind.QUARTER, int(part[1]))
        if not 1 <= int(part) <= 12:
            raise ValidationError(_("Tháng phải từ 1 đến 12."), field=field)
        return cls(year, PeriodKind.MONTH, int(part))

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        return cls(year, PeriodKind.MONTH, month)

    @classmethod
    def month_of(cls, day: date) -> Period:
        return cls(day.year, PeriodKind.MONTH, day.month)

    @property
    def key(self) -> str:
        if self.kind == PeriodKind.YEAR:
            return str(self.year)
        if self.kind == PeriodKind.QUARTER:
            return f"{self.year}-Q{self.number}"
        return f"{self.year}-{self.number:02d}"

    def __str__(self) -> str:
        return self.key

    @property
    def label(self) -> str:
        """As people write it: "Tháng 11/2026", "Quý 4/2026", "Năm 2026"."""
        if self.kind == PeriodKind.YEAR:
            return _("Năm %(y)d", y=self.year)
        if self.kind == PeriodKind.QUARTER:
            return _("Quý %(q)d/%(y)d", q=self.number, y=self.year)
        return _("Tháng %(m)d/%(y)d", m=self.number, y=self.year)

    @property
    def months(self) -> list[Period]:
        """The months of the period, in order."""
        if self.kind == PeriodKind.MONTH:
            return [self]
        first = 1 if self.kind == PeriodKind.YEAR else 3 * self.number - 2
        count = 12 if self.kind == PeriodKind.YEAR else 3
        return [Period.month(self.year, m) for m in range(first, first + count)]

    @property
    def month_keys(self) -> list[str]:
        return [m.key for m in self.months]

    @property
    def first_day(self) -> date:
        return date(self.year, self.months[0].number, 1)

    @property
    def end_day(self) -> date:
        """The day after the period (exclusive end)."""
        last = self.months[-1].number
        return date(self.year + 1, 1, 1) if last == 12 else date(self.year, last + 1, 1)

    @property
    def starts_at(self) -> datetime:
        return local_midnight(self.first_day)

    @property
    def ends_at(self) -> datetime:
        return local_midnight(self.end_day)

    def contains(self, other: Period) -> bool:
        return set(other.month_keys) <= set(self.month_keys)

    def parents(self) -> list[Period]:
        """The quarter and year a month belongs to (empty for a year)."""
        if self.kind == PeriodKind.YEAR:
            return []
        year = Period(self.year, PeriodKind.YEAR, 1)
        if self.kind == PeriodKind.QUARTER:
            return [year]
        return [Period(self.year, PeriodKind.QUARTER, (self.number - 1) // 3 + 1), year]

    def report_deadline(self) -> datetime:
        """When a month's report is due: the end of the deadline day of the following month (UTC)."""
        if self.kind != PeriodKind.MONTH:
            raise ValueError("only a month has a report deadline")
        day = int(current_app.config["REPORT_DEADLINE_DAY"])  # 1–28, checked by the config
        following = self.end_day
        return local_midnight(date(following.year, following.month, day) + timedelta(days=1))


def current_month(now: datetime) -> Period:
    return Period.month_of(to_local(now).date())


def period_from_args(allow_future: bool = True) -> Period:
    """The period a page asks for in ``?period=``, the current month by default. An unknown key is
    a 404, and so is a period after the current month unless ``allow_future`` (a future period has
    no standings yet, but may be given targets)."""
    this_month = current_month(utcnow())
    key = request.args.get("period")
    if not key:
        return this_month
    try:
        period = Period.parse(key)
    except ValidationError:
        abort(404)
    if not allow_future and period.months[0] > this_month:
        abort(404)
    return period
