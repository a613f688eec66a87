"""Receipts and replies are stored before the SMSC is answered (nothing lost across a crash).

The sink stands for the kit's durable inbox: ``accept`` returns once the item is committed and
raises when it is not. The SMSC must see the deliver_sm answered only after ``accept`` returned,
and answered with a temporary error (0x64, so it delivers again) when ``accept`` raised.
"""

from __future__ import annotations

import threading
import time

from complaintkit_smpp import SmppConfig, SmppTransport

from complaintkit.ports.transports import (
    DeliveryReceipt,
    DeliveryState,
    InboundSms,
    SendOutcome,
    SmsRequest,
)

ESME_RX_T_APPN = 0x64
LONG_REPLY = "还是没有解决，我的宽带从昨天晚上开始就一直断线，" * 4  # 100 characters: 2 parts


class RecordingSink:
    """Records each item with what the SMSC had been answered at that moment."""

    def __init__(self, smsc, *, refuse: int = 0, pause: float = 0.2) -> None:
        self.smsc = smsc
        self.refuse = refuse  # refuse this many hand-overs first (the database is down)
        self.pause = pause  # hold each hand-over, so an early deliver_sm_resp would be seen
        self.stored: list[DeliveryReceipt | InboundSms] = []
        self.answered_when_offered: list[int] = []
        self.refused = 0
        self.lock = threading.Lock()

    def accept(self, item) -> None:
        before = len(self.smsc.deliver_statuses)
        time.sleep(self.pause)
        # how many deliver_sm the SMSC had seen answered when this one was offered, and after
        self.answered_when_offered.append((before, len(self.smsc.deliver_statuses)))
        with self.lock:
            if self.refused < self.refuse:
                self.refused += 1
                raise ConnectionError("database is down: 13812345678 could not be stored")
            self.stored.append(item)


def wait_for(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def test_reply_and_receipt_reach_the_sink_before_the_smsc_is_answered(make_pair) -> None:
    smsc, transport = make_pair(send_receipts=True)
    sink = RecordingSink(smsc)
    transport.set_inbound_sink(sink)
    [sent] = transport.send_many([SmsRequest("k1", "13812345678", "10086", "您的工单已受理。")])
    assert wait_for(lambda: len(smsc.deliver_statuses) == 1)
    smsc.inject_mo("13900001111", "10086", "1")
    assert wait_for(lambda: len(smsc.deliver_statuses) == 2)
    [receipt, reply] = sink.stored
    assert receipt == DeliveryReceipt(sent.remote_ids[0], DeliveryState.DELIVERED, receipt.at, "000")
    assert reply == InboundSms("13900001111", "10086", "1", reply.received_at)
    # when each was offered, the SMSC had not yet been answered for it (and was not meanwhile)
    assert sink.answered_when_offered == [(0, 0), (1, 1)]
    assert smsc.deliver_statuses == [0, 0]
    assert transport.drain_inbound() == []  # nothing waits in memory


def test_a_sink_that_raises_gets_0x64_and_the_smsc_delivers_again(make_pair) -> None:
    smsc, transport = make_pair()
    sink = RecordingSink(smsc, refuse=2, pause=0)
    transport.set_inbound_sink(sink)
    smsc.inject_mo("13900001111", "10086", "2 不满意")
    assert wait_for(lambda: sink.stored)
    assert wait_for(lambda: len(smsc.deliver_statuses) == 3)
    assert smsc.deliver_statuses == [ESME_RX_T_APPN, ESME_RX_T_APPN, 0]
    assert smsc.redeliveries == 2
    assert [m.text for m in sink.stored] == ["2 不满意"]  # stored once, when it could be
    assert transport.stats["inbound_not_stored"] == 2


def test_not_stored_is_logged_masked(make_pair, capsys) -> None:
    import structlog

    smsc, transport = make_pair()
    transport.set_inbound_sink(RecordingSink(smsc, refuse=1, pause=0))
    with structlog.testing.capture_logs() as logs:
        smsc.inject_mo("13900001111", "10086", "我的身份证号110101199003071234")
        assert wait_for(lambda: len(smsc.deliver_statuses) == 2)
    [event] = [e for e in logs if e["event"] == "smpp.inbound.not_stored"]
    assert event["sender"] == "139****1111" and event["error"] == "ConnectionError"
    assert "13900001111" not in repr(logs) and "110101" not in repr(logs)
    assert "13812345678" not in repr(logs)  # the exception's text is not logged


def test_long_reply_last_part_is_answered_only_when_the_whole_reply_is_stored(make_pair) -> None:
    smsc, transport = make_pair()
    sink = RecordingSink(smsc, refuse=1, pause=0)
    transport.set_inbound_sink(sink)
    assert smsc.inject_mo("13900001111", "10086", LONG_REPLY) == 2
    assert wait_for(lambda: sink.stored)
    assert wait_for(lambda: len(smsc.deliver_statuses) == 3)
    # part 1 is answered as it comes; part 2 completes the reply, which is not stored: 0x64;
    # its re-delivery completes the reply again from the part 1 kept waiting
    assert smsc.deliver_statuses == [0, ESME_RX_T_APPN, 0]
    assert [m.text for m in sink.stored] == [LONG_REPLY]
    assert transport.decoder.malformed == []


def test_a_reply_whose_hand_over_was_cut_by_a_crash_is_delivered_to_the_next_process(
        make_pair) -> None:
    smsc, first = make_pair()
    entered, release = threading.Event(), threading.Event()

    class DyingSink:
        """The process dies while the reply is being stored: it never returns."""

        def accept(self, item) -> None:
            entered.set()
            release.wait(10)
            raise SystemError("process killed")

    first.set_inbound_sink(DyingSink())
    smsc.inject_mo("13900001111", "10086", "3 还是不行")
    assert entered.wait(5)
    assert smsc.deliver_statuses == []  # never answered
    smsc.drop_connections()  # the dead process's socket closes
    second = SmppTransport(SmppConfig.from_settings(smsc.settings))
    try:
        sink = RecordingSink(smsc, pause=0)
        second.set_inbound_sink(sink)
        assert second.wait_bound(5)
        assert wait_for(lambda: sink.stored)
        assert [m.text for m in sink.stored] == ["3 还是不行"]
        assert wait_for(lambda: smsc.deliver_statuses == [0])
    finally:
        release.set()
        first.close()
        second.close()


def test_what_arrived_before_the_sink_was_set_goes_to_it(make_pair) -> None:
    smsc, transport = make_pair()
    smsc.inject_mo("13900001111", "10086", "早到的回复")
    assert wait_for(lambda: len(smsc.deliver_statuses) == 1)
    sink = RecordingSink(smsc, refuse=1, pause=0)
    transport.set_inbound_sink(sink)
    assert wait_for(lambda: sink.stored, timeout=10)  # the first try is refused, then retried
    assert [m.text for m in sink.stored] == ["早到的回复"]
    assert transport.drain_inbound() == []


def test_without_a_sink_replies_wait_for_drain_inbound_as_before(make_pair) -> None:
    smsc, transport = make_pair()
    smsc.inject_mo("13900001111", "10086", "1")
    assert wait_for(lambda: smsc.deliver_statuses == [0])
    [reply] = transport.drain_inbound()
    assert reply.text == "1"


def test_sending_goes_on_while_the_sink_refuses(make_pair) -> None:
    smsc, transport = make_pair(send_receipts=True)
    sink = RecordingSink(smsc, refuse=10**6, pause=0)
    transport.set_inbound_sink(sink)
    results = transport.send_many([SmsRequest(f"s{i}", f"1380000{i:04d}", "10086", "测试")
                                   for i in range(20)])
    assert all(r.outcome is SendOutcome.ACCEPTED for r in results)
    assert transport.bound and smsc.binds == 1
