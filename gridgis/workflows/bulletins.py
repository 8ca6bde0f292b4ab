"""Monthly bulletin of event handling (通报): ranked tables per street, community, department.

What a grid office circulates each month: for every street (街道), community (社区/村) and
responsible department (责任单位), the number of events, the share reached on site in time,
the share solved in time, median times to dispatch, reach and close, the share resolved at grid
level (小事不出网格) and the satisfaction rate, ranked best first. Written as an Excel workbook
(one sheet per level) and as a section of the report (``gridgis report --from … --to …``).

Ranking: solve on-time share, then on-site on-time share, then satisfaction rate (all higher
is better; a unit without due events ranks last), ties by number of events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .. import schema
from .._excel import write_sheets
from ..errors import GridGISError
from ..events import attach_units, clean, event_indicators
from ..i18n import _, pgettext, tr
from ..rules import Rules
from ..writing import check_output, replacing
from ._pages import ROWS_PER_PAGE, Section

__all__ = ["REPORT_COLUMNS", "Bulletin", "bulletin", "bulletin_period", "bulletin_section", "bulletin_text",
           "parse_date", "report_bulletin", "write_bulletin_excel"]

_LEVELS = ("street_code", schema.COMMUNITY_CODE, schema.DEPARTMENT)
_RANK_BY = ("on_time_share", "onsite_on_time_share", "satisfaction_rate", "n_events")


def _headers() -> dict[str, str]:
    """Column headers of the human tables, in the language in use."""
    return {
        "rank": pgettext("column", "Rank"),
        "unit": pgettext("column", "Unit"),
        "code": pgettext("column", "Code"),
        "n_events": pgettext("column", "Events"),
        "n_closed": pgettext("column", "Closed"),
        "n_due": pgettext("column", "Due"),
        "on_time_share": pgettext("column", "Solved on time"),
        "n_onsite_judged": pgettext("column", "On-site judged"),
        "onsite_on_time_share": pgettext("column", "On site in time"),
        "median_dispatch_h": pgettext("column", "Median hours to dispatch"),
        "median_onsite_h": pgettext("column", "Median hours to reach the site"),
        "median_handle_h": pgettext("column", "Median hours on site to close"),
        "median_close_h": pgettext("column", "Median hours to close"),
        "median_evaluate_h": pgettext("column", "Median hours close to evaluation"),
        "grid_level_share": pgettext("column", "Resolved in the grid"),
        "satisfaction_rate": pgettext("column", "Satisfaction rate"),
        "n_rated": pgettext("column", "Rated"),
    }


def _level_titles() -> dict[str, str]:
    return {"street_code": _("By street"), schema.COMMUNITY_CODE: _("By community"),
            schema.DEPARTMENT: _("By responsible department")}


@dataclass
class Bulletin:
    """Ranked indicator tables of one period: ``tables[level]`` with canonical columns."""

    start: pd.Timestamp
    end: pd.Timestamp
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    n_events: int = 0

    def human(self, level: str) -> pd.DataFrame:
        """The table of ``level`` with translated headers and shares as percentages.

        Examples
        --------
        >>> b = bulletin(events, grids, start="2026-10-01", end="2026-10-31")   # doctest: +SKIP
        >>> b.human("street_code").head()                                       # doctest: +SKIP
        """
        t = self.tables[level].copy()
        for col in [c for c in t.columns if c.endswith(("_share", "_rate"))]:
            t[col] = (t[col] * 100).round(1)
        for col in [c for c in t.columns if c.startswith("median_")]:
            t[col] = t[col].round(1)
        heads = _headers()
        return t.rename(columns={c: heads.get(c, c) for c in t.columns})


def parse_date(text: str | None, option: str = "--from") -> pd.Timestamp | None:
    """A date given on the command line (``2026-10-01``, ``2026/10/1``, ``2026年10月1日``).

    Examples
    --------
    >>> str(parse_date("2026年10月1日").date())
    '2026-10-01'
    """
    if text is None or not str(text).strip():
        return None
    from ..events import parse_times

    times, bad = parse_times([str(text).strip()])
    if bad.notna().any() or times.isna().any():
        raise GridGISError(tr("{option} {value!r} is not a date", option=option, value=text),
                           fix=_("write the date as YYYY-MM-DD, e.g. 2026-10-01"))
    return pd.Timestamp(times.iloc[0])


def bulletin_period(events: pd.DataFrame, start: Any = None, end: Any = None) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The bulletin's dates: ``start``/``end`` as given, else the last whole month of the events.

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({"reported_at": pd.to_datetime(["2026-09-03", "2026-10-20"])})
    >>> [str(d.date()) for d in bulletin_period(ev)]
    ['2026-09-01', '2026-09-30']
    """
    if start is not None and end is not None:
        return pd.Timestamp(start), pd.Timestamp(end)
    rep = pd.to_datetime(events[schema.REPORTED_AT], errors="coerce").dropna()
    latest = rep.max() if len(rep) else pd.Timestamp.today()
    month_end = latest.normalize() + pd.offsets.MonthEnd(0)
    if latest.normalize() < month_end:  # the last month is not complete: take the one before
        month_end = latest.normalize().replace(day=1) - pd.Timedelta(days=1)
    first = month_end.replace(day=1)
    return (pd.Timestamp(start) if start is not None else first,
            pd.Timestamp(end) if end is not None else month_end)


def _names(layer: pd.DataFrame | None) -> dict[str, str]:
    if layer is None or schema.CODE not in layer.columns or schema.NAME not in layer.columns:
        return {}
    return dict(zip(layer[schema.CODE].astype(str), layer[schema.NAME].astype(str), strict=True))


def _rank(table: pd.DataFrame, level: str, names: dict[str, str]) -> pd.DataFrame:
    t = table.rename(columns={level: "code"})
    t.insert(1, "unit", [names.get(str(c), str(c)) for c in t["code"]])
    keys = [k for k in _RANK_BY if k in t.columns]
    t = t.sort_values(keys, ascending=False, na_position="last", kind="stable").reset_index(drop=True)
    t.insert(0, "rank", range(1, len(t) + 1))
    if level == schema.DEPARTMENT:
        t = t.drop(columns="code")
    return t


def bulletin(
    events: pd.DataFrame,
    grids: pd.DataFrame,
    *,
    communities: pd.DataFrame | None = None,
    streets: pd.DataFrame | None = None,
    start: Any = None,
    end: Any = None,
    rules: Rules | dict | str | Path | None = None,
) -> Bulletin:
    """Ranked indicator tables per street, community and department for ``[start, end]``.

    Parameters
    ----------
    events
        Event records (cleaned or not) with ``grid_code`` (assigned) or points to assign.
    grids, communities, streets
        The plan and its admin layers: communities give each grid's street (``parent_code``)
        and the names of communities, streets the names of streets.
    start, end
        Report dates (inclusive); default: the last whole month of the events.

    Examples
    --------
    >>> from gridgis.workflows import bulletin
    >>> b = bulletin(events, grids, communities=comm, streets=layers["streets"],
    ...              start="2026-10-01", end="2026-10-31")                   # doctest: +SKIP
    >>> b.tables["community_code"].head()                                    # doctest: +SKIP
    """
    from ..events import attach_grid_codes

    ev = events if "status" in events.columns else clean(events)
    if schema.GRID_CODE not in ev.columns:
        ev = attach_grid_codes(ev, grids)
    ev = attach_units(ev, grids, communities)
    first, last = bulletin_period(ev, start, end)
    names = {"street_code": _names(streets), schema.COMMUNITY_CODE: _names(communities),
             schema.DEPARTMENT: {}}
    out = Bulletin(start=first, end=last)
    for level in _LEVELS:
        if level not in ev.columns or ev[level].notna().sum() == 0:
            continue
        table = event_indicators(ev, level, start=first, end=last, rules=rules)
        out.tables[level] = _rank(table, level, names[level])
        out.n_events = int(table["n_events"].sum())
    return out


def write_bulletin_excel(b: Bulletin, path: str | Path) -> Path:
    """Write the bulletin as one workbook: a sheet per level, headers in the language in use.

    Codes are text cells, columns as wide as their texts, the header row frozen
    (:func:`gridgis._excel.write_sheets`); the file is written beside and renamed.

    Examples
    --------
    >>> write_bulletin_excel(b, "通报_2026-10.xlsx")                          # doctest: +SKIP
    """
    path = check_output(path)
    titles = _level_titles()
    period = b.start.strftime("%Y-%m-%d") + " – " + b.end.strftime("%Y-%m-%d")
    info = pd.DataFrame({pgettext("column", "Item"): [_("Period"), _("Events")],
                         pgettext("column", "Value"): [period, b.n_events]})
    sheets = {_("Summary"): info, **{titles[level]: b.human(level) for level in b.tables}}
    with replacing(path) as tmp:
        write_sheets(sheets, tmp)
    return path


def bulletin_text(b: Bulletin) -> list[str]:
    """Lines of text that open the bulletin section of the report."""
    start, end = b.start.strftime("%Y-%m-%d"), b.end.strftime("%Y-%m-%d")
    lines = [tr("Events reported {start} to {end}: {n}.", start=start, end=end, n=b.n_events)]
    street = b.tables.get("street_code")
    if street is not None and len(street):
        top = street.iloc[0]
        lines.append(tr("First among streets: {unit} (solved on time {share:.1%}).", unit=top["unit"],
                        share=float(top["on_time_share"]) if pd.notna(top["on_time_share"]) else 0.0))
    lines.append(_("Ranked by the share solved in time, then the share reached on site in time, then "
                   "satisfaction; the grid-level share is the share of events resolved within the "
                   "grid."))
    return lines


def report_bulletin(events: pd.DataFrame, grids: pd.DataFrame, communities: pd.DataFrame | None,
                    rules: Any, period: tuple[Any, Any] | None, tables: dict[str, Path], out: Path,
                    streets: pd.DataFrame | None = None) -> Section:
    """The report's hook: :func:`bulletin_section` for ``period`` with the workbook in
    ``<out>/tables``, its path added to ``tables``; ``streets`` names the streets."""
    start, end = period if period is not None else (None, None)
    return bulletin_section(events, grids, Path(out) / "tables", tables, communities=communities,
                            streets=streets, start=start, end=end, rules=rules)


#: Indicator columns shown in the report section (the Excel workbook has all of them).
REPORT_COLUMNS = ("rank", "unit", "n_events", "on_time_share", "onsite_on_time_share", "median_close_h",
                  "grid_level_share", "satisfaction_rate")


def bulletin_section(
    events: pd.DataFrame,
    grids: pd.DataFrame,
    folder: str | Path,
    tables: dict[str, Path] | None = None,
    *,
    communities: pd.DataFrame | None = None,
    streets: pd.DataFrame | None = None,
    start: Any = None,
    end: Any = None,
    rules: Rules | dict | str | Path | None = None,
) -> Section:
    """The bulletin as a report section; writes the workbook ``<folder>/bulletin.xlsx`` and
    records its path in ``tables["bulletin"]`` (the report's table list) when given.

    Examples
    --------
    >>> section = bulletin_section(events, grids, "report/tables",
    ...                            start="2026-10-01", end="2026-10-31")   # doctest: +SKIP
    """
    b = bulletin(events, grids, communities=communities, streets=streets, start=start, end=end, rules=rules)
    path = write_bulletin_excel(b, Path(folder) / "bulletin.xlsx")
    if tables is not None:
        tables["bulletin"] = path
    start_text, end_text = b.start.strftime("%Y-%m-%d"), b.end.strftime("%Y-%m-%d")
    section = Section(tr("Monthly bulletin {start} to {end}", start=start_text, end=end_text))
    section.text = bulletin_text(b)
    titles = _level_titles()
    heads = _headers()
    for level, table in b.tables.items():
        cols = [c for c in REPORT_COLUMNS if c in table.columns]
        shown = b.human(level)[[heads[c] for c in cols]].head(ROWS_PER_PAGE)
        section.tables.append((titles[level], shown))
    return section
