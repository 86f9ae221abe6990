"""Timing and memory of one benchmark step (shared by the benchmarks under bench/)."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def measure(label: str, step: Callable[[], T], memory: bool = True) -> T:
    """Time one untraced run; then, with ``memory``, run again under tracemalloc (which slows Python
    several-fold, so it must not be in the timed run) for the peak of Python allocations."""
    started = time.perf_counter()
    result = step()
    elapsed = time.perf_counter() - started
    peak = ""
    if memory:
        tracemalloc.start()
        step()
        peak = f"peak {tracemalloc.get_traced_memory()[1] / 1_048_576:6.1f} MiB"
        tracemalloc.stop()
    print(f"{label:<58} {elapsed:7.2f} s   {peak}")
    return result
