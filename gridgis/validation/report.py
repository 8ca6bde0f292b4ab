"""Findings of the plan validator and the report that carries them.

A :class:`Finding` is one problem: a rule id, a severity (``"error"`` or ``"warning"``), the grid
codes involved, a measure with its unit (gap area in m², household count …), a message in plain
words and the geometry of the problem. A :class:`ValidationReport` holds the findings of one run
of :func:`gridgis.validation.validate` and turns them into a GeoDataFrame, JSON or a terminal
summary; its offline HTML page with a map is drawn by
:func:`gridgis.render.validation_page.write_validation_page`.

Geometries are kept in the metric CRS the checks ran in and converted back to the input CRS (or
WGS84 for GeoJSON) on output.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from ..crs import to_crs
from ..i18n import _, pgettext, tr
from ..people import value
from ..rules import Rules
from ..writing import write_text
from ._text import format_measure, grid_list
from .catalogue import RULE_ORDER, rule_title

__all__ = ["ERROR", "WARNING", "SEVERITIES", "Finding", "ValidationReport", "skipped_line",
           "sort_findings"]

ERROR, WARNING = "error", "warning"
SEVERITIES = (ERROR, WARNING)


@dataclass(frozen=True)
class Finding:
    """One problem found in a plan.

    Attributes
    ----------
    rule
        Rule id (a key of :data:`RULES`).
    severity
        ``"error"`` or ``"warning"``.
    grids
        Codes (or ``#row`` labels) of the grids involved.
    measure, unit
        Size of the problem, e.g. ``123.4`` ``"m²"`` or ``620`` ``"households"``.
    message
        The problem in plain words.
    geometry
        Where it is (metric CRS of the report); ``None`` when it has no place.
    parent
        Community code the problem lies in, when known.
    item
        Id of the building or address concerned, for item rules.
    noise
        True for gaps/overlaps/crossings narrower than the snapping tolerance.
    width_m
        Width of a gap/overlap/crossing piece (mean width of noise strips, else the largest).
    """

    rule: str
    severity: str
    grids: tuple[str, ...]
    measure: float | None
    unit: str
    message: str
    geometry: BaseGeometry | None = None
    parent: str | None = None
    item: str | None = None
    noise: bool = False
    width_m: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain-dict view (without geometry)."""
        return {
            "rule": self.rule,
            "severity": self.severity,
            "grids": list(self.grids),
            "measure": None if self.measure is None else float(self.measure),
            "unit": self.unit,
            "message": self.message,
            "parent": self.parent,
            "item": self.item,
            "noise": self.noise,
            "width_m": None if self.width_m is None else round(float(self.width_m), 3),
        }


_COLUMNS = ["rule", "severity", "grids", "n_grids", "measure", "unit", "message", "parent",
            "item", "noise", "width_m"]


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Errors first, then rule order, then grid codes and measure (largest first).

    Examples
    --------
    >>> f = [Finding('gap', WARNING, ('a',), 1.0, 'm²', 'x'), Finding('gap', ERROR, ('b',), 2.0, 'm²', 'y')]
    >>> [x.severity for x in sort_findings(f)]
    ['error', 'warning']
    """
    return sorted(
        findings,
        key=lambda f: (
            SEVERITIES.index(f.severity),
            RULE_ORDER.get(f.rule, len(RULE_ORDER)),
            f.grids,
            -(f.measure or 0.0),
            f.item or "",
        ),
    )


@dataclass
class ValidationReport:
    """The findings of one validation run and ways to present them.

    Attributes
    ----------
    findings
        All findings, errors first.
    crs
        CRS of the input grids; outputs use it unless asked otherwise.
    metric_crs
        CRS the checks ran in (metres); finding geometries are stored in it.
    grids
        The validated grids in ``metric_crs`` (``grid_code`` label + geometry), used for maps.
    parents
        The parent (community) layer in ``metric_crs``, when given.
    rules
        Rules used.
    n_grids
        Number of input rows.
    skipped
        Rules not checked, with the reason (e.g. no parent layer given).
    """

    findings: list[Finding]
    crs: Any
    metric_crs: Any
    grids: gpd.GeoDataFrame | None = None
    parents: gpd.GeoDataFrame | None = None
    rules: Rules | None = None
    n_grids: int = 0
    skipped: dict[str, str] = field(default_factory=dict)

    # ---- status ---------------------------------------------------------------------------------
    @property
    def errors(self) -> list[Finding]:
        """Findings of severity ``error``."""
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        """Findings of severity ``warning``."""
        return [f for f in self.findings if f.severity == WARNING]

    @property
    def has_errors(self) -> bool:
        """True when at least one error was found."""
        return any(f.severity == ERROR for f in self.findings)

    @property
    def ok(self) -> bool:
        """True when no error was found (warnings allowed)."""
        return not self.has_errors

    @property
    def clean(self) -> bool:
        """True when nothing at all was found (no error, no warning)."""
        return not self.findings

    def __len__(self) -> int:
        return len(self.findings)

    def __iter__(self):
        return iter(self.findings)

    def __repr__(self) -> str:
        return (f"<ValidationReport {self.n_grids} grids: {len(self.errors)} errors, "
                f"{len(self.warnings)} warnings>")

    def select(self, rule: str | Sequence[str] | None = None,
               severity: str | None = None) -> list[Finding]:
        """Findings of the given rule(s) and/or severity."""
        rules = {rule} if isinstance(rule, str) else (set(rule) if rule is not None else None)
        return [f for f in self.findings
                if (rules is None or f.rule in rules) and (severity is None or f.severity == severity)]

    def rules_found(self, severity: str | None = None) -> set[str]:
        """Set of rule ids with at least one finding (of ``severity`` when given)."""
        return {f.rule for f in self.findings if severity is None or f.severity == severity}

    def counts(self) -> pd.DataFrame:
        """Number of findings and total measure per rule and severity."""
        rows = {}
        for f in self.findings:
            key = (f.rule, f.severity)
            n, total, unit = rows.get(key, (0, 0.0, f.unit))
            rows[key] = (n + 1, total + (f.measure or 0.0), unit)
        out = pd.DataFrame(
            [(rule, sev, n, total, unit) for (rule, sev), (n, total, unit) in rows.items()],
            columns=["rule", "severity", "count", "total_measure", "unit"],
        )
        if len(out):
            out["_o"] = out["rule"].map(RULE_ORDER).fillna(len(RULE_ORDER))
            out["_s"] = out["severity"].map(SEVERITIES.index)
            out = out.sort_values(["_s", "_o"]).drop(columns=["_o", "_s"]).reset_index(drop=True)
        return out

    # ---- outputs --------------------------------------------------------------------------------
    def to_geodataframe(self, crs: Any = None) -> gpd.GeoDataFrame:
        """Findings as a GeoDataFrame (one row per finding) in ``crs`` (default: input CRS).

        ``grids`` is a ``"; "``-joined string so that the table can be written to GeoPackage.
        """
        rows = []
        for f in self.findings:
            d = f.as_dict()
            d["grids"] = "; ".join(f.grids)
            d["n_grids"] = len(f.grids)
            rows.append(d)
        df = pd.DataFrame(rows, columns=_COLUMNS)
        geoms = [f.geometry for f in self.findings]
        gdf = gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geoms, crs=self.metric_crs))
        target = self.crs if crs is None else crs
        if target is not None and self.metric_crs is not None:
            gdf = to_crs(gdf, target)
        return gdf

    def to_json(self, path: str | Path | None = None, *, indent: int | None = 1) -> str:
        """Report as JSON: status, counts and findings with GeoJSON geometry in WGS84.

        Written to ``path`` as UTF-8 when given; the JSON text is returned either way.
        """
        gdf = self.to_geodataframe(crs="EPSG:4326") if self.findings else None
        items = []
        for i, f in enumerate(self.findings):
            d = f.as_dict()
            g = None if gdf is None else gdf.geometry.iloc[i]
            d["geometry"] = None if g is None or g.is_empty else shapely.geometry.mapping(g)
            items.append(d)
        payload = {
            "ok": self.ok,
            "n_grids": self.n_grids,
            "n_errors": len(self.errors),
            "n_warnings": len(self.warnings),
            "counts": self.counts().to_dict(orient="records"),
            "skipped": self.skipped,
            "findings": items,
        }
        text = json.dumps(payload, ensure_ascii=False, indent=indent, default=_json_default)
        if path is not None:
            write_text(path, text)
        return text

    def summary(self, max_rows: int = 20, more: str | None = None) -> str:
        """Plain-text summary: status line, a count per rule and the first findings.

        In the language in use (:mod:`gridgis.i18n`); rules are named by their titles. ``more``
        says where the findings not listed are (default: ``report.to_geodataframe()``).
        """
        lines = [self.status_line()]
        counts = self.counts()
        if len(counts):
            lines.append("")
            lines.append(tr("{severity} | {rule} | {count} | total", severity=_("severity"),
                            rule=_("rule"), count=_("count")))
            for r in counts.itertuples():
                lines.append(f"{value('severity', r.severity)} | {rule_title(r.rule)} | {r.count} | "
                             f"{format_measure(r.total_measure)} {value('unit', r.unit)}".rstrip())
            lines.append("")
            for f in self.findings[:max_rows]:
                lines.append(tr("[{severity}] {rule}: {message}", severity=value("severity", f.severity),
                                rule=rule_title(f.rule), message=f.message))
            if len(self.findings) > max_rows:
                lines.append(tr("… {n} more ({where})", n=len(self.findings) - max_rows,
                                where=more or "report.to_geodataframe()"))
        lines += [skipped_line(what, why) for what, why in self.skipped.items()]
        return "\n".join(lines)

    def status_line(self) -> str:
        """One line: passed/failed with the number of grids, errors and warnings."""
        if self.clean:
            return tr("OK: {n} grids, no problem found.", n=self.n_grids)
        if self.has_errors:
            return tr("FAILED: {n} grids, {errors} errors, {warnings} warnings.", n=self.n_grids,
                      errors=len(self.errors), warnings=len(self.warnings))
        return tr("OK with warnings: {n} grids, {errors} errors, {warnings} warnings.",
                  n=self.n_grids, errors=len(self.errors), warnings=len(self.warnings))

    def rich_table(self, max_rows: int = 30):
        """A :class:`rich.table.Table` of the findings, for terminals."""
        from rich.table import Table
        from rich.text import Text

        # cells are Text, never markup (messages quote "[urban]"); codes are never folded
        table = Table(title=Text(self.status_line()), show_lines=False, expand=False)
        table.add_column(_("severity"), no_wrap=True)
        table.add_column(_("rule"), no_wrap=True)
        table.add_column(_("grids"), no_wrap=True)
        table.add_column(_("measure"), justify="right", no_wrap=True)
        table.add_column(_("message"))
        for f in self.findings[:max_rows]:
            colour = "red" if f.severity == ERROR else "yellow"
            table.add_row(Text(value("severity", f.severity), style=colour), Text(rule_title(f.rule)),
                          Text(grid_list(f.grids, 3).replace(", ", "\n")),
                          Text(f"{format_measure(f.measure)} {value('unit', f.unit)}".strip()),
                          Text(f.message))
        if len(self.findings) > max_rows:
            table.caption = tr("… {n} more findings", n=len(self.findings) - max_rows)
        return table

    def __rich__(self):
        return self.rich_table()

    def _repr_html_(self) -> str:
        counts = self.counts()
        body = "".join(
            f"<tr><td>{html.escape(value('severity', r.severity))}</td>"
            f"<td>{html.escape(rule_title(r.rule))}</td><td>{r.count}</td>"
            f"<td>{format_measure(r.total_measure)} {html.escape(value('unit', r.unit))}</td></tr>"
            for r in counts.itertuples()
        )
        heads = "".join(f"<th>{html.escape(h)}</th>"
                        for h in (_("severity"), _("rule"), _("count"), _("total")))
        return (f"<p>{html.escape(self.status_line())}</p>"
                + (f"<table><tr>{heads}</tr>{body}</table>" if body else ""))


def skipped_line(what: str, why: str) -> str:
    """The line that says an input was not given and what was not checked because of it."""
    names = {"parents": pgettext("input", "parents"), "buildings": pgettext("input", "buildings"),
             "addresses": pgettext("input", "addresses"), "size": pgettext("input", "size")}
    return tr("not checked: {what} ({why})", what=names.get(what, what), why=why)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return str(obj)
