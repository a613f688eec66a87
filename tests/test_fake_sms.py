"""FakeSms offers the seams of the real transports: an inbound sink, per-message results, and the
SMPP adapter's part count."""

from __future__ import annotations

from complaintkit.ports.transports import (
    DeliveryReceipt,
    DeliveryState,
    EmailRequest,
    InboundSms,
    SendOutcome,
    SmsRequest,
)
from complaintkit.testing import FakeMail, FakeSms


class Sink:
    def __init__(self, refuse: int = 0, events: list[str] | None = None) -> None:
        self.stored: list[DeliveryReceipt | InboundSms] = []
        self.refuse = refuse
        self.events = [] if events is None else events

    def accept(self, item: DeliveryReceipt | InboundSms) -> None:
        self.events.append(type(item).__name__)
        if self.refuse:
            self.refuse -= 1
            raise ConnectionError("database is down")
        self.stored.append(item)


def test_with_a_sink_a_reply_is_handed_over_at_once() -> None:
    sms, sink = FakeSms(), Sink()
    sms.set_inbound_sink(sink)
    sms.reply("13900001111", "1 已解决")
    assert sink.stored == [InboundSms("13900001111", "10086", "1 已解决", None)]
    assert sms.drain_inbound() == []


def test_receipts_go_to_the_sink_after_the_result_is_reported() -> None:
    order: list[str] = []
    sms, sink = FakeSms(receipts=True), Sink(events=order)
    sms.set_inbound_sink(sink)
    [result] = sms.send_many([SmsRequest("k", "13812345678", "10086", "您好")],
                             on_result=lambda r: order.append(f"result {r.key}"))
    assert order == ["result k", "DeliveryReceipt"]
    assert sink.stored == [DeliveryReceipt(result.remote_ids[0], DeliveryState.DELIVERED)]


def test_what_the_sink_refuses_waits_for_redelivery() -> None:
    sms, sink = FakeSms(), Sink(refuse=1)
    sms.set_inbound_sink(sink)
    sms.reply("13900001111", "2 没解决")
    assert sink.stored == [] and [m.text for m in sms.refused_inbound] == ["2 没解决"]
    assert sms.redeliver() == 1
    assert [m.text for m in sink.stored] == ["2 没解决"] and sms.refused_inbound == []


def test_replies_queued_before_the_sink_was_set_go_to_it() -> None:
    sms, sink = FakeSms(), Sink()
    sms.reply("13900001111", "早")
    sms.set_inbound_sink(sink)
    assert [m.text for m in sink.stored] == ["早"] and sms.drain_inbound() == []


def test_on_result_once_per_request_in_order() -> None:
    sms = FakeSms()
    sms.fail_next(1, SendOutcome.RETRY)
    seen = []
    requests = [SmsRequest(f"k{i}", "13812345678", "10086", "您好") for i in range(3)]
    requests.append(SmsRequest("bad", "10086", "10086", "您好"))
    results = sms.send_many(requests, on_result=seen.append)
    assert seen == results
    assert [r.outcome for r in seen] == [SendOutcome.RETRY, SendOutcome.ACCEPTED,
                                         SendOutcome.ACCEPTED, SendOutcome.FAILED]


def test_parts_follow_the_adapters_rule() -> None:
    sms = FakeSms()
    texts = ["您" * 68, "您" * 70, "您" * 71, "a" * 160, "a" * 161]
    results = sms.send_many([SmsRequest(f"k{i}", "13812345678", "10086", t)
                             for i, t in enumerate(texts)])
    assert [r.parts for r in results] == [1, 1, 2, 1, 2]


def test_fake_mail_reports_each_result() -> None:
    mail, seen = FakeMail(), []
    results = mail.send_many([EmailRequest("e1", ("network_dept",), "s", "b")], on_result=seen.append)
    assert seen == results
