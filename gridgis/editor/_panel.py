"""The side panel: households, population, kind and findings of the selected grids (or a
district overview when nothing is selected), as an HTML fragment."""

from __future__ import annotations

import html
from collections import Counter
from typing import Any

import numpy as np

from .. import schema
from ..i18n import _, tr
from ..render.colors import kind_names
from ..validation import Finding
from ..validation.catalogue import RULES
from ._text import SEVERITY, STATUS, STATUS_COLOURS, TEXT, status_label

__all__ = ["panel_html"]

MAX_FINDINGS = 30


def _num(v: Any) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "—"
    return "—" if np.isnan(f) else f"{f:,.0f}"


def _rule_title(rule: str) -> str:
    info = RULES.get(rule)
    return _(info.title) if info is not None else rule


def _overview(status: dict[str, str], findings: list[Finding]) -> str:
    counts = Counter(status.values())
    parts = ", ".join(f"{status_label(s)} {counts[s]}" for s in STATUS if counts.get(s))
    n_err = sum(1 for f in findings if f.severity == "error")
    text = tr(TEXT["panel_none"], grids=len(status), statuses=parts, errors=n_err,
                                     warnings=len(findings) - n_err)
    return f'<p class="gg-overview">{html.escape(text)}</p>'


def _legend() -> str:
    items = "".join(f'<span class="gg-key"><i style="background:{c}"></i>'
                    f"{html.escape(status_label(s))}</span>" for s, c in STATUS_COLOURS.items())
    return f'<div class="gg-legend"><b>{_(TEXT["legend"])}</b> {items}</div>'


def panel_html(grids: Any, selected: list[str], findings: list[Finding],
               status: dict[str, str], community_names: dict[str, str]) -> str:
    """The panel for the selection ``selected`` (grid codes) of ``grids`` (a plan state's
    grids), with the findings that involve them.

    Examples
    --------
    >>> panel_html(plan.state.grids, ["430302001001001"], plan.findings, {}, {})  # doctest: +SKIP
    """
    if not selected:
        return _overview(status, findings) + _legend()
    codes = grids[schema.GRID_CODE].astype(str)
    rows = grids[codes.isin(selected).to_numpy()]
    order = {c: i for i, c in enumerate(selected)}
    rows = rows.iloc[np.argsort([order[c] for c in rows[schema.GRID_CODE].astype(str)])]
    head = "".join(f"<th>{_(TEXT[k])}</th>" for k in (
        "col_code", "col_name", "col_kind", "col_status", "col_households", "col_population",
        "col_community"))
    body = []
    kinds = kind_names()
    for _i, r in rows.iterrows():
        code = str(r[schema.GRID_CODE])
        kind = str(r[schema.KIND])
        comm = str(r[schema.COMMUNITY_CODE])
        name = r.get(schema.GRID_NAME)
        st = status.get(code, "unknown")
        label, colour = status_label(st), STATUS_COLOURS.get(st, STATUS_COLOURS["unknown"])
        body.append(
            f'<tr data-code="{html.escape(code)}"><td>{html.escape(code)}</td>'
            f"<td>{html.escape(str(name) if isinstance(name, str) else '')}</td>"
            f"<td>{html.escape(kinds.get(kind, kind))}</td>"
            f'<td><i class="gg-dot" style="background:{colour}"></i>{label}</td>'
            f'<td class="gg-n">{_num(r[schema.HOUSEHOLDS])}</td>'
            f'<td class="gg-n">{_num(r[schema.POPULATION])}</td>'
            f"<td>{html.escape(community_names.get(comm, comm))}</td></tr>")
    total = tr(TEXT["total"], n=len(rows), households=_num(rows[schema.HOUSEHOLDS].sum()),
                                 population=_num(rows[schema.POPULATION].sum()))
    sel = set(selected)
    mine = [f for f in findings if sel.intersection(f.grids)]
    if mine:
        items = "".join(
            f'<li class="gg-{f.severity}">[{_(SEVERITY.get(f.severity, f.severity))}] '
            f"{html.escape(_rule_title(f.rule))}: {html.escape(f.message)}</li>"
            for f in mine[:MAX_FINDINGS])
        more = f"<li>… {len(mine) - MAX_FINDINGS}</li>" if len(mine) > MAX_FINDINGS else ""
        found = f'<ul class="gg-findings">{items}{more}</ul>'
    else:
        found = f'<p class="gg-clean">{_(TEXT["no_findings"])}</p>'
    return (f'<h4>{_(TEXT["panel_title"])}</h4><table class="gg-table"><tr>{head}</tr>'
            f'{"".join(body)}</table><p class="gg-total">{html.escape(total)}</p>'
            f'<h4>{_(TEXT["findings"])} ({len(mine)})</h4>{found}{_legend()}')
