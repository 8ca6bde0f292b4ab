"""The catalogue of validation rules: what each checks, why it matters, how to fix it.

>>> from gridgis.validation.catalogue import RULES
>>> RULES["gap"].repairable
True
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RuleInfo", "RULES", "RULE_ORDER"]


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
        _r("compound_split", "Compound split across grids",
           "A residential compound (小区) or village group whose households (population in "
           "rural communities) fit in one grid lies in several grids, or a bigger one lies in "
           "more grids than its size needs (one managed compound = one grid).",
           "Move the grid line to the compound's edge, or merge its pieces.", False),
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

#: Position of each rule in report order.
RULE_ORDER = {rule: i for i, rule in enumerate(RULES)}
