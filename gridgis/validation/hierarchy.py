"""Nesting of the administrative levels: district → street → community → grid (→ grid levels).

A level is a polygon layer with ``code`` and, optionally, ``parent_code`` (the code of the unit of
the level above that holds it). The code lengths follow the code scheme: the community code is
``parent_length`` digits (12 by default), the street code 3 digits shorter (9) and the district
code 6 shorter (6). A county that adds grid levels of its own gives them as further levels: a grid
layer whose parent is another grid layer.

Each pair of levels (parent above, child below) is checked with the coverage and nesting rules
the validator uses for grids and communities:

- ``wrong_parent`` / ``unknown_parent``: a unit lies mostly in, or names, another parent;
- ``crosses_parent`` / ``outside_parent``: a unit reaches into another parent or beyond all;
- ``gap``: part of a parent is covered by no unit of the level below (the level is missing
  there); ``overlap``: two units of one level claim the same land;
- ``code_prefix``: the code does not start with the code of the parent it names, or of the
  parent found by geometry; ``code_malformed``: the code has the wrong number of digits.

Grids are also checked against the street by geometry (a grid in the wrong street).

>>> from gridgis.samples import load_sample
>>> s = load_sample()
>>> levels = admin_levels(district=s["district"], streets=s["streets"],
...                       communities=s["communities"])
>>> [lv.name for lv in levels], [lv.digits for lv in levels]
(['district', 'street', 'community'], [6, 9, 12])
>>> [f.rule for f in check_hierarchy(levels) if f.severity == "error"]
[]
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import geopandas as gpd
import numpy as np

from .. import schema
from ..codes import load_scheme
from ..i18n import N_, _, tr
from ..rules import load_rules
from .coverage import check_gaps, check_overlaps
from .nesting import check_nesting
from .prepare import as_codes, prepare_grids, prepare_parents
from .report import ERROR, Finding

__all__ = ["LEVEL_NAMES", "LEVEL_TITLES", "Level", "admin_levels", "check_hierarchy", "level_digits"]

#: Names of the standard levels, top down, and how each is called in messages (singular, plural).
LEVEL_NAMES: dict[str, tuple[str, str]] = {
    "district": ("district", "districts"),
    "street": ("street", "streets"),
    "community": ("community", "communities"),
    "grid": ("grid", "grids"),
}

# rules whose findings are kept when a level is checked against one it does not directly nest in
_SKIP_LEVEL_RULES = ("wrong_parent",)


@dataclass(frozen=True)
class Level:
    """One level of the hierarchy.

    Attributes
    ----------
    name
        ``"district"``, ``"street"``, ``"community"``, ``"grid"`` or a name of one's own
        (``"grid1"`` …) for intermediate grid levels.
    layer
        Polygons with ``code`` and optionally ``parent_code`` (grid layers may use
        ``grid_code``/``community_code``).
    digits
        Length of the codes of this level; ``None`` when the level has no fixed length.
    """

    name: str
    layer: gpd.GeoDataFrame
    digits: int | None = None


def level_digits(scheme: Any = None) -> dict[str, int]:
    """Code length of each standard level under a code scheme.

    The community code is the scheme's ``parent_length``; streets are 3 digits shorter,
    districts 6; a grid code adds the separator and the serial.

    Examples
    --------
    >>> level_digits()
    {'district': 6, 'street': 9, 'community': 12, 'grid': 15}
    """
    sch = load_scheme(scheme)
    n = sch.parent_length
    return {"district": n - 6, "street": n - 3, "community": n,
            "grid": n + len(sch.separator) + sch.serial_width}


def admin_levels(*, district: gpd.GeoDataFrame | None = None,
                 streets: gpd.GeoDataFrame | None = None,
                 communities: gpd.GeoDataFrame | None = None,
                 grids: gpd.GeoDataFrame | None = None,
                 grid_levels: Sequence[Level] = (), scheme: Any = None) -> list[Level]:
    """The levels present, top down, with the code lengths of the scheme.

    ``grid_levels`` (intermediate grid levels, top down) go between the communities and
    ``grids``.

    Examples
    --------
    >>> [lv.name for lv in admin_levels(streets=s["streets"], communities=s["communities"])]  # doctest: +SKIP
    ['street', 'community']
    """
    digits = level_digits(scheme)
    out = [Level(name, layer, digits[name]) for name, layer in
           (("district", district), ("street", streets), ("community", communities))
           if layer is not None]
    out += list(grid_levels)
    if grids is not None:
        out.append(Level("grid", grids, None if grid_levels else digits["grid"]))
    return out


def _codes(layer: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Codes and declared parent codes of a level's layer ("" when missing)."""
    code_col = schema.CODE if schema.CODE in layer else schema.GRID_CODE
    parent_col = next((c for c in (schema.PARENT_CODE, schema.COMMUNITY_CODE) if c in layer), None)
    codes = as_codes(layer[code_col]) if code_col in layer else np.full(len(layer), "", object)
    parents = as_codes(layer[parent_col]) if parent_col else np.full(len(layer), "", object)
    return codes, parents


def _named(codes: np.ndarray, parents: np.ndarray, parent_digits: int | None) -> np.ndarray:
    """The parent each unit names: ``parent_code``, else the first ``parent_digits`` of its code."""
    if parent_digits is None:
        return parents
    prefix = np.array([c[:parent_digits] if len(c) > parent_digits else "" for c in codes],
                      dtype=object)
    return np.where(parents == "", prefix, parents)


_WORDS = re.compile(r"\b(communities|community|grids|grid)\b|(网格|社区)")

#: Names of the standard levels in messages for people (translated with the catalogue).
LEVEL_TITLES = {"district": N_("district"), "street": N_("street"),
                "community": N_("community"), "grid": N_("grid")}


def _title(level: str) -> str:
    return _(LEVEL_TITLES[level]) if level in LEVEL_TITLES else level


def _tag(parent: str, child: str) -> str:
    return tr("[{child} in {parent}] ", child=_title(child), parent=_title(parent))


def _relabel(findings: list[Finding], parent: str, child: str) -> list[Finding]:
    """Findings of the grid checks reworded for a pair of levels (grid → child level,
    community → parent level, in one pass; English words and their Chinese forms)."""
    p1, p2 = LEVEL_NAMES.get(parent, (parent, parent))
    c1, c2 = LEVEL_NAMES.get(child, (child, child))
    words = {"communities": p2, "community": p1, "grids": c2, "grid": c1,
             "网格": _title(child), "社区": _title(parent)}
    tag = _tag(parent, child)
    return [replace(f, message=tag + _WORDS.sub(lambda m: words[m.group(0)], f.message))
            for f in findings]


def _prefix_findings(child: Level, parent: Level, plan: Any) -> list[Finding]:
    """Code length, and code prefix against the parent the unit names."""
    c1, p1 = _title(child.name), _title(parent.name)
    tag = _tag(parent.name, child.name)
    out: list[Finding] = []
    for r, code in enumerate(plan.codes):
        geom = plan.geom[r] if plan.usable[r] else None
        if child.digits is not None and code and len(code) != child.digits:
            out.append(Finding("code_malformed", ERROR, (code,), float(len(code)), "digits",
                               tag + tr("{level} code {code} has {n} digits; a {level} code "
                                        "has {digits}", level=c1, code=code, n=len(code),
                                        digits=child.digits),
                               geometry=geom, parent=plan.named[r] or None))
        if parent.digits is None or len(code) <= parent.digits:
            continue
        prefix = code[:parent.digits]
        if plan.named[r] and prefix != plan.named[r]:
            # a prefix disagreeing with the parent found by geometry, where parent_code is
            # right, lands here too; a wrong parent_code is a wrong_parent finding
            out.append(Finding("code_prefix", ERROR, (code,), None, "",
                               tag + tr("{level} {code} starts with {prefix} but names "
                                        "{parent_level} {parent}", level=c1, code=code,
                                        prefix=prefix, parent_level=p1, parent=plan.named[r]),
                               geometry=geom, parent=plan.named[r]))
    return out


def _check_pair(parent: Level, child: Level, mcrs: Any, tol: Any,
                rules: tuple[str, ...] | None = None) -> list[Finding]:
    """Findings of ``child`` nested in ``parent`` (only ``rules`` when given)."""
    codes, declared = _codes(child.layer)
    named = _named(codes, declared, parent.digits) if rules is None else \
        _named(codes, np.full(len(codes), "", object), parent.digits)
    frame = gpd.GeoDataFrame({schema.GRID_CODE: codes, schema.COMMUNITY_CODE: named},
                             geometry=child.layer.geometry.to_numpy(), crs=child.layer.crs)
    plan, findings, _ = prepare_grids(frame, metric=mcrs)
    p = prepare_parents(parent.layer, mcrs)
    if rules is None:
        findings += check_overlaps(plan, tol) + check_gaps(plan, p, tol)
        findings += check_nesting(plan, p, tol)
        return (_relabel(findings, parent.name, child.name)
                + _prefix_findings(child, parent, plan))
    findings = [f for f in check_nesting(plan, p, tol) if f.rule in rules]
    return _relabel(findings, parent.name, child.name)


def check_hierarchy(levels: Sequence[Level] | Mapping[str, gpd.GeoDataFrame], *,
                    rules: Any = None, scheme: Any = None,
                    checked: tuple[tuple[str, str], ...] = ()) -> list[Finding]:
    """Check that every level nests in the one above it, and grids in their street.

    Parameters
    ----------
    levels
        Levels top down (:class:`Level` objects, or a mapping ``name → layer`` of standard
        level names whose code lengths come from ``scheme``).
    rules
        Rules (tolerances of the coverage checks; ``[codes]`` when ``scheme`` is ``None``).
    scheme
        Code scheme giving the code length of each level (:func:`level_digits`).
    checked
        Pairs ``(parent, child)`` already checked elsewhere (``validate`` checks grids in
        communities itself) and skipped here.

    Returns
    -------
    list of Finding
        Each message starts with ``[child in parent]`` (``【街道内的社区】`` in Chinese);
        ``grids`` holds the codes of the units concerned.

    Examples
    --------
    >>> s = load_sample()                                            # doctest: +SKIP
    >>> bad = s["communities"].copy()                                # doctest: +SKIP
    >>> bad.loc[0, "parent_code"] = "430302002"                      # doctest: +SKIP
    >>> check_hierarchy({"street": s["streets"], "community": bad})[0].rule  # doctest: +SKIP
    'wrong_parent'
    """
    rules = load_rules(rules)
    scheme = load_scheme(scheme, rules=rules)
    if isinstance(levels, Mapping):
        digits = level_digits(scheme)
        levels = [Level(name, layer, digits.get(name)) for name, layer in levels.items()
                  if layer is not None]
    levels = list(levels)
    if len(levels) < 2:
        return []
    mcrs = _metric_crs(levels)
    tol = rules.tolerances
    out: list[Finding] = []
    for parent, child in zip(levels[:-1], levels[1:], strict=True):
        if (parent.name, child.name) not in checked:
            out += _check_pair(parent, child, mcrs, tol)
    names = [lv.name for lv in levels]
    if "street" in names and "grid" in names and names.index("grid") - names.index("street") > 1:
        out += _check_pair(levels[names.index("street")], levels[names.index("grid")], mcrs, tol,
                           rules=_SKIP_LEVEL_RULES)
    return out


def _metric_crs(levels: Sequence[Level]) -> Any:
    from .._inputs import metric

    for lv in levels:
        if lv.layer.crs is not None and len(lv.layer):
            return metric(lv.layer.iloc[:1]).crs
    return None
