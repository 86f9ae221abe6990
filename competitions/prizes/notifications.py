"""In-app notifications (thông báo): a short text and a link for one person, shown until read.
Publishing a prize decision tells its winners; the winner reads it on the notifications page or on
the results page it links to."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import delete, func, select, update

from competitions.prizes.models import Notification
from core.accounts.models import User
from core.db_types import utcnow
from core.extensions import db

MAX_TEXT = 400  # column width
RECENT = 50  # notifications on the page


def notify(user_id: int, text: str, link: str | None = None) -> Notification:
    notification = Notification(user_id=user_id, text=text[:MAX_TEXT], link=link)
    db.session.add(notification)
    return notification


def unread(user: User) -> list[Notification]:
    return list(db.session.scalars(
        select(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .order_by(Notification.id.desc())
    ))


def unread_count(user: User) -> int:
    return db.session.scalar(
        select(func.count()).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    ) or 0


def recent(user: User, limit: int = RECENT) -> list[Notification]:
    """The newest notifications of the user, read or not."""
    return list(db.session.scalars(
        select(Notification).where(Notification.user_id == user.id).order_by(Notification.id.desc()).limit(limit)
    ))


def mark_read(user: User, ids: Collection[int] | None = None, link: str | None = None) -> int:
    """Mark the user's unread notifications read: those given by id, those pointing at ``link``, or
    (neither given) all of them. Returns how many were marked."""
    query = update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if ids is not None:
        query = query.where(Notification.id.in_(ids))
    if link is not None:
        query = query.where(Notification.link == link)
    return db.session.execute(query.values(read_at=utcnow()).execution_options(synchronize_session=False)).rowcount


def withdraw(link: str) -> int:
    """Take back the unread notifications pointing at ``link`` (a decision taken off its public page);
    the read ones stay, as what the person was told."""
    return db.session.execute(
        delete(Notification).where(Notification.link == link, Notification.read_at.is_(None))
        .execution_options(synchronize_session=False)
    ).rowcount
