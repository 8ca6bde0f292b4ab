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

    [tolerances]
    gap_width_m = 0.5       # gaps/overlaps narrower than this are snapping noise
    sliver_area_m2 = 50.0

    [assign]
    max_distance_m = 100.0

    [events.deadline_days]
    "一般" = 7
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import schema
from .errors import RulesError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


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
class Tolerances:
    """Geometric tolerances in metres / square metres used by validation and repair."""

    gap_width_m: float = 0.5
    sliver_area_m2: float = 50.0
    sliver_thinness: float = 0.05
    snap_m: float = 0.5
    coverage_rel: float = 1e-6
    outside_parent_m2: float = 1.0


@dataclass(frozen=True)
class AssignRules:
    """Address/event assignment settings."""

    max_distance_m: float = 100.0
    far_outside_m: float = 20000.0


@dataclass(frozen=True)
class EventRules:
    """Event handling deadlines (in days by urgency) and the on-site limit for utilities."""

    deadline_days: dict[str, float] = field(
        default_factory=lambda: {"一般": 7.0, "重要": 3.0, "重要紧急": 1.0}
    )
    onsite_hours: float = 24.0


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
}


def _check_value(section: str, key: str, value: Any, default: Any, source: str) -> Any:
    where = f"[{section}] {key}"
    if key == "basis":
        if value not in ("households", "population"):
            raise RulesError(
                f"{where} = {value!r}; expected 'households' or 'population'", source=source
            )
        return value
    if key == "name":
        return str(value)
    if key == "kinds":
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise RulesError(f"{where} must be a list of non-empty strings", source=source)
        return tuple(value)
    if key == "deadline_days":
        if not isinstance(value, dict):
            raise RulesError(f"{where} must be a table of urgency = days", source=source)
        out = dict(default)
        for k, v in value.items():
            if isinstance(v, bool) or not isinstance(v, int | float) or v <= 0:
                raise RulesError(
                    f"{where}.{k} = {v!r}; expected a positive number of days", source=source
                )
            out[str(k)] = float(v)
        return out
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RulesError(
            f"{where} = {value!r} ({type(value).__name__}); expected a number >= 0",
            source=source,
        )
    if value < 0:
        raise RulesError(f"{where} = {value!r}; expected a number >= 0", source=source)
    if key.startswith(("min_", "max_", "target_")):
        if value != int(value):
            raise RulesError(f"{where} = {value!r}; expected a whole number", source=source)
        return int(value)
    return float(value)


def rules_from_dict(data: dict[str, Any], *, source: str = "<rules>") -> Rules:
    """Build :class:`Rules` from a parsed TOML mapping, checking every key, type and range.

    Raises
    ------
    RulesError
        Naming the section and key, the value found, and the expected type or range.
    """
    kwargs: dict[str, Any] = {}
    for section, value in data.items():
        if section not in _SECTIONS:
            raise RulesError(
                f"unknown section [{section}]; expected one of {sorted(_SECTIONS)}", source=source
            )
        if not isinstance(value, dict):
            raise RulesError(f"[{section}] must be a table", source=source)
        base = getattr(DEFAULT_RULES, section)
        known = {f.name for f in dataclasses.fields(base)}
        updates = {}
        for key, v in value.items():
            if key not in known:
                raise RulesError(
                    f"unknown key [{section}] {key}; expected one of {sorted(known)}",
                    source=source,
                )
            updates[key] = _check_value(section, key, v, getattr(base, key), source)
        if isinstance(base, Profile) and updates.get("basis") == "population":
            # a population profile drops inherited household bounds unless given explicitly
            updates.setdefault("min_households", None)
            updates.setdefault("max_households", None)
        merged = dataclasses.replace(base, **updates)
        if isinstance(merged, Profile):
            _check_profile(section, merged, source)
        kwargs[section] = merged
    return Rules(**kwargs)


def _check_profile(section: str, p: Profile, source: str) -> None:
    for measure in ("households", "population"):
        lo, hi = getattr(p, f"min_{measure}"), getattr(p, f"max_{measure}")
        if lo is not None and hi is not None and lo > hi:
            raise RulesError(
                f"[{section}] min_{measure} = {lo} is larger than max_{measure} = {hi}",
                source=source,
            )
    lo, hi = p.bounds
    if hi == float("inf"):
        raise RulesError(
            f"[{section}] has basis {p.basis!r} but no max_{p.basis}", source=source
        )


def load_rules(rules: str | Path | dict | Rules | None = None) -> Rules:
    """Load rules from a TOML file, a mapping, a :class:`Rules` object, or defaults (``None``).

    Raises
    ------
    RulesError
        If the file cannot be read or parsed, or a key has the wrong type or range.
    """
    if rules is None:
        return DEFAULT_RULES
    if isinstance(rules, Rules):
        return rules
    if isinstance(rules, dict):
        return rules_from_dict(rules)
    path = Path(rules)
    if path.is_dir():
        raise RulesError("is a folder, not a rules file", source=path,
                         fix="give the path of a .toml file")
    try:  # utf-8-sig: Notepad saves UTF-8 with a byte-order mark
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise RulesError("rules file not found", source=path,
                         fix="check the path and the working folder") from None
    except OSError as exc:
        raise RulesError(f"cannot read the rules file ({exc.strerror})", source=path) from None
    except UnicodeDecodeError as exc:
        raise RulesError(f"rules file is not UTF-8 ({exc.reason})", source=path) from None
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"not valid TOML: {exc}", source=path) from None
    return rules_from_dict(data, source=str(path))
