"""The result of an assignment run: :class:`AssignResult` and its count series."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import schema
from ..i18n import pgettext, tr
from ..people import value
from ._status import MATCH_VALUES
from .plan_index import PlanIndex

if TYPE_CHECKING:  # imported where used: the summary line needs no pandas
    import pandas as pd

__all__ = ["AssignResult", "per_grid_series", "status_series", "summary_line"]

# ---- public API ---------------------------------------------------------------------------------------
@dataclass
class AssignResult:
    """Result of :func:`assign`.

    Attributes
    ----------
    table
        The input rows in their order, plus ``grid_code`` (categorical over all grid codes of the
        plan), ``match``, ``match_reason`` and ``distance_m``. A dask (geo)dataframe when the
        input was one (lazy), ``None`` for :func:`assign_file` (the rows are in the file).
    per_grid
        Points per grid code, every grid of the plan included (zeros too), sorted by code.
    status_counts
        Points per match status (inside, boundary, nearest, unmatched, invalid), zeros included.
    path
        Output file written by :func:`assign_file`.
    """

    table: Any
    _per_grid: pd.Series | None = None
    _status_counts: pd.Series | None = None
    path: Any = None
    plan: PlanIndex | None = field(default=None, repr=False)

    @property
    def per_grid(self) -> pd.Series:
        if self._per_grid is None:
            self._compute_lazy()
        return self._per_grid  # type: ignore[return-value]

    @property
    def status_counts(self) -> pd.Series:
        if self._status_counts is None:
            self._compute_lazy()
        return self._status_counts  # type: ignore[return-value]

    def _compute_lazy(self) -> None:
        import dask
        import pandas as pd

        plan = self.plan
        assert plan is not None and self.table is not None
        per, st = dask.compute(
            self.table[plan.code_column].value_counts(), self.table[schema.MATCH].value_counts()
        )
        self._per_grid = per_grid_series(plan, per.reindex(plan.categories, fill_value=0).to_numpy())
        self._status_counts = status_series(
            per_status=st.reindex(pd.Index(MATCH_VALUES), fill_value=0).to_numpy()
        )

    def compute(self) -> AssignResult:
        """Materialise a dask result as a local one (no-op for local results)."""
        if hasattr(self.table, "compute") and hasattr(self.table, "npartitions"):
            import dask
            import pandas as pd

            table, per, st = dask.compute(
                self.table,
                self.table[self.plan.code_column].value_counts(),  # type: ignore[union-attr]
                self.table[schema.MATCH].value_counts(),
            )
            plan = self.plan
            assert plan is not None
            return AssignResult(
                table=table,
                _per_grid=per_grid_series(plan, per.reindex(plan.categories, fill_value=0).to_numpy()),
                _status_counts=status_series(
                    st.reindex(pd.Index(MATCH_VALUES), fill_value=0).to_numpy()
                ),
                plan=plan,
            )
        return self

    def summary(self) -> str:
        """One line per match status, e.g. for the CLI."""
        return summary_line(self.status_counts.to_numpy(), self.per_grid.to_numpy())


def summary_line(per_status: np.ndarray, per_grid: np.ndarray) -> str:
    """The summary of an assignment run: rows per match status and grids without points.

    Examples
    --------
    >>> from gridgis.i18n import use_language
    >>> with use_language("en"):
    ...     summary_line(np.array([3, 0, 0, 0, 1]), np.array([3, 0]))
    '4 rows — inside: 3, boundary: 0, nearest: 0, unmatched: 0, invalid: 1; 1 grid(s) without points'
    """
    parts = [tr("{status}: {count:,}", status=value(schema.MATCH, k), count=int(v))
             for k, v in zip(MATCH_VALUES, per_status, strict=True)]
    return tr("{total:,} rows — {parts}; {empty} grid(s) without points", total=int(np.sum(per_status)),
              parts=pgettext("list separator", ", ").join(parts),
              empty=int(np.count_nonzero(np.asarray(per_grid) == 0)))


def per_grid_series(plan: PlanIndex, counts: np.ndarray) -> pd.Series:
    """Points per grid code, every grid of the plan included, as a ``count`` series.

    Examples
    --------
    >>> per_grid_series(plan, counts).sum() == counts.sum()       # doctest: +SKIP
    True
    """
    import pandas as pd

    return pd.Series(np.asarray(counts, dtype=np.int64), index=plan.categories.copy(), name="count")


def status_series(per_status: np.ndarray) -> pd.Series:
    """Points per match status (all statuses, zeros included), as a ``count`` series.

    Examples
    --------
    >>> status_series(np.array([3, 0, 0, 0, 1])).to_dict()
    {'inside': 3, 'boundary': 0, 'nearest': 0, 'unmatched': 0, 'invalid': 1}
    """
    import pandas as pd

    return pd.Series(
        np.asarray(per_status, dtype=np.int64), index=pd.Index(MATCH_VALUES, name=schema.MATCH),
        name="count",
    )

