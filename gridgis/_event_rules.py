"""The ``[events]`` section of the rules file: deadlines by urgency and by category.

Offices set two limits per event: someone must be **on site** within so many hours, and the
event must be **solved** within so many working days (or hours). Limits depend on the urgency
class (一般 / 重要 / 重要紧急) and on the category (water, power and gas, 水电气, typically: on
site within 24 hours and solved within 3 working days)::

    [events]
    calendar = "working"        # solve_days count working days (Chinese holidays and 调休);
                                # "calendar" counts calendar days
    onsite_hours = 24           # on-site limit of the 水电气 rule when it sets none itself

    [events.deadlines."一般"]
    solve_days = 7
    [events.deadlines."重要紧急"]
    onsite_hours = 2
    solve_hours = 24
    [events.deadlines."水电气"]
    aliases = ["水电气故障", "停水", "停电", "燃气泄漏"]
    onsite_hours = 24
    solve_days = 3

Keys of ``[events.deadlines]`` that are urgency classes set urgency limits; every other key is a
category (matched with its ``aliases``). When an event falls under both, the tighter limit
applies. ``[events.deadline_days]`` (urgency = days) is the older short form of the urgency
solve limits and still accepted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from . import schema
from .errors import RulesError
from .i18n import tr

__all__ = ["CALENDARS", "UTILITY_RULE", "DeadlineRule", "EventRules", "event_rules_from_dict"]

#: How ``solve_days`` are counted.
CALENDARS = ("working", "calendar")
#: Category rule whose on-site limit defaults to ``EventRules.onsite_hours``.
UTILITY_RULE = "水电气"
_UTILITY_ALIASES = ("水电气故障", "水电气", "水电", "供水", "停水", "漏水", "供电", "停电", "燃气",
                    "供气", "停气", "燃气泄漏", "水电气暖")


@dataclass(frozen=True)
class DeadlineRule:
    """Limits of one urgency class or category: on site within hours, solved within days/hours."""

    onsite_hours: float | None = None
    solve_days: float | None = None
    solve_hours: float | None = None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class EventRules:
    """Event deadlines: solve days by urgency, rules by urgency and category, calendar.

    ``onsite_hours`` is the on-site limit of the 水电气 (utilities) rule unless that rule sets
    its own.
    """

    deadline_days: dict[str, float] = field(
        default_factory=lambda: {"一般": 7.0, "重要": 3.0, "重要紧急": 1.0}
    )
    onsite_hours: float = 24.0
    deadlines: dict[str, DeadlineRule] = field(
        default_factory=lambda: {UTILITY_RULE: DeadlineRule(solve_days=3.0, aliases=_UTILITY_ALIASES)}
    )
    calendar: str = "working"

    def urgency_rules(self) -> dict[str, DeadlineRule]:
        """Rule of every urgency class (solve days from ``deadline_days`` unless overridden)."""
        out = {u: DeadlineRule(solve_days=d) for u, d in self.deadline_days.items()}
        for key, rule in self.deadlines.items():
            if key in schema.URGENCY_LEVELS:
                base = out.get(key, DeadlineRule())
                if rule.solve_days is None and rule.solve_hours is None:
                    rule = replace(rule, solve_days=base.solve_days, solve_hours=base.solve_hours)
                out[key] = rule
        return out

    def category_rules(self) -> dict[str, DeadlineRule]:
        """Rule of every category key (the 水电气 rule gets ``onsite_hours`` if it has none)."""
        out = {}
        for key, rule in self.deadlines.items():
            if key in schema.URGENCY_LEVELS:
                continue
            if key == UTILITY_RULE and rule.onsite_hours is None:
                rule = replace(rule, onsite_hours=self.onsite_hours)
            out[key] = rule
        return out


_RULE_KEYS = ("onsite_hours", "solve_days", "solve_hours", "aliases")


def _positive(where: str, value: Any, unit: str, source: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise RulesError(tr("{where} = {value!r}; expected a positive number of {unit}", where=where, value=value,
                            unit=unit), source=source)
    return float(value)


def _deadline_rule(name: str, spec: Any, base: DeadlineRule | None, source: str) -> DeadlineRule:
    section = f"[events.deadlines.{name}]"
    if not isinstance(spec, Mapping):
        raise RulesError(tr("{section} must be a table with {keys}", section=section, keys=", ".join(_RULE_KEYS)),
                         source=source)
    unknown = [k for k in spec if k not in _RULE_KEYS]
    if unknown:
        raise RulesError(tr("unknown key {section} {key}; expected one of {keys}", section=section, key=unknown[0],
                            keys=list(_RULE_KEYS)), source=source)
    if "solve_days" in spec and "solve_hours" in spec:
        raise RulesError(tr("{section} sets both solve_days and solve_hours; keep one", section=section),
                         source=source)
    kw: dict[str, Any] = {}
    for key, unit in (("onsite_hours", "hours"), ("solve_days", "days"), ("solve_hours", "hours")):
        if key in spec:
            kw[key] = _positive(f"{section} {key}", spec[key], unit, source)
    if "aliases" in spec:
        al = spec["aliases"]
        if not isinstance(al, list) or not all(isinstance(a, str) and a.strip() for a in al):
            raise RulesError(tr("{section} aliases must be a list of non-empty strings", section=section),
                             source=source)
        kw["aliases"] = tuple(a.strip() for a in al)
    if base is not None:  # a file's 水电气 entry refines the default one
        if "solve_hours" in kw:
            base = replace(base, solve_days=None)
        if "solve_days" in kw:
            base = replace(base, solve_hours=None)
        return replace(base, **kw)
    return DeadlineRule(**kw)


def event_rules_from_dict(value: Mapping[str, Any], *, source: str = "<rules>") -> EventRules:
    """:class:`EventRules` from the ``[events]`` table of a rules file, every key checked.

    Examples
    --------
    >>> r = event_rules_from_dict({"deadlines": {"水电气": {"onsite_hours": 12}}})
    >>> r.category_rules()["水电气"].onsite_hours, r.category_rules()["水电气"].solve_days
    (12.0, 3.0)
    """
    base = EventRules()
    known = ("deadline_days", "onsite_hours", "deadlines", "calendar")
    kw: dict[str, Any] = {}
    for key, v in value.items():
        if key not in known:
            raise RulesError(tr("unknown key {section} {key}; expected one of {keys}", section="[events]", key=key,
                                keys=sorted(known)), source=source)
        if key == "deadline_days":
            if not isinstance(v, Mapping):
                raise RulesError(tr("{section} must be a table of urgency = days", section="[events] deadline_days"),
                                 source=source)
            days = dict(base.deadline_days)
            for k, d in v.items():
                days[str(k)] = _positive(f"[events] deadline_days.{k}", d, "days", source)
            kw[key] = days
        elif key == "onsite_hours":
            kw[key] = _positive("[events] onsite_hours", v, "hours", source)
        elif key == "calendar":
            if v not in CALENDARS:
                raise RulesError(tr("{where} = {value!r}; expected one of {keys}", where="[events] calendar", value=v,
                                    keys=list(CALENDARS)), source=source)
            kw[key] = v
        else:
            if not isinstance(v, Mapping):
                raise RulesError(tr("{section} must be a table of urgency or category tables",
                                    section="[events.deadlines]"), source=source)
            rules = dict(base.deadlines)
            for name, spec in v.items():
                rules[str(name)] = _deadline_rule(str(name), spec, base.deadlines.get(str(name)), source)
            kw[key] = rules
    return replace(base, **kw)
