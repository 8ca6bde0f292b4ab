"""The grid-code scheme: loading it, and reading code strings under it.

A scheme (:class:`~gridgis.rules.CodeScheme`, the ``[codes]`` section of a rules file) says how
long the community (parent) code that starts every grid code is, how many digits the serial
has, the text between them and the serial range of every grid kind. The default follows
Beijing DB11/T 2157-2023: **15 digits = the 12-digit community code + a 3-digit serial**, basic
grids 001–899 and special grids (专属网格) 900–999.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import schema
from ..errors import CodeSchemeError
from ..i18n import _, tr
from ..rules import DEFAULT_RULES, CodeScheme, Rules, SerialRange, load_rules

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = [
    "SerialRange",
    "CodeScheme",
    "DEFAULT_SCHEME",
    "SchemeLike",
    "RulesLike",
    "load_scheme",
    "parse_codes",
]

DEFAULT_SCHEME: CodeScheme = DEFAULT_RULES.codes
SchemeLike = CodeScheme | Rules | Mapping[str, Any] | str | Path | None
RulesLike = Rules | Mapping[str, Any] | str | Path | None


def load_scheme(scheme: SchemeLike = None, *, rules: RulesLike = None) -> CodeScheme:
    """The :class:`CodeScheme` to use: ``scheme`` when given, else the ``[codes]`` of ``rules``.

    Parameters
    ----------
    scheme
        A scheme, a :class:`~gridgis.rules.Rules`, a mapping, or a TOML file with the scheme's
        keys at top level or under ``[codes]`` (so a whole rules file works too)::

            [codes]
            parent_length = 12
            serial_width = 3
            separator = ""
            order = "rows"
            [codes.ranges.basic]
            start = 1
            stop = 899
            [codes.ranges.special]     # all special kinds without a range of their own
            start = 900
            stop = 999
            [codes.ranges.school]      # schools get "X01".."X99"-style serials
            prefix = "X"
            start = 1
            stop = 99
    rules
        Rules (object, mapping or TOML file, :func:`gridgis.rules.load_rules`) whose ``[codes]``
        is used when ``scheme`` is ``None``; both ``None``: the default 15-digit scheme.

    Raises
    ------
    CodeSchemeError
        If the scheme file cannot be read or parsed, or the scheme is invalid.
    RulesError
        If ``rules`` is malformed.

    Examples
    --------
    >>> load_scheme().parent_length, load_scheme({"serial_width": 4}).serial_width
    (12, 4)
    >>> load_scheme(rules={"codes": {"separator": "-"}}).format("430302001001", 5)
    '430302001001-005'
    """
    if scheme is None:
        return DEFAULT_SCHEME if rules is None else load_rules(rules).codes
    if isinstance(scheme, CodeScheme):
        return scheme
    if isinstance(scheme, Rules):
        return scheme.codes
    if isinstance(scheme, Mapping):
        return CodeScheme.from_dict(scheme)
    path = Path(scheme)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise CodeSchemeError(_("code scheme file not found"), source=path) from None
    except UnicodeDecodeError as exc:
        raise CodeSchemeError(tr("code scheme file is not UTF-8 ({reason})", reason=exc.reason), source=path) from None
    except tomllib.TOMLDecodeError as exc:
        raise CodeSchemeError(tr("not valid TOML: {exc}", exc=exc), source=path) from None
    if isinstance(data.get("codes"), Mapping):  # a rules file: its [codes] section
        data = data["codes"]
    return CodeScheme.from_dict(data, source=path)


def parse_codes(codes: Iterable[object], scheme: SchemeLike = None) -> pd.DataFrame:
    """Split grid codes into community code, prefix and serial under ``scheme``.

    Returns
    -------
    pandas.DataFrame
        One row per input code (same order) with ``code``, ``community_code``, ``prefix``,
        ``serial`` (nullable int), ``range_key`` (the first range key whose prefix and bounds
        hold the serial) and ``valid`` (the code fits the scheme).

    Examples
    --------
    >>> p = parse_codes(["430302001001007", "430302001001901", "bad"])
    >>> p["community_code"][0], int(p["serial"][1]), p["range_key"][1], p["valid"].tolist()
    ('430302001001', 901, 'special', [True, True, False])
    """
    sch = load_scheme(scheme)
    idx, uniq = schema.code_factors(codes)
    pattern = (rf"^(?P<community_code>.{{{sch.parent_length}}}){re.escape(sch.separator)}"
               rf"(?P<prefix>[A-Za-z0-9]*?)(?P<serial>\d{{{sch.serial_width}}})$")
    parts = _extract_ascii(uniq, pattern)
    if parts is None:  # some code is not plain ASCII text: Python's regular expressions
        parts = pd.Series(uniq, dtype=object).astype("string").str.extract(pattern)
    parts["community_code"] = parts["community_code"].astype(object)
    if sch.digits_only:
        bad = ~parts["community_code"].fillna("x").str.fullmatch(r"\d+").astype(bool)
        parts.loc[bad, :] = pd.NA
    serial = pd.to_numeric(parts["serial"], errors="coerce").astype("Int64")
    prefix = parts["prefix"].astype(object)
    key = pd.Series(pd.NA, index=parts.index, dtype=object)
    for rkey, rng in sch.ranges.items():
        hit = key.isna() & (prefix == rng.prefix).fillna(False).astype(bool) \
            & (serial >= rng.start).fillna(False).astype(bool) \
            & (serial <= rng.stop).fillna(False).astype(bool)
        key[hit] = rkey
    valid = key.notna().to_numpy()
    take = np.where(idx >= 0, idx, len(uniq))  # an all-missing row for missing inputs

    def col(values: Any, dtype: Any = object) -> Any:
        arr = pd.array(list(np.asarray(values, dtype=object)) + [pd.NA], dtype=dtype)
        return arr.take(take)

    def when_valid(values: pd.Series) -> np.ndarray:
        return np.where(valid, values.to_numpy(object), pd.NA)

    return pd.DataFrame({
        "code": col(uniq),
        schema.COMMUNITY_CODE: col(when_valid(parts["community_code"])),
        "prefix": col(when_valid(prefix)),
        "serial": col(when_valid(serial), "Int64"),
        "range_key": col(when_valid(key)),
        "valid": np.r_[valid, False][take],
    })


def _extract_ascii(texts: np.ndarray, pattern: str) -> pd.DataFrame | None:
    """``Series.str.extract(pattern)`` of printable-ASCII ``texts`` in one vectorised pass
    (pyarrow's RE2 engine); ``None`` when a text is not printable ASCII, where Python's ``\\d``
    and ``$`` differ from RE2's."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = pa.array(np.asarray(texts, dtype=object), type=pa.string())
    except (ImportError, TypeError, ValueError):  # pyarrow's errors derive from these
        return None
    if len(arr) and not pc.all(pc.match_substring_regex(arr, r"^[ -~]*$")).as_py():
        return None
    found = pc.extract_regex(arr, pattern)
    names = [found.type.field(i).name for i in range(found.type.num_fields)]
    return pd.DataFrame({name: pd.array(pc.struct_field(found, [i]).to_pandas(), dtype="string")
                         for i, name in enumerate(names)})
