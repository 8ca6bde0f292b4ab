"""Grid partition builder: communities + roads + buildings → seamless grids within size rules.

See :func:`build_grids` and the module docs of :mod:`.build` (the pipeline and its named
steps), :mod:`.blocks` (arrangement, slivers), :mod:`.units` (splitting big compounds),
:mod:`.graph` (unit graphs, size rules) and :mod:`.regions` (spanning-tree bisection with hard
bounds + local search).
"""

from __future__ import annotations

from .build import BuildOptions, BuildResult, build_grids
from .regions import RegionOptions, SizeRule, UnitGraph, local_search, plan_component, plan_regions

__all__ = [
    "BuildOptions",
    "BuildResult",
    "RegionOptions",
    "SizeRule",
    "UnitGraph",
    "build_grids",
    "local_search",
    "plan_component",
    "plan_regions",
]
