"""Values a process keeps for a few seconds (per app), where reading them again on every request
is the cost: what a board is about, the approved questions a draw picks from."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import TypeVar

from flask import Flask, current_app, has_app_context

T = TypeVar("T")
MAX_ENTRIES = 10_000  # a space holding more is emptied: keys of things long gone


def kept(space: str, key: Hashable, seconds: float, read: Callable[[], T]) -> T:
    """``read()``, or what it returned less than ``seconds`` ago in this process. None is never
    kept (an unknown thing is asked about again), and ``seconds`` <= 0 keeps nothing."""
    entries: dict[Hashable, tuple[float, T]] = current_app.extensions.setdefault(space, {})
    now = time.monotonic()
    found = entries.get(key)
    if found is not None and found[0] > now:
        return found[1]
    value = read()
    if value is not None and seconds > 0:
        if len(entries) >= MAX_ENTRIES:
            entries.clear()
        entries[key] = (now + seconds, value)
    return value


def forget(space: str, app: Flask | None = None) -> None:
    """Drop everything kept in ``space`` (of ``app``, or of the current app if there is one)."""
    if app is not None:
        app.extensions.pop(space, None)
    elif has_app_context():
        current_app.extensions.pop(space, None)
