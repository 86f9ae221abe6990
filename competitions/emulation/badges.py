"""(stub: filled in by the helper that owns this module)"""

from __future__ import annotations


def connect() -> None:
    """Connect the signals on which badges are evaluated."""
