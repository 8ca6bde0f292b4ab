"""Text helpers shared by the event record modules: blank cells, alias keys, tidy labels."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["alias_lookup", "alias_key", "is_blank", "map_aliases", "show", "tidy"]

_PUNCT = re.compile(r"[\s_\-/\\、,，.。;；:：&＆+＋|()（）\[\]【】\"'“”‘’]|和|且|与|及|and")
_FULLWIDTH = {i: i - 0xFEE0 for i in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff]) (?=[\u3400-\u9fff])")
_BLANKS = ["nan", "none", "null", "nat", "-", "—", "/"]


def alias_key(value: str) -> str:
    """Comparison key of a label: half-width, lower case, spaces and punctuation removed."""
    text = str(value).translate(_FULLWIDTH).strip().lower()
    return _PUNCT.sub("", text)


def alias_lookup(aliases: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """``{key: canonical}`` of every spelling (and the canonical label itself)."""
    out: dict[str, str] = {}
    for canonical, spellings in aliases.items():
        for s in (canonical, *spellings):
            out[alias_key(s)] = canonical
    return out


def is_blank(s: pd.Series) -> np.ndarray:
    """Boolean mask of missing or blank-looking cells ("", "nan", "null", "-" …)."""
    text = s.astype("string").str.strip()
    return (s.isna() | text.isna() | (text == "") | text.str.lower().isin(_BLANKS)).to_numpy(dtype=bool)


def map_aliases(values: pd.Series, table: dict[str, str]) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Map values through an alias table; returns (normalised, blank mask, unknown mask)."""
    blank = is_blank(values)
    text = values.astype("string")
    lookup = {v: table.get(alias_key(v)) for v in text.dropna().unique()}  # once per distinct value
    mapped = text.map(lookup)
    unknown = ~blank & mapped.isna().to_numpy()
    out = pd.Series(mapped.to_numpy(dtype=object), index=values.index)
    out[blank | unknown] = None
    return out, blank, unknown


def show(value: Any) -> str:
    """Short text of a raw cell value for problem messages."""
    if isinstance(value, float | np.floating):
        return f"{float(value):g}"
    if isinstance(value, int | np.integer):
        return str(int(value))
    return repr(str(value))


def tidy(value: str) -> str:
    """Half-width, trimmed, inner spaces collapsed (none left between Chinese characters)."""
    text = re.sub(r"\s+", " ", str(value).translate(_FULLWIDTH).strip())
    return _CJK_GAP.sub("", text)
