"""Shared helpers of the benchmarks: time and peak memory of one step.

``with step("validate") as s: ...`` measures the wall time and the peak resident memory of
the process during the block (Linux: the high-water mark is reset through
``/proc/self/clear_refs`` before the block and read from ``/proc/self/status`` after it; elsewhere
the process peak so far is shown). ``s.seconds`` and ``s.peak_mb`` hold the figures, and
``s.cpu`` the CPU seconds of the process's threads in the block: on a busy machine the wall time
stretches, the CPU time much less (a quiet 2-core machine needs about ``max(cpu / 2, ...)``).
"""

from __future__ import annotations

import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

__all__ = ["Step", "step", "peak_mb", "reset_peak"]


@dataclass
class Step:
    name: str
    seconds: float = 0.0
    peak_mb: float = 0.0
    cpu: float | None = None

    def line(self, note: str = "") -> str:
        cpu = f"  cpu {self.cpu:7.2f} s" if self.cpu is not None else ""
        return (f"{self.name:<44} {self.seconds:8.2f} s{cpu}  peak {self.peak_mb:7,.0f} MB  "
                f"{note}")


def reset_peak() -> bool:
    """Reset the process's peak-memory mark (Linux); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def peak_mb() -> float:
    """Peak resident memory of this process since the last reset, in MB."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def step(name: str) -> Iterator[Step]:
    """Time and peak memory of the block."""
    s = Step(name)
    reset_peak()
    t, c = time.perf_counter(), time.process_time()
    try:
        yield s
    finally:
        s.seconds = time.perf_counter() - t
        s.cpu = time.process_time() - c
        s.peak_mb = peak_mb()
