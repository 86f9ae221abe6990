"""Import and export of the bank (routes on the quiz blueprint)."""

from __future__ import annotations
