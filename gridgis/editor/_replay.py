"""The edit log of an editor session as Python: the same :class:`~gridgis.plan.Plan` calls,
in order, on the version the session started from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["session_code"]

_GEOMETRY_KEYS = ("line", "area")


def _value(key: str, value: Any, reproject: bool, created: dict[str, str]) -> str:
    if key in _GEOMETRY_KEYS and isinstance(value, str):
        return f"metric({value!r})" if reproject else f"shapely.from_wkt({value!r})"
    if key == "rules" and isinstance(value, str) and value.startswith("{"):
        return value  # the rules dict as written (its repr)
    if isinstance(value, str):
        # a grid made earlier in the session: its code comes from that edit's result (fresh
        # codes never reuse a code of the versions file, so a replay may get other ones)
        return created.get(value, repr(value))
    if isinstance(value, (list, tuple)) and any(isinstance(v, str) and v in created
                                                 for v in value):
        return "[" + ", ".join(_value(key, v, reproject, created) for v in value) + "]"
    return repr(value)


def _call(op: str, params: dict[str, Any], reproject: bool, created: dict[str, str]) -> str:
    args = ", ".join(f"{k}={_value(k, v, reproject, created)}" for k, v in params.items())
    return f"plan.{op}({args})"


def session_code(plan: Any, path: Path | None, version: int | None, edits: list[Any],
                 saves: list[tuple[int, str]], start: int = 0) -> str:
    """Python that opens the plan the session started from and repeats ``edits`` (records of
    :attr:`gridgis.Plan.history`), with the saves made in between.

    Parameters
    ----------
    plan
        The edited plan (for its CRS).
    path, version
        File and version the session started from (``None``: the plan was not saved; the
        code then starts from a variable ``plan``).
    edits
        The edits of the session.
    saves
        ``(history length, note)`` of each save.
    start
        History length when the session started.

    Examples
    --------
    >>> print(session_code(plan, Path("d.gpkg"), 1, plan.history, []))  # doctest: +SKIP
    """
    reproject = not (plan.crs is None or plan.crs.equals(plan.metric_crs))
    lines = ["import gridgis", "import shapely", ""]
    if path is not None:
        v = "" if version is None else f", version={version}"
        lines.append(f"plan = gridgis.Plan.open({str(path)!r}{v})")
    else:
        lines.append("# plan: the plan the session started from (it was not saved)")
    if reproject:
        epsg = plan.metric_crs.to_string()
        lines += ["", "import geopandas as gpd", "",
                  "def metric(wkt):",
                  f"    # the edit log keeps lines and areas in the plan's metric CRS {epsg}",
                  f"    return gpd.GeoSeries.from_wkt([wkt], crs={epsg!r}).to_crs(plan.crs)",
                  ""]
    pending = sorted(saves)
    created: dict[str, str] = {}
    for k, edit in enumerate(edits, start=start + 1):
        call = _call(edit.op, edit.params, reproject, created)
        if edit.added:
            lines.append(f"r{k} = {call}")
            created.update({c: f"r{k}.added[{i}]" for i, c in enumerate(edit.added)})
        else:
            lines.append(call)
        while pending and pending[0][0] <= k:
            lines.append(f"plan.save(note={pending.pop(0)[1]!r})")
    lines += [f"plan.save(note={note!r})" for _, note in pending]
    return "\n".join(lines) + "\n"
