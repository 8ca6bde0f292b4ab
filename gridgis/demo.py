"""The main job on the bundled sample district (``gridgis demo`` / ``make demo``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from . import schema
from .samples import load_sample


def _quiet(_: str) -> None:
    return None


def sample_summary(layers: dict) -> pd.DataFrame:
    """One row per community: name, kind, households, population, buildings, addresses."""
    comm = layers["communities"]
    b = layers["buildings"].groupby(schema.COMMUNITY_CODE).agg(
        households=(schema.HOUSEHOLDS, "sum"),
        population=(schema.POPULATION, "sum"),
        buildings=(schema.BUILDING_ID, "size"),
    )
    a = layers["addresses"].groupby(schema.COMMUNITY_CODE).size().rename("addresses")
    out = comm[[schema.CODE, schema.NAME, schema.AREA_KIND]].set_index(schema.CODE)
    out = out.join(b).join(a).fillna(0)
    return out.astype({"households": int, "population": int, "buildings": int, "addresses": int})


def run_demo(
    out: str | Path = "demo_output",
    *,
    seed: int = 0,
    say: Callable[[str], None] = _quiet,
    progress: bool = False,
) -> dict[str, Path]:
    """Run the main job on the sample and write its results into ``out``.

    Returns a mapping of output name → written path.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    layers = load_sample()
    summary = sample_summary(layers)
    say(
        f"sample district: {len(layers['streets'])} streets, {len(summary)} communities, "
        f"{int(summary['households'].sum())} households, {len(layers['addresses'])} addresses, "
        f"{len(layers['events'])} events"
    )
    written: dict[str, Path] = {}
    path = out / "sample_summary.csv"
    summary.to_csv(path, encoding="utf-8-sig")
    written["summary"] = path
    return written
