"""Grid codes: the code scheme, numbering, stable re-coding after a redraw, and table rewriting.

* :mod:`~gridgis.codes.scheme` — the scheme (the ``[codes]`` section of a rules file: community
  code length, serial digits, serial ranges per kind, numbering order) and
  :func:`parse_codes` to read code strings under it.
* :mod:`~gridgis.codes.numbering` — :func:`assign_codes` (serials west→east, north→south) and
  :func:`allocate_codes`, the one allocator of new serials.
* :mod:`~gridgis.codes.recode` — :func:`recode`: a redrawn plan keeps the codes of unchanged
  grids, with a crosswalk old → new.
* :mod:`~gridgis.codes.tables` — :func:`recode_table`: CSV/Excel/Parquet tables rewritten with
  the crosswalk.

Every function that numbers or checks codes takes ``scheme=`` and ``rules=``: the scheme when
given, else the ``[codes]`` section of the rules (default: DB11/T 2157-2023, 15 digits =
12-digit community code + 3-digit serial, basic 001–899, special 900–999).

Examples
--------
>>> from gridgis.codes import allocate_codes
>>> allocate_codes(["430302001001"], used=["430302001001007"]).tolist()
['430302001001008']
"""

from __future__ import annotations

from .numbering import allocate_codes, assign_codes, numbering_order, order_keys
from .recode import CROSSWALK_COLUMNS, RELATIONS, RecodeResult, recode
from .scheme import (
    DEFAULT_SCHEME,
    CodeScheme,
    RulesLike,
    SchemeLike,
    SerialRange,
    load_scheme,
    parse_codes,
)
from .tables import (
    PROBLEM_STATUSES,
    TABLE_STATUSES,
    RecodeTableResult,
    read_crosswalk,
    recode_table,
)

__all__ = [
    "allocate_codes",
    "assign_codes",
    "CodeScheme",
    "CROSSWALK_COLUMNS",
    "DEFAULT_SCHEME",
    "load_scheme",
    "numbering_order",
    "order_keys",
    "parse_codes",
    "PROBLEM_STATUSES",
    "read_crosswalk",
    "recode",
    "recode_table",
    "RecodeResult",
    "RecodeTableResult",
    "RELATIONS",
    "RulesLike",
    "SchemeLike",
    "SerialRange",
    "TABLE_STATUSES",
]
