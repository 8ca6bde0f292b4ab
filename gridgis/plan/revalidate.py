"""Local re-validation after an edit, and which findings an edit caused, cleared or changed.

An edit re-validates only the communities it touched and the communities next to the edited
grids (:func:`revalidate`); findings elsewhere are kept. :func:`compare_findings` matches the
findings before and after by :func:`finding_key`.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np

from .. import schema
from ..validation import Finding, ValidationReport, sort_findings
from .history import Edit, EditResult, PlanState
from .retile import touching

if TYPE_CHECKING:
    from .context import PlanContext
    from .operations import Proposal

__all__ = ["Revalidation", "run_validate", "revalidate", "apply_edit", "finding_key",
           "compare_findings"]


@dataclass
class Revalidation:
    """Findings after an edit.

    Attributes
    ----------
    findings
        Every finding of the edited plan (kept ones outside the scope, new ones inside).
    before, after
        The findings inside the scope before and after the edit.
    scope
        Communities re-validated (empty for a full validation).
    skipped
        ``skipped`` of the validation report when the whole plan was validated, else ``None``.
    """

    findings: list[Finding]
    before: list[Finding]
    after: list[Finding]
    scope: tuple[str, ...] = ()
    skipped: dict[str, Any] | None = None


def run_validate(ctx: PlanContext, grids: gpd.GeoDataFrame,
                 parents: gpd.GeoDataFrame | None = None, bmask: np.ndarray | None = None,
                 amask: np.ndarray | None = None) -> ValidationReport:
    """Validate ``grids`` with the context's layers, rules and scheme.

    ``parents`` replaces the communities layer; ``bmask``/``amask`` select buildings and
    addresses.

    Examples
    --------
    >>> report = run_validate(plan.context, plan.state.grids)  # doctest: +SKIP
    """
    from ..validation import validate

    bld, addr = ctx.buildings, ctx.addresses
    b = bld if bmask is None or bld is None else bld[bmask]
    a = addr if amask is None or addr is None else addr[amask]
    return validate(grids, parents=parents if parents is not None else ctx.communities,
                    buildings=b, addresses=a, rules=ctx.rules, scheme=ctx.scheme)


def _scope(ctx: PlanContext, old: gpd.GeoDataFrame, new: gpd.GeoDataFrame, touched: set[str]
           ) -> tuple[set[str], dict[str, str]]:
    geoms = np.asarray(new.geometry.array, dtype=object)
    codes = new[schema.GRID_CODE].to_numpy(object)
    comm = new[schema.COMMUNITY_CODE].to_numpy(object)
    old_comm = dict(zip(old[schema.GRID_CODE], old[schema.COMMUNITY_CODE], strict=True))
    code_comm = {**old_comm, **dict(zip(codes, comm, strict=True))}
    scope = {code_comm[c] for c in touched if c in code_comm}
    rows = np.flatnonzero(np.isin(codes, list(touched)))
    if len(rows):  # communities of the grids next to the edited ones
        near = touching(ctx.grid_index, geoms, rows)
        scope |= set(comm[near])
    scope.discard("")
    return scope, code_comm


def revalidate(ctx: PlanContext, findings: list[Finding], old: gpd.GeoDataFrame,
               new: gpd.GeoDataFrame, touched: set[str], full: bool) -> Revalidation:
    """Validate what an edit touched.

    ``ctx.grid_index`` must already index ``new``. With ``full`` (or without communities) the
    whole plan is validated.

    Examples
    --------
    >>> r = revalidate(ctx, state.findings, state.grids, new, {"4303…001"}, False)  # doctest: +SKIP
    >>> r.scope  # doctest: +SKIP
    ('430302001001',)
    """
    if full or ctx.communities is None:
        report = run_validate(ctx, new)
        return Revalidation(list(report.findings), list(findings), list(report.findings),
                            (), report.skipped)
    scope, code_comm = _scope(ctx, old, new, touched)
    comm = new[schema.COMMUNITY_CODE].to_numpy(object)
    pc = ctx.communities[ctx.communities[schema.CODE].isin(scope)]
    _, hit = ctx.grid_index.query(np.asarray(pc.geometry.array, dtype=object), "intersects")
    sub_rows = np.union1d(np.flatnonzero(np.isin(comm, list(scope))), hit)
    bc, ac = ctx.building_community, ctx.address_community
    bmask = None if bc is None else np.isin(bc, list(scope))
    amask = None if ac is None else np.isin(ac, list(scope))
    report = run_validate(ctx, new.iloc[sub_rows], pc, bmask, amask)

    def in_scope(f: Finding) -> bool:
        if f.rule == "code_duplicate":
            return False
        if f.parent:
            return f.parent in scope
        return any(code_comm.get(x, "") in scope for x in f.grids)

    kept = [f for f in findings if not in_scope(f)]
    before = [f for f in findings if in_scope(f)]
    after = [f for f in report.findings if in_scope(f)]
    return Revalidation(sort_findings(kept + after), before, after, tuple(sorted(scope)))


def apply_edit(ctx: PlanContext, old: PlanState, p: Proposal, step: int, t0: float
               ) -> tuple[EditResult, PlanState, dict[str, Any] | None]:
    """Recount and re-validate a proposed edit of the state ``old``.

    Returns the edit's result (edit record number ``step``, findings caused/cleared, timing
    from ``t0``), the new state, and the validator's ``skipped`` when the whole plan was
    validated. ``ctx.grid_index`` indexes the new grids afterwards (the old ones again when
    this raises).

    Examples
    --------
    >>> result, state, _ = apply_edit(ctx, plan.state, proposal, 1, t0)  # doctest: +SKIP
    """
    new = p.grids.reset_index(drop=True)
    ctx.grid_index.sync(new)
    try:
        bgrid = old.building_grid
        if ctx.buildings is not None and (p.recount or p.full):
            bgrid = ctx.recount(new, bgrid, set(p.recount) | set(p.removed), p.full)
        tv = time.perf_counter()
        touched = set(p.added) | set(p.removed) | set(p.changed)
        reval = revalidate(ctx, old.findings, old.grids, new, touched, p.full)
    except BaseException:
        ctx.grid_index.sync(old.grids)
        raise
    caused, cleared, changed = compare_findings(reval.before, reval.after)
    t_end = time.perf_counter()
    edit = Edit(step=step, op=p.op, description=p.description, params=p.params,
                added=tuple(p.added), removed=tuple(p.removed), changed=tuple(p.changed),
                n_caused=len(caused), n_cleared=len(cleared), seconds=t_end - t0)
    state = PlanState(grids=new, findings=reval.findings, building_grid=bgrid,
                      crosswalk=p.crosswalk if p.crosswalk is not None else old.crosswalk)
    ctx.codes.seen |= set(new[schema.GRID_CODE])
    result = EditResult(edit=edit, caused=sort_findings(caused), cleared=sort_findings(cleared),
                        changed=changed, scope=reval.scope, seconds=t_end - t0,
                        validate_seconds=t_end - tv, details=dict(p.details))
    return result, state, reval.skipped


def finding_key(f: Finding) -> tuple:
    """Identity of a finding across validations: rule, grids, item and community.

    Examples
    --------
    >>> from gridgis.validation import Finding
    >>> small = Finding("size_below_min", "warning", ("g1",), 120.0, "households", "small")
    >>> finding_key(small)
    ('size_below_min', ('g1',), '', '')
    """
    return (f.rule, tuple(sorted(f.grids)), f.item or "", f.parent or "")


def _same(a: Finding, b: Finding) -> bool:
    ma, mb = a.measure, b.measure
    same_measure = (ma is None and mb is None) or (
        ma is not None and mb is not None and abs(float(ma) - float(mb)) <= 1e-6 * max(
            1.0, abs(float(ma))))
    return a.severity == b.severity and same_measure


def compare_findings(before: Iterable[Finding], after: Iterable[Finding]
                     ) -> tuple[list[Finding], list[Finding], list[tuple[Finding, Finding]]]:
    """Findings ``after`` has and ``before`` lacks (caused), the reverse (cleared), and those
    present in both whose measure or severity changed (``(before, after)`` pairs).

    Findings are matched by :func:`finding_key`; several with one key are paired in order of
    their measure.

    Examples
    --------
    >>> from gridgis.validation import Finding
    >>> small = Finding("size_below_min", "warning", ("g1",), 120.0, "households", "small")
    >>> caused, cleared, changed = compare_findings([small], [])
    >>> [f.rule for f in cleared]
    ['size_below_min']
    """
    groups_b: dict[tuple, list[Finding]] = defaultdict(list)
    groups_a: dict[tuple, list[Finding]] = defaultdict(list)
    for f in before:
        groups_b[finding_key(f)].append(f)
    for f in after:
        groups_a[finding_key(f)].append(f)
    caused: list[Finding] = []
    cleared: list[Finding] = []
    changed: list[tuple[Finding, Finding]] = []

    def order(fs: list[Finding]) -> list[Finding]:
        return sorted(fs, key=lambda f: (-(f.measure or 0.0), f.severity, f.message))

    for key in sorted(set(groups_b) | set(groups_a), key=str):
        b, a = order(groups_b.get(key, [])), order(groups_a.get(key, []))
        for fb, fa in zip(b, a, strict=False):
            if not _same(fb, fa):
                changed.append((fb, fa))
        cleared.extend(b[len(a):])
        caused.extend(a[len(b):])
    return caused, cleared, changed
