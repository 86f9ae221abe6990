"""One page of a long list, whether the database cut it (LIMIT/OFFSET) or Python did (after an
accent-insensitive search that the database cannot do the same way on SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select

from core.extensions import db

T = TypeVar("T")
PER_PAGE = 25


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def clamp_page(page: int | None, total: int, per_page: int) -> int:
    """A page number from the query string, kept inside 1..last (a stale link shows the last page)."""
    last = max(1, -(-total // per_page))
    return min(max(page or 1, 1), last)


def paginate_select(query: Select[Any], page: int | None, per_page: int = PER_PAGE) -> Page[Any]:
    """Two queries: the count, then the rows of one page."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    page = clamp_page(page, total, per_page)
    items = list(db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).unique())
    return Page(items, total, page, per_page)


def slice_ids(ids: Sequence[int], page: int | None, per_page: int = PER_PAGE) -> tuple[list[int], int, int]:
    """The ids of one page of an already sorted id list, the clamped page number and the total."""
    total = len(ids)
    page = clamp_page(page, total, per_page)
    start = (page - 1) * per_page
    return list(ids[start:start + per_page]), page, total
