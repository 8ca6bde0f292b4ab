"""Canonical column names and the one alias table that maps Chinese and English variants to them.

All gridgis functions work with the canonical English names below. Tables read from offices
arrive with Chinese headers (网格编码, 户数, 经度 …) or other English spellings; pass them through
:func:`normalize_columns` once, at the boundary (``gridgis.io`` does this for you).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import SchemaError, in_cli, with_options
from .i18n import _, tr

if TYPE_CHECKING:  # pandas is imported where it is used: a cold CLI may not need it
    import pandas as pd

__all__ = [
    "ADDRESS",
    "ADDRESS_ID",
    "ALIASES",
    "AREA_KIND",
    "BASIC",
    "BUILDING_ID",
    "CATEGORY",
    "CLOSED_AT",
    "DEPARTMENT",
    "DISPATCHED_AT",
    "EVALUATED_AT",
    "FEEDBACK_AT",
    "HANDLING_LEVEL",
    "HANDLING_LEVELS",
    "ONSITE_AT",
    "SATISFACTION",
    "SATISFACTION_LEVELS",
    "CODE",
    "CODE_COLUMNS",
    "COMMUNITY_CODE",
    "COMPOUND_ID",
    "DISTANCE_M",
    "EVENT_ID",
    "FLAG",
    "FLOORS",
    "GRID_CODE",
    "GRID_NAME",
    "HEADERS_ATTR",
    "HOUSEHOLDS",
    "KIND",
    "LAT",
    "LON",
    "MATCH",
    "MATCH_REASON",
    "NAME",
    "PARENT_CODE",
    "POPULATION",
    "REPORTED_AT",
    "BARRIER_ROAD_CLASSES",
    "ROAD_CLASS",
    "ROAD_CLASSES",
    "ROAD_CLASS_VALUES",
    "ROAD_ID",
    "SITE_ID",
    "SOURCE_ATTR",
    "SPECIAL_KINDS",
    "STAGE",
    "STAGES",
    "URGENCY",
    "URGENCY_LEVELS",
    "USE",
    "canonical_name",
    "road_classes",
    "code_factors",
    "code_text",
    "codes_as_text",
    "digit_text_columns",
    "label",
    "normalize_columns",
    "original_headers",
    "require_columns",
    "restore_code_columns",
]

# --- canonical column names -------------------------------------------------------------------
CODE = "code"  # admin unit code (district 6, street 9, community 12 digits)
NAME = "name"
PARENT_CODE = "parent_code"
AREA_KIND = "area_kind"  # communities: "urban" | "rural"

HEADERS_ATTR = "gridgis_headers"  # DataFrame.attrs key: {canonical name: user's header}
GRID_CODE = "grid_code"
GRID_NAME = "grid_name"
COMMUNITY_CODE = "community_code"
KIND = "kind"  # grids: "basic" or a special kind (school, hospital, market, industrial_park, park …)
HOUSEHOLDS = "households"
POPULATION = "population"
FLAG = "flag"  # builder/validator annotations (e.g. "below_min_allowed")

BUILDING_ID = "building_id"
FLOORS = "floors"
USE = "use"
COMPOUND_ID = "compound_id"

ROAD_ID = "road_id"
ROAD_CLASS = "road_class"  # one of ROAD_CLASSES

# --- road classes ---------------------------------------------------------------------------------
#: canonical classes of the line layers the builder reads, from strongest to weakest boundary:
#: arterials, railways and rivers are barriers (grids never straddle them); local streets bound
#: blocks; lanes (service roads, footways, paths …) bound a block only where no better boundary
#: exists (inside a block too big for one grid).
ROAD_CLASSES = ("arterial", "railway", "river", "local", "lane")
#: canonical class -> the values that mean it: OpenStreetMap ``highway`` / ``railway`` /
#: ``waterway`` tags and Chinese road grades (compared lower-cased, spaces stripped)
ROAD_CLASS_VALUES: dict[str, tuple[str, ...]] = {
    "arterial": (
        "motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link",
        "secondary", "secondary_link", "expressway",
        "快速路", "主干路", "主干道", "次干路", "次干道", "高速公路", "国道", "省道", "城市主干道",
    ),
    "railway": ("rail", "light_rail", "narrow_gauge", "subway", "monorail", "铁路", "轨道交通"),
    "river": ("canal", "riverbank", "河流", "河道", "运河", "江", "河"),
    "local": (
        "tertiary", "tertiary_link", "residential", "unclassified", "living_street", "road",
        "支路", "县道", "乡道", "城市支路",
    ),
    "lane": (
        "service", "footway", "path", "pedestrian", "cycleway", "steps", "track", "bridleway",
        "corridor", "busway", "stream", "ditch", "drain", "tram",
        "街巷", "小巷", "巷", "胡同", "弄", "里弄", "村道", "小区道路", "内部道路", "步行道", "人行道",
    ),
}
#: classes whose lines are barriers between grids
BARRIER_ROAD_CLASSES = ("arterial", "railway", "river")

SITE_ID = "site_id"

ADDRESS_ID = "address_id"
ADDRESS = "address"
LON = "lon"
LAT = "lat"

EVENT_ID = "event_id"
CATEGORY = "category"
URGENCY = "urgency"  # 一般 / 重要 / 重要紧急
STAGE = "stage"  # 上报 / 分拨 / 处置 / 反馈 / 考核
REPORTED_AT = "reported_at"
CLOSED_AT = "closed_at"
# optional richer event records: a time stamp per workflow stage, who handled it, at what level
DISPATCHED_AT = "dispatched_at"  # 分拨
ONSITE_AT = "onsite_at"  # 处置: someone on site
FEEDBACK_AT = "feedback_at"  # 反馈
EVALUATED_AT = "evaluated_at"  # 考核
DEPARTMENT = "department"  # 责任单位
HANDLING_LEVEL = "handling_level"  # 网格 / 社区 / 街道 / 区
SATISFACTION = "satisfaction"  # 满意 / 基本满意 / 不满意

MATCH = "match"
MATCH_REASON = "match_reason"
DISTANCE_M = "distance_m"

URGENCY_LEVELS = ("一般", "重要", "重要紧急")
STAGES = ("上报", "分拨", "处置", "反馈", "考核")
HANDLING_LEVELS = ("网格", "社区", "街道", "区")
SATISFACTION_LEVELS = ("满意", "基本满意", "不满意")
#: Kind of an ordinary (basic) grid; every other kind is a special grid.
BASIC = "basic"
SPECIAL_KINDS = ("school", "hospital", "market", "industrial_park", "park", "commercial")

# --- alias table --------------------------------------------------------------------------------
# canonical name -> accepted spellings (compared after lower-casing and stripping spaces,
# underscores, hyphens and full-width variants; see _key()).
ALIASES: dict[str, tuple[str, ...]] = {
    GRID_CODE: ("网格编码", "网格编号", "网格代码", "网格ID", "grid_id", "gridcode", "grid_no", "wgbm"),
    GRID_NAME: ("网格名称", "网格名", "gridname", "wgmc"),
    COMMUNITY_CODE: (
        "所属社区", "所属社区编码", "社区编码", "村社区编码", "社区代码", "村编码",
        "community", "community_id", "village_code", "sqbm",
    ),
    CODE: ("编码", "代码", "区划代码", "行政区划代码", "统计用区划代码", "adcode", "admin_code", "xzqdm"),
    NAME: ("名称", "区划名称", "行政区划名称", "admin_name", "xzqmc"),
    PARENT_CODE: ("上级编码", "上级代码", "所属街道", "所属街道编码", "parent", "parent_id"),
    AREA_KIND: ("城乡类型", "社区类型", "urban_rural", "urban or rural"),
    KIND: ("网格类型", "类型", "grid_kind", "type", "kind_name"),
    HOUSEHOLDS: ("户数", "住户数", "总户数", "hh", "household", "households_count", "hushu"),
    POPULATION: ("人口", "人口数", "常住人口", "总人口", "人数", "pop", "residents", "renkou"),
    BUILDING_ID: ("建筑编号", "楼栋编号", "楼栋编码", "建筑ID", "bldg_id", "building"),
    FLOORS: ("层数", "楼层数", "楼层", "levels", "storeys", "stories"),
    USE: ("用途", "建筑用途", "building_use", "landuse"),
    COMPOUND_ID: ("小区编号", "小区", "院落编号", "compound"),
    ROAD_ID: ("道路编号", "道路ID"),
    ROAD_CLASS: ("道路等级", "等级", "highway", "class", "fclass"),
    SITE_ID: ("场所编号", "专属场所编号"),
    ADDRESS_ID: ("地址编号", "地址编码", "地址ID", "addr_id"),
    ADDRESS: ("地址", "详细地址", "标准地址", "addr", "full_address"),
    LON: ("经度", "lng", "long", "longitude", "x坐标", "jd"),
    LAT: ("纬度", "latitude", "y坐标", "wd"),
    EVENT_ID: ("事件编号", "事件编码", "事件ID", "案件编号", "case_id"),
    CATEGORY: ("事件类型", "事件类别", "类别", "事件分类", "event_type", "type_name", "event category"),
    URGENCY: ("紧急程度", "紧急度", "事件等级", "priority", "level"),
    STAGE: ("流程环节", "环节", "状态", "办理状态", "status", "workflow_stage"),
    REPORTED_AT: ("上报时间", "报告时间", "发生时间", "report_time", "created_at", "reported"),
    CLOSED_AT: ("办结时间", "结案时间", "关闭时间", "close_time", "closed", "finished_at"),
    DISPATCHED_AT: ("分拨时间", "派遣时间", "派单时间", "立案时间", "dispatch_time", "dispatched"),
    ONSITE_AT: ("处置时间", "到场时间", "到达现场时间", "现场处置时间", "onsite_time", "arrived_at"),
    FEEDBACK_AT: ("反馈时间", "回复时间", "feedback_time"),
    EVALUATED_AT: ("考核时间", "评价时间", "核查时间", "evaluation_time", "evaluated"),
    DEPARTMENT: ("责任单位", "责任部门", "承办单位", "处置单位", "处置部门", "dept", "responsible_unit"),
    HANDLING_LEVEL: ("处置层级", "办结层级", "解决层级", "处置级别", "办理层级", "resolved_level"),
    SATISFACTION: ("满意度", "群众满意度", "评价结果", "回访结果", "满意程度"),
    # headers gridgis writes in tables for people (gridgis.people), so they read back
    MATCH: ("匹配结果",),
    MATCH_REASON: ("匹配说明",),
    DISTANCE_M: ("距离", "distance"),
    FLAG: ("标记",),
    "old_code": ("原编码", "旧编码"),  # a code crosswalk (gridgis.codes)
    "new_code": ("新编码",),
    "relation": ("关系", "变化关系"),
    "recode_status": ("改码状态",),
}

_ROAD_LOOKUP = {
    v.replace(" ", "").lower(): c for c, vals in ROAD_CLASS_VALUES.items() for v in (c, *vals)
}


def road_classes(values: Iterable[object], default: str = "local") -> pd.Series:
    """Canonical road class of every value (:data:`ROAD_CLASS_VALUES`); ``default`` when empty.

    A value that names no class (an OSM tag such as ``construction`` or ``platform``) becomes
    ``"lane"``: it bounds a block only where nothing better does.

    Examples
    --------
    >>> road_classes(["primary", "residential", "footway", "主干道", "街巷", None, "proposed"]).tolist()
    ['arterial', 'local', 'lane', 'arterial', 'lane', 'local', 'lane']
    """
    import pandas as pd
    raw = pd.Series(list(values), dtype=object)
    key = raw.map(lambda v: None if v is None or (isinstance(v, float) and math.isnan(v))
                  else str(v).replace(" ", "").replace("\u3000", "").lower() or None)
    out = key.map(_ROAD_LOOKUP)
    out = out.where(key.notna(), default).fillna("lane")
    return out.astype(object)


_FULLWIDTH = str.maketrans({"（": "(", "）": ")", "＿": "_", "－": "-", "　": " "})


def _key(name: object) -> str:
    """Normalised comparison key of a column header."""
    text = str(name).translate(_FULLWIDTH).strip().lower()
    text = re.sub(r"\(.*?\)", "", text)  # "经度(WGS84)" -> "经度"
    return re.sub(r"[\s_\-.]", "", text)


def _build_lookup() -> dict[str, str]:
    lookup: dict[str, str] = {}
    for canonical, aliases in ALIASES.items():
        for alias in (canonical, *aliases):
            key = _key(alias)
            if key in lookup and lookup[key] != canonical:
                raise AssertionError(f"alias {alias!r} maps to two columns")
            lookup[key] = canonical
    return lookup


_LOOKUP = _build_lookup()


def canonical_name(header: object) -> str | None:
    """Return the canonical column name for ``header``, or ``None`` when it is not known.

    Examples
    --------
    >>> canonical_name("网格编码"), canonical_name("Longitude"), canonical_name("经度(GCJ02)")
    ('grid_code', 'lon', 'lon')
    """
    return _LOOKUP.get(_key(header))


def normalize_columns(
    df: pd.DataFrame,
    *,
    required: Iterable[str] = (),
    extra_aliases: Mapping[str, str] | None = None,
    source: object | None = None,
) -> pd.DataFrame:
    """Rename known headers of ``df`` to canonical names and check required columns.

    Unknown columns are kept unchanged. When two headers map to the same canonical name, the
    first one wins and the other keeps its original name.

    Parameters
    ----------
    df
        Table or GeoDataFrame to normalise (not modified; a renamed copy is returned).
    required
        Canonical names that must be present after renaming.
    extra_aliases
        Additional ``{header: canonical}`` pairs for this call (e.g. ``{"楼号": "building_id"}``).
    source
        File or layer name used in error messages.

    Raises
    ------
    SchemaError
        If a required column is missing; the message lists the headers that were found.
    """
    extra = {_key(k): v for k, v in (extra_aliases or {}).items()}
    rename: dict[object, str] = {}
    taken: set[str] = set()
    geometry_name = getattr(df, "_geometry_column_name", None)
    for col in df.columns:
        if col == geometry_name:
            continue
        target = extra.get(_key(col)) or canonical_name(col)
        if target is None or target in taken:
            continue
        if target != col and target in df.columns and target not in rename.values():
            # a column already carries the canonical name: keep it, leave this one alone
            continue
        rename[col] = target
        taken.add(target)
    out = df.rename(columns=rename) if rename else df.copy()
    if rename:  # remember the user's own headers, for messages (survives repeated calls)
        before = df.attrs.get(HEADERS_ATTR, {})
        out.attrs[HEADERS_ATTR] = {**before, **{new: before.get(old, old) for old, new in rename.items()}}
    missing = [c for c in required if c not in out.columns]
    if missing:
        raise SchemaError(
            tr("missing required column(s) {wanted}; found columns {original_headers}",
               wanted=_wanted(missing), original_headers=original_headers(df)),
            source=source,
            fix=with_options(_("rename the header(s)"), ("extra_aliases", "{'your header': 'canonical'}")),
        )
    return out


SOURCE_ATTR = "gridgis_source"  # DataFrame.attrs key: the file (and layer) a frame was read from


def label(df: object, default: str) -> str:
    """The user's file a frame was read from (for messages), else ``default``.

    >>> import pandas as pd
    >>> label(pd.DataFrame(), "plan")
    'plan'
    """
    return str(getattr(df, "attrs", {}).get(SOURCE_ATTR) or default)


def original_headers(df: pd.DataFrame) -> list[str]:
    """The column headers as the user's file had them (before :func:`normalize_columns`).

    >>> import pandas as pd
    >>> t = normalize_columns(pd.DataFrame({"经度": [1.0], "备注": ["x"]}))
    >>> list(t.columns), original_headers(t)
    (['lon', '备注'], ['经度', '备注'])
    """
    names = df.attrs.get(HEADERS_ATTR, {})
    return [str(names.get(c, c)) for c in df.columns if c != getattr(df, "_geometry_column_name", None)]


def require_columns(df: pd.DataFrame, columns: Iterable[str], *, source: object | None = None) -> None:
    """Raise :class:`SchemaError` unless every canonical column in ``columns`` is in ``df``."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise SchemaError(
            tr("missing required column(s) {wanted}; found columns {original_headers}",
               wanted=_wanted(missing), original_headers=original_headers(df)),
            source=source,
            fix=_("rename the header(s)") if in_cli() else
            _("pass the table through gridgis.schema.normalize_columns or rename the headers"),
        )


def _wanted(missing: list[str]) -> str:
    """The missing columns with the headers that are read as them: ``old_code (原编码/旧编码)``."""
    return ", ".join(f"{m} ({'/'.join(ALIASES.get(m, ())[:3])})" if ALIASES.get(m) else m
                     for m in missing)


# ---- codes as text ---------------------------------------------------------------------------------


def digit_text_columns(header: list[Any], rows: list[list[Any]]) -> list[Any]:
    """Headers of the columns whose cells in ``rows`` are all text of 9 digits or more: codes
    and ids stored as text whatever their header, to be read back as text, not as numbers.

    >>> digit_text_columns(["原网格编码", "户数"], [["430302001001001", 3], [None, "12"]])
    ['原网格编码']
    """
    found = []
    for j, name in enumerate(header):
        cells = [row[j] for row in rows if j < len(row) and row[j] is not None]
        if name is not None and cells and all(isinstance(v, str) and v.isdigit() and len(v) >= 9
                                              for v in cells):
            found.append(name)
    return found


_SCI = re.compile(r"^([+-]?)(\d+)(?:\.(\d*))?[eE]([+-]?\d+)$")
_FLOAT_TEXT = re.compile(r"^\d+\.0+$")
_EXACT_FLOAT = 2**53  # integers below this are held exactly by a float (REAL) column
CODE_COLUMNS = (GRID_CODE, COMMUNITY_CODE, CODE, PARENT_CODE)


def code_text(value: object) -> object:
    """One code value as text, or ``pd.NA`` when missing; ``None`` when it cannot be exact.

    Numbers are restored to their digits (``430302001001001.0`` → ``'430302001001001'``); text in
    scientific notation is restored when its digits are all there (``'4.30302001001001E+14'``)
    and refused when Excel cut them (``'4.30302E+14'``).

    >>> code_text(430302001001001.0), code_text("4.30302001001001E+14"), code_text("4.30302E+14")
    ('430302001001001', '430302001001001', None)
    >>> code_text("430302001001001.0")
    '430302001001001'
    """
    import pandas as pd
    if value is None or value is pd.NA or value is pd.NaT:
        return pd.NA
    if isinstance(value, bool | np.bool_):
        return str(value)
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return pd.NA
        ok = float(value).is_integer() and abs(value) < _EXACT_FLOAT
        return str(int(value)) if ok else None
    text = str(value).strip()
    if _FLOAT_TEXT.match(text):  # a number written out by a tool that read the codes as REAL
        return text.split(".", 1)[0]
    m = _SCI.match(text)
    if m:
        sign, whole, frac, exp = m.group(1), m.group(2), m.group(3) or "", int(m.group(4))
        # exact only when the mantissa holds every digit: no zeros padded by the exponent
        return sign + (whole + frac).lstrip("0") if len(whole + frac) == exp + 1 else None
    return text if text else pd.NA


def _plain_texts(values: np.ndarray) -> pd.Series | None:
    """``values`` unchanged when all are texts of ASCII letters and digits without ``e``/``E``
    (what :func:`code_text` returns for them as they are), else ``None``; one vectorised pass."""
    import pandas as pd
    if not len(values) or not all(isinstance(v, str) for v in values[:1]):
        return None
    try:
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = pa.array(values, type=pa.string())
    except (ImportError, TypeError, ValueError):  # pyarrow's errors derive from these
        return None
    if not pc.all(pc.match_substring_regex(arr, r"^[0-9A-DF-Za-df-z]+$")).as_py():
        return None
    return pd.Series(values, dtype=object)


def code_factors(values: Iterable[object], *, source: object = None, column: object = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """A code column factorised as text: ``(row -> index of its text or -1 when missing, texts)``.

    The one code-to-text normaliser (:func:`code_text` on the distinct values only, so this is
    fast on millions of rows); ``430302001001001.0`` and ``'430302001001001'`` share one text.

    Raises
    ------
    SchemaError
        Naming the rows whose codes lost digits (numbers in scientific notation, fractions).

    >>> idx, texts = code_factors([430302001001001.0, None, "430302001001001"])
    >>> idx.tolist(), texts.tolist()
    ([0, -1, 0], ['430302001001001'])
    """
    import pandas as pd
    series = values if isinstance(values, pd.Series) else pd.Series(
        values if isinstance(values, np.ndarray) else list(values), dtype=object)
    idx, uniques = pd.factorize(series, use_na_sentinel=True)
    idx = np.asarray(idx, dtype=np.int64)
    texts = _plain_texts(np.asarray(uniques, dtype=object))
    if texts is None:
        texts = pd.Series([code_text(u) for u in np.asarray(uniques, dtype=object)], dtype=object)
    lost = np.array([t is None for t in texts], dtype=bool)
    if lost.any():
        rows = np.flatnonzero(np.isin(idx, np.flatnonzero(lost)))
        raise SchemaError(
            tr("{n_rows} code(s) are not exact (e.g. {iloc!r}): the digits were lost when the "
               "column was stored as a number",
               n_rows=len(rows), iloc=series.iloc[rows[0]]), source=source,
            where=tr("column {column}, row(s) {rows}", column=column or series.name,
                     rows=", ".join(map(str, rows[:10]))),
            fix=_("store the codes as text (in Excel: format the column as Text and enter the "
                  "codes again), then export the file again"),
        )
    t_idx, t_uniq = pd.factorize(texts, use_na_sentinel=True)
    if len(t_idx):
        idx = np.where(idx >= 0, np.asarray(t_idx, dtype=np.int64)[np.clip(idx, 0, None)], -1)
    return idx, np.asarray(t_uniq, dtype=object)


def codes_as_text(values: pd.Series, *, source: object = None, column: object = None) -> pd.Series:
    """A code column as text, every value restored exactly or the whole column refused.

    Only the distinct values are converted (:func:`code_factors`), so this is fast on millions
    of rows.

    Raises
    ------
    SchemaError
        Naming the rows whose codes lost digits (numbers in scientific notation, fractions).

    >>> import pandas as pd
    >>> codes_as_text(pd.Series([430302001001001.0, None, "430302001001002"])).tolist()
    ['430302001001001', <NA>, '430302001001002']
    """
    import pandas as pd
    idx, texts = code_factors(values, source=source, column=column)
    out = np.r_[texts, np.array([pd.NA], dtype=object)][idx]
    return pd.Series(out, index=values.index, dtype=object, name=values.name)


def restore_code_columns(df: pd.DataFrame, *, source: object = None) -> pd.DataFrame:
    """``df`` with every canonical code column (grid_code, community_code …) as exact text."""
    import pandas as pd
    def needs_text(values: pd.Series) -> bool:  # looks at the distinct values only
        return values.dtype != object or any(
            not isinstance(v, str) or code_text(v) != v.strip() for v in pd.unique(values.dropna()))

    cols = [c for c in CODE_COLUMNS if c in df.columns and needs_text(df[c])]
    if not cols:
        return df
    out = df.copy()
    for c in cols:
        out[c] = codes_as_text(df[c], source=source, column=c)
    return out
