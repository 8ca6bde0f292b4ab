"""Tables written for people: headers and values in the office's language.

The Python API keeps canonical English columns and values (``grid_code``, ``match == "inside"``).
Every table gridgis writes *for people* — CSV and Excel files, the report's tables, the HTML
pages — goes through :func:`for_people` first: headers become 网格编码, 户数, 匹配结果 … and
values 在网格内 / 边界 / 最近网格 / 未匹配 / 无效, 热点 / 冷点 / 不显著, 错误 / 警告 … in Chinese
(the default). In English (``set_language("en")``) a table for people gets readable English
headers (Grid code, Households, Match …: the message ids below) and keeps the canonical values.
Each header of a schema column, Chinese or English, is one of that column's aliases
(:data:`gridgis.schema.ALIASES`, compared without case, spaces and underscores), so a table
written for people in either language reads back into the same canonical columns.

Add a column: give it an English header below (``N_("…")``) and its Chinese translation in the
catalogue (see :mod:`gridgis.i18n`). Add a value: a ``pgettext(<column>, "<value>")`` line in
:func:`_values`.

Examples
--------
>>> import pandas as pd
>>> from gridgis.i18n import use_language
>>> with use_language("zh"):
...     table = for_people(pd.DataFrame({"grid_code": ["430302001001001"], "match": ["inside"]}))
>>> list(table.columns), table.iloc[0].tolist()
(['网格编码', '匹配结果'], ['430302001001001', '在网格内'])
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from . import schema
from .i18n import N_, _, get_language, pgettext, tr

if TYPE_CHECKING:  # imported where used: the headers and values need no pandas
    import pandas as pd

__all__ = [
    "FOR_PEOPLE_ATTR", "HEADERS", "PREFIXED", "build_report_for_people", "columns_for_people",
    "for_people", "header", "quoted", "value",
]

#: Header of each column of a table for people: its English text, the catalogue id of the
#: Chinese one.
HEADERS: dict[str, str] = {
    schema.GRID_CODE: N_("Grid code"), schema.GRID_NAME: N_("Grid name"),
    schema.COMMUNITY_CODE: N_("Community code"), schema.CODE: N_("Code"),
    schema.NAME: N_("Name"), schema.PARENT_CODE: N_("Parent code"),
    schema.AREA_KIND: N_("Urban or rural"), schema.KIND: N_("Grid kind"),
    schema.HOUSEHOLDS: N_("Households"), schema.POPULATION: N_("Population"),
    schema.FLAG: N_("Flag"), schema.BUILDING_ID: N_("Building ID"),
    schema.ADDRESS_ID: N_("Address ID"), schema.ADDRESS: N_("Address"),
    schema.LON: N_("Longitude"), schema.LAT: N_("Latitude"),
    schema.EVENT_ID: N_("Event ID"), schema.CATEGORY: N_("Event category"),
    schema.URGENCY: N_("Urgency"), schema.STAGE: N_("Workflow stage"),
    schema.REPORTED_AT: N_("Reported at"), schema.CLOSED_AT: N_("Closed at"),
    schema.MATCH: N_("Match"), schema.MATCH_REASON: N_("Match reason"),
    schema.DISTANCE_M: N_("Distance (m)"),
    schema.DISPATCHED_AT: N_("Dispatched at"), schema.ONSITE_AT: N_("On site at"),
    schema.FEEDBACK_AT: N_("Feedback at"), schema.EVALUATED_AT: N_("Evaluated at"),
    schema.DEPARTMENT: N_("Department"), schema.HANDLING_LEVEL: N_("Handling level"),
    schema.SATISFACTION: N_("Satisfaction"),
    # community summaries
    "basic_grids": N_("Basic grids"), "special_grids": N_("Special grids"),
    "basic": N_("Basic grids"), "special": N_("Special grids"),
    "hh_min": N_("Households min"), "hh_median": N_("Households median"),
    "hh_max": N_("Households max"), "households_min": N_("Households min"),
    "households_median": N_("Households median"), "households_max": N_("Households max"),
    "errors": N_("Errors"), "warnings": N_("Warnings"),
    # validation findings and counts
    "rule": N_("Rule"), "severity": N_("Severity"), "grids": N_("Grids"),
    "n_grids": N_("Number of grids"), "measure": N_("Measure"), "unit": N_("Unit"),
    "message": N_("Finding"), "parent": N_("Community"), "item": N_("Building or address"),
    "noise": N_("Digitising noise"), "width_m": N_("Width (m)"), "count": N_("Count"),
    "total_measure": N_("Total"),
    # events per grid
    "n_events": N_("Events"), "n_closed": N_("Closed"), "n_due": N_("With a deadline"),
    "n_on_time": N_("Closed on time"), "n_overdue": N_("Overdue"),
    "median_close_days": N_("Median days to close"), "on_time_share": N_("On-time share"),
    "rate_per_100hh": N_("Events per 100 households"), "hot_cells": N_("Hot cells"),
    "hot_share": N_("Hot share"), "hot_events": N_("Events in hot cells"),
    "hot_level": N_("Hot level"), "gi_z": N_("Gi* z"), "gi_p": N_("Gi* p"),
    "expected": N_("Expected events"), "ratio": N_("Observed / expected"),
    "excess": N_("Events above expected"), "rate": N_("Events per household"),
    "eb_rate": N_("Smoothed rate (empirical Bayes)"),
    "gi_p_norm": N_("Gi* p (normal)"), "gi_bin": N_("Gi* confidence bin"),
    "hotspot": N_("Hot spot"), "cell_id": N_("Cell"), "status": N_("Status"),
    "problem": N_("Problem"),
    # event trends
    "period": N_("Period"), "freq": N_("Period length"),
    # code crosswalk
    "old_code": N_("Old code"), "new_code": N_("New code"), "relation": N_("Relation"),
    "hh_share": N_("Household share"), "area_share": N_("Area share"),
    "new_hh_share": N_("Household share of the new grid"),
    "new_area_share": N_("Area share of the new grid"), "area_m2": N_("Area (m²)"),
    # the builder's report of exceptions (build_report_for_people)
    "report_item": N_("Item"), "item_id": N_("ID"), "report_reason": N_("Reason"),
    "detail": N_("Detail"),
    # tables rewritten with a crosswalk
    "recode_status": N_("Recode status"), "rows": N_("Rows"), "candidates": N_("Candidate codes"),
}

#: ``DataFrame.attrs`` key set on a table made by :func:`for_people`.
FOR_PEOPLE_ATTR = "gridgis_for_people"

#: Columns named ``<prefix>:<value>`` (counts per category …): header of the prefix.
PREFIXED = (schema.CATEGORY, schema.URGENCY, schema.STAGE)

#: Columns shown only in the language of their values (the people table drops them).
_DISPLAY_ONLY = ("hotspot_label",)


def _values() -> dict[str, dict[str, str]]:
    """``{column: {canonical value: text}}`` in the language in use."""
    return {
        schema.MATCH: {
            "inside": pgettext("match", "inside"), "boundary": pgettext("match", "boundary"),
            "nearest": pgettext("match", "nearest"), "unmatched": pgettext("match", "unmatched"),
            "invalid": pgettext("match", "invalid")},
        "severity": {"error": pgettext("severity", "error"),
                     "warning": pgettext("severity", "warning")},
        "hotspot": {"hot": pgettext("hotspot", "hot"), "cold": pgettext("hotspot", "cold"),
                    "not significant": pgettext("hotspot", "not significant"),
                    "no data": pgettext("hotspot", "no data")},
        schema.AREA_KIND: {"urban": pgettext("area", "urban"), "rural": pgettext("area", "rural")},
        schema.KIND: {
            "basic": pgettext("kind", "basic"), "school": pgettext("kind", "school"),
            "hospital": pgettext("kind", "hospital"), "market": pgettext("kind", "market"),
            "industrial_park": pgettext("kind", "industrial_park"),
            "park": pgettext("kind", "park"), "commercial": pgettext("kind", "commercial")},
        schema.FLAG: {"below_min_allowed": pgettext("flag", "below_min_allowed"),
                      "above_max_allowed": pgettext("flag", "above_max_allowed")},
        "relation": {
            "same": pgettext("relation", "same"), "split": pgettext("relation", "split"),
            "merged": pgettext("relation", "merged"), "reshaped": pgettext("relation", "reshaped"),
            "new": pgettext("relation", "new"), "retired": pgettext("relation", "retired")},
        "recode_status": {
            "kept": pgettext("recode_status", "kept"),
            "mapped": pgettext("recode_status", "mapped"),
            "located": pgettext("recode_status", "located"),
            "located_outside": pgettext("recode_status", "located_outside"),
            "largest": pgettext("recode_status", "largest"),
            "ambiguous": pgettext("recode_status", "ambiguous"),
            "retired": pgettext("recode_status", "retired"),
            "already_new": pgettext("recode_status", "already_new"),
            "unknown": pgettext("recode_status", "unknown"),
            "missing": pgettext("recode_status", "missing")},
        "report_item": {
            "community": pgettext("report item", "community"),
            "compound": pgettext("report item", "compound"),
            "grid": pgettext("report item", "grid"), "building": pgettext("report item", "building"),
            "site": pgettext("report item", "site"), "locked": pgettext("report item", "locked")},
        "report_reason": _build_reasons(),
        "repair_action": {
            "fix_geometry": pgettext("repair", "geometry fixed"),
            "remove_empty": pgettext("repair", "empty grid removed"),
            "clip_to_parent": pgettext("repair", "clipped to the community"),
            "resolve_overlap": pgettext("repair", "overlap resolved"),
            "fill_gap": pgettext("repair", "gap filled"),
            "close_noise_gaps": pgettext("repair", "digitising gaps closed"),
            "reattach_part": pgettext("repair", "detached part reattached"),
            "absorb_sliver": pgettext("repair", "sliver absorbed"),
            "move_households": pgettext("repair", "households moved"),
            "match_edges": pgettext("repair", "shared edges matched"),
            "not_repaired": pgettext("repair", "not repaired")},
        "status": {"ok": pgettext("status", "ok"), "warning": pgettext("status", "warning"),
                   "invalid": pgettext("status", "invalid")},
        "unit": {"households": pgettext("unit", "households"),
                 "residents": pgettext("unit", "residents"),
                 "population": pgettext("unit", "residents"),
                 "grids": pgettext("unit", "grids"), "parts": pgettext("unit", "parts"),
                 "m²": "m²", "m": "m", "": ""},
        "freq": {"D": pgettext("freq", "day"), "W": pgettext("freq", "week"),
                 "M": pgettext("freq", "month")},
    }


def _build_reasons() -> dict[str, str]:
    """Reasons of the builder's report (``BuildResult.report["reason"]``) in the language in use."""
    return {
        "compound_split": pgettext("build", "compound split across grids"),
        "enclave": pgettext("build", "enclave of another community"),
        "geometry_repaired": pgettext("build", "geometry repaired"),
        "bad_households": pgettext("build", "households not a number"),
        "bad_population": pgettext("build", "population not a number"),
        "community_mismatch": pgettext("build", "community code differs from the location"),
        "outside_communities": pgettext("build", "outside every community"),
        "crosses_community": pgettext("build", "crosses the community boundary"),
        "site_in_several_parts": pgettext("build", "site in several parts"),
        "site_not_placed": pgettext("build", "site not placed"),
        "unknown_kind": pgettext("build", "unknown kind of site"),
        "locked_not_placed": pgettext("build", "locked grid not placed"),
        "locked_clipped": pgettext("build", "locked grid clipped"),
        "thin_block": pgettext("build", "thin grid (a thin block)"),
        "thin_grid": pgettext("build", "thin grid"),
        "not_single_polygon": pgettext("build", "grid in several parts"),
        "special_over_cap": pgettext("build", "special grid above its cap"),
        "no_geometry": pgettext("build", "no geometry"),
        "no_feasible_count": pgettext("build", "no number of grids fits the size rules"),
        "no_contiguous_split": pgettext("build", "no contiguous split within the size rules"),
        "oversize": pgettext("build", "above the maximum"),
        "oversize_building": pgettext("build", "one building above the maximum"),
        "oversize_unit": pgettext("build", "one unit above the maximum"),
        "out_of_range": pgettext("build", "size out of range"),
        "below_min": pgettext("build", "below the minimum"),
        "below_min_allowed": pgettext("flag", "below_min_allowed"),
        "above_max_allowed": pgettext("flag", "above_max_allowed"),
    }


def build_report_for_people(report: pd.DataFrame) -> pd.DataFrame:
    """The builder's report of exceptions (``item``, ``item_id``, ``community_code``, ``reason``,
    ``detail``) as a table for people: headers, kinds of item and reasons in the language in use.

    Examples
    --------
    >>> from gridgis.i18n import use_language
    >>> rep = pd.DataFrame({"item": ["compound"], "item_id": ["C1"], "community_code": ["430302001001"],
    ...                     "reason": ["compound_split"], "detail": [""]})
    >>> with use_language("zh"):
    ...     build_report_for_people(rep).iloc[0].tolist()
    ['小区', 'C1', '430302001001', '小区被网格分割', '']
    """
    return for_people(report.rename(columns={"item": "report_item", "reason": "report_reason"}))


def header(column: object) -> str:
    """The header of ``column`` in a table for people (unknown columns unchanged).

    Examples
    --------
    >>> from gridgis.i18n import use_language
    >>> with use_language("zh"):
    ...     header("households"), header("category:噪音扰民"), header("my column")
    ('户数', '事件类型：噪音扰民', 'my column')
    >>> with use_language("en"):
    ...     header("grid_code"), header("n_households")
    ('Grid code', 'n_households')
    """
    name = str(column)
    if name in HEADERS:
        return _(HEADERS[name])
    prefix, sep, rest = name.partition(":")
    if sep and prefix in PREFIXED:
        return tr("{column}: {value}", column=_(HEADERS[prefix]), value=rest)
    return name


def quoted(headers: list[str] | tuple[str, ...]) -> str:
    """Headers named in a sentence, quoted and listed as the language in use writes them.

    Examples
    --------
    >>> from gridgis.i18n import use_language
    >>> with use_language("zh"):
    ...     quoted(["姓名", "网格编码"])
    '“姓名”、“网格编码”'
    >>> with use_language("en"):
    ...     quoted(["Name", "Grid code"])
    '"Name", "Grid code"'
    """
    return pgettext("list separator", ", ").join(
        pgettext("quoted header", '"{header}"').format(header=h) for h in headers)


def value(column: str, v: object) -> object:
    """``v`` of ``column`` as people read it (values without a text unchanged).

    Examples
    --------
    >>> from gridgis.i18n import use_language
    >>> with use_language("zh"):
    ...     value("match", "nearest"), value("severity", "error"), value("households", 12)
    ('最近网格', '错误', 12)
    """
    if get_language() != "zh":
        return v
    table = _values().get(column)
    if table is None or not isinstance(v, str):
        return _bool(v)
    return table.get(v, v)


def _bool(v: object) -> object:
    if isinstance(v, bool):
        return _("yes") if v else _("no")
    return v


def for_people(df: pd.DataFrame,
               texts: Mapping[str, Callable[[object], object]] | None = None) -> pd.DataFrame:
    """A copy of ``df`` with headers and values for people, in the language in use.

    The geometry column (if any) is dropped; codes stay text. ``texts`` gives the text of the
    values of more columns (``{"rule": rule_title}``: layers above pass what they know).

    Examples
    --------
    >>> import pandas as pd
    >>> from gridgis.i18n import use_language
    >>> with use_language("en"):
    ...     for_people(pd.DataFrame({"severity": ["warning"], "noise": [True]}))
      Severity  Digitising noise
    0  warning              True
    """
    import pandas as pd

    out = pd.DataFrame(df).copy()
    geometry = getattr(df, "_geometry_column_name", None)
    drop = [c for c in out.columns if c == geometry or c in _DISPLAY_ONLY]
    out = out.drop(columns=drop)
    out.attrs[FOR_PEOPLE_ATTR] = True
    if get_language() != "zh":  # English: readable headers, the API's own values
        return _with_headers(out)
    tables = _values()
    texts = dict(texts or {})
    for column in out.columns:
        name = str(column)
        if name in texts:
            out[column] = [texts[name](v) for v in out[column]]
        elif name in tables or out[column].dtype == bool:
            out[column] = [value(name, v) for v in out[column]]
    return _with_headers(out)


def columns_for_people(df: pd.DataFrame, columns: list[str],
                       texts: Mapping[str, Callable[[object], object]] | None = None) -> pd.DataFrame:
    """A copy of ``df`` whose ``columns`` get headers and values for people; the others stay.

    For a table that gridgis extends (the rows of a user's file with columns added): the
    added columns are written for people, the file's own columns as they were read (one under
    the header of an added column is replaced by it). Columns of ``columns`` that ``df`` lacks
    are ignored; the order of the columns is kept.

    Examples
    --------
    >>> import pandas as pd
    >>> from gridgis.i18n import use_language
    >>> rows = pd.DataFrame({"households": ["3"], "match": ["inside"]})
    >>> with use_language("zh"):
    ...     list(columns_for_people(rows, ["match"]).iloc[0].items())
    [('households', '3'), ('匹配结果', '在网格内')]
    """
    import pandas as pd

    out = pd.DataFrame(df).copy(deep=False)
    present = [c for c in columns if c in out.columns]
    if present:
        part = for_people(pd.DataFrame(out[present]), texts)
        # a column of the file under an added column's header (a file assigned before) is
        # replaced by the new one, as the API replaces same-named columns
        out = out.drop(columns=[c for c in out.columns
                                if c not in present and c in set(part.columns)])
        for name, column in zip(present, part.columns, strict=True):
            out[name] = part[column].to_numpy()
        out = out.rename(columns=dict(zip(present, part.columns, strict=True)))
    out.attrs[FOR_PEOPLE_ATTR] = True
    return out


def _with_headers(out: pd.DataFrame) -> pd.DataFrame:
    """``out`` with the headers (and index name) for people, marked as a table for people."""
    out.columns = [header(c) for c in out.columns]
    if out.index.name is not None:
        out.index.name = header(out.index.name)
    out.attrs[FOR_PEOPLE_ATTR] = True
    return out

