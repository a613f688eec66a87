"""What happens after the reply, as province data: return visits (``return_visits.toml``, SPEC
G1–G4) and tracking of long cases (``tracking.toml``, SPEC F1–F2).

Both files are optional: a standard without them gets the defaults below, which are the
baseline's. When a file is there, the templates it names must be in ``templates.toml`` and may
use only the variables their rule gives (checked at load, like every other template).
"""

from __future__ import annotations

import unicodedata
from datetime import time
from typing import Any

import attrs

from complaintkit.core import inputs
from complaintkit.core.calendar import CalendarError, parse_hours
from complaintkit.core.errors import InvalidInput

#: what a visit may find (G1); ``no_answer`` is a survey nobody answered in its window
OUTCOMES = ("satisfied", "basically_satisfied", "dissatisfied", "unreachable", "no_answer")
#: what a customer may answer to a survey
ANSWERS = ("satisfied", "basically_satisfied", "dissatisfied")


@attrs.define(frozen=True)
class SurveyAnswer:
    """One answer code of the SMS survey: ``code`` → ``outcome``."""

    code: str
    outcome: str


@attrs.define(frozen=True)
class Survey:
    """The return visit by SMS (G1, G2): its template, how long it waits, its answer codes."""

    template: str = "return_visit_survey"
    #: the customer's reply is counted inside this natural-hours window; later it is no answer
    window: str = "24h"
    #: the answer to a text that is none of the codes while the survey is open
    unknown_answer_template: str = "return_visit_unknown_answer"
    answer: tuple[SurveyAnswer, ...] = (
        SurveyAnswer("1", "satisfied"), SurveyAnswer("2", "basically_satisfied"), SurveyAnswer("3", "dissatisfied"))

    def outcome_of(self, text: str) -> tuple[str, str] | None:
        """``(outcome, words)`` when ``text`` starts with an answer code, else ``None``.

        Compared after NFKC (a phone's IME may send the full-width ``３``); whatever follows the
        code, after spaces and punctuation, is the customer's words: ``3 网速还是慢``.
        """
        normal = unicodedata.normalize("NFKC", text).strip()
        for answer in sorted(self.answer, key=lambda a: -len(a.code)):
            code = unicodedata.normalize("NFKC", answer.code).strip()
            if normal == code or (normal.startswith(code) and not normal[len(code)].isalnum()):
                return answer.outcome, normal[len(code):].strip(" ,，.。:：;；-")
        return None

    def codes(self) -> str:
        """The codes as the survey lists them: ``1满意 2基本满意 3不满意`` is the template's job;
        this gives ``1/2/3`` for the answer to an unknown text."""
        return "/".join(a.code for a in self.answer)


@attrs.define(frozen=True)
class Phone:
    """G2: the phone visit after a dissatisfied SMS answer is due within this limit."""

    limit: str = "1wd"


@attrs.define(frozen=True)
class ContactPeriod:
    """A period of the day a manual visit may call in (G4): ``morning`` = ``08:00-12:00``."""

    name: str
    hours: str

    def span(self) -> tuple[time, time]:
        (start, end), = parse_hours(self.hours)
        return start, end

    def holds(self, moment: time) -> bool:
        start, end = self.span()
        return start <= moment and (end == time(0) or moment < end)  # 24:00 closes at midnight


@attrs.define(frozen=True)
class Attempts:
    """G4: a manual visit that reaches nobody is tried ``count`` times, each in a different
    period, at least ``gap`` apart, all within the visit's limit."""

    count: int = 3
    gap: str = "1h"
    period: tuple[ContactPeriod, ...] = (
        ContactPeriod("morning", "08:00-12:00"), ContactPeriod("afternoon", "12:00-18:00"),
        ContactPeriod("evening", "18:00-21:00"))

    def period_of(self, moment: time) -> ContactPeriod | None:
        return next((p for p in self.period if p.holds(moment)), None)


@attrs.define(frozen=True)
class ReturnVisitRules:
    """``return_visits.toml``."""

    survey: Survey = attrs.field(factory=Survey)
    phone: Phone = attrs.field(factory=Phone)
    attempts: Attempts = attrs.field(factory=Attempts)


@attrs.define(frozen=True)
class TrackingRules:
    """``tracking.toml`` (F1, F2).

    A complaint whose expected resolution is more than ``threshold_days`` natural days away is
    tracked; ``rounds`` tracking rounds are spread evenly from the first reply to the expected
    resolution (the first half-way, the last at the expected date); the last round without
    resolution sends the ticket to the escalation flow.
    """

    threshold_days: int = 10
    rounds: int = 2
    template: str = "tracking_progress"


#: the variables each template's rule gives (the settings and ``window`` are always there)
_ID = "X" * 40
SURVEY = {"ticket_id": _ID, "codes": "1/2/3", "window": "24小时"}
UNKNOWN_ANSWER = {"codes": "1/2/3"}
PROGRESS = {"ticket_id": _ID, "round": 2, "expected": "2026-10-30"}


def problems(rules: ReturnVisitRules | None, tracking: TrackingRules | None) -> list[str]:
    """Each value's range; every problem names its file and field."""
    found: list[str] = []
    from complaintkit.standard import values  # the loader's checks; imported late (cycle)

    if rules is not None:
        where = "return_visits.toml: $"
        found += values.duration(rules.survey.window, f"{where}.survey.window", natural=True)
        found += values.duration(rules.phone.limit, f"{where}.phone.limit")
        found += values.duration(rules.attempts.gap, f"{where}.attempts.gap", natural=True)
        if not rules.survey.answer:
            found.append(f"{where}.survey.answer: the survey needs at least one answer code")
        seen: set[str] = set()
        for i, a in enumerate(rules.survey.answer):
            try:
                inputs.line(f"{where}.survey.answer[{i}].code", a.code, limit=10, required=True)
            except InvalidInput as exc:
                found.append(str(exc))
            if a.outcome not in ANSWERS:
                found.append(f"{where}.survey.answer[{i}].outcome: {a.outcome[:40]!r}: use one of {', '.join(ANSWERS)}")
            if a.code in seen:
                found.append(f"{where}.survey.answer[{i}].code: {a.code[:10]!r} is given twice")
            seen.add(a.code)
        if not 1 <= rules.attempts.count <= 10:
            found.append(f"{where}.attempts.count: must be between 1 and 10")
        if len(rules.attempts.period) < rules.attempts.count:
            found.append(f"{where}.attempts.period: {rules.attempts.count} attempts in different periods need "
                         f"at least {rules.attempts.count} periods")
        names: set[str] = set()
        for i, p in enumerate(rules.attempts.period):
            try:
                inputs.line(f"{where}.attempts.period[{i}].name", p.name, limit=20, required=True)
                spans = parse_hours(p.hours)
            except (InvalidInput, CalendarError) as exc:
                found.append(f"{where}.attempts.period[{i}]: {exc}" if isinstance(exc, CalendarError) else str(exc))
                continue
            if len(spans) != 1:
                found.append(f"{where}.attempts.period[{i}].hours: one span, like '08:00-12:00'")
            if p.name in names:
                found.append(f"{where}.attempts.period[{i}].name: {p.name!r} is given twice")
            names.add(p.name)
    if tracking is not None:
        where = "tracking.toml: $.tracking"
        if not 1 <= tracking.threshold_days <= 366:
            found.append(f"{where}.threshold_days: must be between 1 and 366")
        if not 1 <= tracking.rounds <= 10:
            found.append(f"{where}.rounds: must be between 1 and 10")
    return found


def templates_wanted(rules: ReturnVisitRules | None, tracking: TrackingRules | None) -> dict[str, tuple[str, dict[str, Any]]]:
    """The templates the files name: template → (the field naming it, the variables it gets)."""
    wanted: dict[str, tuple[str, dict[str, Any]]] = {}
    if rules is not None:
        wanted[rules.survey.template] = ("return_visits.toml: $.survey.template", SURVEY)
        wanted[rules.survey.unknown_answer_template] = ("return_visits.toml: $.survey.unknown_answer_template",
                                                        UNKNOWN_ANSWER)
    if tracking is not None:
        wanted[tracking.template] = ("tracking.toml: $.tracking.template", PROGRESS)
    return wanted


__all__ = ["ANSWERS", "OUTCOMES", "Attempts", "ContactPeriod", "Phone", "ReturnVisitRules", "Survey",
           "SurveyAnswer", "TrackingRules", "problems", "templates_wanted"]
