"""Map colouring: neighbouring grids never share a fill (graph colouring of the adjacency graph).

The adjacency graph links grids that touch or lie within ``touch_m`` metres of each other;
:func:`colour_classes` colours it with networkx's DSATUR heuristic (few colours, deterministic).
:func:`gridgis.render.colors.community_colors` builds the fills of every static and interactive
map on it, and :func:`same_colour_neighbours` checks a drawn map.

>>> import geopandas as gpd, shapely
>>> g = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)],
...                      crs="EPSG:4547")
>>> sorted(colour_classes(g.geometry.to_numpy(), ["a", "b"]).values())
[0, 1]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely

__all__ = ["adjacency_graph", "colour_classes", "same_colour_neighbours"]


def adjacency_graph(geoms: np.ndarray, keys: Sequence[Any], touch_m: float = 0.5) -> Any:
    """networkx graph of ``keys`` linking geometries within ``touch_m`` of each other (metric
    coordinates).

    Examples
    --------
    >>> adjacency_graph(np.array([shapely.box(0, 0, 1, 1)]), ["a"]).number_of_nodes()
    1
    """
    import networkx as nx

    graph = nx.Graph()
    graph.add_nodes_from(keys)
    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) > 1:
        left, right = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=touch_m)
        for i, j in zip(left.tolist(), right.tolist(), strict=True):
            if i < j and keys[i] != keys[j]:
                graph.add_edge(keys[i], keys[j])
    return graph


def colour_classes(geoms: np.ndarray, keys: Sequence[Any], touch_m: float = 0.5) -> dict[Any, int]:
    """A colour class (0, 1, …) per key; keys of neighbouring geometries get different classes.

    Examples
    --------
    >>> colour_classes(np.array([shapely.box(0, 0, 1, 1)]), ["a"])
    {'a': 0}
    """
    import networkx as nx

    graph = adjacency_graph(geoms, list(keys), touch_m)
    return nx.greedy_color(graph, strategy="DSATUR")


def same_colour_neighbours(geoms: np.ndarray, colours: Sequence[Any], keys: Sequence[Any] | None = None,
                           touch_m: float = 0.5) -> list[tuple[Any, Any]]:
    """Pairs of neighbouring geometries drawn in the same colour (should be empty).

    Examples
    --------
    >>> same_colour_neighbours(np.array([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)]),
    ...                        ["#fff", "#fff"])
    [(0, 1)]
    """
    keys = list(range(len(colours))) if keys is None else list(keys)
    graph = adjacency_graph(np.asarray(geoms, dtype=object), keys, touch_m)
    colour_of = dict(zip(keys, colours, strict=True))
    return sorted((a, b) for a, b in graph.edges if str(colour_of[a]) == str(colour_of[b]))
