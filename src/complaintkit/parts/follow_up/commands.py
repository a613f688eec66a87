"""Online follow-up commands (SPEC B1–B5): opening a follow-up, a customer's reply by SMS."""

from __future__ import annotations

from datetime import datetime

import attrs

from complaintkit.core.errors import InvalidInput
from complaintkit.core.model import Actor, Channel, Msisdn, TicketKind, mask_number
from complaintkit.engine.commands import Command, CustomerTickets, Loaded, Outcome
from complaintkit.engine.context import Context, KitServices
from complaintkit.logging import get_logger
from complaintkit.parts.follow_up import routing, rules
from complaintkit.parts.follow_up.store import InboundReply
from complaintkit.parts.intake import commands as intake_commands
from complaintkit.parts.intake import rules as intake_rules
from complaintkit.parts.return_visits import commands as visit_commands
from complaintkit.parts.return_visits import store as visit_store
from complaintkit.parts.return_visits.model import Visit
from complaintkit.ports.transports import InboundSms, MalformedSms

log = get_logger(__name__)


def open_follow_up(kit: KitServices, actor: Actor, *, msisdn: str, problem_type: str, category: str,
                   description: str, channel: Channel | str = Channel.HOTLINE) -> Command:
    intake = intake_rules.Intake(
        customer=intake_commands.customer(kit, msisdn),
        channel=intake_commands.enum_value(Channel, channel, "channel"),
        category=category,
        description=description,
        kind=TicketKind.ONLINE_FOLLOW_UP,
        problem_type=problem_type,
    )
    ticket_id = kit.new_ticket_id()
    return Command("open_follow_up", actor, (), lambda _loaded, ctx: rules.open_follow_up(ticket_id, intake, ctx))


def receive_sms(sms: InboundSms, inbox_id: int | None = None) -> Command:
    """A customer's SMS to the service port, judged at the time it was received (B3, B5).

    The command's result is the outcome recorded: ``converted``, ``late``, ``unknown_code``,
    ``unmatched`` or ``malformed`` (see ``kit.receive_sms``) — or, for an answer to a return-visit
    survey (:mod:`complaintkit.parts.follow_up.routing` says which), ``survey_answer`` or
    ``survey_unknown``.
    """
    system = Actor.system()
    try:
        if isinstance(sms, MalformedSms):
            raise InvalidInput("sms", "was cleaned before it could be recorded")
        sms = sms.checked()
        number = Msisdn.parse(sms.sender, field="sms.sender")
    except InvalidInput as exc:
        log.warning("inbound sms from a malformed number" if exc.field == "sms.sender" else "inbound sms is malformed",
                    sender=mask_number(str(sms.sender)), field=exc.field)
        clean = sms.storable()

        def malformed(_loaded: Loaded, ctx: Context) -> Outcome:
            return Outcome(records=(InboundReply(clean.sender[:20], clean.to, clean.text, ctx.now, "malformed"),),
                           result="malformed")

        return Command("sms", system, (), malformed, at=clean.received_at)

    mine = CustomerTickets(number.digits, kind=TicketKind.ONLINE_FOLLOW_UP)
    surveys = visit_store.open_visits(number.digits)

    def decide(loaded: Loaded, ctx: Context) -> Outcome:
        follow_ups = loaded.tickets(mine)
        survey = routing.route(follow_ups, loaded.rows(surveys), sms.text, ctx)
        if survey is not None:
            return _to_survey(survey, number.digits, sms, ctx)
        reply = rules.classify_reply(follow_ups, sms.text, ctx)
        ticket_id = reply.ticket.id if reply.ticket is not None else ""
        if reply.outcome == "converted":
            assert reply.ticket is not None
            decision = rules.convert(reply.ticket, ctx, text=sms.text)
            row = InboundReply(number.digits, sms.to, sms.text, ctx.now, reply.outcome, ticket_id)
            return Outcome(decisions=(decision,), records=(row,), result=reply.outcome)
        answer = rules.answer_unmatched("", number.digits, reply.template, ctx)
        row = InboundReply(number.digits, sms.to, sms.text, ctx.now, reply.outcome, ticket_id, answer)
        return Outcome(records=(row,), result=reply.outcome)

    return Command("sms", system, (mine, surveys), decide, at=sms.received_at)


def _to_survey(survey: Visit, sender: str, sms: InboundSms, ctx: Context) -> Outcome:
    """An answer to a return-visit survey: classified here, decided on the visit's ticket by a
    further command in the same transaction (it locks that ticket and reads its visits)."""
    found = ctx.standard.return_visits.survey.outcome_of(sms.text)
    if found is None:
        answer = routing.answer_unknown(sender, ctx)
        row = InboundReply(sender, sms.to, sms.text, ctx.now, "survey_unknown", survey.ticket_id, answer)
        return Outcome(records=(row,), result="survey_unknown")
    outcome, words = found
    row = InboundReply(sender, sms.to, sms.text, ctx.now, "survey_answer", survey.ticket_id)
    return Outcome(records=(row,), then=(visit_commands.answer_survey(
        survey.ticket_id, survey.id, outcome, words, at=ctx.now),), result="survey_answer")


@attrs.define(frozen=True)
class CallOutcome:
    """What a call to the fast-service number did (B3): ``converted``, ``late`` or ``unmatched``,
    the follow-up it concerned, and what the IVR says to the caller."""

    outcome: str
    ticket_id: str
    prompt: str


def receive_call(msisdn: str, at: datetime | None = None) -> Command:
    """A customer calls the fast-service number instead of replying (B3), as the IVR reports it:
    the number and the time. Inside a follow-up's window it converts that follow-up exactly as
    the reply code does; the call is recorded in the inbound log (text ``[call]``)."""
    number = Msisdn.parse(msisdn, field="msisdn")
    mine = CustomerTickets(number.digits, kind=TicketKind.ONLINE_FOLLOW_UP)

    def decide(loaded: Loaded, ctx: Context) -> Outcome:
        candidates = loaded.tickets(mine)
        target = rules.match_reply(candidates, ctx.now)
        port = ctx.standard.settings.fast_service_number or ctx.standard.settings.service_port
        if target is not None:
            decision = rules.convert(target, ctx, text=CALL, by="call")
            row = InboundReply(number.digits, port, CALL, ctx.now, "converted", target.id)
            prompt = rules.voice_prompt(ctx, outcome="converted", ticket_id=target.id)
            return Outcome(decisions=(decision,), records=(row,), result=CallOutcome("converted", target.id, prompt))
        late = rules.latest_expired(candidates, ctx.now)
        outcome = "late" if late is not None else "unmatched"
        ticket_id = late.id if late is not None else ""
        row = InboundReply(number.digits, port, CALL, ctx.now, outcome, ticket_id)
        return Outcome(records=(row,), result=CallOutcome(outcome, ticket_id, rules.voice_prompt(ctx, outcome=outcome)))

    return Command("call", Actor.system(), (mine,), decide, at=at)


#: how a call appears in the inbound log
CALL = "[call]"

__all__ = ["CALL", "CallOutcome", "open_follow_up", "receive_call", "receive_sms"]
