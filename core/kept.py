"""Values a process keeps for a few seconds (per app), where reading them again on every request
is the cost: what a board is about, the approved questions a draw picks from.

A value is read by one caller at a time: when thousands of phones subscribe to a board at once,
the callers arriving while it is being read wait for that read instead of each reading it too (at
10,000 watchers every expiry set off hundreds of reads, each slowing the others down)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import TypeVar

from flask import Flask, current_app, has_app_context

T = TypeVar("T")
MAX_ENTRIES = 10_000  # a space holding more is emptied: keys of things long gone


def one_at_a_time(space: str, key: Hashable) -> threading.Lock:
    """The lock for ``key`` in ``space`` in this process (a greenlet's lock under gevent)."""
    locks: dict[Hashable, threading.Lock] = current_app.extensions.setdefault(f"{space}:locks", {})
    lock = locks.get(key)
    if lock is None:
        if len(locks) >= MAX_ENTRIES:
            locks.clear()
        lock = locks.setdefault(key, threading.Lock())
    return lock


def kept(space: str, key: Hashable, seconds: float, read: Callable[[], T]) -> T:
    """``read()``, or what it returned less than ``seconds`` ago in this process. None is never
    kept (an unknown thing is asked about again), and ``seconds`` <= 0 keeps nothing."""
    if seconds <= 0:
        return read()
    entries: dict[Hashable, tuple[float, T]] = current_app.extensions.setdefault(space, {})
    found = entries.get(key)
    if found is not None and found[0] > time.monotonic():
        return found[1]
    with one_at_a_time(space, key):
        found = entries.get(key)
        now = time.monotonic()
        if found is not None and found[0] > now:
            return found[1]  # read by the caller this one waited for
        value = read()
        if value is not None:
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
