"""The validation page: one offline HTML file with the findings of a plan on an interactive map.

The map is the offline Leaflet page of :func:`gridgis.render.web.interactive_map` (grids,
community lines, findings coloured by severity; every script and style inlined, no tiles), with a
side panel: the status line, a count per rule, what each rule found means and how to fix it, the
rules not checked, and the list of findings. Clicking a finding zooms the map to it; the page
address then ends in ``#f<i>`` so a link opens on that finding.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from branca.element import Element

from ..i18n import _
from ..people import value
from ..validation import RULE_ORDER, RULES, ValidationReport
from ..validation._text import format_measure, grid_list
from ..validation.catalogue import rule_title
from ..validation.report import skipped_line
from ..writing import write_text
from .assets import offline_html
from .web import interactive_map

__all__ = ["validation_map", "validation_page", "write_validation_page"]

_CSS = """
.folium-map{width:62% !important}
.gv-side{position:fixed;top:0;right:0;bottom:0;width:38%;overflow:auto;z-index:1001;
 background:#fff;border-left:1px solid #ccc;padding:6px 12px;box-sizing:border-box;
 font:13px/1.4 "gridgis CJK Sans","Noto Sans CJK SC","Microsoft YaHei",sans-serif;color:#222}
.gv-side h1{font-size:17px;margin:4px 0} .gv-side h2{font-size:15px;margin:12px 0 4px}
.gv-ok{color:#1a7f37} .gv-bad{color:#c62828}
.gv-side table{border-collapse:collapse;width:100%}
.gv-side th,.gv-side td:first-child{white-space:nowrap}
.gv-side td,.gv-side th{border-bottom:1px solid #eee;padding:2px 4px;vertical-align:top;
 text-align:left}
.gv-side tr.error td:first-child{color:#c62828;font-weight:bold}
.gv-side tr.warning td:first-child{color:#b26a00;font-weight:bold}
#gv-findings tr[data-b]{cursor:pointer} #gv-findings tr:hover{background:#eef}
#gv-findings tr.sel{background:#dde} .gv-side code{color:#777;font-size:11px}
.gv-side dt{font-weight:bold;margin-top:4px} .gv-side dd{margin:0 0 0 12px}
"""

_JS = """
(function(){
var rows=document.querySelectorAll('#gv-findings tr[data-i]');
function zoomTo(row){
 var map=window['%(map)s'];
 var sel=document.querySelectorAll('#gv-findings tr.sel');
 for(var j=0;j<sel.length;j++)sel[j].classList.remove('sel');
 row.classList.add('sel');var b=row.getAttribute('data-b');if(!b)return;b=b.split(',').map(Number);
 map.fitBounds([[b[0],b[1]],[b[2],b[3]]],{maxZoom:19,padding:[40,40]});}
for(var i=0;i<rows.length;i++)rows[i].onclick=function(){
 zoomTo(this);history.replaceState(null,'','#'+this.id);};
window.addEventListener('load',function(){if(location.hash){
 var r0=document.getElementById(location.hash.slice(1));if(r0)zoomTo(r0);}});
window.gvZoomTo=zoomTo;
})();
"""


def _bounds(report: ValidationReport) -> list[str]:
    """``south,west,north,east`` of every finding in WGS84 (``""`` when it has no place)."""
    if not report.findings:
        return []
    gdf = report.to_geodataframe(crs="EPSG:4326")
    out = []
    for g in gdf.geometry:
        if g is None or g.is_empty:
            out.append("")
            continue
        w, s, e, n = g.bounds
        out.append(",".join(f"{v:.7f}" for v in (s, w, n, e)))
    return out


def _heads(*words: str) -> str:
    return "<tr>" + "".join(f"<th>{html.escape(w)}</th>" for w in words) + "</tr>"


def _summary(report: ValidationReport) -> str:
    rows = "".join(
        f'<tr class="{r.severity}" data-rule="{html.escape(r.rule)}">'
        f"<td>{html.escape(value('severity', r.severity))}</td>"
        f"<td>{html.escape(rule_title(r.rule))}</td><td>{r.count}</td>"
        f"<td>{format_measure(r.total_measure)} {html.escape(value('unit', r.unit))}</td></tr>"
        for r in report.counts().itertuples()
    ) or f'<tr><td colspan="4">{html.escape(_("no findings"))}</td></tr>'
    explained = "".join(
        f'<dt data-rule="{html.escape(rule)}">{html.escape(RULES[rule].title)}</dt>'
        f"<dd>{html.escape(RULES[rule].explanation)} <b>{html.escape(_('Fix:'))}</b> "
        f"{html.escape(RULES[rule].fix)}</dd>"
        for rule in sorted(report.rules_found(), key=lambda r: RULE_ORDER.get(r, 99))
        if rule in RULES
    )
    skipped = "".join(f"<li>{html.escape(skipped_line(k, v))}</li>"
                      for k, v in report.skipped.items())
    return (
        f"<h2>{html.escape(_('Summary'))}</h2><table>"
        + _heads(_("severity"), _("rule"), _("count"), _("total")) + f"{rows}</table>"
        + (f"<ul>{skipped}</ul>" if skipped else "")
        + (f"<h2>{html.escape(_('What the rules mean'))}</h2><dl>{explained}</dl>"
           if explained else "")
    )


def _finding_rows(report: ValidationReport) -> str:
    bounds = _bounds(report)
    rows = []
    for i, f in enumerate(report.findings):
        noise = " noise" if f.noise else ""
        where = f' data-b="{bounds[i]}"' if bounds[i] else ""
        rows.append(
            f'<tr id="f{i}" class="{f.severity}{noise}" data-i="{i}" '
            f'data-rule="{html.escape(f.rule)}"{where}>'
            f"<td>{html.escape(value('severity', f.severity))}</td>"
            f"<td>{html.escape(rule_title(f.rule))}</td>"
            f"<td>{html.escape(grid_list(f.grids, 4))}</td>"
            f"<td>{format_measure(f.measure)} {html.escape(value('unit', f.unit))}</td>"
            f"<td>{html.escape(f.message)}</td></tr>")
    return ('<table id="gv-findings">'
            + _heads(_("severity"), _("rule"), _("grids"), _("measure"), _("message"))
            + "\n".join(rows) + "</table>")


def validation_map(report: ValidationReport, *, title: str | None = None) -> Any:
    """The folium map of a validation report, with its side panel.

    Parameters
    ----------
    report
        A :class:`~gridgis.validation.ValidationReport` (it carries the grids and communities).
    title
        Page heading (default "Grid plan validation", in the language in use).

    Returns
    -------
    folium.Map

    Examples
    --------
    >>> m = validation_map(validate(plan, communities))  # doctest: +SKIP
    """
    title = title or _("Grid plan validation")
    if report.grids is None or not len(report.grids):
        raise ValueError(_("the report carries no grids to draw"))
    findings = report.to_geodataframe(crs="EPSG:4326")
    if len(findings):
        findings["grids"] = findings["grids"].astype(str)
    m = interactive_map(report.grids, communities=report.parents, findings=findings)
    status_cls = "gv-ok" if report.ok else "gv-bad"
    side = (f'<div class="gv-side"><h1>{html.escape(title)}</h1>'
            f'<span class="{status_cls}">{html.escape(report.status_line())}</span>'
            f"{_summary(report)}<h2>{html.escape(_('Findings'))}</h2>{_finding_rows(report)}</div>")
    root = m.get_root()
    root.header.add_child(Element(f"<style>{_CSS}</style>"), name="gv_css")
    root.html.add_child(Element(side), name="gv_side")
    root.script.add_child(Element(_JS % {"map": m.get_name()}), name="gv_js")
    root.title = title
    return m


def validation_page(report: ValidationReport, *, title: str | None = None) -> str:
    """The offline HTML page of a validation report (nothing loaded from the network).

    Examples
    --------
    >>> text = validation_page(report)  # doctest: +SKIP
    >>> "http://" in text  # doctest: +SKIP
    False
    """
    page = offline_html(validation_map(report, title=title))
    name = html.escape(title or _("Grid plan validation"))
    return page.replace("<head>", f"<head>\n<title>{name}</title>", 1) \
        if "<title>" not in page else page


def write_validation_page(report: ValidationReport, path: str | Path, *,
                          title: str | None = None) -> Path:
    """Write :func:`validation_page` to ``path`` (UTF-8) and return the path.

    Examples
    --------
    >>> from gridgis.validation import validate
    >>> report = validate(plan, parents=communities)  # doctest: +SKIP
    >>> write_validation_page(report, "validation.html")  # doctest: +SKIP
    """
    path = Path(path)
    write_text(path, validation_page(report, title=title))
    return path

