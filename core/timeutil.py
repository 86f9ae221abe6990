"""Local time: stored in UTC, shown and cut into periods in TIMEZONE (Asia/Ho_Chi_Minh)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def to_local(moment: datetime) -> datetime:
    return moment.astimezone(local_zone())


def from_local(naive: datetime) -> datetime:
    """A wall-clock time typed by a person in the local zone → aware UTC."""
    return naive.replace(tzinfo=local_zone()).astimezone(UTC)


def local_midnight(day: date) -> datetime:
    return from_local(datetime.combine(day, time.min))


def local_day_start(moment: datetime) -> datetime:
    """00:00 local time of the day ``moment`` falls on, in UTC (daily attempt limits)."""
    return local_midnight(to_local(moment).date())


def week_start(day: date) -> date:
    """The Monday of the week ``day`` falls in (a week starts Monday 00:00 local time)."""
    return day - timedelta(days=day.weekday())
