"""What a board is about, told by the package that fills it (competitions, for rounds and series).

``leaderboard`` knows board names and members only. A source, registered for a name prefix
("round", "series", "contest"), says whether a board exists, who may watch it, how to label its
rows, and how to compute it from the database (the truth; the rank store is a fast copy).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field

from flask import Flask, current_app

from core.accounts.models import User
from leaderboard.store import Entry


@dataclass(frozen=True)
class Detail:
    """How a row is shown: who (``label``, ``sub``), the score as shown, and a second figure."""

    label: str
    sub: str = ""
    value: str = ""
    extra: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"label": self.label, "sub": self.sub, "value": self.value, "extra": self.extra}


@dataclass(frozen=True)
class BoardInfo:
    name: str
    title: str  # what the board ranks, e.g. "Cá nhân"
    about: str  # what it belongs to, e.g. the round's title
    headings: tuple[str, str, str]  # columns: who, the score, the second figure
    public: bool  # anyone may watch, signed in or not
    tabs: list[tuple[str, str]] = field(default_factory=list)  # sibling boards (name, label)
    filters: list[tuple[str, str]] = field(default_factory=list)  # the same board narrowed to a unit
    link: str | None = None  # the page the board is about (a QR code on the projector)


class BoardSource(ABC):
    @abstractmethod
    def info(self, board: str) -> BoardInfo | None:
        """None when no such board exists."""

    @abstractmethod
    def may_watch(self, board: str, user: User | None) -> bool:
        """Whether ``user`` (None: not signed in) may see a board that is not public."""

    @abstractmethod
    def compute(self, board: str) -> Iterable[tuple[Entry, Detail]]:
        """The whole board, from the database."""

    @abstractmethod
    def refresh(self, group: str, members: frozenset[str]) -> list[str]:
        """Apply pending changes of ``group`` (see leaderboard.changes) to the rank store through
        leaderboard.service; return the boards that changed."""

    @abstractmethod
    def member_of(self, board: str, user: User) -> str | None:
        """The member that is ``user`` on this board: the person, their team, their unit."""

    @abstractmethod
    def names(self) -> list[str]:
        """Every board of this source that exists now (``flask leaderboard rebuild``)."""


def register_source(app: Flask, prefix: str, source: BoardSource) -> None:
    """Boards named "<prefix>:…" come from ``source`` (called by the owning package's init_app)."""
    app.extensions.setdefault("thidua.board_sources", {})[prefix] = source


def source_for(name: str) -> BoardSource | None:
    """The source of a board or group name (its first part names the source)."""
    return current_app.extensions.get("thidua.board_sources", {}).get(name.split(":", 1)[0])


def all_boards() -> list[str]:
    sources = current_app.extensions.get("thidua.board_sources", {})
    return [name for source in sources.values() for name in source.names()]
