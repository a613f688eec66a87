"""SPEC M3: the fakes refuse what the real systems refuse, and tell what a test set up for nothing."""

from __future__ import annotations

import pytest

from complaintkit.ports.boss import Bill, Subscription
from complaintkit.ports.recipients import UnresolvedRecipients, resolve_recipients
from complaintkit.ports.transports import EmailRequest, SendOutcome, SmsRequest
from complaintkit.testing import FakeBoss, FakeMail, FakeSms, UnexpectedCall, UnusedSetUp

LISTS = {"network_dept": ("noc@example.cn", "duty@example.cn"), "billing_dept": ("billing@example.cn",)}


def test_recipients_department_codes_become_their_lists_addresses_stay() -> None:
    assert resolve_recipients(["network_dept", "a@example.com"], LISTS) == (
        "noc@example.cn", "duty@example.cn", "a@example.com")


def test_recipients_an_address_is_sent_to_once() -> None:
    assert resolve_recipients(["network_dept", "NOC@example.cn", " network_dept "], LISTS) == (
        "noc@example.cn", "duty@example.cn")


def test_recipients_every_unknown_code_is_named() -> None:
    with pytest.raises(UnresolvedRecipients) as refused:
        resolve_recipients(["legal_dept", "network_dept", "audit_dept"], LISTS)
    assert refused.value.unknown == ("legal_dept", "audit_dept")
    assert str(refused.value) == "no address for department code 'legal_dept', 'audit_dept'"


def test_recipients_nobody_is_refused() -> None:
    with pytest.raises(UnresolvedRecipients, match="no recipient"):
        resolve_recipients([], LISTS)


def test_fake_mail_refuses_an_unknown_department_and_sends_the_rest() -> None:
    mail = FakeMail({"network_dept": ["noc@example.cn"], "billing_dept": "billing@example.cn"})
    results = mail.send_many([EmailRequest("a", ("legal_dept",), "s", "b"),
                              EmailRequest("b", ("billing_dept",), "s", "b")])
    assert [r.outcome for r in results] == [SendOutcome.FAILED, SendOutcome.ACCEPTED]
    assert [m.addresses for m in mail.sent] == [("billing@example.cn",)]
    assert mail.to("billing_dept") == mail.to("billing@example.cn") == mail.sent
    assert len(mail.attempts) == 2


def test_fake_mail_scripted_failure_is_consumed_by_the_next_deliverable_message() -> None:
    mail = FakeMail.for_departments(["network_dept"])
    mail.fail_next(1, SendOutcome.RETRY)
    results = mail.send_many([EmailRequest("a", ("legal_dept",), "s", "b"),
                              EmailRequest("b", ("network_dept",), "s", "b"),
                              EmailRequest("c", ("network_dept",), "s", "b")])
    assert [r.outcome for r in results] == [SendOutcome.FAILED, SendOutcome.RETRY, SendOutcome.ACCEPTED]
    assert mail.unused() == []


def test_fake_mail_refuses_use_after_close() -> None:
    mail = FakeMail()
    mail.close()
    with pytest.raises(UnexpectedCall):
        mail.send_many([EmailRequest("a", ("x@example.cn",), "s", "b")])


def test_fake_sms_reports_unused_failures_and_replies_but_not_its_own_receipts() -> None:
    sms = FakeSms(receipts=True)
    sms.send_many([SmsRequest("k", "13812345678", "10086", "您好")])  # queues a receipt, not set up
    assert sms.unused() == []
    sms.fail_next(2)
    sms.reply("13912345678", "1")
    with pytest.raises(UnusedSetUp) as unused:
        sms.assert_all_used()
    assert "2 scripted failure(s)" in str(unused.value) and "139****5678" in str(unused.value)
    assert "13912345678" not in str(unused.value)
    sms.send_many([SmsRequest(f"k{i}", "13812345678", "10086", "您好") for i in range(2)])
    sms.drain_inbound()
    assert sms.unused() == []


def test_fake_boss_strict_about_every_question_on_an_unknown_number() -> None:
    boss = FakeBoss()
    for ask in (lambda: boss.customer_profile("13812345678"), lambda: boss.subscriptions("13812345678"),
                lambda: boss.monthly_bill("13812345678", "2026-02"),
                lambda: boss.unsubscribe_monternet("13812345678", "x"),
                lambda: boss.refund("13812345678", 100, "r")):
        with pytest.raises(UnexpectedCall, match=r"138\*\*\*\*5678"):
            ask()
    boss.add_non_customer("13812345678")
    assert boss.customer_profile("13812345678") is None
    assert FakeBoss(lenient=True).customer_profile("13812345678") is None


def test_fake_boss_reports_what_nothing_asked_about() -> None:
    boss = FakeBoss()
    boss.add_customer("13812345678")
    boss.add_customer("13912345678")
    boss.subscriptions_of["13812345678"] = [Subscription("M1", "手机报", monternet=True)]
    boss.bills[("13812345678", "2026-02")] = Bill("2026-02", 5800)
    boss.customer_profile("13812345678")
    assert boss.unused() == ["customer(s) nothing asked about: 139****5678",
                             "subscriptions nothing asked for, of 138****5678",
                             "bill(s) nothing asked for: 138****5678 2026-02"]
    boss.customer_profile("13912345678")
    assert boss.unsubscribe_monternet("13812345678", "M1") is True
    boss.monthly_bill("13812345678", "2026-02")
    boss.assert_all_used()
