"""The province standard: the rules of the process as data, validated when loaded.

A province plugin ships a folder of TOML files and returns ``load_standard(folder)`` from its
``complaintkit_standard`` hook. Each file holds one part of the standard:

=====================  ==========================================================
``standard.toml``      name, version and the province's settings
``categories.toml``    the complaint-category tree (several levels deep)
``follow_up.toml``     online follow-up problem types, their SMS delays (SPEC B2)
``time_limits.toml``   the tiered, classified time-limit table (SPEC C1, C4)
``organisation.toml``  departments: province, city companies, second line
``roles.toml``         roles and their permissions (SPEC H)
``templates.toml``     message templates with ``{variables}`` (SPEC K3)
``calendar.toml``      optional: whole years from the State Council notice, days to correct
``quality.toml``       optional: the monthly quality inspection's sampling and scorecard (SPEC I1)
``return_visits.toml`` optional: the SMS survey, the phone follow-up, contact attempts (G1–G4)
``tracking.toml``      optional: tracking long cases (F1, F2)
``dispatch.toml``      optional: skill groups, the dispatch standard, the transfer graph,
                       handlers and batch thresholds (:mod:`complaintkit.standard.dispatch`)
=====================  ==========================================================

A province may state only how it differs from another standard: ``extends`` in
``standard.toml`` (:mod:`complaintkit.standard.layers`).

Every problem found is reported at once, each naming the file and the field
(``time_limits.toml: $.rule[2].limits.total: '48x': unknown unit 'x' …``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from complaintkit.core.calendar import CalendarYear, CalendarYearError, DayOverride, Duration
from complaintkit.core.errors import InvalidInput, StandardInvalid, UnknownCategory
from complaintkit.core.model import Role, Urgency
from complaintkit.standard import after_reply, layers, values
from complaintkit.standard import dispatch as dispatch_data
from complaintkit.standard import quality as quality_rules
from complaintkit.standard import roles as role_rules
from complaintkit.standard.after_reply import ReturnVisitRules, TrackingRules
from complaintkit.standard.dispatch import DispatchStandard
from complaintkit.standard.quality import Norm, QualitySpec, Sampling

STAGES = ("dispatch", "handling", "reply", "return_visit", "total")


@attrs.define(frozen=True)
class Category:
    code: str
    name: str
    urgency: Urgency = Urgency.GENERAL
    #: department that gets this category by direct dispatch (SPEC D2); empty = back office
    department: str = ""
    children: tuple[Category, ...] = ()


@attrs.define(frozen=True)
class FollowUpType:
    """One row of SPEC B2's table."""

    code: str
    name: str
    delay: str
    template: str = "follow_up_confirmation"


@attrs.define(frozen=True)
class TimeLimitRule:
    """Limits for the tickets a rule matches; the most specific matching rule wins.

    ``category`` matches a category code and everything under it; empty fields match anything.
    ``limits`` and ``internal`` map a stage (dispatch, handling, reply, return_visit, total) to a
    duration text ("48h", "12wh", "3wd"); ``internal`` is the stricter internal target (C4).
    """

    limits: dict[str, str]
    urgency: Urgency | None = None
    category: str = ""
    value_tier: str = ""
    kind: str = ""
    internal: dict[str, str] = attrs.field(factory=dict)


@attrs.define(frozen=True)
class Department:
    code: str
    name: str
    #: province | city | second_line | other_province | service_centre
    level: str
    city: str = ""


@attrs.define(frozen=True)
class RoleSpec:
    role: Role
    #: what the role may do; once loaded, with everything of the role it extends
    permissions: frozenset[str]
    #: the largest refund this role may promise (or, with ``refund.execute``, make), in fen (SPEC H2)
    refund_limit_fen: int = 0
    #: the role it extends: it holds all of that role's permissions too (SPEC H2)
    extends: Role | None = None
    #: ``all`` tickets, or only those of the actor's ``own_department``
    scope: str = "all"


@attrs.define(frozen=True)
class PermissionSpec:
    """A permission a vendor's part needs, declared in ``roles.toml`` besides the kit's own."""

    name: str
    description: str = ""


@attrs.define(frozen=True)
class Settings:
    service_port: str = "10086"
    follow_up_reply_code: str = "1"
    fast_service_number: str = ""
    follow_up_window: str = "12h"
    repeat_window_days: int = 30
    misdispatch_limit: int = 3
    near_overdue_before: str = "1h"
    #: alternatively, near-overdue when this share of the limit has passed (0.8 = 80 %)
    near_overdue_share: float | None = None
    pause_while_waiting: bool = False
    #: "08:30-12:00,13:30-17:30"; empty = whole working days
    working_hours: str = ""
    #: "back_office" (centralized skill groups) or "specialist" (SPEC A6)
    processing_mode: str = "back_office"
    sms_max_chars: int = 350
    complaint_department: str = "service_centre"
    #: handlers of this skill level or more are "high-skill" (D6, E6: 1 … 5)
    high_skill_level: int = 4
    #: which level of the category tree makes two complaints "the same" for E3 (1 = the top level)
    repeat_category_level: int = 1
    #: a repeat complaint is handled at least at this urgency (E3: 24 h in the baseline's table)
    repeat_urgency: str = "important"
    #: callers that start a batch warning where dispatch.toml sets no threshold (E2)
    batch_threshold: int = 20

    def window_words(self) -> str:
        """The follow-up window as a customer reads it: ``12h`` → ``12小时`` (templates: ``{window}``)."""
        amount = Duration.parse(self.follow_up_window).amount
        return f"{amount:g}小时"


@attrs.define(frozen=True)
class Standard:
    name: str
    version: str
    settings: Settings
    categories: tuple[Category, ...]
    follow_up_types: tuple[FollowUpType, ...]
    time_limits: tuple[TimeLimitRule, ...]
    departments: tuple[Department, ...]
    roles: tuple[RoleSpec, ...]
    templates: dict[str, str]
    calendar_overrides: tuple[DayOverride, ...] = ()
    #: whole years from the State Council notice (``[year.2027]`` tables of ``calendar.toml``)
    calendar_years: tuple[CalendarYear, ...] = ()
    source: str = ""
    #: permissions the standard declares besides the kit's own (``[[permission]]`` in roles.toml)
    permissions: tuple[PermissionSpec, ...] = ()
    #: the monthly quality inspection (``quality.toml``); None: the standard sets none
    quality: QualitySpec | None = None
    #: return visits (``return_visits.toml``; the defaults when the file is absent)
    return_visits: ReturnVisitRules = attrs.field(factory=ReturnVisitRules)
    #: tracking long cases (``tracking.toml``; the defaults when the file is absent)
    tracking: TrackingRules = attrs.field(factory=TrackingRules)
    #: dispatch.toml: skill groups, routes, the transfer graph, handlers, batch thresholds
    dispatch: DispatchStandard = attrs.field(factory=DispatchStandard)
    #: look-up tables built on first use; not part of the value (equality, repr, evolve)
    _cache: dict[str, Any] = attrs.field(factory=dict, init=False, eq=False, repr=False)

    # -- look-ups the rules use -------------------------------------------------------------

    def iter_categories(self) -> Iterator[tuple[Category, tuple[str, ...]]]:
        """Every category with the codes of its ancestors, depth first."""

        def walk(nodes: tuple[Category, ...], path: tuple[str, ...]) -> Iterator[tuple[Category, tuple[str, ...]]]:
            for node in nodes:
                yield node, path
                yield from walk(node.children, path + (node.code,))

        return walk(self.categories, ())

    def category(self, code: str) -> Category:
        index = _index(self)
        try:
            return index.categories[code][0]
        except KeyError:
            raise UnknownCategory(code, sorted(index.categories)) from None

    def category_path(self, code: str) -> tuple[str, ...]:
        """The codes from the root down to ``code`` itself."""
        self.category(code)
        return _index(self).categories[code][1] + (code,)

    def follow_up_type(self, code: str) -> FollowUpType:
        for t in self.follow_up_types:
            if t.code == code:
                return t
        raise InvalidInput(
            "problem_type",
            f"unknown online follow-up problem type {code!r} "
            f"(known: {', '.join(t.code for t in self.follow_up_types)})",
        )

    def department(self, code: str) -> Department:
        for d in self.departments:
            if d.code == code:
                return d
        raise InvalidInput("department", f"unknown department {code!r}")

    def role(self, role: Role) -> RoleSpec:
        for r in self.roles:
            if r.role is role:
                return r
        return RoleSpec(role, frozenset())

    def template(self, name: str) -> str:
        try:
            return self.templates[name]
        except KeyError:
            raise InvalidInput("template", f"the standard {self.name!r} has no template {name!r}") from None

    def render(self, name: str, **values: Any) -> str:
        """Fill a template; the settings (service_port, reply code …) and ``window`` (the
        follow-up window in words, ``12小时``) are always available."""
        merged = {**attrs.asdict(self.settings), "window": self.settings.window_words(), **values}
        return self.template(name).format_map(merged)

    def limits_for(self, *, category: str, urgency: Urgency, value_tier: str, kind: str) -> TimeLimitRule:
        """The most specific time-limit rule matching the ticket (SPEC C1)."""
        path = self.category_path(category) if category else ()
        best: tuple[tuple[int, ...], TimeLimitRule] | None = None
        for rule in self.time_limits:
            if rule.urgency is not None and rule.urgency is not urgency:
                continue
            if rule.value_tier and rule.value_tier != value_tier:
                continue
            if rule.kind and rule.kind != kind:
                continue
            if rule.category and rule.category not in path:
                continue
            depth = path.index(rule.category) + 1 if rule.category else 0
            score = (bool(rule.kind), depth, bool(rule.value_tier), rule.urgency is not None)
            if best is None or score > best[0]:
                best = (score, rule)
        if best is None:
            raise InvalidInput("time_limits", f"no time-limit rule matches urgency {urgency.value!r}")
        return best[1]


@attrs.define(frozen=True)
class _Index:
    categories: dict[str, tuple[Category, tuple[str, ...]]]


def _index(standard: Standard) -> _Index:
    # Built once per Standard value and kept on it: the value is immutable, so the index is too.
    found = standard._cache.get("index")
    if found is None:
        found = _Index({c.code: (c, path) for c, path in standard.iter_categories()})
        standard._cache["index"] = found
    return found


# -- loading ------------------------------------------------------------------------------------

_FILES: dict[str, tuple[str, Any]] = {
    "categories.toml": ("category", tuple[Category, ...]),
    "follow_up.toml": ("type", tuple[FollowUpType, ...]),
    "time_limits.toml": ("rule", tuple[TimeLimitRule, ...]),
    "organisation.toml": ("department", tuple[Department, ...]),
    "roles.toml": ("role", tuple[RoleSpec, ...]),
    "calendar.toml": ("day", tuple[DayOverride, ...]),
}
#: files a standard may leave out

#: files that may be left out, and dispatch.toml's arrays with their types
_OPTIONAL = ("calendar.toml", "dispatch.toml", "quality.toml", "return_visits.toml", "tracking.toml")
_DISPATCH: dict[str, Any] = {
    "skill_group": tuple[dispatch_data.SkillGroup, ...],
    "route": tuple[dispatch_data.Route, ...],
    "transfer": tuple[dispatch_data.Transfer, ...],
    "handler": tuple[dispatch_data.Handler, ...],
    "batch_threshold": tuple[dispatch_data.BatchThreshold, ...],
}


def load_standard(folder: Path | str | Any, *, plugin: str = "") -> Standard:
    """Read and validate a standard from a folder (a path or an ``importlib.resources`` entry).

    Raises :class:`StandardInvalid` listing every problem, each with its file and field.
    """
    where = f"{plugin}:{folder}" if plugin else str(folder)
    folder = folder if hasattr(folder, "joinpath") else Path(folder)
    problems: list[str] = []
    names = ("standard.toml", "templates.toml", *_FILES, "dispatch.toml", "quality.toml", "return_visits.toml",
             "tracking.toml")
    later: list[str] = []
    raw = layers.read_layer(folder, names, problems, later=later)
    for name in names:
        if name not in raw and name not in _OPTIONAL and not any(p.startswith(f"{name}:") for p in problems):
            problems.append(f"{name}: file missing")
    problems.extend(values.shape(raw))
    if problems:
        raise StandardInvalid(where, later + problems)

    head = raw["standard.toml"]
    parts: dict[str, Any] = {}
    for name, (key, shape) in _FILES.items():
        if name not in raw:
            parts[name] = ()
            continue
        parts[name] = values.structure(raw[name].get(key, []), shape, f"{name}: $.{key}", problems)
    calendar_years = _calendar_years(raw.get("calendar.toml", {}), problems)
    declared = values.structure(raw["roles.toml"].get("permission", []), tuple[PermissionSpec, ...],
                                "roles.toml: $.permission", problems)
    quality = None
    if "quality.toml" in raw:
        table = raw["quality.toml"]
        sampling = values.structure(table.get("sampling", {}), Sampling, "quality.toml: $.sampling", problems)
        norms = values.structure(table.get("norm", []), tuple[Norm, ...], "quality.toml: $.norm", problems)
        quality = QualitySpec(sampling, norms or ()) if sampling is not None else None
    visits = (values.structure(raw["return_visits.toml"], ReturnVisitRules, "return_visits.toml: $", problems)
              if "return_visits.toml" in raw else None)
    tracking = (values.structure(raw["tracking.toml"].get("tracking", {}), TrackingRules,
                                 "tracking.toml: $.tracking", problems) if "tracking.toml" in raw else None)
    table = raw.get("dispatch.toml", {})
    dispatch = DispatchStandard(**{
        f"{key}s": values.structure(table.get(key, []), shape, f"dispatch.toml: $.{key}", problems)
        for key, shape in _DISPATCH.items()})
    settings = values.structure(head.get("settings", {}), Settings, "standard.toml: $.settings", problems)
    templates = values.structure(raw["templates.toml"].get("templates", {}), dict[str, str],
                                 "templates.toml: $.templates", problems)
    for field in ("name", "version"):
        if not isinstance(head.get(field), str) or not head.get(field).strip():
            problems.append(f"standard.toml: $.{field}: required text is missing")
        elif len(head[field]) > 100:
            problems.append(f"standard.toml: $.{field}: more than 100 characters")
    if problems:
        raise StandardInvalid(where, later + problems)

    standard = Standard(
        name=head["name"],
        version=head["version"],
        settings=settings,
        categories=parts["categories.toml"],
        follow_up_types=parts["follow_up.toml"],
        time_limits=parts["time_limits.toml"],
        departments=parts["organisation.toml"],
        roles=parts["roles.toml"],
        templates=templates,
        calendar_overrides=parts["calendar.toml"],
        calendar_years=calendar_years,
        source=where,
        permissions=declared,
        quality=quality,
        **({"return_visits": visits} if visits is not None else {}),
        **({"tracking": tracking} if tracking is not None else {}),
        dispatch=dispatch,
    )
    problems.extend(check(standard))
    problems.extend(after_reply.problems(visits, tracking))
    problems.extend(values.named_templates(standard, after_reply.templates_wanted(visits, tracking)))
    if problems or later:
        raise StandardInvalid(where, later + problems)
    # each role with what it inherits, once the inheritance is known to be sound
    return attrs.evolve(standard, roles=role_rules.resolve(standard.roles))


#: a problem of a calendar year that names its field (``holidays[1].last: …``)
_FIELD = re.compile(r"^[a-z_]+(\[\d+\])?(\.[a-z_]+)?: ")


def _calendar_years(table: dict[str, Any], problems: list[str]) -> tuple[CalendarYear, ...]:
    """The ``[year.YYYY]`` tables of ``calendar.toml``. Its other keys are refused: a misspelt
    ``[years.2027]`` silently ignored would leave the province believing it had added the year."""
    for key in table:
        if key not in ("day", "year"):
            problems.append(f"calendar.toml: $.{key}: unknown table (calendar.toml has [year.YYYY] tables "
                            "and [[day]] entries)")
    years = table.get("year", {})
    if not isinstance(years, dict):
        problems.append("calendar.toml: $.year: write each year as its own table, [year.2027]")
        return ()
    found = []
    for key, entry in years.items():
        try:
            found.append(CalendarYear.from_table(key, entry))
        except CalendarYearError as exc:
            problems.extend(f"calendar.toml: $.year.{key}.{p}" if _FIELD.match(p) else
                            f"calendar.toml: $.year.{key}: {p}" for p in exc.problems)
    return tuple(found)


def check(standard: Standard) -> list[str]:
    """The cross-field rules that types alone cannot state."""
    problems: list[str] = []
    departments = {d.code for d in standard.departments}
    seen: set[str] = set()
    for category, _ in standard.iter_categories():
        if category.code in seen:
            problems.append(f"categories.toml: category {category.code!r} is defined twice")
        seen.add(category.code)
        if category.department and category.department not in departments:
            problems.append(
                f"categories.toml: category {category.code!r}: department {category.department!r} "
                "is not in organisation.toml"
            )
    if not seen:
        problems.append("categories.toml: $.category: the tree is empty")
    problems.extend(values.codes(standard))
    for i, t in enumerate(standard.follow_up_types):
        problems.extend(values.duration(t.delay, f"follow_up.toml: $.type[{i}].delay"))
    for i, rule in enumerate(standard.time_limits):
        where = f"time_limits.toml: $.rule[{i}]"
        for part, table in (("limits", rule.limits), ("internal", rule.internal)):
            for stage, text in table.items():
                if stage not in STAGES:
                    problems.append(f"{where}.{part}.{stage}: unknown stage (use one of {', '.join(STAGES)})")
                problems.extend(values.duration(text, f"{where}.{part}.{stage}"))
        if "total" not in rule.limits:
            problems.append(f"{where}.limits.total: every rule needs a total limit")
        if rule.category and rule.category not in seen:
            problems.append(f"{where}.category: unknown category {rule.category!r}")
    if not any(r.urgency is None and not r.category and not r.value_tier and not r.kind for r in standard.time_limits):
        urgencies = {r.urgency for r in standard.time_limits if not r.category and not r.value_tier and not r.kind}
        for u in Urgency:
            if u not in urgencies:
                problems.append(f"time_limits.toml: no default rule for urgency {u.value!r}")
    problems.extend(role_rules.check(standard.roles, standard.permissions))
    if standard.quality is not None:
        problems.extend(quality_rules.check(standard.quality))
    s = standard.settings
    settings_problems = values.settings(s)
    problems.extend(settings_problems)
    if s.complaint_department not in departments:
        problems.append(f"standard.toml: $.settings.complaint_department: {s.complaint_department[:60]!r} "
                        "is not in organisation.toml")
    problems.extend(dispatch_data.check(standard))
    if s.repeat_urgency not in {u.value for u in Urgency}:
        problems.append(f"standard.toml: $.settings.repeat_urgency: {s.repeat_urgency[:20]!r} is not an urgency "
                        f"(use one of {', '.join(u.value for u in Urgency)})")
    template_problems = values.templates(standard)
    problems.extend(template_problems)
    if not settings_problems and not template_problems:
        # the SMS are filled in only from settings and templates that passed their own checks
        problems.extend(_check_sms_lengths(standard))
    return problems


#: templates sent to customers by SMS, besides each follow-up type's own
SMS_TEMPLATES = ("follow_up_converted", "reply_unknown_code", "reply_late", "reply_unmatched", "batch_solved")


def _check_sms_lengths(standard: Standard) -> list[str]:
    """K3: every SMS template, filled with the longest values it can get, fits the province's limit.

    Refusing at start-up is the only safe place: an SMS too long for the gateway found when a
    timer fires would be a message the process decided to send and could not.
    """
    limit = standard.settings.sms_max_chars
    longest_problem = max((t.name for t in standard.follow_up_types), key=len, default="")
    sample = {"ticket_id": "X" * 40, "problem": longest_problem}
    names = {t.template for t in standard.follow_up_types} | set(SMS_TEMPLATES)
    problems = []
    for name in sorted(names & set(standard.templates)):
        text = standard.render(name, **sample)
        if len(text) > limit:
            problems.append(f"templates.toml: $.templates.{name}: {len(text)} characters at the longest, "
                            f"more than standard.toml's sms_max_chars ({limit})")
    return problems


