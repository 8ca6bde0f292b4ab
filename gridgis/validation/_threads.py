"""The validator's use of the cores: vectorised geometry work split across threads.

shapely's vectorised functions release the GIL while GEOS works, so a large array cut in
chunks runs on several cores from threads, with no copies and no pickling. Results are the
same as one call on the whole array (every element is computed alone). ``GRIDGIS_THREADS``
caps the number of threads (default: the cores this process may use, at most 2);
``GRIDGIS_THREAD_MIN`` is the smallest chunk worth a thread (default 20,000 elements).

>>> import numpy as np, shapely
>>> g = shapely.box(np.arange(5.0), 0, np.arange(5.0) + 1, 1)
>>> chunked(shapely.area, g).tolist()
[1.0, 1.0, 1.0, 1.0, 1.0]
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import numpy as np

__all__ = ["threads", "min_chunk", "chunked", "together"]


def _setting(name: str, default: int) -> int:
    try:
        value = int(os.environ.get(name, "0"))
    except ValueError:
        value = 0
    return value if value > 0 else default


def threads() -> int:
    """Threads the validator uses: ``GRIDGIS_THREADS`` or the usable cores, at most 2.

    >>> threads() >= 1
    True
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return _setting("GRIDGIS_THREADS", min(2, cores))


def min_chunk() -> int:
    """Fewest elements worth a thread of their own (``GRIDGIS_THREAD_MIN``, default 20,000).

    >>> min_chunk() > 0
    True
    """
    return _setting("GRIDGIS_THREAD_MIN", 20_000)


def together(tasks: Sequence[Callable[[], Any]]) -> list[Any]:
    """Run the ``tasks`` (no arguments) side by side on :func:`threads` threads; their results
    in order (the first error is raised).

    >>> together([lambda: 1, lambda: 2])
    [1, 2]
    """
    n = min(threads(), len(tasks))
    if n < 2:
        return [t() for t in tasks]
    with ThreadPoolExecutor(n) as pool:
        futures = [pool.submit(t) for t in tasks]
        return [f.result() for f in futures]


def _prepared(a: np.ndarray) -> bool:
    """Whether an array holds prepared shapely geometries."""
    if getattr(getattr(a, "dtype", None), "kind", "") != "O" or not len(a):
        return False
    import shapely

    return bool(shapely.is_prepared(a).any())


def chunked(func: Callable[..., np.ndarray], *arrays: np.ndarray, **kwargs: Any) -> np.ndarray:
    """``func(*arrays, **kwargs)`` of an element-wise function, computed in one chunk per
    thread and concatenated (one call when the arrays are short).

    >>> import numpy as np
    >>> chunked(np.add, np.arange(3), np.arange(3)).tolist()
    [0, 2, 4]
    """
    n = len(arrays[0])
    k = min(threads(), n // min_chunk())
    if k < 2 or any(_prepared(a) for a in arrays):
        # a prepared geometry builds its indexes on first use: GEOS crashes when two threads
        # use one at once, and an array may hold the same one in two chunks
        return func(*arrays, **kwargs)
    cut = np.linspace(0, n, k + 1).astype(int)
    def part(lo: int, hi: int) -> np.ndarray:
        return func(*(a[lo:hi] for a in arrays), **kwargs)

    parts = together([partial(part, cut[i], cut[i + 1]) for i in range(k)])
    return np.concatenate(parts)
