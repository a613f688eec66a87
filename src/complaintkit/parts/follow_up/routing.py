"""Which open SMS a customer's reply answers: an online follow-up, or a return-visit survey.

The service port sends a customer two kinds of SMS that expect an answer: the online
follow-up's confirmation (B2: "reply 1 if the problem remains", answered within its window) and
the return-visit survey (G1: "1 satisfied, 2 basically, 3 dissatisfied", answered within the
survey's window). One number may have both open, and several of each. The rule:

1. The candidates are the follow-ups whose reply window holds the reply's receipt time, and the
   open surveys whose answer window holds it.
2. A text that is an answer of only one kind goes to that kind — the follow-up code to a
   follow-up, a survey code (with or without words after it) to a survey — if one is open.
3. Otherwise (the text is both, or neither) it goes to the candidate whose SMS went out last:
   that is the SMS the customer is looking at.
4. Among several candidates of the chosen kind, the one whose SMS went out last wins.

A reply to no open survey follows the follow-up rules unchanged (converted, late, unknown code,
unmatched: ``parts/follow_up/rules.py``). A text that goes to a survey but is none of its codes
is recorded as ``survey_unknown`` and answered with the codes.
"""

from __future__ import annotations

from collections.abc import Sequence

from complaintkit.core.model import MessageChannel, OutgoingMessage, Ticket
from complaintkit.engine.context import Context
from complaintkit.parts.follow_up.rules import WINDOW, is_reply_code, match_reply
from complaintkit.parts.return_visits.model import Visit, VisitChannel


def open_surveys(visits: Sequence[Visit], ctx: Context) -> list[Visit]:
    """Open SMS surveys whose answer window holds now, latest sent first."""
    found = [v for v in visits if v.is_open and v.channel is VisitChannel.SMS and v.window_due_at is not None
             and v.opened_at <= ctx.now <= v.window_due_at]
    return sorted(found, key=lambda v: v.opened_at, reverse=True)


def route(follow_ups: Sequence[Ticket], visits: Sequence[Visit], text: str, ctx: Context) -> Visit | None:
    """The survey the reply answers, or ``None`` when it is the follow-up's (rule above)."""
    surveys = open_surveys(visits, ctx)
    if not surveys:
        return None
    follow_up = match_reply(follow_ups, ctx.now)
    if follow_up is None:
        return surveys[0]
    is_follow_up = is_reply_code(text, ctx.standard.settings.follow_up_reply_code)
    is_survey = ctx.standard.return_visits.survey.outcome_of(text) is not None
    if is_survey and not is_follow_up:
        return surveys[0]
    if is_follow_up and not is_survey:
        return None
    sent = follow_up.deadline(WINDOW).started_at  # type: ignore[union-attr]
    return surveys[0] if surveys[0].opened_at > sent else None


def answer_unknown(sender: str, ctx: Context) -> OutgoingMessage:
    """The answer to a text that is none of the survey's codes (its key is set when recorded)."""
    survey = ctx.standard.return_visits.survey
    return OutgoingMessage(key="", channel=MessageChannel.SMS, to=sender, sender=ctx.standard.settings.service_port,
                           text=ctx.standard.render(survey.unknown_answer_template, codes=survey.codes()),
                           template=survey.unknown_answer_template)


__all__ = ["answer_unknown", "open_surveys", "route"]
