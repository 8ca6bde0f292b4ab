"""Findings of the plan validator and the report that carries them.

A :class:`Finding` is one problem: a rule id, a severity (``"error"`` or ``"warning"``), the grid
codes involved, a measure with its unit (gap area in m², household count …), a message in plain
words and the geometry of the problem. A :class:`ValidationReport` holds the findings of one run
of :func:`gridgis.validate.validate` and turns them into a GeoDataFrame, JSON, a terminal summary
or an offline HTML page with a map.

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

from .rules import Rules
from .writing import write_text

ERROR, WARNING = "error", "warning"
SEVERITIES = (ERROR, WARNING)


@dataclass(frozen=True)
class RuleInfo:
    """What a rule checks, why it matters and how to fix a violation."""

    id: str
    title: str
    explanation: str
    fix: str
    repairable: bool


def _r(id: str, title: str, explanation: str, fix: str, repairable: bool) -> RuleInfo:
    return RuleInfo(id, title, explanation, fix, repairable)


#: Catalogue of every rule the validator checks, in report order.
RULES: dict[str, RuleInfo] = {
    r.id: r
    for r in (
        _r("empty_grid", "Empty grid", "The grid has no geometry or zero area.",
           "Delete the row or draw its boundary.", True),
        _r("invalid_geometry", "Invalid geometry",
           "The polygon is not valid (self-intersection, bad ring …) or is not a polygon; "
           "areas and overlays on it are unreliable.",
           "Redraw it, or let `gridgis repair` fix it with shapely.make_valid.", True),
        _r("gap", "Gap", "Land inside the parent boundary (or between grids) that belongs to no "
           "grid: seamless coverage requires every place to fall in exactly one grid. Gaps "
           "narrower than tolerances.gap_width_m are digitising/snapping noise (warnings).",
           "`gridgis repair` gives each gap to the neighbouring grid with the longest shared edge.",
           True),
        _r("overlap", "Overlap", "Land claimed by two grids. Overlaps narrower than "
           "tolerances.gap_width_m are digitising/snapping noise (warnings).",
           "`gridgis repair` gives each overlap to the claimant with the longest shared edge.",
           True),
        _r("crosses_parent", "Grid crosses its community line",
           "Part of the grid lies in another community: every grid must stay inside its "
           "community (DB6101/T 3185-2024).",
           "`gridgis repair` clips the grid to its community; the cut-off part goes to a grid of "
           "the other community.", True),
        _r("outside_parent", "Grid outside the boundary",
           "Part of the grid lies outside every community of the district.",
           "`gridgis repair` clips it to its community.", True),
        _r("wrong_parent", "Grid under the wrong community",
           "Most of the grid lies in a community other than the one its community_code / code "
           "prefix names.", "Fix community_code and re-code the grid, or redraw it.", False),
        _r("unknown_parent", "Unknown community",
           "The community the grid names (community_code or code prefix) is not in the parent "
           "layer.", "Fix community_code / the code prefix, or add the community.", False),
        _r("multipart", "Grid in several pieces",
           "The grid is made of separate pieces (a multipolygon, or pieces touching at a point).",
           "`gridgis repair` gives the detached pieces to the neighbour with the longest shared "
           "edge.", True),
        _r("sliver", "Sliver grid",
           "The grid is tiny (below tolerances.sliver_area_m2), or thin (Polsby-Popper "
           "compactness below tolerances.sliver_thinness) and small (below 100 × "
           "sliver_area_m2): usually a digitising slip.",
           "`gridgis repair` merges it into the neighbour with the longest shared edge.", True),
        _r("size_below_min", "Too small (households/residents)",
           "The grid holds fewer households/residents than its profile's minimum. Special grids "
           "are exempt; a grid flagged 'below_min_allowed' gives a warning.",
           "Merge it with a neighbour, or flag it 'below_min_allowed' if approved.", False),
        _r("size_above_max", "Too large (households/residents)",
           "The grid holds more households/residents than its profile's maximum. A grid flagged "
           "'above_max_allowed' gives a warning.",
           "Split it, or flag it 'above_max_allowed' if approved.", False),
        _r("size_unknown", "Size unknown",
           "The grid has no household/population value and no buildings were given to count them.",
           "Fill the households/population columns or pass buildings.", False),
        _r("kind_unknown", "Unknown grid kind",
           "The grid's kind is neither 'basic' nor one of the special kinds in the rules file.",
           "Use 'basic' or a kind listed in [special] kinds.", False),
        _r("building_unassigned", "Building in no grid",
           "A building (its representative point) lies in no grid.",
           "Close the gap it lies in (`gridgis repair`) or extend the plan.", True),
        _r("building_in_two", "Building in two grids",
           "A building's representative point lies in two or more grids (an overlap).",
           "Resolve the overlap (`gridgis repair`).", True),
        _r("building_split", "Building split by a grid line",
           "A building's footprint is shared by two grids (the smaller share is at least 10 % of "
           "it); its households are counted in one grid only.",
           "Move the grid line to the street or compound edge.", False),
        _r("address_unassigned", "Address in no grid", "An address point lies in no grid.",
           "Close the gap it lies in, or check its coordinates.", True),
        _r("address_in_two", "Address in two grids",
           "An address point lies in two or more grids (an overlap).",
           "Resolve the overlap (`gridgis repair`).", True),
        _r("code_malformed", "Malformed code",
           "The grid code is missing, does not follow the code scheme (default 15 digits = "
           "12-digit community code + 3-digit serial, DB11/T 2157-2023), or its serial is in "
           "the wrong range for its kind (default basic 001–899, special 900–999).",
           "Re-code the plan (gridgis.codes).", False),
        _r("code_duplicate", "Duplicate code", "Two or more grids carry the same code.",
           "Re-code the plan (gridgis.codes).", False),
        _r("code_prefix", "Code prefix differs from the community",
           "The first digits of the grid code must equal the code of the community it belongs to.",
           "Re-code the grid or fix community_code.", False),
        _r("code_order", "Serials out of order",
           "Serials should run west→east, north→south inside a community: here a grid that lies "
           "clearly north-west of another carries the higher serial.",
           "Re-number the community (gridgis.codes).", False),
    )
}

RULE_ORDER = {rule: i for i, rule in enumerate(RULES)}


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
    """Errors first, then rule order, then grid codes and measure (largest first)."""
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
            from .crs import to_crs

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

    def summary(self, max_rows: int = 20) -> str:
        """Plain-text summary: status line, a count per rule and the first findings."""
        lines = [self._status_line()]
        counts = self.counts()
        if len(counts):
            lines.append("")
            lines.append(f"{'severity':<8}  {'rule':<20}  {'count':>6}  total")
            for r in counts.itertuples():
                lines.append(f"{r.severity:<8}  {r.rule:<20}  {r.count:>6}  "
                             f"{_fmt(r.total_measure)} {r.unit}".rstrip())
            lines.append("")
            for f in self.findings[:max_rows]:
                lines.append(f"[{f.severity}] {f.rule}: {f.message}")
            if len(self.findings) > max_rows:
                lines.append(f"… {len(self.findings) - max_rows} more (report.to_geodataframe())")
        for rule, why in self.skipped.items():
            lines.append(f"not checked: {rule} ({why})")
        return "\n".join(lines)

    def _status_line(self) -> str:
        if self.clean:
            return f"OK: {self.n_grids} grids, no problem found."
        state = "FAILED" if self.has_errors else "OK with warnings"
        return (f"{state}: {self.n_grids} grids, {len(self.errors)} errors, "
                f"{len(self.warnings)} warnings.")

    def rich_table(self, max_rows: int = 30):
        """A :class:`rich.table.Table` of the findings, for terminals."""
        from rich.table import Table
        from rich.text import Text

        # cells are Text, never markup (messages quote "[urban]"); codes are never folded
        table = Table(title=Text(self._status_line()), show_lines=False, expand=False)
        table.add_column("severity", no_wrap=True)
        table.add_column("rule", no_wrap=True)
        table.add_column("grids", no_wrap=True)
        table.add_column("measure", justify="right", no_wrap=True)
        table.add_column("message")
        for f in self.findings[:max_rows]:
            colour = "red" if f.severity == ERROR else "yellow"
            table.add_row(Text(f.severity, style=colour), Text(f.rule),
                          Text(_grid_list(f.grids, 3).replace(", ", "\n")),
                          Text(f"{_fmt(f.measure)} {f.unit}".strip()), Text(f.message))
        if len(self.findings) > max_rows:
            table.caption = f"… {len(self.findings) - max_rows} more findings"
        return table

    def __rich__(self):
        return self.rich_table()

    def _repr_html_(self) -> str:
        counts = self.counts()
        body = "".join(
            f"<tr><td>{html.escape(r.severity)}</td><td>{html.escape(r.rule)}</td>"
            f"<td>{r.count}</td><td>{_fmt(r.total_measure)} {html.escape(r.unit)}</td></tr>"
            for r in counts.itertuples()
        )
        return (f"<p>{html.escape(self._status_line())}</p>"
                + (f"<table><tr><th>severity</th><th>rule</th><th>count</th><th>total</th></tr>"
                   f"{body}</table>" if body else ""))

    def to_html(self, path: str | Path, *, title: str | None = None) -> Path:
        """Write an offline HTML page: summary, rule explanations, findings table and a map.

        The page loads nothing from the network (no tiles, no CDN scripts), so it opens on an
        offline intranet. Each finding is drawn over the grids; clicking a row zooms to it.
        """
        path = Path(path)
        text = _offline_map(self, title=title or "Grid plan validation")
        write_text(path, text)
        return path


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return str(obj)


def _fmt(value: float | None) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    value = float(value)
    if value == int(value) and abs(value) < 1e12:
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:,.1f}"
    return f"{value:.3g}"


def _grid_list(grids: Sequence[str], limit: int) -> str:
    shown = ", ".join(grids[:limit])
    return shown + (f" +{len(grids) - limit}" if len(grids) > limit else "")


# ---- offline HTML map ----------------------------------------------------------------------------


def _offline_map(report: ValidationReport, *, title: str) -> str:
    """Return a self-contained HTML page drawing every finding over the grids.

    Hook for the rendering module: when ``gridgis.render`` provides
    ``validation_map(grids, findings, parents=None, title=...) -> str`` (an offline Leaflet page
    with Leaflet's JS/CSS inlined; grids, findings and parents are GeoDataFrames in WGS84 with
    the columns of :meth:`ValidationReport.to_geodataframe`), that page is used. Otherwise the map
    is an inline SVG with pan/zoom written here (folium does not ship Leaflet's files locally,
    it links them from a CDN, so a folium page would be blank offline).
    """
    try:  # pragma: no cover - depends on the rendering module being present
        from . import render as _render

        helper = getattr(_render, "validation_map", None)
    except ImportError:
        helper = None
    if helper is not None:  # pragma: no cover
        grids = report.grids.to_crs(4326) if report.grids is not None else None
        parents = report.parents.to_crs(4326) if report.parents is not None else None
        return helper(grids, report.to_geodataframe(crs="EPSG:4326"), parents=parents,
                      title=title)
    return _svg_page(report, title=title)


_SVG_W = 1000.0


def _path_d(geom: BaseGeometry, tf) -> str:
    """SVG path data of a (multi)polygon or (multi)line in page coordinates."""
    out = []
    for part in shapely.get_parts(geom):
        gt = part.geom_type
        if gt == "Polygon":
            rings = [part.exterior, *part.interiors]
            for ring in rings:
                xy = tf(np.asarray(ring.coords))
                out.append("M" + " ".join(f"{x:.2f},{y:.2f}" for x, y in xy) + "Z")
        elif gt in ("LineString", "LinearRing"):
            xy = tf(np.asarray(part.coords))
            out.append("M" + " ".join(f"{x:.2f},{y:.2f}" for x, y in xy))
        elif gt.startswith("Multi") or gt == "GeometryCollection":
            out.append(_path_d(part, tf))
    return "".join(out)


def _svg_page(report: ValidationReport, *, title: str) -> str:
    grids = report.grids
    geoms = []
    if grids is not None and len(grids):
        geoms.append(np.asarray(grids.geometry.array))
    if report.parents is not None and len(report.parents):
        geoms.append(np.asarray(report.parents.geometry.array))
    fgeoms = np.array([f.geometry for f in report.findings], dtype=object)
    if len(fgeoms):
        geoms.append(fgeoms)
    allg = np.concatenate(geoms) if geoms else np.array([], dtype=object)
    allg = allg[~shapely.is_missing(allg)] if len(allg) else allg
    allg = allg[~shapely.is_empty(allg)] if len(allg) else allg
    if len(allg):
        x0, y0, x1, y1 = shapely.total_bounds(allg)
    else:
        x0, y0, x1, y1 = 0.0, 0.0, 1.0, 1.0
    span = max(x1 - x0, y1 - y0, 1e-9)
    scale = _SVG_W / span
    pad = 0.02 * _SVG_W
    width, height = (x1 - x0) * scale + 2 * pad, (y1 - y0) * scale + 2 * pad

    def tf(xy: np.ndarray) -> np.ndarray:
        return np.column_stack([(xy[:, 0] - x0) * scale + pad, (y1 - xy[:, 1]) * scale + pad])

    def bbox(g: BaseGeometry | None) -> str:
        if g is None or g.is_empty:
            return ""
        bx0, by0, bx1, by1 = g.bounds
        (px0, py1), (px1, py0) = tf(np.array([[bx0, by0], [bx1, by1]]))
        return f"{px0:.2f},{py0:.2f},{px1 - px0:.2f},{py1 - py0:.2f}"

    svg: list[str] = []
    parent_paths: list[str] = []
    if report.parents is not None:
        for code, g in zip(report.parents["code"].astype(str), report.parents.geometry, strict=False):
            if g is not None and not g.is_empty:
                parent_paths.append(f'<path class="parent" d="{_path_d(g, tf)}"><title>'
                                    f'community {html.escape(code)}</title></path>')
    labels: list[str] = []
    if grids is not None:
        label_col = grids["grid_code"].astype(str) if "grid_code" in grids else grids.index.astype(str)
        for code, g in zip(label_col, grids.geometry, strict=False):
            if g is None or g.is_empty:
                continue
            svg.append(f'<path class="grid" d="{_path_d(g, tf)}"><title>grid '
                       f'{html.escape(code)}</title></path>')
            p = tf(np.asarray(g.representative_point().coords))[0]
            gw = (g.bounds[2] - g.bounds[0]) * scale
            labels.append(f'<text class="lbl" x="{p[0]:.2f}" y="{p[1]:.2f}" data-w="{gw:.1f}">'
                          f'{html.escape(code[-3:])}</text>')
    svg.extend(parent_paths)  # community lines over the grid fills
    svg.extend(labels)
    markers: list[str] = []
    rows: list[str] = []
    for i, f in enumerate(report.findings):
        g = f.geometry
        tip = html.escape(f"[{f.severity}] {f.rule}: {f.message}")
        cls = f"f {f.severity}"
        if g is not None and not g.is_empty:
            gt = g.geom_type
            if gt in ("Point", "MultiPoint"):
                pass
            else:
                kind = "line" if "Line" in gt else "area"
                svg.append(f'<path class="{cls} {kind}" d="{_path_d(g, tf)}">'
                           f"<title>{tip}</title></path>")
            p = tf(np.asarray(g.representative_point().coords if gt != "MultiPoint"
                              else shapely.get_point(g, 0).coords))[0]
            noise = " noise" if f.noise else ""
            markers.append((f.severity == ERROR, f'<circle class="m {f.severity}{noise}" '
                            f'data-i="{i}" cx="{p[0]:.2f}" cy="{p[1]:.2f}" r="4">'
                            f"<title>{tip}</title></circle>"))
        rows.append(
            f'<tr id="f{i}" class="{f.severity}{" noise" if f.noise else ""}" data-i="{i}" '
            f'data-b="{bbox(g)}"><td>{f.severity}</td>'
            f"<td>{html.escape(f.rule)}</td><td>{html.escape(_grid_list(f.grids, 4))}</td>"
            f"<td>{_fmt(f.measure)} {html.escape(f.unit)}</td><td>{html.escape(f.message)}</td></tr>"
        )
    svg.extend(m for _, m in sorted(markers, key=lambda m: m[0]))  # errors drawn on top
    counts = report.counts()
    count_rows = "".join(
        f'<tr class="{r.severity}"><td>{r.severity}</td><td title="{html.escape(RULES[r.rule].explanation if r.rule in RULES else "")}">'
        f"{html.escape(RULES[r.rule].title if r.rule in RULES else r.rule)} "
        f"<code>{html.escape(r.rule)}</code></td><td>{r.count}</td>"
        f"<td>{_fmt(r.total_measure)} {html.escape(r.unit)}</td></tr>"
        for r in counts.itertuples()
    )
    explained = "".join(
        f"<dt>{html.escape(RULES[rule].title)} <code>{html.escape(rule)}</code></dt>"
        f"<dd>{html.escape(RULES[rule].explanation)} <b>Fix:</b> {html.escape(RULES[rule].fix)}</dd>"
        for rule in sorted(report.rules_found(), key=lambda r: RULE_ORDER.get(r, 99))
        if rule in RULES
    )
    skipped = "".join(f"<li>{html.escape(k)}: {html.escape(v)}</li>" for k, v in report.skipped.items())
    return _PAGE.format(
        title=html.escape(title),
        status=html.escape(report._status_line()),
        status_cls="ok" if report.ok else "bad",
        w=f"{width:.2f}", h=f"{height:.2f}",
        svg="\n".join(svg),
        counts=count_rows or '<tr><td colspan="4">no findings</td></tr>',
        rows="\n".join(rows),
        explained=explained,
        skipped=f"<p>Not checked:</p><ul>{skipped}</ul>" if skipped else "",
    )


_PAGE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>{title}</title>
<style>
body{{margin:0;font:13px/1.4 "Noto Sans CJK SC","Microsoft YaHei",sans-serif;color:#222}}
header{{padding:8px 14px;border-bottom:1px solid #ccc}}
h1{{font-size:18px;margin:0 0 4px}}
.ok{{color:#1a7f37}} .bad{{color:#c62828}}
main{{display:flex;height:calc(100vh - 64px)}}
#mapbox{{flex:3;position:relative;background:#f7f7f4;border-right:1px solid #ccc}}
#map{{width:100%;height:100%;cursor:grab}}
#side{{flex:2;overflow:auto;padding:6px 10px}}
table{{border-collapse:collapse;width:100%}} td,th{{border-bottom:1px solid #eee;padding:2px 4px;vertical-align:top;text-align:left}}
tr.error td:first-child{{color:#c62828;font-weight:bold}} tr.warning td:first-child{{color:#b26a00;font-weight:bold}}
#findings tr{{cursor:pointer}} #findings tr:hover{{background:#eef}} #findings tr.sel{{background:#dde}}
.grid{{fill:#dfe9f3;stroke:#5b7083;stroke-width:1;vector-effect:non-scaling-stroke}}
.parent{{fill:none;stroke:#111;stroke-width:2.5;stroke-dasharray:6 3;vector-effect:non-scaling-stroke;pointer-events:none}}
.lbl{{font-size:7px;fill:#456;text-anchor:middle;pointer-events:none}}
.f.area.error{{fill:#e53935;fill-opacity:.55;stroke:#b71c1c;stroke-width:1.5;vector-effect:non-scaling-stroke}}
.f.area.warning{{fill:#ffa000;fill-opacity:.5;stroke:#e65100;stroke-width:1.2;vector-effect:non-scaling-stroke}}
.f.line{{fill:none;stroke-width:3;vector-effect:non-scaling-stroke}} .f.line.error{{stroke:#c62828}} .f.line.warning{{stroke:#ef6c00}}
.m{{fill-opacity:.35;stroke-width:1.5;vector-effect:non-scaling-stroke}} .m.error{{fill:#e53935;stroke:#b71c1c}} .m.warning{{fill:#ffb300;stroke:#e65100}}
.hide,.hidenoise{{display:none}} .m.sel{{fill-opacity:.9;stroke:#000}}
code{{color:#777;font-size:11px}}
#ctl{{position:absolute;top:6px;left:6px;background:#fffd;padding:4px 6px;border:1px solid #bbb}}
dt{{font-weight:bold;margin-top:4px}} dd{{margin:0 0 0 12px}}
</style></head>
<body>
<header><h1>{title}</h1><span class="{status_cls}">{status}</span></header>
<main>
<div id="mapbox">
<div id="ctl"><label><input type="checkbox" id="showE" checked> errors</label>
<label><input type="checkbox" id="showW" checked> warnings</label>
<label><input type="checkbox" id="showN" checked> noise</label>
<button id="reset">whole plan</button> <small>wheel: zoom, drag: pan</small></div>
<svg id="map" viewBox="0 0 {w} {h}" preserveAspectRatio="xMidYMid meet">
{svg}
</svg></div>
<div id="side">
<h2>Summary</h2><table><tr><th>severity</th><th>rule</th><th>count</th><th>total</th></tr>{counts}</table>
{skipped}
<h2>What the rules mean</h2><dl>{explained}</dl>
<h2>Findings</h2>
<table id="findings"><tr><th>severity</th><th>rule</th><th>grids</th><th>measure</th><th>message</th></tr>
{rows}
</table></div></main>
<script>
(function(){{
var svg=document.getElementById('map');var full=[0,0,{w},{h}];var vb=full.slice();
function px(){{var r=svg.getBoundingClientRect();return Math.max(vb[2]/r.width,vb[3]/r.height)||1;}}
function apply(){{svg.setAttribute('viewBox',vb.join(' '));var k=px();
var ms=svg.querySelectorAll('circle.m');for(var i=0;i<ms.length;i++)ms[i].setAttribute('r',(ms[i].classList.contains('error')?8:ms[i].classList.contains('noise')?3:5)*k);
var ls=svg.querySelectorAll('text.lbl');var fs=Math.min(11*k, 7);for(var j=0;j<ls.length;j++){{ls[j].style.fontSize=fs+'px';
ls[j].style.display=(ls[j].getAttribute('data-w')/k>40)?'':'none';}}}}
svg.addEventListener('wheel',function(e){{e.preventDefault();var r=svg.getBoundingClientRect();
var k=px();var cx=vb[0]+(e.clientX-r.left-(r.width-vb[2]/k)/2)*k;var cy=vb[1]+(e.clientY-r.top-(r.height-vb[3]/k)/2)*k;
var f=e.deltaY<0?0.8:1.25;vb=[cx-(cx-vb[0])*f,cy-(cy-vb[1])*f,vb[2]*f,vb[3]*f];apply();}},{{passive:false}});
var drag=null;svg.addEventListener('mousedown',function(e){{drag=[e.clientX,e.clientY];}});
window.addEventListener('mouseup',function(){{drag=null;}});
window.addEventListener('mousemove',function(e){{if(!drag)return;var k=px();vb[0]-=(e.clientX-drag[0])*k;vb[1]-=(e.clientY-drag[1])*k;drag=[e.clientX,e.clientY];apply();}});
document.getElementById('reset').onclick=function(){{vb=full.slice();apply();}};
function toggle(cls,on){{var els=document.querySelectorAll('.'+cls);for(var i=0;i<els.length;i++){{if(els[i].tagName=='TR'&&els[i].parentNode.parentNode.id!='findings')continue;els[i].classList.toggle('hide',!on);}}}}
document.getElementById('showE').onchange=function(){{toggle('error',this.checked);}};
document.getElementById('showW').onchange=function(){{toggle('warning',this.checked);}};
document.getElementById('showN').onchange=function(){{var els=document.querySelectorAll('.noise');for(var i=0;i<els.length;i++)els[i].classList.toggle('hidenoise',!this.checked);}};
var rows=document.querySelectorAll('#findings tr[data-i]');
function zoomTo(row){{
var b=row.getAttribute('data-b');var sel=document.querySelectorAll('.sel');for(var j=0;j<sel.length;j++)sel[j].classList.remove('sel');
row.classList.add('sel');var m=svg.querySelector('circle[data-i="'+row.getAttribute('data-i')+'"]');if(m)m.classList.add('sel');
if(!b)return;b=b.split(',').map(Number);var s=Math.max(b[2],b[3],full[2]/200)*3;
vb=[b[0]+b[2]/2-s/2,b[1]+b[3]/2-s/2,s,s];apply();}}
for(var i=0;i<rows.length;i++)rows[i].onclick=function(){{zoomTo(this);history.replaceState(null,'','#'+this.id);}};
if(location.hash){{var r0=document.getElementById(location.hash.slice(1));if(r0&&r0.getAttribute('data-b'))zoomTo(r0);}}
window.addEventListener('resize',apply);apply();
}})();
</script>
</body></html>
"""
