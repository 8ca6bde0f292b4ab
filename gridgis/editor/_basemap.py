"""An optional local basemap: tiles from a folder ``{z}/{x}/{y}.png`` (or ``.jpg``) or an
MBTiles file, embedded as data URLs at one zoom level. Nothing is fetched."""

from __future__ import annotations

import base64
import math
import sqlite3
from pathlib import Path
from typing import Any

from ..errors import InputFileError
from ..i18n import _

__all__ = ["basemap_images"]

HALF = math.pi * 6378137.0
#: Most tiles embedded (the zoom is chosen so that the plan needs at most this many).
MAX_TILES = 64


def _tile_range(bounds: tuple[float, float, float, float], z: int) -> tuple[range, range]:
    size = 2 * HALF / 2 ** z
    x0, y0, x1, y1 = bounds
    xs = range(int((x0 + HALF) // size), int((x1 + HALF) // size) + 1)
    ys = range(int((HALF - y1) // size), int((HALF - y0) // size) + 1)
    return xs, ys


def _reader(source: Path) -> Any:
    if source.is_dir():
        def read(z: int, x: int, y: int) -> tuple[bytes, str] | None:
            for ext, mime in (("png", "image/png"), ("jpg", "image/jpeg"),
                              ("jpeg", "image/jpeg"), ("webp", "image/webp")):
                f = source / str(z) / str(x) / f"{y}.{ext}"
                if f.exists():
                    return f.read_bytes(), mime
            return None
        return read
    if source.suffix.lower() == ".mbtiles" and source.exists():
        con = sqlite3.connect(f"file:{source}?mode=ro", uri=True)

        def read_mb(z: int, x: int, y: int) -> tuple[bytes, str] | None:
            row = con.execute("SELECT tile_data FROM tiles WHERE zoom_level=? AND "
                              "tile_column=? AND tile_row=?", (z, x, 2 ** z - 1 - y)).fetchone()
            if row is None:
                return None
            data = bytes(row[0])
            return data, "image/jpeg" if data[:2] == b"\xff\xd8" else "image/png"
        return read_mb
    raise InputFileError(_("the basemap is neither a tile folder nor an .mbtiles file"),
                         source=source,
                         fix=_("give a folder of tiles z/x/y.png or an .mbtiles file"))


def basemap_images(source: str | Path, display: Any) -> list[dict[str, Any]]:
    """Tiles covering the plan as ``{"href", "x", "y", "w", "h"}`` in drawing coordinates.

    Examples
    --------
    >>> basemap_images("tiles/", editor.display)[0].keys()  # doctest: +SKIP
    dict_keys(['href', 'x', 'y', 'w', 'h'])
    """
    read = _reader(Path(source))
    ox, oy = display.origin
    ext = display.extent_mercator
    for z in range(19, -1, -1):
        xs, ys = _tile_range(ext, z)
        if len(xs) * len(ys) <= MAX_TILES:
            break
    size = 2 * HALF / 2 ** z
    out = []
    for x in xs:
        for y in ys:
            tile = read(z, x, y)
            if tile is None:
                continue
            data, mime = tile
            out.append({"href": f"data:{mime};base64,{base64.b64encode(data).decode()}",
                        "x": round(-HALF + x * size - ox, 1), "y": round(oy - (HALF - y * size), 1),
                        "w": round(size, 1), "h": round(size, 1)})
    return out
