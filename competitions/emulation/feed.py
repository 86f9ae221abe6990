"""A team's feed (bảng tin của tổ): badges earned, levels reached, reports verified or rejected.

Feed lines are stored text. They are written in the product's language (Vietnamese) whoever's
request writes them: an officer who browses in English verifies a report for a Vietnamese team.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from typing import NamedTuple

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from competitions import signals
from competitions.emulation.models import ActivityReport, FeedItem, ReportStatus
from competitions.emulation.periods import Period
from core.extensions import db
from core.teams.models import Team

TEXT_LENGTH = 400  # FeedItem.text


class FeedKind(StrEnum):
    BADGE = "badge"
    LEVEL = "level"  # stored as "level:<n>" (see competitions.emulation.levels): a level is announced once
    REPORT = "report"


@contextmanager
def product_language() -> Iterator[None]:
    """Messages composed inside are in the default language (what stored feed lines are written in)."""
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        yield


class Line(NamedTuple):
    team_id: int
    kind: str
    text: str
    link: str | None = None


def post(team_id: int, kind: str, text: str, link: str | None = None) -> FeedItem:
    """Add a line to the team's feed (in the caller's transaction)."""
    return post_many([Line(team_id, kind, text, link)])[0]


def post_many(lines: Sequence[Line]) -> list[FeedItem]:
    """Add several lines at once (a round's closing may announce thousands of badges): one flush."""
    items = [
        FeedItem(team_id=line.team_id, kind=line.kind, link=line.link,
                 text=line.text if len(line.text) <= TEXT_LENGTH else line.text[: TEXT_LENGTH - 1] + "…")
        for line in lines
    ]
    db.session.add_all(items)
    db.session.flush()
    return items


def team_feed(team: Team, limit: int = 20) -> list[FeedItem]:
    """The team's latest feed lines, newest first."""
    return list(db.session.scalars(
        select(FeedItem).where(FeedItem.team_id == team.id)
        .order_by(FeedItem.created_at.desc(), FeedItem.id.desc()).limit(limit)
    ))


def kind_of(item: FeedItem) -> FeedKind:
    """The kind without its detail ("level:3" is a level line)."""
    return FeedKind(item.kind.split(":", 1)[0])


def _on_report_changed(report: ActivityReport, before: str | None = None, **_extra: object) -> None:
    """A verified or rejected report is news for the team; filing and correcting are not."""
    if report.status == before or report.status == ReportStatus.SUBMITTED:
        return
    with product_language():
        month = Period.parse(report.month).label
        if report.status == ReportStatus.VERIFIED:
            text = _("Báo cáo kết quả hoạt động %(month)s đã được xác nhận.", month=month)
        elif report.review_reason:
            text = _("Báo cáo kết quả hoạt động %(month)s bị từ chối: %(reason)s", month=month,
                     reason=report.review_reason)
        else:
            text = _("Báo cáo kết quả hoạt động %(month)s bị từ chối.", month=month)
    post(report.team_id, FeedKind.REPORT, text)


def connect() -> None:
    """Called by competitions.emulation.badges.connect (once, at start-up)."""
    signals.report_changed.connect(_on_report_changed)
