"""Timing helpers: every figure is a median, p95 and max over repeats, next to its floor from the same run."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Timing:
    name: str
    seconds: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def p95(self) -> float:
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]

    @property
    def max(self) -> float:
        return max(self.seconds)

    def as_dict(self) -> dict[str, float | int | str]:
        return {"name": self.name, "runs": len(self.seconds), "median_s": round(self.median, 4),
                "p95_s": round(self.p95, 4), "max_s": round(self.max, 4)}


def measure(name: str, run: Callable[[], object], repeat: int, setup: Callable[[], object] | None = None) -> Timing:
    seconds = []
    for _ in range(repeat):
        if setup is not None:
            setup()
        started = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - started)
    return Timing(name, seconds)


def measure_beside(name: str, run: Callable[[], object], floor_name: str, floor: Callable[[], object], repeat: int,
                   setup: Callable[[], object] | None = None) -> tuple[Timing, Timing]:
    """`run` and its floor taken in turns, each run followed by one of the floor, so that what else the shared
    machine does at a moment weighs on both alike: their ratio holds where the absolute times wander."""
    ours, floors = [], []
    for _ in range(repeat):
        if setup is not None:
            setup()
        started = time.perf_counter()
        run()
        ours.append(time.perf_counter() - started)
        started = time.perf_counter()
        floor()
        floors.append(time.perf_counter() - started)
    return Timing(name, ours), Timing(floor_name, floors)


def report(pairs: list[tuple[Timing, Timing]]) -> str:
    """A table: each measurement beside its floor, with the ratio of the medians."""
    lines = [f"{'measurement':44} {'median':>9} {'p95':>9} {'max':>9}   {'floor (median)':>16} {'ratio':>7}"]
    for timing, floor in pairs:
        lines.append(f"{timing.name:44} {timing.median:9.3f} {timing.p95:9.3f} {timing.max:9.3f}   "
                     f"{floor.median:16.3f} {timing.median / floor.median:7.2f}")
    return "\n".join(lines)
