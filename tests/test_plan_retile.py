"""Re-tiling by grid lines when a grid line runs down the middle of a road-space strip.

``Plan.rebuild`` used to build with strips kept whole (``strip_max_width_m=0``): with strips cut
down their middles the re-tiling left an 8.5 m wide, 799 m² strip-shaped gap in the rebuilt
community of the plan tests. The face there has a hair-thin spike where the strip's middle line
meets a grid edge, and GEOS's point-on-surface of that face lies on its own edge, so the face was
found in no old grid and dropped.
"""

from __future__ import annotations

import numpy as np
import shapely

from gridgis import schema
from gridgis.partition import build_grids
from gridgis.plan import retile as rt
from tests.test_plan import assert_exact, district, make_plan  # noqa: F401  (fixture)

#: the face of the gap, reduced to the four vertices that keep its point-on-surface on its edge
SPIKED = shapely.Polygon([(390032.56619522255, 3080707.508467252),
                          (390032.44785318954, 3080726.8531723022),
                          (390032.6828370944, 3080688.4416779615),
                          (390001.2855362721, 3080689.2225169116)])


def test_spiked_face_has_its_point_on_surface_on_its_edge():
    assert SPIKED.is_valid and SPIKED.area > 250
    assert not shapely.contains_properly(SPIKED, shapely.point_on_surface(SPIKED))


def test_retile_finds_the_grid_of_a_face_whose_point_on_surface_is_on_its_edge():
    x0, y0, x1, y1 = SPIKED.bounds
    other = shapely.box(x0 - 50, y0 - 50, x0, y1 + 50)
    geoms = np.array([SPIKED, other], dtype=object)
    ret = rt.retile(geoms, [0], np.empty(0, dtype=object), shapely.STRtree(geoms))
    faces = ret.faces_of(0)
    assert len(faces) == 1
    assert abs(float(shapely.area(ret.arr.faces[faces]).sum()) - SPIKED.area) < 1e-6
    # its representative point is inside it, so later steps place it too
    assert shapely.contains_properly(ret.arr.faces[faces[0]], ret.arr.rep[faces[0]])


def test_rebuild_with_strips_cut_down_the_middle_is_exact(district):  # noqa: F811
    """The community rebuilt in the plan tests has strips; they are cut down their middles and
    the rebuilt plan still tiles every community exactly."""
    plan = make_plan(district)
    g = plan.state.grids
    comm = g.loc[g[schema.KIND] == "basic", schema.COMMUNITY_CODE].value_counts().index[0]
    rules = {"urban": {"max_households": 450, "min_households": 250}}
    crow = district["communities"][district["communities"][schema.CODE] == comm]
    alone = build_grids(crow, district["roads"], district["buildings"], rules,
                        rivers=district["rivers"])
    assert alone.stats["strips_split"] > 0
    plan.rebuild(comm, rules=rules)
    assert_exact(plan, district)
