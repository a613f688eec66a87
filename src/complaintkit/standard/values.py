"""The standard's values checked one by one: types, ranges, codes and the templates the rules use.

A standard is checked when it is loaded so that nothing in it can fail later, when a timer fires
or an SMS comes in: a duration the calendar cannot add, a setting of the wrong type, a code longer
than its column, a template a rule renders that is missing or asks for a variable the rule does
not give. Every problem names the file and the field.
"""

from __future__ import annotations

import re
import string
from typing import Any

import attrs
import cattrs

from complaintkit.core import inputs
from complaintkit.core.calendar import CalendarError, Duration, DurationUnit, parse_hours
from complaintkit.core.codec import converter
from complaintkit.core.errors import InvalidInput

#: what each file holds at its top level; anything else there is a typo that would be ignored
TOP_LEVEL: dict[str, dict[str, type]] = {
    "standard.toml": {"name": str, "version": str, "settings": dict},
    "templates.toml": {"templates": dict},
    "categories.toml": {"category": list},
    "follow_up.toml": {"type": list},
    "time_limits.toml": {"rule": list},
    "organisation.toml": {"department": list},
    "roles.toml": {"role": list, "permission": list},
    "calendar.toml": {"day": list, "year": dict},
    "quality.toml": {"sampling": dict, "norm": list},
    "return_visits.toml": {"survey": dict, "phone": dict, "attempts": dict},
    "tracking.toml": {"tracking": dict},
    "dispatch.toml": {"skill_group": list, "route": list, "transfer": list, "handler": list,
                      "batch_threshold": list},
}
_TOML_TYPE: dict[type, str] = {str: "text", dict: "table", list: "array of tables"}

#: the longest limit a standard may set: a year (longer is a typo, and overflows the calendar)
LONGEST: dict[DurationUnit, int] = {
    DurationUnit.HOURS: 366 * 24,
    DurationUnit.WORKING_HOURS: 366 * 24,
    DurationUnit.WORKING_DAYS: 366,
}

#: templates the rules render, each with values like those its rule gives (the settings and
#: ``window``, the follow-up window in words, are always there too). Every one must be in
#: templates.toml and may use only those variables. A follow-up type's own template gets
#: ``FOLLOW_UP``'s.
_ID = "X" * 40
_REMINDER = {"ticket_id": _ID, "deadline": "return_visit", "due_at": "2026-03-02 09:00",
             "handler": "dept:" + "x" * 60, "department": "x" * 60}
RENDERED: dict[str, dict[str, Any]] = {
    # SMS to the customer (parts/follow_up)
    "follow_up_converted": {"ticket_id": _ID},
    "reply_unknown_code": {},
    "reply_late": {},
    "reply_unmatched": {},
    # e-mail to the department (parts/time_limits)
    "near_overdue_reminder": _REMINDER,
    "overdue_alert": _REMINDER,
}
FOLLOW_UP: dict[str, Any] = {"problem": "x" * 60, "ticket_id": _ID}
#: rendered only when the standard has it (parts/time_limits/queries.py, the daily digest)
OPTIONAL: dict[str, dict[str, Any]] = {
    "daily_digest": {"department": "x" * 60, "date": "2026-03-02", "count": 12, "overdue": 5,
                     "near_overdue": 7, "lines": "CK0001 …"},
    # special tickets and dispatch (parts/special, parts/dispatch, the follow-up by phone)
    "batch_solved": {"problem": "x" * 60},
    "batch_warning": {"batch_id": _ID, "problem": "x" * 60, "area": "x" * 20, "count": 10000,
                      "threshold": 30, "department": "x" * 60},
    "fast_service_prompt": {"ticket_id": _ID},
    "misdispatch_arbitration": {"ticket_id": _ID, "bounces": 3, "reasons": "x" * 200},
}
#: a format spec may pad or round; a four-digit width is a typo (and a huge string)
_WIDE = re.compile(r"\d{4,}")

# The loader's converter: the store's, but a value of the wrong TOML type is refused instead of
# coerced (cattrs would turn 10086 into "10086", true into 1 and a table into its repr).
strict = converter.copy()


class _WrongType(TypeError):
    """A TOML value of another type than the field's; its message is the whole explanation."""


def _exactly(*kinds: type, name: str) -> Any:
    def structure(value: Any, _: type) -> Any:
        if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
            raise _WrongType(f"expected {name}, got {_describe(value)}")
        return value

    return structure


strict.register_structure_hook(str, _exactly(str, name="text"))
strict.register_structure_hook(int, _exactly(int, name="a whole number"))
strict.register_structure_hook(float, _exactly(int, float, name="a number"))
strict.register_structure_hook(bool, _exactly(bool, name="true or false"))


def _describe(value: Any) -> str:
    return {str: "text", bool: "true/false", int: "a number", float: "a number", dict: "a table",
            list: "an array"}.get(type(value), type(value).__name__)


def shape(raw: dict[str, Any]) -> list[str]:
    """Each file's top level: known keys of the right kind; every text free of control characters."""
    problems: list[str] = []
    for name, data in raw.items():
        allowed = TOP_LEVEL.get(name, {})
        for key, value in data.items():
            kind = allowed.get(key)
            if kind is None:
                what = "table" if isinstance(value, dict) else "key"
                problems.append(f"{name}: $.{key}: unknown {what} (expected {', '.join(allowed) or 'nothing'})")
            elif not isinstance(value, kind) or isinstance(value, list) and not all(isinstance(v, dict) for v in value):
                problems.append(f"{name}: $.{key}: must be {_article(_TOML_TYPE[kind])}, not {_describe(value)}"
                                + (f" (write [{key}])" if kind is dict else f" (write [[{key}]])" if kind is list else ""))
        problems.extend(_texts(data, f"{name}: $", prose=name == "templates.toml"))
    return problems


def _article(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _texts(value: Any, where: str, *, prose: bool) -> list[str]:
    if isinstance(value, str):
        try:
            inputs.text(where, value, limit="prose", prose=prose)
        except InvalidInput as exc:
            return [str(exc)]
        return []
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _texts(v, f"{where}.{k}", prose=prose)]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _texts(v, f"{where}[{i}]", prose=prose)]
    return []


def structure(data: Any, kind: Any, path: str, problems: list[str]) -> Any:
    """``data`` as ``kind`` through :data:`strict`; problems are added, naming ``path``."""
    try:
        return strict.structure(data, kind)
    except (cattrs.ClassValidationError, cattrs.IterableValidationError) as exc:
        for line in cattrs.transform_error(exc, path=path, format_exception=_explain):
            # cattrs says "problem @ path"; every other message here says "path: problem"
            problem, _, where = line.rpartition(" @ ")
            problems.append(f"{where}: {problem}" if where else line)
    except (TypeError, ValueError, AttributeError, CalendarError) as exc:
        problems.append(f"{path}: {exc}")
    return None


def _explain(exc: BaseException, kind: Any) -> str:
    if isinstance(exc, _WrongType):
        return str(exc)
    return cattrs.v.format_exception(exc, kind)


def duration(text: Any, where: str, *, natural: bool = False) -> list[str]:
    """A limit the calendar can add: parses, more than zero, at most a year (:data:`LONGEST`)."""
    try:
        found = Duration.parse(text)
    except CalendarError as exc:
        return [f"{where}: {exc}"]
    if natural and found.unit is not DurationUnit.HOURS:
        return [f"{where}: must be in natural hours, like '1h'"]
    if not found.amount > 0:
        return [f"{where}: {text!r}: a limit must be more than zero"]
    if found.amount > LONGEST[found.unit]:
        return [f"{where}: {text[:20]!r}: more than a year ({LONGEST[found.unit]}{found.unit.value} at the most)"]
    return []


def settings(s: Any) -> list[str]:
    """Every setting's range (the cross-file ones — complaint_department — are in ``check``)."""
    where = "standard.toml: $.settings"
    problems: list[str] = []
    checks: list[tuple[str, Any, dict[str, Any]]] = [
        # the service port is the SMS sender: SMPP's source_addr holds 20 characters
        ("service_port", inputs.line, {"limit": 20, "required": True}),
        ("follow_up_reply_code", inputs.line, {"limit": 10, "required": True}),
        ("fast_service_number", inputs.line, {"limit": 20}),
        ("working_hours", inputs.line, {"limit": 200}),
        ("processing_mode", inputs.line, {"limit": 20}),
        ("complaint_department", inputs.line, {"limit": "department", "required": True}),
        ("repeat_window_days", inputs.whole_number, {"low": 1, "high": 3650}),
        ("misdispatch_limit", inputs.whole_number, {"low": 1, "high": 100}),
        ("high_skill_level", inputs.whole_number, {"low": 1, "high": 5}),
        ("repeat_category_level", inputs.whole_number, {"low": 1, "high": 10}),
        ("batch_threshold", inputs.whole_number, {"low": 1, "high": 1_000_000}),
        # one SMS part holds 70 characters; a gateway concatenates at most 255 parts of 67
        ("sms_max_chars", inputs.whole_number, {"low": 10, "high": 255 * 67}),
    ]
    for name, check, options in checks:
        try:
            check(f"{where}.{name}", getattr(s, name), **options)
        except InvalidInput as exc:
            problems.append(str(exc))
    if any(c.isspace() for c in s.service_port):
        problems.append(f"{where}.service_port: a service number has no spaces")
    for name in ("follow_up_window", "near_overdue_before"):
        problems.extend(duration(getattr(s, name), f"{where}.{name}", natural=True))
    if s.near_overdue_share is not None and not 0 < s.near_overdue_share < 1:
        problems.append(f"{where}.near_overdue_share: must be between 0 and 1")
    if s.processing_mode not in ("back_office", "specialist"):
        problems.append(f"{where}.processing_mode: must be 'back_office' or 'specialist'")
    if s.working_hours:
        try:
            parse_hours(s.working_hours)
        except CalendarError as exc:
            problems.append(f"{where}.working_hours: {exc}")
    return problems


def codes(standard: Any) -> list[str]:
    """Codes fit the columns and keys they are stored in, and are single words."""
    problems: list[str] = []

    def code(value: str, where: str, limit: int | str) -> None:
        try:
            inputs.line(where, value, limit=limit, required=True)
        except InvalidInput as exc:
            problems.append(str(exc))
            return
        if any(c.isspace() for c in value):
            problems.append(f"{where}: {value!r}: a code has no spaces")

    for category, _ in standard.iter_categories():
        code(category.code, f"categories.toml: category {category.code[:60]!r}: code", "category")
    for i, t in enumerate(standard.follow_up_types):
        code(t.code, f"follow_up.toml: $.type[{i}].code", "code")
    for i, d in enumerate(standard.departments):
        code(d.code, f"organisation.toml: $.department[{i}].code", "department")
    for name in standard.templates:
        # the outbox records the template's name (varchar 80)
        code(name, f"templates.toml: $.templates.{name[:80]}", 80)
    return problems


def templates(standard: Any) -> list[str]:
    """Every template a rule renders is there, uses only the variables that rule gives, and fills."""
    problems: list[str] = []
    always = set(_settings_names(standard)) | {"window"}
    wanted: dict[str, tuple[str, dict[str, Any]]] = {}
    for i, t in enumerate(standard.follow_up_types):
        wanted.setdefault(t.template, (f"follow_up.toml: $.type[{i}].template", FOLLOW_UP))
    for name, variables in RENDERED.items():
        wanted.setdefault(name, ("", variables))
    for name, (used_by, _) in sorted(wanted.items()):
        if name not in standard.templates:
            problems.append(f"{used_by}: no template {name!r} in templates.toml" if used_by else
                            f"templates.toml: $.templates.{name}: missing (the process sends it)")
    for name, text in standard.templates.items():
        sample: dict[str, Any] | None = wanted[name][1] if name in wanted else OPTIONAL.get(name)
        found = _fields(name, text, None if sample is None else always | set(sample))
        if not found and sample is not None:
            found = _fills(standard, name, sample)
        problems.extend(found)
    return problems


def named_templates(standard: Any, wanted: dict[str, tuple[str, dict[str, Any]]]) -> list[str]:
    """Templates a file names (``return_visits.toml: $.survey.template``): each is in
    templates.toml, uses only the variables its rule gives, and fills."""
    problems: list[str] = []
    always = set(_settings_names(standard)) | {"window"}
    for name, (used_by, sample) in sorted(wanted.items()):
        if name not in standard.templates:
            problems.append(f"{used_by}: no template {name!r} in templates.toml")
            continue
        found = _fields(name, standard.templates[name], always | set(sample)) or _fills(standard, name, sample)
        problems.extend(found)
        if not found and len(text := standard.render(name, **sample)) > standard.settings.sms_max_chars:
            problems.append(f"templates.toml: $.templates.{name}: {len(text)} characters at the longest, "
                            f"more than standard.toml's sms_max_chars ({standard.settings.sms_max_chars})")
    return problems


def _fills(standard: Any, name: str, sample: dict[str, Any]) -> list[str]:
    try:
        standard.render(name, **sample)
    except (KeyError, IndexError, ValueError, TypeError, AttributeError, CalendarError) as exc:
        return [f"templates.toml: $.templates.{name}: cannot be filled in: {exc}"]
    return []


def _settings_names(standard: Any) -> list[str]:
    return [f.name for f in attrs.fields(type(standard.settings))]


def _fields(name: str, text: str, allowed: set[str] | None) -> list[str]:
    where = f"templates.toml: $.templates.{name}"
    try:
        fields = [(f, spec) for _, f, spec, _ in string.Formatter().parse(text) if f is not None]
    except ValueError as exc:
        return [f"{where}: {exc}"]
    problems = []
    for field, spec in fields:
        if not field.isidentifier():
            problems.append(f"{where}: {{{field}}}: a variable is a plain name, like {{ticket_id}}")
        elif allowed is not None and field not in allowed:
            problems.append(f"{where}: unknown variable {field!r} "
                            f"(this template may use {', '.join(sorted(allowed))})")
        if spec and ("{" in spec or _WIDE.search(spec)):
            problems.append(f"{where}: {{{field}:{spec}}}: format too wide or nested")
    return problems
