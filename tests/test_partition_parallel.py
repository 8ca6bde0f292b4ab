"""City scale: communities built as tasks in worker processes or on a dask cluster give the
same plan as the same tasks run in this process."""

from __future__ import annotations

import pandas as pd
import pytest
import shapely

import gridgis
from gridgis import schema
from gridgis.partition import build_grids
from tests.test_partition import check_plan


@pytest.fixture(scope="module")
def district():
    return gridgis.generate_district(seed=3, scale=0.5)


def _build(layers, **kw):
    return build_grids(layers["communities"], layers["roads"], layers["buildings"],
                       special_sites=layers["special_sites"], rivers=layers["rivers"], seed=7, **kw)


def _same(a, b):
    assert a.grids.geometry.to_wkb().tolist() == b.grids.geometry.to_wkb().tolist()
    pd.testing.assert_frame_equal(pd.DataFrame(a.grids.drop(columns="geometry")),
                                  pd.DataFrame(b.grids.drop(columns="geometry")))
    pd.testing.assert_series_equal(a.building_grid, b.building_grid)
    pd.testing.assert_frame_equal(a.report, b.report)


@pytest.fixture(scope="module")
def serial(district):
    return _build(district, n_jobs=1)


def test_tasks_make_a_whole_plan(district, serial):
    check_plan(district, serial)
    assert serial.stats["tasks"] >= 2
    assert serial.stats["basic_unflagged_out_of_range"] == 0
    assert shapely.coverage_is_valid(serial.grids.geometry.to_numpy())
    # every building is placed or reported
    placed = serial.building_grid.notna()
    rows = serial.report[serial.report["item"] == "building"]
    assert placed.sum() + len(rows) >= len(district["buildings"])
    assert serial.grids[schema.GRID_CODE].is_unique


def test_worker_processes_give_the_same_plan(district, serial):
    _same(serial, _build(district, n_jobs=2))


def test_dask_cluster_gives_the_same_plan(district, serial):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        _same(serial, _build(district, client=client))
