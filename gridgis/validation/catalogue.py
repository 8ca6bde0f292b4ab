"""The catalogue of validation rules: what each checks, why it matters, how to fix it.

>>> from gridgis.validation.catalogue import RULES
>>> RULES["gap"].repairable
True
"""

from __future__ import annotations

from dataclasses import dataclass

from ..i18n import N_, _

__all__ = ["RuleInfo", "RULES", "RULE_ORDER", "rule_title"]


@dataclass(frozen=True)
class RuleInfo:
    """What a rule checks, why it matters and how to fix a violation.

    ``title``, ``explanation`` and ``fix`` are in the language in use (:mod:`gridgis.i18n`);
    the ``*_id`` fields hold their English message ids.
    """

    id: str
    title_id: str
    explanation_id: str
    fix_id: str
    repairable: bool

    @property
    def title(self) -> str:
        """Short name of the rule."""
        return _(self.title_id)

    @property
    def explanation(self) -> str:
        """What the rule checks and why it matters."""
        return _(self.explanation_id)

    @property
    def fix(self) -> str:
        """How to fix a violation."""
        return _(self.fix_id)


def _r(id: str, title: str, explanation: str, fix: str, repairable: bool) -> RuleInfo:
    return RuleInfo(id, title, explanation, fix, repairable)


#: Catalogue of every rule the validator checks, in report order.
RULES: dict[str, RuleInfo] = {
    r.id: r
    for r in (
        _r("empty_grid", N_("Empty grid"), N_("The grid has no geometry or zero area."),
           N_("Delete the row or draw its boundary."), True),
        _r("invalid_geometry", N_("Invalid geometry"),
           N_("The polygon is not valid (self-intersection, bad ring …) or is not a polygon; "
           "areas and overlays on it are unreliable."),
           N_("Redraw it, or let `gridgis repair` fix it with shapely.make_valid."), True),
        _r("gap", N_("Gap"), N_("Land inside the parent boundary (or between grids) that belongs to no "
           "grid: seamless coverage requires every place to fall in exactly one grid. Gaps "
           "narrower than tolerances.gap_width_m are digitising/snapping noise (warnings)."),
           N_("`gridgis repair` gives each gap to the neighbouring grid with the longest shared edge."),
           True),
        _r("overlap", N_("Overlap"), N_("Land claimed by two grids. Overlaps narrower than "
           "tolerances.gap_width_m are digitising/snapping noise (warnings)."),
           N_("`gridgis repair` gives each overlap to the claimant with the longest shared edge."),
           True),
        _r("crosses_parent", N_("Grid crosses its community line"),
           N_("Part of the grid lies in another community: every grid must stay inside its "
           "community (DB6101/T 3185-2024)."),
           N_("`gridgis repair` clips the grid to its community; the cut-off part goes to a grid of "
           "the other community."), True),
        _r("outside_parent", N_("Grid outside the boundary"),
           N_("Part of the grid lies outside every community of the district."),
           N_("`gridgis repair` clips it to its community."), True),
        _r("wrong_parent", N_("Grid under the wrong community"),
           N_("Most of the grid lies in a community other than the one its community_code / code "
           "prefix names."), N_("Fix community_code and re-code the grid, or redraw it."), False),
        _r("unknown_parent", N_("Unknown community"),
           N_("The community the grid names (community_code or code prefix) is not in the parent "
           "layer."), N_("Fix community_code / the code prefix, or add the community."), False),
        _r("multipart", N_("Grid in several pieces"),
           N_("The grid is made of separate pieces (a multipolygon, or pieces touching at a point)."),
           N_("`gridgis repair` gives the detached pieces to the neighbour with the longest shared "
           "edge."), True),
        _r("sliver", N_("Sliver grid"),
           N_("The grid is tiny (below tolerances.sliver_area_m2), or thin (Polsby-Popper "
           "compactness below tolerances.sliver_thinness) and small (below 100 × "
           "sliver_area_m2): usually a digitising slip."),
           N_("`gridgis repair` merges it into the neighbour with the longest shared edge."), True),
        _r("size_below_min", N_("Too small (households/residents)"),
           N_("The grid holds fewer households/residents than its profile's minimum. Special grids "
           "are exempt; a grid flagged 'below_min_allowed' gives a warning."),
           N_("Merge it with a neighbour, or flag it 'below_min_allowed' if approved."), False),
        _r("size_above_max", N_("Too large (households/residents)"),
           N_("The grid holds more households/residents than its profile's maximum. A grid flagged "
           "'above_max_allowed' gives a warning."),
           N_("Split it, or flag it 'above_max_allowed' if approved."), False),
        _r("size_unknown", N_("Size unknown"),
           N_("The grid has no household/population value and no buildings were given to count them."),
           N_("Fill the households/population columns or pass buildings."), False),
        _r("kind_unknown", N_("Unknown grid kind"),
           N_("The grid's kind is neither 'basic' nor one of the special kinds in the rules file."),
           N_("Use 'basic' or a kind listed in [special] kinds."), False),
        _r("building_unassigned", N_("Building in no grid"),
           N_("A building (its representative point) lies in no grid."),
           N_("Close the gap it lies in (`gridgis repair`) or extend the plan."), True),
        _r("building_in_two", N_("Building in two grids"),
           N_("A building's representative point lies in two or more grids (an overlap)."),
           N_("Resolve the overlap (`gridgis repair`)."), True),
        _r("building_split", N_("Building split by a grid line"),
           N_("A building's footprint is shared by two grids (the smaller share is at least 10 % of "
           "it); its households are counted in one grid only."),
           N_("Move the grid line to the street or compound edge."), False),
        _r("compound_split", N_("Compound split across grids"),
           N_("A residential compound or village group whose households (population in rural "
              "communities) fit in one grid lies in several grids, or a bigger one lies in more "
              "grids than its size needs (one managed compound = one grid)."),
           N_("Move the grid line to the compound's edge, or merge its pieces."), False),
        _r("address_unassigned", N_("Address in no grid"), N_("An address point lies in no grid."),
           N_("Close the gap it lies in, or check its coordinates."), True),
        _r("address_in_two", N_("Address in two grids"),
           N_("An address point lies in two or more grids (an overlap)."),
           N_("Resolve the overlap (`gridgis repair`)."), True),
        _r("code_malformed", N_("Malformed code"),
           N_("The grid code is missing, does not follow the code scheme (default 15 digits = "
           "12-digit community code + 3-digit serial, DB11/T 2157-2023), or its serial is in "
           "the wrong range for its kind (default basic 001–899, special 900–999)."),
           N_("Re-code the plan (gridgis.codes)."), False),
        _r("code_duplicate", N_("Duplicate code"), N_("Two or more grids carry the same code."),
           N_("Re-code the plan (gridgis.codes)."), False),
        _r("code_prefix", N_("Code prefix differs from the community"),
           N_("The first digits of the grid code must equal the code of the community it belongs to."),
           N_("Re-code the grid or fix community_code."), False),
        _r("code_order", N_("Serials out of order"),
           N_("Serials should run west→east, north→south inside a community: here a grid that lies "
           "clearly north-west of another carries the higher serial."),
           N_("Re-number the community (gridgis.codes)."), False),
    )
}

#: Position of each rule in report order.
RULE_ORDER = {rule: i for i, rule in enumerate(RULES)}


def rule_title(rule: object) -> str:
    """The title of a rule id in the language in use (an unknown id is returned as it is).

    Examples
    --------
    >>> from gridgis.i18n import use_language
    >>> with use_language("zh"):
    ...     rule_title("gap"), rule_title("my_rule")
    ('缝隙', 'my_rule')
    """
    info = RULES.get(str(rule))
    return info.title if info is not None else str(rule)
