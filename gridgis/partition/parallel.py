"""City scale: communities built in parallel processes, or on a dask.distributed cluster.

Grids never cross a community line, so a plan is the union of the plans of its communities.
:func:`build_parallel` checks every layer once, cuts the run into tasks of a fixed number of
communities (in code order), gives each task the roads, rivers, buildings, special sites and
locked grids of its communities, runs :func:`~gridgis.partition.build_grids` on each task — in
this process (``n_jobs=1``), in ``n_jobs`` worker processes, or on a dask cluster (``client``)
— and joins the results. The tasks do not depend on ``n_jobs`` or on the cluster, so the same
inputs and seed give the same plan however the tasks are run.

Examples
--------
>>> import gridgis
>>> s = gridgis.load_sample()                                               # doctest: +SKIP
>>> res = gridgis.build_grids(s["communities"], s["roads"], s["buildings"], n_jobs=2)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
import time
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import schema
from .._geometry import first_container
from ..i18n import tr
from ..schema import BASIC
from ._prepare import Inputs, read_inputs
from .quality import compactness

if TYPE_CHECKING:
    from .build import BuildOptions, BuildResult

__all__ = ["COMMUNITIES_PER_TASK", "Task", "build_parallel", "make_tasks", "run_task"]

log = logging.getLogger(__name__)

#: communities per task: fixed, so that a plan does not depend on how its tasks are run
COMMUNITIES_PER_TASK = 4
#: metres around a task's communities from which roads and rivers are taken
LINE_PAD_M = 5.0

#: one task: keyword arguments of build_grids for a few communities
Task = dict[str, Any]


def _near(layer: gpd.GeoDataFrame | None, cgeoms: np.ndarray, task_of_comm: np.ndarray,
          n_tasks: int) -> list:
    """Rows of ``layer`` within :data:`LINE_PAD_M` of the communities of each task (one bulk
    index query for all tasks)."""
    if layer is None or len(layer) == 0:
        return [layer] * n_tasks
    ci, li = layer.sindex.query(cgeoms, predicate="dwithin", distance=LINE_PAD_M)
    pairs = np.unique(np.stack([task_of_comm[ci], li], axis=1), axis=0)
    cut = np.searchsorted(pairs[:, 0], np.arange(n_tasks + 1))
    return [layer.iloc[pairs[cut[k]:cut[k + 1], 1]] for k in range(n_tasks)]


def _by_task(layer: gpd.GeoDataFrame | None, owner: np.ndarray, n_tasks: int) -> list:
    """Rows of ``layer`` of each task (``owner``: the task of every row, ``-1`` none)."""
    if layer is None:
        return [None] * n_tasks
    order = np.argsort(owner, kind="stable")
    cut = np.searchsorted(owner[order], np.arange(n_tasks + 1))
    return [layer.iloc[order[cut[k]:cut[k + 1]]] for k in range(n_tasks)]


def make_tasks(inp: Inputs, seed: int, rules: Any, options: BuildOptions,
               per_task: int = COMMUNITIES_PER_TASK) -> tuple[list[Task], np.ndarray]:
    """Tasks of a run (layers in metres) and the task of every building (``-1``: in no
    community).

    Examples
    --------
    >>> tasks, btask = make_tasks(inp, 0, None, BuildOptions())               # doctest: +SKIP
    """
    comm = inp.comm_m
    n = len(comm)
    task_of_comm = np.arange(n) // max(int(per_task), 1)
    bcomm = np.full(len(inp.bld), -1, dtype=np.int64)
    if inp.bvalid.any():
        bcomm[inp.bvalid] = first_container(inp.bpts[inp.bvalid], inp.cgeoms,
                                            predicate="intersects")
    btask = np.where(bcomm >= 0, task_of_comm[np.maximum(bcomm, 0)], -1)
    # sites and locked grids outside every community go to the first task, which reports them
    stask = np.where(inp.site_comm >= 0, task_of_comm[np.maximum(inp.site_comm, 0)], 0)
    ltask = np.where(inp.lock_comm >= 0, task_of_comm[np.maximum(inp.lock_comm, 0)], 0)
    n_tasks = int(task_of_comm.max()) + 1 if n else 0
    layers = {
        "communities": _by_task(comm, task_of_comm, n_tasks),
        "roads": _near(inp.roads_m, inp.cgeoms, task_of_comm, n_tasks),
        "rivers": _near(inp.rivers_m, inp.cgeoms, task_of_comm, n_tasks),
        "buildings": _by_task(inp.bld, btask, n_tasks),
        "special_sites": _by_task(inp.sites, stask, n_tasks),
        "locked": _by_task(inp.lock, ltask, n_tasks),
        "village_groups": _near(inp.vg, inp.cgeoms, task_of_comm, n_tasks),
    }
    tasks = [{**{key: rows[k] for key, rows in layers.items()},
              "rules": rules, "seed": seed, "options": options} for k in range(n_tasks)]
    return tasks, btask


def run_task(task: Task) -> BuildResult:
    """Build the grids of one task (in a worker process or on a dask worker)."""
    from .build import build_grids

    return build_grids(**task)


def _run(tasks: list[Task], n_jobs: int, client: Any) -> list[BuildResult]:
    if client is not None:
        futures = client.map(run_task, tasks, pure=False)
        return client.gather(futures)
    if n_jobs <= 1 or len(tasks) <= 1:
        return [run_task(t) for t in tasks]
    # the biggest tasks first, so that no worker is left with a big one at the end
    order = sorted(range(len(tasks)), key=lambda k: -len(tasks[k]["buildings"]))
    with ProcessPoolExecutor(max_workers=n_jobs) as pool:
        done = dict(zip(order, pool.map(run_task, [tasks[k] for k in order]), strict=True))
    return [done[k] for k in range(len(tasks))]


def _missing_vertices(geoms: np.ndarray, ii: np.ndarray, jj: np.ndarray,
                      tol: float) -> pd.DataFrame:
    """Vertices of grids ``jj`` that lie on the boundary of their neighbour ``ii`` without
    being its vertices: rows ``g`` (the grid ``ii``), ``x``, ``y``."""
    coords, pair = shapely.get_coordinates(geoms[jj], return_index=True)
    owner = ii[pair]
    box = shapely.bounds(geoms)[owner]
    near = ((coords >= box[:, :2] - tol) & (coords <= box[:, 2:] + tol)).all(axis=1)
    cand = pd.DataFrame({"g": owner[near], "x": coords[near, 0], "y": coords[near, 1]})
    grids = cand["g"].unique()
    own_xy, own_g = shapely.get_coordinates(geoms[grids], return_index=True)
    own = pd.DataFrame({"g": grids[own_g], "x": own_xy[:, 0], "y": own_xy[:, 1]})
    cand = cand.merge(own.drop_duplicates(), how="left", indicator=True)
    cand = cand[cand["_merge"] == "left_only"].drop_duplicates(["g", "x", "y"])
    grids, slot = np.unique(cand["g"].to_numpy(), return_inverse=True)
    rims = shapely.boundary(geoms[grids])
    shapely.prepare(rims)
    on_rim = shapely.dwithin(rims[slot], shapely.points(cand[["x", "y"]].to_numpy()), tol)
    return cand.loc[on_rim, ["g", "x", "y"]].sort_values("g", kind="stable")


def _shared_vertices(grids: gpd.GeoDataFrame, task: np.ndarray, tol: float = 1e-6) -> np.ndarray:
    """Grid geometries with the vertices that grids of other tasks have on their common lines
    (each task nodes its own lines, so a line ending on a community boundary makes a vertex on
    one side only; with it on both sides the plan is a valid coverage). Only the grids that
    miss such a vertex change."""
    geoms = grids.geometry.to_numpy().copy()
    ii, jj = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    other = task[ii] != task[jj]
    if not other.any():
        return geoms
    missing = _missing_vertices(geoms, ii[other], jj[other], tol)
    if len(missing) == 0:
        return geoms
    owners, slot = np.unique(missing["g"].to_numpy(), return_inverse=True)
    pts = shapely.multipoints(missing[["x", "y"]].to_numpy(), indices=slot)
    geoms[owners] = shapely.snap(geoms[owners], pts, tol)
    return geoms


def _stats(grids: gpd.GeoDataFrame, results: list[BuildResult], report: pd.DataFrame,
           seconds: dict) -> dict:
    """Statistics of the joined plan: counts summed, shares and compactness of the whole."""
    summed = ("grids", "basic_grids", "special_grids", "locked_grids", "faces", "blocks",
              "units", "blocks_split", "basic_in_range", "basic_flagged",
              "basic_unflagged_out_of_range", "enclaves", "strips_split", "thin_grids",
              "thin_blocks")
    out: dict[str, Any] = {"communities": sum(r.stats.get("communities", 0) for r in results)}
    out.update({k: int(sum(r.stats.get(k, 0) for r in results)) for k in summed})
    basic = (grids[schema.KIND] == BASIC).to_numpy()
    flagged = (grids[schema.FLAG] != "").to_numpy()
    pp = compactness(grids.geometry.to_numpy())
    out["share_in_range_unflagged"] = float(
        (out["basic_grids"] - out["basic_flagged"] - out["basic_unflagged_out_of_range"])
        / max(int((basic & ~flagged).sum()), 1))
    out["mean_polsby_popper_basic"] = float(pp[basic].mean()) if basic.any() else float("nan")
    out["p5_polsby_popper_basic"] = (float(np.percentile(pp[basic], 5)) if basic.any()
                                     else float("nan"))
    lengths = [r.stats.get(k, 0.0) for r in results for k in ("grid_line_m", "street_line_m")]
    out["grid_line_m"], out["street_line_m"] = float(sum(lengths[::2])), float(sum(lengths[1::2]))
    out["street_line_share"] = (out["street_line_m"] / out["grid_line_m"] if out["grid_line_m"]
                                else float("nan"))
    forced = report.loc[report["reason"] == "thin_block", "item_id"]
    free = basic & ~grids[schema.GRID_CODE].isin(forced).to_numpy()
    out["p5_polsby_popper_unforced"] = (float(np.percentile(pp[free], 5)) if free.any()
                                        else float("nan"))
    out["single_polygons"] = all(r.stats.get("single_polygons", True) for r in results)
    out["tasks"] = len(results)
    out["seconds"] = seconds
    return out


def _join(inp: Inputs, results: list[BuildResult], btask: np.ndarray,
          seconds: dict) -> BuildResult:
    from .build import BuildResult

    grids = pd.concat([r.grids for r in results], ignore_index=True) if results else \
        gpd.GeoDataFrame(geometry=[], crs=inp.mcrs)
    if len(results) > 1:
        task = np.repeat(np.arange(len(results)), [len(r.grids) for r in results])
        grids = grids.set_geometry(_shared_vertices(grids, task), crs=grids.crs)
    units = pd.concat([r.units for r in results], ignore_index=True) if results else \
        gpd.GeoDataFrame(geometry=[], crs=inp.mcrs)
    if len(units):
        units["unit_id"] = np.arange(len(units))
    building_grid = pd.Series(pd.array([pd.NA] * len(inp.bld), dtype="string"),
                              index=inp.bld.index, name=schema.GRID_CODE)
    values = building_grid.to_numpy(dtype=object, na_value=pd.NA)
    order = np.argsort(btask, kind="stable")  # each task's buildings in their input order
    cut = np.searchsorted(btask[order], np.arange(len(results) + 1))
    for k, r in enumerate(results):
        values[order[cut[k]:cut[k + 1]]] = r.building_grid.to_numpy(dtype=object,
                                                                    na_value=pd.NA)
    building_grid[:] = values
    bids = (inp.bld[schema.BUILDING_ID] if schema.BUILDING_ID in inp.bld.columns
            else pd.Series(inp.bld.index, index=inp.bld.index))
    for i in np.flatnonzero(btask < 0).tolist():
        why = "no_geometry" if not inp.bvalid[i] else "outside_communities"
        inp.report.add("building", bids.iloc[i], "", why,
                       tr("building could not be placed in any grid"))
    report = pd.concat([inp.report.frame(), *(r.report for r in results)], ignore_index=True)
    stats = _stats(grids, results, report, seconds)
    if inp.in_crs is not None and not inp.mcrs.equals(inp.in_crs):
        grids, units = grids.to_crs(inp.in_crs), units.to_crs(inp.in_crs)
    return BuildResult(grids=gpd.GeoDataFrame(grids, crs=grids.crs),
                       units=gpd.GeoDataFrame(units, crs=units.crs), report=report,
                       stats=stats, building_grid=building_grid)


def build_parallel(communities: gpd.GeoDataFrame, roads: gpd.GeoDataFrame | None,
                   buildings: gpd.GeoDataFrame | None, rules: Any,
                   special_sites: gpd.GeoDataFrame | None, locked: gpd.GeoDataFrame | None,
                   seed: int, rivers: gpd.GeoDataFrame | None, options: BuildOptions,
                   n_jobs: int | None, client: Any,
                   village_groups: gpd.GeoDataFrame | None = None) -> BuildResult:
    """:func:`~gridgis.partition.build_grids` run as tasks of a few communities each.

    ``n_jobs`` worker processes (``-1``: one per core; ``1``: in this process), or the workers
    of a ``dask.distributed`` ``client``. The plan is the same for every ``n_jobs`` and client.

    Examples
    --------
    >>> res = build_parallel(comm, roads, bld, None, None, None, 0, None, BuildOptions(), 2,
    ...                      None)                                              # doctest: +SKIP
    """
    t0 = time.perf_counter()
    inp = read_inputs(communities, roads, buildings, rules, special_sites, locked, rivers,
                      seed=seed, opts=options, village_groups=village_groups)
    tasks, btask = make_tasks(inp, seed, inp.rules, options)
    t1 = time.perf_counter()
    jobs = (os.cpu_count() or 1) if n_jobs is None or n_jobs < 0 else int(n_jobs)
    results = _run(tasks, jobs, client)
    t2 = time.perf_counter()
    log.debug("%d tasks on %s", len(tasks), "a dask cluster" if client else f"{jobs} process(es)")
    seconds = {"inputs": round(t1 - t0, 3), "tasks": round(t2 - t1, 3)}
    res = _join(inp, results, btask, seconds)
    seconds["total"] = round(time.perf_counter() - t0, 3)
    return res
