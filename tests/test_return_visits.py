"""SPEC G1–G5: return visits, the phone follow-up, remedy tickets and contact attempts, on real
2026 dates around National Day (Mid-Autumn Fri 25 Sep – Sun 27 Sep and 1–7 Oct off; Sun 20 Sep
and Sat 10 Oct are make-up working days), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from complaintkit import hookimpl
from complaintkit.core.errors import InvalidInput, RuleRefused
from complaintkit.core.model import Actor, DeadlineState, Role, TicketKind, TicketState

pytestmark = pytest.mark.complaintkit(boss="lenient")

TZ = ZoneInfo("Asia/Shanghai")
BACK = Actor("bo001", Role.BACK_OFFICE, "service_centre")
NUMBER = "13912345678"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def replied(kit: Any, *, category: str = "hotline", number: str = NUMBER) -> Any:
    """A complaint handled and replied now, with its verification recorded (A5)."""
    t = kit.accept(BACK, msisdn=number, channel="hotline", category=category, description="网速慢")
    kit.handle(t.id, BACK)
    kit.record(t.id, BACK, verification="已核实")
    return kit.reply(t.id, BACK, result="已优化基站参数")


def events(kit: Any, ticket_id: str) -> list[str]:
    return [e.kind for e in kit.history(ticket_id)]


# -- G1 ------------------------------------------------------------------------------------------


@pytest.mark.complaintkit(clock="2026-09-25T10:00:00+08:00")
def test_G1_the_0_1_return_visit_path_meets_the_deadline_when_the_verdict_is_recorded(
        ck_kit: Any, ck_clock: Any, ck_worker: Any, ck_mail: Any) -> None:
    """kit.return_visit → kit.record(satisfaction=…) → kit.archive, as integrators of 0.1 call
    it: the verdict recorded on Mon 28 Sep meets the return-visit deadline then (G1), so
    archiving on Fri 9 Oct, past its due time, raises no return-visit alert."""
    t = replied(ck_kit)
    ck_clock.advance_to(at("2026-09-28T09:30"))
    ck_kit.return_visit(t.id, BACK)
    ck_kit.record(t.id, BACK, contact_attempt=True, satisfaction="满意")
    deadline = ck_kit.ticket(t.id).deadline("return_visit")
    assert deadline.state is DeadlineState.MET and deadline.met_at == at("2026-09-28T09:30")
    ck_clock.advance_to(at("2026-10-09T10:00"))
    ck_kit.archive(t.id, BACK, reason="回访完成")
    overdue = [e.data["deadline"] for e in ck_kit.history(t.id) if e.kind in ("overdue", "near_overdue")]
    assert "return_visit" not in overdue
    assert not [m for m in ck_mail.sent if "return_visit" in m.body]


@pytest.mark.complaintkit(clock="2026-09-25T10:00:00+08:00")
def test_G1_reply_on_the_friday_before_national_day_visit_meets_the_deadline_when_done(
        ck_kit: Any, ck_clock: Any, ck_worker: Any, ck_sms: Any, ck_mail: Any) -> None:
    """Replied on Fri 25 Sep (Mid-Autumn, a holiday): 3 working days are 28, 29, 30 Sep — due
    as 8 Oct opens. Answered on Mon 28 Sep, the deadline is met then; archiving on 9 Oct, past the
    due time, raises no return-visit alert."""
    t = replied(ck_kit)
    assert t.deadline("return_visit").due_at == at("2026-10-08T00:00")
    visit = ck_kit.parts.return_visits.send_survey(t.id, BACK)
    assert (visit.channel.value, visit.status.value, visit.due_at) == ("sms", "open", at("2026-10-08T00:00"))
    ck_clock.run_due()
    [survey] = ck_sms.sent
    assert survey.to == NUMBER and survey.sender == "10086" and "回复3" in survey.text and "24小时" in survey.text
    assert ck_kit.ticket(t.id).state is TicketState.RETURN_VISIT

    ck_clock.advance_to(at("2026-09-25T20:00"))
    ck_sms.reply(NUMBER, "１ 服务很好")  # a full-width code from the phone's IME
    ck_clock.run_due()
    [done] = ck_kit.parts.return_visits.visits(t.id)
    assert (done.status.value, done.outcome, done.words, done.by) == ("done", "satisfied", "服务很好", "customer")
    ticket = ck_kit.ticket(t.id)
    deadline = ticket.deadline("return_visit")
    assert deadline.state is DeadlineState.MET and deadline.met_at == at("2026-09-25T20:00")
    assert ticket.record.satisfaction == "满意" and not ticket.record.missing()

    ck_clock.advance_to(at("2026-10-09T10:00"))
    ck_kit.archive(t.id, BACK, reason="回访完成")
    overdue = [e.data["deadline"] for e in ck_kit.history(t.id) if e.kind in ("overdue", "near_overdue")]
    assert "return_visit" not in overdue
    assert not [m for m in ck_mail.sent if "return_visit" in m.body]


@pytest.mark.complaintkit(clock="2026-10-10T10:00:00+08:00")
def test_G1_reply_on_the_make_up_saturday_and_no_answer_is_not_satisfied(
        ck_kit: Any, ck_clock: Any, ck_worker: Any, ck_sms: Any) -> None:
    """Sat 10 Oct 2026 is a working day: the 3 working days end on Wed 14 Oct at 10:00. A survey
    nobody answers in 24 h is ``no_answer``; a phone visit takes over against the same limit."""
    t = replied(ck_kit)
    assert t.deadline("return_visit").due_at == at("2026-10-14T10:00")
    ck_kit.parts.return_visits.send_survey(t.id, BACK)
    ck_clock.advance_to(at("2026-10-11T10:00"))
    survey, phone = ck_kit.parts.return_visits.visits(t.id)
    assert (survey.status.value, survey.outcome) == ("done", "no_answer")
    assert (phone.channel.value, phone.status.value, phone.reason.value) == ("phone", "open", "no_answer")
    assert phone.due_at == at("2026-10-14T10:00")
    ticket = ck_kit.ticket(t.id)
    assert ticket.record.satisfaction == "" and ticket.deadline("return_visit").state is DeadlineState.RUNNING
    with pytest.raises(RuleRefused, match="not yet recorded: .*satisfaction"):
        ck_kit.archive(t.id, BACK)
    visit = ck_kit.parts.return_visits.record_visit(t.id, BACK, channel="phone", outcome="basically_satisfied",
                                                    words="还可以")
    assert (visit.id, visit.outcome, visit.by) == (phone.id, "basically_satisfied", "bo001")
    assert ck_kit.ticket(t.id).deadline("return_visit").state is DeadlineState.MET


# -- G2 and G3 -----------------------------------------------------------------------------------------


@pytest.mark.complaintkit(clock="2026-10-10T09:00:00+08:00")
def test_G2_G3_dissatisfied_sms_on_the_make_up_saturday_phone_visit_then_remedy(
        ck_kit: Any, ck_clock: Any, ck_worker: Any, ck_sms: Any) -> None:
    """Dissatisfied on Sat 10 Oct 11:00 (a working day): the phone visit is due Mon 12 Oct
    11:00 (Sunday is off). The phone visit finds the customer dissatisfied: a remedy ticket, 24 h."""
    t = replied(ck_kit)
    ck_kit.parts.return_visits.send_survey(t.id, BACK)
    ck_clock.advance_to(at("2026-10-10T11:00"))
    ck_sms.reply(NUMBER, "3 网速还是慢")
    ck_clock.run_due()
    survey, phone = ck_kit.parts.return_visits.visits(t.id)
    assert (survey.outcome, survey.words) == ("dissatisfied", "网速还是慢")
    assert (phone.channel.value, phone.reason.value, phone.due_at) == ("phone", "sms_dissatisfied",
                                                                        at("2026-10-12T11:00"))
    ticket = ck_kit.ticket(t.id)
    assert ticket.deadline("phone_visit").due_at == at("2026-10-12T11:00")
    assert ticket.deadline("return_visit").state is DeadlineState.MET  # the SMS visit was made

    with pytest.raises(InvalidInput, match="needs"):
        ck_kit.parts.return_visits.record_visit(t.id, BACK, channel="phone", outcome="dissatisfied",
                                                reason="网速慢")
    assert len(ck_kit.tickets()) == 1  # nothing stored

    ck_clock.advance_to(at("2026-10-12T09:30"))
    visit = ck_kit.parts.return_visits.record_visit(t.id, BACK, channel="phone", outcome="dissatisfied",
                                                    words="晚上网速很慢", reason="晚高峰网速慢",
                                                    needs="上门测试并优化")
    assert visit.id == phone.id and visit.remedy_id
    ticket = ck_kit.ticket(t.id)
    assert ticket.deadline("phone_visit").state is DeadlineState.MET
    remedy = ck_kit.ticket(visit.remedy_id)
    assert (remedy.kind, remedy.parent_id, remedy.state) == (TicketKind.REMEDY, t.id, TicketState.ACCEPTED)
    assert remedy.notes == ("补救原因：晚高峰网速慢", "客户需求：上门测试并优化")
    assert remedy.deadline("total").due_at == at("2026-10-13T09:30")  # 24 h
    assert "remedy_opened" in events(ck_kit, t.id)


@pytest.mark.complaintkit(clock="2026-09-18T16:00:00+08:00")
def test_G3_remedy_still_dissatisfied_at_fault_escalates_once_and_archives_after_the_result(
        ck_kit: Any, ck_clock: Any) -> None:
    calls = []

    class Province:
        @hookimpl
        def complaintkit_escalation(self, ticket: Any, source: str, reason: str) -> None:
            calls.append((ticket.id, source, reason))

    ck_kit.plugins.pm.register(Province())
    t = replied(ck_kit)
    remedy = ck_kit.parts.return_visits.open_remedy(t.id, BACK, reason="多收费", needs="退还费用")
    assert (remedy.kind, remedy.parent_id) == (TicketKind.REMEDY, t.id)
    ck_kit.handle(remedy.id, BACK)
    ck_kit.record(remedy.id, BACK, verification="已核实")
    ck_kit.reply(remedy.id, BACK, result="已退还部分费用")
    ck_kit.parts.return_visits.record_visit(remedy.id, BACK, channel="phone", outcome="dissatisfied",
                                            reason="只退了一半", needs="全额退还", company_at_fault=True)
    assert calls == [(remedy.id, "remedy", "只退了一半")]
    assert [e.kind for e in ck_kit.history(remedy.id)].count("escalate") == 1
    with pytest.raises(RuleRefused, match="final_result"):
        ck_kit.archive(remedy.id, BACK)
    ck_kit.record(remedy.id, BACK, final_result="升级处理：全额退还")
    assert ck_kit.archive(remedy.id, BACK).state is TicketState.ARCHIVED
    assert len(calls) == 1
    assert len(ck_kit.tickets(kind=TicketKind.REMEDY)) == 1  # a remedy's remedy is not opened


# -- G4 ------------------------------------------------------------------------------------------------


@pytest.mark.complaintkit(clock="2026-09-28T09:00:00+08:00")
def test_G4_three_attempts_in_three_periods_then_unreachable_and_archived(ck_kit: Any, ck_clock: Any) -> None:
    t = replied(ck_kit)
    rv = ck_kit.parts.return_visits
    first = rv.attempt(t.id, BACK, note="无人接听")
    assert [a.period for a in first.attempts] == ["morning"]
    # scheduled: at least an hour later, in a period not yet tried
    assert first.next_attempt_at == at("2026-09-28T12:00")
    ck_clock.advance_to(at("2026-09-28T10:30"))
    with pytest.raises(RuleRefused, match="morning was already tried"):
        rv.attempt(t.id, BACK)
    ck_clock.advance_to(at("2026-09-28T12:00"))
    assert [v.id for v in rv.due_attempts()] == [first.id]
    assert "contact_attempt_due" in events(ck_kit, t.id)
    rv.attempt(t.id, BACK, note="关机")
    ck_clock.advance_to(at("2026-09-28T12:30"))
    with pytest.raises(RuleRefused, match="at least 1h apart"):  # 30 minutes after the last
        rv.attempt(t.id, BACK)
    ck_clock.advance_to(at("2026-09-28T19:00"))
    last = rv.attempt(t.id, BACK, note="无人接听")
    assert (last.status.value, last.outcome, len(last.attempts)) == ("done", "unreachable", 3)
    ticket = ck_kit.ticket(t.id)
    assert ticket.state is TicketState.ARCHIVED and ticket.record.satisfaction == "未联系上"
    assert ticket.deadline("return_visit").state is DeadlineState.MET
    ck_clock.advance_to(at("2026-09-29T09:00"))
    with pytest.raises(RuleRefused):  # a fourth attempt
        rv.attempt(t.id, BACK)


@pytest.mark.complaintkit(clock="2026-09-30T15:00:00+08:00")
def test_G4_fourth_attempt_refused_and_attempts_stay_within_the_limit(ck_kit: Any, ck_clock: Any) -> None:
    """Replied Wed 30 Sep 15:00: the visit's limit is Sat 10 Oct 15:00 (a make-up working day)."""
    t = ck_kit.accept(BACK, msisdn=NUMBER, channel="hotline", category="hotline", description="x")
    ck_kit.handle(t.id, BACK)
    t = ck_kit.reply(t.id, BACK, result="已处理")  # no verification: the ticket cannot be archived
    rv = ck_kit.parts.return_visits
    assert t.deadline("return_visit").due_at == at("2026-10-10T15:00")
    rv.attempt(t.id, BACK)  # afternoon
    ck_clock.advance_to(at("2026-09-30T18:30"))
    second = rv.attempt(t.id, BACK)  # evening
    assert second.next_attempt_at == at("2026-10-01T08:00")
    ck_clock.advance_to(at("2026-09-30T22:00"))
    with pytest.raises(RuleRefused, match="none of the contact periods"):
        rv.attempt(t.id, BACK)
    ck_clock.advance_to(at("2026-10-08T08:30"))
    third = rv.attempt(t.id, BACK)  # morning
    assert third.outcome == "unreachable"
    assert ck_kit.ticket(t.id).state is TicketState.RETURN_VISIT  # A5 facts missing: not archived
    with pytest.raises(RuleRefused, match="visit .* was already tried 3 times|already open|no open"):
        rv.attempt(t.id, BACK)


@pytest.mark.complaintkit(clock="2026-10-09T09:00:00+08:00")
def test_G4_an_attempt_past_the_visits_limit_is_refused(ck_kit: Any, ck_clock: Any, ck_worker: Any,
                                                        ck_sms: Any) -> None:
    t = replied(ck_kit)
    ck_kit.parts.return_visits.send_survey(t.id, BACK)
    ck_clock.advance_to(at("2026-10-09T10:00"))
    ck_sms.reply(NUMBER, "3")
    ck_clock.run_due()
    # the phone visit is due within 1 working day: Sat 10 Oct 10:00 (a make-up day)
    phone = ck_kit.parts.return_visits.visits(t.id)[-1]
    assert phone.due_at == at("2026-10-10T10:00")
    ck_clock.advance_to(at("2026-10-10T12:30"))
    with pytest.raises(RuleRefused, match="limit passed"):
        ck_kit.parts.return_visits.attempt(t.id, BACK)


# -- G5 ------------------------------------------------------------------------------------------------


@pytest.mark.complaintkit(clock="2026-09-30T15:00:00+08:00")
@pytest.mark.parametrize("category", ["install_move", "repair"])
def test_G5_install_and_repair_orders_are_visited_within_48h_of_being_returned(
        ck_kit: Any, ck_clock: Any, category: str) -> None:
    t = replied(ck_kit, category=category)
    assert t.deadline("return_visit").due_at == at("2026-10-02T15:00")  # natural hours, holidays or not
    visit = ck_kit.parts.return_visits.record_visit(t.id, BACK, channel="in_person", outcome="satisfied")
    assert visit.due_at == at("2026-10-02T15:00")
    assert ck_kit.ticket(t.id).deadline("return_visit").state is DeadlineState.MET


# -- the SMS answer among several open things -------------------------------------------------------------


@pytest.mark.complaintkit(clock="2026-09-28T09:00:00+08:00")
def test_G1_B3_an_answer_goes_to_the_survey_or_the_follow_up_by_the_documented_rule(
        ck_kit: Any, ck_clock: Any, ck_worker: Any, ck_sms: Any) -> None:
    t = replied(ck_kit)
    follow_up = ck_kit.open_follow_up(BACK, msisdn=NUMBER, problem_type="call_quality", category="hotline",
                                      description="已重启")
    ck_clock.advance(hours=1)
    ck_kit.parts.return_visits.send_survey(t.id, BACK)  # the survey goes out before the follow-up SMS
    ck_clock.advance(hours=1, minutes=30)  # the follow-up's confirmation is now the latest SMS
    assert len(ck_sms.sent) == 2
    ck_sms.reply(NUMBER, "2")  # only a survey code: the survey
    ck_clock.run_due()
    assert ck_kit.parts.return_visits.visits(t.id)[0].outcome == "basically_satisfied"
    assert ck_kit.ticket(follow_up.id).kind is TicketKind.ONLINE_FOLLOW_UP
    with ck_kit.store.read() as tx:
        assert [r["outcome"] for r in tx.inbound()] == ["survey_answer"]


@pytest.mark.complaintkit(clock="2026-09-28T09:00:00+08:00")
def test_G1_B3_a_code_of_both_goes_to_the_latest_sms_and_unknown_text_is_answered(
        ck_kit: Any, ck_clock: Any, ck_worker: Any, ck_sms: Any) -> None:
    follow_up = ck_kit.open_follow_up(BACK, msisdn=NUMBER, problem_type="call_quality", category="hotline",
                                      description="已重启")
    ck_clock.advance(hours=2, minutes=10)  # the confirmation went out at 11:00
    t = replied(ck_kit)
    ck_kit.parts.return_visits.send_survey(t.id, BACK)  # then the survey: the latest
    ck_clock.run_due()
    ck_sms.reply(NUMBER, "好的")  # neither: to the latest, the survey, answered with its codes
    ck_clock.run_due()
    assert "1/2/3" in ck_sms.sent[-1].text
    ck_sms.reply(NUMBER, "1")  # both codes: the latest SMS, the survey
    ck_clock.run_due()
    assert ck_kit.parts.return_visits.visits(t.id)[0].outcome == "satisfied"
    assert ck_kit.ticket(follow_up.id).kind is TicketKind.ONLINE_FOLLOW_UP
    ck_sms.reply(NUMBER, "1")  # the survey is done: the follow-up's code converts it
    ck_clock.run_due()
    assert ck_kit.ticket(follow_up.id).kind is TicketKind.NORMAL
    with ck_kit.store.read() as tx:
        assert [r["outcome"] for r in tx.inbound()] == ["survey_unknown", "survey_answer", "converted"]


def test_G1_bad_input_names_the_field_and_stores_nothing(ck_kit: Any) -> None:
    t = replied(ck_kit)
    with pytest.raises(InvalidInput, match="outcome"):
        ck_kit.parts.return_visits.record_visit(t.id, BACK, channel="phone", outcome="happy")
    with pytest.raises(InvalidInput, match="channel"):
        ck_kit.parts.return_visits.record_visit(t.id, BACK, channel="carrier_pigeon", outcome="satisfied")
    with pytest.raises(InvalidInput, match="channel"):
        ck_kit.parts.return_visits.record_visit(t.id, BACK, channel="sms", outcome="satisfied")
    assert ck_kit.parts.return_visits.visits(t.id) == []
    assert ck_kit.ticket(t.id).state is TicketState.REPLIED


@pytest.mark.complaintkit(clock="2026-09-30T15:00:00+08:00")
def test_L1_return_visit_timeliness(ck_kit: Any, ck_clock: Any) -> None:
    """One visit within its 3 working days (due Sat 10 Oct 15:00), one after: 50 %."""
    from complaintkit.parts.reports import queries as reports

    on_time = replied(ck_kit, number="13912345671")
    late = replied(ck_kit, number="13912345672")
    ck_clock.advance_to(at("2026-10-10T14:00"))
    ck_kit.parts.return_visits.record_visit(on_time.id, BACK, channel="phone", outcome="satisfied")
    ck_clock.advance_to(at("2026-10-12T09:00"))
    ck_kit.parts.return_visits.record_visit(late.id, BACK, channel="phone", outcome="satisfied")
    k = reports.kpis(ck_kit, at("2026-09-30T00:00"), at("2026-10-13T00:00"))
    assert (k.return_visits_met, k.return_visits_met_on_time, k.return_visit_timeliness) == (2, 1, 0.5)


def test_G4_G1_province_data_is_checked_at_load_naming_file_and_field(tmp_path: Any) -> None:
    import shutil

    from complaintkit_baseline import DATA

    from complaintkit.core.errors import StandardInvalid
    from complaintkit.standard import load_standard

    folder = tmp_path / "std"
    shutil.copytree(str(DATA), folder)
    (folder / "return_visits.toml").write_text(
        '[survey]\nwindow = "2wd"\ntemplate = "nope"\n[[survey.answer]]\ncode = "1"\noutcome = "happy"\n'
        '[attempts]\ncount = 3\n[[attempts.period]]\nname = "morning"\nhours = "25:00-26:00"\n', encoding="utf-8")
    (folder / "tracking.toml").write_text("[tracking]\nrounds = 0\n", encoding="utf-8")
    with pytest.raises(StandardInvalid) as caught:
        load_standard(folder)
    text = str(caught.value)
    for where in ("return_visits.toml: $.survey.window", "return_visits.toml: $.survey.answer[0].outcome",
                  "return_visits.toml: $.attempts.period[0]", "return_visits.toml: $.attempts.period: 3 attempts",
                  "return_visits.toml: $.survey.template: no template 'nope'", "tracking.toml: $.tracking.rounds"):
        assert where in text, text
    (folder / "return_visits.toml").unlink()
    (folder / "tracking.toml").unlink()
    assert load_standard(folder).return_visits.phone.limit == "1wd"  # optional: the defaults
