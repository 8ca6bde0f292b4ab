"""Map labels that never overlap: short codes unique on a page, and greedy placement.

A district map that labels every grid with its serial shows "001" twenty times; a page labels
grids by name or by the shortest code tail that is unique among the grids on that page
(:func:`short_codes`). :func:`place_labels` puts the labels most important first at their
anchor, else at a nearby spot, else at the end of a leader line, and leaves out what does not
fit; :func:`overlapping_pairs` checks a drawn map.

>>> short_codes(["430302001001001", "430302001002001", "430302001002002"])
['1-001', '2-001', '2-002']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["LABEL_GID", "PlacedLabels", "overlapping_pairs", "place_labels", "short_codes"]

#: ``gid`` of every label artist drawn by :func:`place_labels` (tests and SVG readers find them).
LABEL_GID = "gridgis-label"


def short_codes(codes: Sequence[str], serial_width: int = 3) -> list[str]:
    """The shortest tails of ``codes`` that are unique among them.

    When the serial alone (the last ``serial_width`` characters) is unique it is used; else the
    fewest digits of the parent code before it that make every label unique, written
    ``parent-serial`` with the parent's leading zeros dropped.

    Examples
    --------
    >>> short_codes(["430302001001001", "430302001001002"])
    ['001', '002']
    >>> short_codes(["430302001001001", "430302002001001"])
    ['1001-001', '2001-001']
    """
    codes = [str(c) for c in codes]
    serial = [c[-serial_width:] for c in codes]
    if len(set(serial)) == len(codes):
        return serial
    longest = max((len(c) for c in codes), default=0)
    for k in range(1, longest - serial_width + 1):
        head = [c[-serial_width - k:-serial_width] for c in codes]
        labels = [f"{h.lstrip('0') or '0'}-{s}" for h, s in zip(head, serial, strict=True)]
        if len(set(labels)) == len(set(codes)):
            return labels
    return codes


@dataclass
class PlacedLabels:
    """The result of :func:`place_labels`: the drawn text artists (in input order, ``None``
    for left-out labels), how many sit on a leader line, and the left-out labels."""

    texts: list[Any] = field(default_factory=list)
    leaders: int = 0
    dropped: list[str] = field(default_factory=list)


def _renderer(fig: Any) -> Any:
    """The figure's renderer (an Agg canvas is attached to a closed figure first)."""
    if not hasattr(fig.canvas, "get_renderer"):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg(fig)
    return fig.canvas.get_renderer()


def _overlaps(box: np.ndarray, boxes: list[np.ndarray]) -> bool:
    if not boxes:
        return False
    b = np.asarray(boxes)
    return bool(np.any((box[0] < b[:, 2]) & (box[2] > b[:, 0]) & (box[1] < b[:, 3])
                       & (box[3] > b[:, 1])))


def _box(text: Any, renderer: Any, pad: float) -> np.ndarray:
    e = text.get_window_extent(renderer)
    return np.array([e.x0 - pad, e.y0 - pad, e.x1 + pad, e.y1 + pad])


def place_labels(ax: Any, x: Sequence[float], y: Sequence[float], texts: Sequence[str], *,
                 priority: Sequence[float] | None = None, fontsize: float = 8.0,
                 leader: bool = True, obstacles: Sequence[Any] = (),
                 **text_kw: Any) -> PlacedLabels:
    """Draw labels at data points so that no two overlap (nor overlap ``obstacles``).

    Labels are placed in order of ``priority`` (largest first; default: input order): at the
    anchor, else shifted by up to one label height around it, else (``leader=True``) at the
    end of a thin leader line up to four label heights away, else left out. Call it after the
    axes limits are final.

    Parameters
    ----------
    ax
        Matplotlib axes with final limits.
    x, y, texts
        Anchors in data coordinates and the label texts.
    priority
        Order of placement (e.g. grid areas).
    fontsize
        Font size in points.
    leader
        Allow leader lines.
    obstacles
        Artists (legend, inset …) labels must keep clear of.
    **text_kw
        Passed to :meth:`matplotlib.axes.Axes.text`.

    Returns
    -------
    PlacedLabels

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> placed = place_labels(ax, [0.5, 0.5], [0.5, 0.5], ["甲", "乙"])
    >>> len(overlapping_pairs(placed.texts))
    0
    """
    import matplotlib.patheffects as pe

    fig = ax.figure
    renderer = _renderer(fig)
    ax.apply_aspect()  # the limits and box the drawing will have
    n = len(texts)
    order = np.argsort(-np.asarray(priority, dtype=float), kind="stable") if priority is not None \
        else np.arange(n)
    frame = ax.get_window_extent(renderer)
    taken = [_box(o, renderer, 1.0) for o in obstacles]
    out = PlacedLabels(texts=[None] * n)
    style = {"ha": "center", "va": "center", "fontsize": fontsize, "color": "#1a1a1a", "zorder": 30,
             "path_effects": [pe.withStroke(linewidth=1.8, foreground="white")], **text_kw}
    to_px = ax.transData.transform
    to_data = ax.transData.inverted().transform
    for i in order:
        px, py = to_px((x[i], y[i]))
        if not (frame.x0 <= px <= frame.x1 and frame.y0 <= py <= frame.y1):
            out.dropped.append(str(texts[i]))
            continue
        t = ax.text(x[i], y[i], str(texts[i]), gid=LABEL_GID, **style)
        box = _box(t, renderer, 1.0)
        w, h = box[2] - box[0], box[3] - box[1]
        spots = [(0, 0), (0, 0.6 * h), (0, -0.6 * h), (0.5 * w, 0), (-0.5 * w, 0),
                 (0.5 * w, 0.6 * h), (-0.5 * w, -0.6 * h), (0.5 * w, -0.6 * h), (-0.5 * w, 0.6 * h)]
        rings = [(r, a) for r in (2.0, 3.0, 4.0) for a in range(0, 360, 30)] if leader else []
        spots += [(r * h * np.cos(np.radians(a)), r * h * np.sin(np.radians(a))) for r, a in rings]
        for k, (dx, dy) in enumerate(spots):
            cand = box + np.array([dx, dy, dx, dy])
            inside = (cand[0] >= frame.x0 and cand[2] <= frame.x1 and cand[1] >= frame.y0
                      and cand[3] <= frame.y1)
            if inside and not _overlaps(cand, taken):
                t.set_position(tuple(to_data((px + dx, py + dy))))
                taken.append(cand)
                out.texts[i] = t
                if k >= 9:
                    out.leaders += 1
                    ax.plot([x[i], t.get_position()[0]], [y[i], t.get_position()[1]],
                            color="#555555", lw=0.4, zorder=29)
                break
        else:
            t.remove()
            out.dropped.append(str(texts[i]))
    return out


def overlapping_pairs(texts: Sequence[Any], renderer: Any = None) -> list[tuple[str, str]]:
    """Pairs of drawn text artists whose bounding boxes overlap (``None`` entries skipped).

    Examples
    --------
    >>> overlapping_pairs([])
    []
    """
    drawn = [t for t in texts if t is not None]
    if not drawn:
        return []
    renderer = renderer or _renderer(drawn[0].figure)
    boxes = [t.get_window_extent(renderer) for t in drawn]
    out = []
    for i in range(len(drawn)):
        for j in range(i + 1, len(drawn)):
            a, b = boxes[i], boxes[j]
            if a.x0 < b.x1 and a.x1 > b.x0 and a.y0 < b.y1 and a.y1 > b.y0:
                out.append((drawn[i].get_text(), drawn[j].get_text()))
    return out
