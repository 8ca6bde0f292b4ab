"""Size-rule profiles and tolerances, read from a TOML rules file.

Defaults follow the published practice (DESIGN.md): an urban basic grid holds 300–500
households (about 1,000 residents); rural grids follow the village by population; special grids
(schools, hospitals, markets, industrial parks, parks, commercial buildings) may hold no
households. Real cities drift from these numbers, so every number lives in a profile that a
rules file can override::

    [urban]                 # basic grids in urban communities
    min_households = 300
    max_households = 500
    max_population = 1600   # optional cap on residents

    [rural]                 # basic grids in rural villages
    basis = "population"
    min_population = 400
    max_population = 1600

    [special]
    kinds = ["school", "hospital", "market", "industrial_park", "park", "commercial"]

    [tolerances]            # every key: gridgis.tolerances.Tolerances
    gap_width_m = 0.5       # gaps/overlaps narrower than this are snapping noise
    sliver_area_m2 = 50.0
    recode_same_share = 0.9 # a redrawn grid keeps its code above this share (both ways)

    [codes]                 # grid codes: community code + serial (DB11/T 2157-2023 default)
    parent_length = 12
    serial_width = 3
    order = "rows"          # serials west->east, bands north->south ("columns": the reverse)
                            # [codes.ranges.<kind>]: serial ranges, see CodeScheme

    [assign]
    max_distance_m = 100.0

    [events.deadline_days]
    "一般" = 7
    [events.deadlines."水电气"]  # deadlines by urgency and category: gridgis._event_rules
    onsite_hours = 24
    solve_days = 3
"""

from __future__ import annotations

import dataclasses
import math
import string
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import schema
from ._event_rules import EventRules, event_rules_from_dict
from .errors import CodeSchemeError, RulesError
from .i18n import tr
from .tolerances import Tolerances

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = [
    "Profile",
    "SpecialRules",
    "Tolerances",
    "AssignRules",
    "EventRules",
    "SerialRange",
    "CodeScheme",
    "ORDERS",
    "Rules",
    "DEFAULT_RULES",
    "rules_from_dict",
    "load_rules",
    "fewest_grids",
]

ORDERS = ("rows", "columns")
_ALNUM = set(string.ascii_letters + string.digits)

@dataclass(frozen=True)
class Profile:
    """Size rule of one kind of basic grid.

    ``basis`` names the measure the hard bounds apply to ("households" or "population"); the
    other measure may carry an extra cap (``max_population`` for a household-based profile).
    """

    name: str = "urban"
    basis: str = "households"
    min_households: int | None = 300
    max_households: int | None = 500
    target_households: int | None = None
    min_population: int | None = None
    max_population: int | None = None
    target_population: int | None = None

    @property
    def measure(self) -> str:
        """Canonical column the bounds apply to (``households`` or ``population``)."""
        return schema.HOUSEHOLDS if self.basis == "households" else schema.POPULATION

    @property
    def bounds(self) -> tuple[float, float]:
        """``(min, max)`` of the basis measure; a missing bound is 0 / infinity."""
        if self.basis == "households":
            lo, hi = self.min_households, self.max_households
        else:
            lo, hi = self.min_population, self.max_population
        return float(lo or 0), float("inf") if hi is None else float(hi)

    @property
    def target(self) -> float:
        """Preferred size of the basis measure (explicit target, else the midpoint)."""
        explicit = self.target_households if self.basis == "households" else self.target_population
        if explicit is not None:
            return float(explicit)
        lo, hi = self.bounds
        return (lo + hi) / 2 if hi != float("inf") else max(lo, 1.0) * 1.5

    @property
    def caps(self) -> dict[str, float]:
        """Upper limits on every measure (basis max plus secondary caps)."""
        out: dict[str, float] = {}
        if self.max_households is not None:
            out[schema.HOUSEHOLDS] = float(self.max_households)
        if self.max_population is not None:
            out[schema.POPULATION] = float(self.max_population)
        return out


@dataclass(frozen=True)
class SpecialRules:
    """Special grids (专属网格): kinds accepted and an optional household cap."""

    kinds: tuple[str, ...] = schema.SPECIAL_KINDS
    max_households: int | None = None


@dataclass(frozen=True)
class SerialRange:
    """A block of serials: ``prefix`` + serial in ``start..stop`` (inclusive), zero-padded.

    Kinds that share an equal :class:`SerialRange` are numbered in one sequence.
    """

    start: int = 1
    stop: int = 999
    prefix: str = ""

    @property
    def size(self) -> int:
        """How many serials the range holds."""
        return self.stop - self.start + 1


DEFAULT_RANGES: dict[str, SerialRange] = {
    schema.BASIC: SerialRange(1, 899),
    "special": SerialRange(900, 999),
}


@dataclass(frozen=True)
class CodeScheme:
    """How grid codes are built: ``community code + separator + prefix + serial``.

    Parameters
    ----------
    parent_length
        Length of the community (社区/村) code that starts every grid code (12 by default).
    serial_width
        Digits of the zero-padded serial (3 by default).
    separator
        Text between the community code and the serial ("" by default, e.g. "-").
    ranges
        Serial range per grid kind. Keys are ``"basic"``, ``"special"`` (every special kind
        without a key of its own) or a kind name (``"school"``, ``"market"`` …). A kind is
        looked up as itself, then as ``"special"`` (non-basic kinds), then ``"basic"``.
        Default: basic 001–899, special 900–999.
    band_height_m
        Height (width for ``order="columns"``) of the bands of the numbering order in metres;
        ``None`` uses the typical grid width of each community (see :mod:`gridgis.codes`).
    digits_only
        Community codes must be all digits (statistical division codes are).
    order
        Numbering order inside a community: ``"rows"`` (default: west→east inside bands taken
        north→south, read like text) or ``"columns"`` (north→south inside bands taken
        west→east).

    Raises
    ------
    CodeSchemeError
        On a bad length, width, separator, prefix, or on ranges that overlap or do not fit
        ``serial_width`` digits.

    Examples
    --------
    >>> CodeScheme().format("430302001001", 7)
    '430302001001007'
    >>> CodeScheme(separator="-", ranges={"basic": SerialRange(1, 99),
    ...            "special": SerialRange(1, 99, prefix="Z")}, serial_width=2
    ...            ).format("430302001001", 3, kind="school")
    '430302001001-Z03'
    """

    parent_length: int = 12
    serial_width: int = 3
    separator: str = ""
    ranges: Mapping[str, SerialRange] = field(default_factory=lambda: dict(DEFAULT_RANGES))
    band_height_m: float | None = None
    digits_only: bool = True
    order: str = "rows"

    def __post_init__(self) -> None:
        def bad(msg: str, where: str, fix: str | None = None) -> CodeSchemeError:
            return CodeSchemeError(msg, where=where, fix=fix)

        if not isinstance(self.parent_length, int) or isinstance(self.parent_length, bool) \
                or self.parent_length < 1:
            raise bad(f"parent_length must be a positive integer, got {self.parent_length!r}",
                      "parent_length")
        if not isinstance(self.serial_width, int) or isinstance(self.serial_width, bool) \
                or not 1 <= self.serial_width <= 9:
            raise bad(f"serial_width must be an integer 1..9, got {self.serial_width!r}",
                      "serial_width")
        if not isinstance(self.separator, str) or any(c in _ALNUM for c in self.separator):
            raise bad(f"separator must be text without letters or digits, got {self.separator!r}",
                      "separator", "use '', '-', '_' or '.'")
        if self.band_height_m is not None and not (
            isinstance(self.band_height_m, (int, float)) and self.band_height_m > 0
            and math.isfinite(self.band_height_m)
        ):
            raise bad(f"band_height_m must be a positive number, got {self.band_height_m!r}",
                      "band_height_m")
        if self.order not in ORDERS:
            raise bad(f"order must be one of {list(ORDERS)}, got {self.order!r}", "order")
        if not isinstance(self.digits_only, bool):
            raise bad(f"digits_only must be true or false, got {self.digits_only!r}",
                      "digits_only")
        if not isinstance(self.ranges, Mapping) or schema.BASIC not in self.ranges:
            raise bad("ranges must be a mapping with at least a 'basic' entry", "ranges")
        limit = 10 ** self.serial_width - 1
        for key, rng in self.ranges.items():
            if not isinstance(rng, SerialRange):
                raise bad(f"range {key!r} must be a SerialRange, got {type(rng).__name__}",
                          f"ranges.{key}")
            for name in ("start", "stop"):
                value = getattr(rng, name)
                if not isinstance(value, int) or isinstance(value, bool):
                    raise bad(f"{name} must be an integer, got {value!r}", f"ranges.{key}")
            if not 0 <= rng.start <= rng.stop <= limit:
                raise bad(
                    f"range {rng.start}..{rng.stop} does not fit 0 <= start <= stop <= {limit} "
                    f"({self.serial_width}-digit serials)", f"ranges.{key}",
                    "narrow the range or widen serial_width",
                )
            if not isinstance(rng.prefix, str) or any(c not in _ALNUM for c in rng.prefix):
                raise bad(f"prefix must be ASCII letters/digits, got {rng.prefix!r}",
                          f"ranges.{key}")
        pools = list(dict.fromkeys(self.ranges.values()))
        for a_i, a in enumerate(pools):
            for b in pools[a_i + 1:]:
                if a.prefix == b.prefix and a.start <= b.stop and b.start <= a.stop:
                    keys = [k for k, v in self.ranges.items() if v in (a, b)]
                    raise bad(
                        f"ranges {keys} overlap ({a.start}..{a.stop} and {b.start}..{b.stop} "
                        f"with prefix {a.prefix!r}) and would give two grids one code",
                        "ranges", "make them disjoint, give one a prefix, or make them equal "
                        "to share one sequence",
                    )

    # -- lookups --------------------------------------------------------------------------------
    def range_key(self, kind: object = schema.BASIC) -> str:
        """Key of :attr:`ranges` that numbers grids of ``kind``."""
        k = schema.BASIC if kind is None or (isinstance(kind, float) and math.isnan(kind)) else str(kind)
        if k in self.ranges:
            return k
        if k != schema.BASIC and "special" in self.ranges:
            return "special"
        return schema.BASIC

    def range_for(self, kind: object = schema.BASIC) -> SerialRange:
        """The :class:`SerialRange` that numbers grids of ``kind``."""
        return self.ranges[self.range_key(kind)]

    def format(self, community: str, serial: int, kind: object = schema.BASIC) -> str:
        """Code of serial ``serial`` of ``kind`` in community ``community``."""
        rng = self.range_for(kind)
        if not rng.start <= serial <= rng.stop:
            raise CodeSchemeError(tr("serial {serial} outside {start}..{stop}",
                                     serial=serial, start=rng.start, stop=rng.stop),
                                  where=tr("kind {kind!r}", kind=kind))
        return f"{community}{self.separator}{rng.prefix}{serial:0{self.serial_width}d}"

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (TOML-compatible, ``band_height_m`` left out when ``None``)."""
        out: dict[str, Any] = {
            "parent_length": self.parent_length,
            "serial_width": self.serial_width,
            "separator": self.separator,
            "digits_only": self.digits_only,
            "order": self.order,
            "ranges": {k: dataclasses.asdict(v) for k, v in self.ranges.items()},
        }
        if self.band_height_m is not None:
            out["band_height_m"] = self.band_height_m
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: object | None = None) -> CodeScheme:
        """Build a scheme from a mapping (optionally wrapped in a ``codes`` key).

        Raises
        ------
        CodeSchemeError
            On unknown keys or values of the wrong type, naming the key.
        """
        if set(data) == {"codes"} and isinstance(data["codes"], Mapping):
            data = data["codes"]
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise CodeSchemeError(
                tr("unknown key(s) {unknown}; expected some of {sorted}",
                   unknown=unknown, sorted=sorted(known)),
                source=source, where="codes",
            )
        kwargs = dict(data)
        if "ranges" in kwargs:
            raw = kwargs["ranges"]
            if not isinstance(raw, Mapping):
                raise CodeSchemeError(tr("ranges must be a table of {{kind: {{start, stop, "
                                         "prefix}}}}"),
                                      source=source, where="codes.ranges")
            ranges: dict[str, SerialRange] = {}
            rfields = {f.name for f in dataclasses.fields(SerialRange)}
            for key, spec in raw.items():
                if isinstance(spec, SerialRange):
                    ranges[str(key)] = spec
                    continue
                if not isinstance(spec, Mapping) or set(spec) - rfields:
                    raise CodeSchemeError(
                        tr("range must be a table with keys {sorted}, got {spec!r}",
                           sorted=sorted(rfields), spec=spec),
                        source=source, where=f"codes.ranges.{key}",
                    )
                ranges[str(key)] = SerialRange(**spec)
            kwargs["ranges"] = ranges
        try:
            return cls(**kwargs)
        except CodeSchemeError as exc:
            raise CodeSchemeError(exc.message, source=source, where=f"codes.{exc.where}",
                                  fix=exc.fix) from None


@dataclass(frozen=True)
class AssignRules:
    """Address/event assignment settings."""

    max_distance_m: float = 100.0
    far_outside_m: float = 20000.0


@dataclass(frozen=True)
class Rules:
    """All rules of a city: profiles, special kinds, tolerances, assignment and event settings."""

    urban: Profile = Profile()
    rural: Profile = Profile(
        name="rural",
        basis="population",
        min_households=None,
        max_households=None,
        min_population=400,
        max_population=1600,
    )
    special: SpecialRules = SpecialRules()
    tolerances: Tolerances = Tolerances()
    assign: AssignRules = AssignRules()
    events: EventRules = EventRules()
    codes: CodeScheme = field(default_factory=lambda: CodeScheme())

    def profile_for(self, area_kind: str | None) -> Profile:
        """Profile of a community by its ``area_kind`` ("urban" or "rural"; default urban)."""
        return self.rural if str(area_kind).lower() in {"rural", "village", "村", "农村"} else self.urban


DEFAULT_RULES = Rules()

_SECTIONS: dict[str, type] = {
    "urban": Profile,
    "rural": Profile,
    "special": SpecialRules,
    "tolerances": Tolerances,
    "assign": AssignRules,
    "events": EventRules,
    "codes": CodeScheme,
}


def fewest_grids(measures: Mapping[str, Sequence[float]], caps: Mapping[str, float]) -> int:
    """Fewest grids the buildings of one compound can lie in under the maxima ``caps``.

    For every capped measure: ``ceil(total / cap)``, and ``ceil(n / most)`` where ``most`` is
    the most buildings one grid can hold (its ``most`` smallest buildings fit within the cap):
    14 buildings of 186 households fill 7 grids of at most 500, not ``ceil(2604 / 500) = 6``.

    Parameters
    ----------
    measures
        Per measure (``households``, ``population``): the value of every building.
    caps
        Per measure: the maximum of one grid (measures without one are ignored).

    Examples
    --------
    >>> fewest_grids({"households": [186] * 14}, {"households": 500})
    7
    >>> fewest_grids({"households": [600, 100]}, {"households": 500})
    2
    """
    need = 1
    for m, cap in caps.items():
        values = sorted(float(v) for v in measures.get(m, ()))
        if not values or not math.isfinite(cap) or cap <= 0:
            continue
        need = max(need, math.ceil(sum(values) / cap - 1e-9))
        total, most = 0.0, 0
        for v in values:
            total += v
            if total > cap + 1e-9:
                break
            most += 1
        need = max(need, math.ceil(len(values) / max(most, 1)))
    return need


def _check_value(section: str, key: str, value: Any, default: Any, source: str) -> Any:
    where = f"[{section}] {key}"
    if key == "basis":
        if value not in ("households", "population"):
            raise RulesError(
                tr("{where} = {value!r}; expected 'households' or 'population'",
                   where=where, value=value), source=source
            )
        return value
    if key == "name":
        return str(value)
    if key == "kinds":
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise RulesError(tr("{where} must be a list of non-empty strings", where=where), source=source)
        return tuple(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RulesError(
            tr("{where} = {value!r} ({name}); expected a number >= 0",
               where=where, value=value, name=type(value).__name__),
            source=source,
        )
    if value < 0:
        raise RulesError(tr("{where} = {value!r}; expected a number >= 0",
                            where=where, value=value), source=source)
    if key.startswith(("min_", "max_", "target_")):
        if value != int(value):
            raise RulesError(tr("{where} = {value!r}; expected a whole number",
                                where=where, value=value), source=source)
        return int(value)
    return float(value)


def rules_from_dict(data: dict[str, Any], *, source: str = "<rules>") -> Rules:
    """Build :class:`Rules` from a parsed TOML mapping, checking every key, type and range.

    Raises
    ------
    RulesError
        Naming the section and key, the value found, and the expected type or range.

    Examples
    --------
    >>> r = rules_from_dict({"urban": {"max_households": 600}, "codes": {"serial_width": 4}})
    >>> r.urban.bounds, r.codes.format("430302001001", 12)
    ((300.0, 600.0), '4303020010010012')
    """
    kwargs: dict[str, Any] = {}
    for section, value in data.items():
        if section not in _SECTIONS:
            raise RulesError(
                tr("unknown section [{section}]; expected one of {sorted}",
                   section=section, sorted=sorted(_SECTIONS)), source=source
            )
        if not isinstance(value, dict):
            raise RulesError(tr("[{section}] must be a table", section=section), source=source)
        if section == "codes":
            kwargs[section] = _code_scheme(value, source)
            continue
        if section == "events":
            kwargs[section] = event_rules_from_dict(value, source=source)
            continue
        base = getattr(DEFAULT_RULES, section)
        known = {f.name for f in dataclasses.fields(base)}
        updates = {}
        for key, v in value.items():
            if key not in known:
                raise RulesError(
                    tr("unknown key [{section}] {key}; expected one of {sorted}",
                       section=section, key=key, sorted=sorted(known)),
                    source=source,
                )
            updates[key] = _check_value(section, key, v, getattr(base, key), source)
        if section == "tolerances":
            _check_shares(updates, source)
        if isinstance(base, Profile) and updates.get("basis") == "population":
            # a population profile drops inherited household bounds unless given explicitly
            updates.setdefault("min_households", None)
            updates.setdefault("max_households", None)
        merged = dataclasses.replace(base, **updates)
        if isinstance(merged, Profile):
            _check_profile(section, merged, source)
        kwargs[section] = merged
    return Rules(**kwargs)


def _code_scheme(value: Mapping[str, Any], source: str) -> CodeScheme:
    """The ``[codes]`` section as a :class:`CodeScheme`; errors name the file and the key."""
    try:
        return CodeScheme.from_dict(value)
    except CodeSchemeError as exc:
        where = str(exc.where or "codes")
        section, _, key = where.partition(".")
        label = f"[{section}] {key}" if key else f"[{section}]"
        raise RulesError(f"{label}: {exc.message}", source=source, fix=exc.fix) from None


_SHARE_RANGES = {"recode_same_share": (0.5, False, 1.0), "recode_min_share": (0.0, True, 0.5)}


def _check_shares(updates: Mapping[str, Any], source: str) -> None:
    """Shares of ``[tolerances]`` inside their ranges (``recode_same_share`` must stay > 0.5 so
    that a kept code is a one-to-one match)."""
    for key, (lo, lo_in, hi) in _SHARE_RANGES.items():
        if key not in updates:
            continue
        v = updates[key]
        ok = (v >= lo if lo_in else v > lo) and (v < hi if lo_in else v <= hi)
        if not ok:
            span = f"[{lo}, {hi})" if lo_in else f"({lo}, {hi}]"
            raise RulesError(tr("[tolerances] {key} = {v!r}; expected a share in {span}",
                                key=key, v=v, span=span),
                             source=source)


def _check_profile(section: str, p: Profile, source: str) -> None:
    for measure in ("households", "population"):
        lo, hi = getattr(p, f"min_{measure}"), getattr(p, f"max_{measure}")
        if lo is not None and hi is not None and lo > hi:
            raise RulesError(
                tr("[{section}] min_{measure} = {lo} is larger than max_{measure} = {hi}",
                   section=section, measure=measure, lo=lo, hi=hi),
                source=source,
            )
    lo, hi = p.bounds
    if hi == float("inf"):
        raise RulesError(
            tr("[{section}] has basis {basis!r} but no max_{basis}",
               section=section, basis=p.basis), source=source
        )


def load_rules(rules: str | Path | dict | Rules | None = None) -> Rules:
    """Load rules from a TOML file, a mapping, a :class:`Rules` object, or defaults (``None``).

    Raises
    ------
    RulesError
        If the file cannot be read or parsed, or a key has the wrong type or range.

    Examples
    --------
    >>> load_rules().codes.serial_width, load_rules({"tolerances": {"snap_m": 0.2}}).tolerances.snap_m
    (3, 0.2)
    >>> rules = load_rules("rules.toml")                             # doctest: +SKIP
    """
    if rules is None:
        return DEFAULT_RULES
    if isinstance(rules, Rules):
        return rules
    if isinstance(rules, dict):
        return rules_from_dict(rules)
    path = Path(rules)
    if path.is_dir():
        raise RulesError(tr("is a folder, not a rules file"), source=path,
                         fix=tr("give the path of a .toml file"))
    try:  # utf-8-sig: Notepad saves UTF-8 with a byte-order mark
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise RulesError(tr("rules file not found"), source=path,
                         fix=tr("check the path and the working folder")) from None
    except OSError as exc:
        raise RulesError(tr("cannot read the rules file ({strerror})", strerror=exc.strerror), source=path) from None
    except UnicodeDecodeError as exc:
        raise RulesError(tr("rules file is not UTF-8 ({reason})", reason=exc.reason), source=path) from None
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(tr("not valid TOML: {exc}", exc=exc), source=path) from None
    return rules_from_dict(data, source=str(path))
