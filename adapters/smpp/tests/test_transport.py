"""The transport against our own SMSC, with and without faults.

Every fault test checks that every message the process decided to send reached the SMSC, and
counts duplicates. A duplicate is allowed only in the documented case: the SMSC took a submit
whose response never reached the transport (connection lost / response timed out), so the
transport re-sent it on a new connection.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
from complaintkit_smpp import LocalSmsc, SmppConfig, SmppTransport

from complaintkit.ports.transports import (
    DeliveryReceipt,
    DeliveryState,
    InboundSms,
    SendOutcome,
    SmsRequest,
)

LONG = ("【中国移动】尊敬的客户，您反映的“缴费未及时开机”问题已处理，请您测试。如问题仍未解决，"
        "请在12小时内回复1至10086，或拨打快速服务号码，我们将进一步为您处理。感谢您的支持！")


def batch(n, prefix="m", long_every=0):
    out = []
    for i in range(n):
        text = f"您好，您的投诉工单{prefix}{i:04d}已受理。"
        if long_every and i % long_every == 0:
            text = LONG + f"（{prefix}{i}）"
        out.append(SmsRequest(key=f"{prefix}-{i}", to=f"1380000{i:04d}", sender="10086", text=text))
    return out


def check_delivery_and_duplicates(name, smsc, transport, requests, results):
    """Every request accepted and at the SMSC; duplicates counted, reported, and justified."""
    outcomes = Counter(r.outcome for r in results)
    taken = set(smsc.texts())
    missing = [r.key for r in requests if (r.to, r.text) not in taken]
    first = {}
    for sub in smsc.received:
        first.setdefault((sub.destination, sub.data_coding, sub.short_message), sub)
    dups = smsc.duplicates
    unjustified = [d for d in dups
                   if first[(d.destination, d.data_coding, d.short_message)].connection >= d.connection]
    report = (f"[{name}] requests={len(requests)} outcomes={dict(outcomes)} "
              f"submissions_taken={len(smsc.received)} duplicates={len(dups)} "
              f"(first copies answered: {sum(first[(d.destination, d.data_coding, d.short_message)].answered for d in dups)}) "
              f"rejected={len(smsc.rejected)} drops={smsc.drops} binds={smsc.binds} "
              f"transport={dict(transport.stats)}")
    print(report)
    assert outcomes == {SendOutcome.ACCEPTED: len(requests)}, report
    assert not missing, f"not at the SMSC: {missing[:5]} {report}"
    # a duplicate only comes from re-sending a submit whose response was lost with its connection
    assert not unjustified, report
    assert len(dups) <= transport.stats["unacknowledged_resends"], report
    return len(dups)


def test_batch_of_200_all_accepted(make_pair):
    smsc, transport = make_pair(response_delay_ms=5)
    requests = batch(200)
    results = transport.send_many(requests)
    assert check_delivery_and_duplicates("clean", smsc, transport, requests, results) == 0
    assert len({i for r in results for i in r.remote_ids}) == 200
    assert transport.stats["submit_sm"] == 200


def test_chinese_long_text_is_split_and_counted(make_pair):
    smsc, transport = make_pair()
    [result] = transport.send_many([SmsRequest("long-1", "13912345678", "10086", LONG)])
    assert result.outcome is SendOutcome.ACCEPTED and result.parts == 2
    assert len(result.remote_ids) == 2
    subs = smsc.received
    assert [s.concat[1:] for s in subs] == [(2, 1), (2, 2)]
    assert subs[0].concat[0] == subs[1].concat[0]
    assert all(s.data_coding == 8 and len(s.short_message) <= 140 for s in subs)
    assert smsc.texts() == [("13912345678", LONG)]
    # the next long message to the same number gets another reference
    transport.send_many([SmsRequest("long-2", "13912345678", "10086", LONG + "!")])
    assert smsc.received[2].concat[0] != subs[0].concat[0]


def test_fault_connection_dropped_mid_batch(make_pair):
    smsc, transport = make_pair(response_delay_ms=10, drop_after=70, max_drops=2)
    requests = batch(200, "d", long_every=9)
    results = transport.send_many(requests)
    dups = check_delivery_and_duplicates("drop", smsc, transport, requests, results)
    assert smsc.drops == 2 and smsc.binds == 3
    assert transport.stats["disconnects"] == 2
    print(f"[drop] duplicates counted: {dups}")


def test_fault_every_tenth_submit_throttled(make_pair):
    smsc, transport = make_pair(throttle_every=10, response_delay_ms=2)
    requests = batch(200, "t")
    results = transport.send_many(requests)
    dups = check_delivery_and_duplicates("throttle", smsc, transport, requests, results)
    assert dups == 0  # throttled submits were refused, re-sending them is no duplicate
    assert transport.stats["throttled"] >= 20
    assert len([s for s in smsc.rejected if s[1] == 0x58]) == transport.stats["throttled"]
    assert smsc.binds == 1  # throttling never costs the connection


def test_fault_queue_full_answered_with_backoff(make_pair):
    smsc, transport = make_pair(queue_full_every=7)
    requests = batch(50, "q")
    results = transport.send_many(requests)
    assert check_delivery_and_duplicates("queue-full", smsc, transport, requests, results) == 0
    assert transport.stats["queue_full"] >= 7


def test_fault_responses_that_never_come(make_pair):
    smsc, transport = make_pair(never_answer_every=40, response_delay_ms=2,
                                transport_overrides={"response_timeout": 0.3})
    requests = batch(200, "n")
    results = transport.send_many(requests)
    dups = check_delivery_and_duplicates("no-answer", smsc, transport, requests, results)
    assert transport.stats["response_timeouts"] >= 1
    assert smsc.binds == 1 + transport.stats["response_timeouts"]  # retried on new connections
    # the SMSC took the unanswered submits: each re-send of one is a (documented) duplicate
    assert dups >= 1
    print(f"[no-answer] duplicates counted: {dups}")


def test_permanent_error_is_failed_with_status_name(make_pair):
    _smsc, transport = make_pair(fail_destinations={"13800000001"})
    results = {r.key: r for r in transport.send_many(batch(3))}
    assert results["m-1"].outcome is SendOutcome.FAILED
    assert results["m-1"].detail == "ESME_RINVDSTADR (0x0B)"
    assert results["m-0"].outcome is results["m-2"].outcome is SendOutcome.ACCEPTED
    bad = transport.send_many([SmsRequest("x", "not-a-number", "10086", "hi")])
    assert bad[0].outcome is SendOutcome.FAILED and "destination" in bad[0].detail


def test_idempotency_key_not_sent_twice(make_pair):
    smsc, transport = make_pair()
    requests = batch(5)
    first = transport.send_many(requests)
    again = transport.send_many(requests + requests[:1])
    assert len(smsc.received) == 5
    assert [r.remote_ids for r in again[:5]] == [r.remote_ids for r in first]
    assert all(r.outcome is SendOutcome.ACCEPTED for r in again)
    assert transport.stats["suppressed_resends"] == 5


def test_unreachable_smsc_answers_retry():
    transport = SmppTransport(SmppConfig(host="127.0.0.1", port=1, send_timeout=0.5,
                                         reconnect_backoff_min=0.05))
    try:
        [r] = transport.send_many([SmsRequest("k", "13812345678", "10086", "你好")])
        assert r.outcome is SendOutcome.RETRY
        assert "cannot bind" in r.detail
    finally:
        transport.close()


def test_enquire_link_unanswered_reconnects(make_pair):
    smsc, transport = make_pair(answer_enquire_link=False,
                                transport_overrides={"enquire_link_interval": 0.2,
                                                     "response_timeout": 0.2})
    deadline = time.monotonic() + 5
    while transport.stats["enquire_link_timeouts"] < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert transport.stats["enquire_link_timeouts"] >= 1
    assert transport.wait_bound(3)
    assert smsc.binds >= 2


def test_enquire_link_answered_keeps_the_bind(make_pair):
    smsc, transport = make_pair(transport_overrides={"enquire_link_interval": 0.1})
    time.sleep(0.6)
    assert transport.stats["enquire_link"] >= 2
    assert smsc.binds == 1 and transport.bound


def test_receipts_and_replies_are_drained(make_pair):
    smsc, transport = make_pair(send_receipts=True)
    results = transport.send_many(batch(3) + [SmsRequest("L", "13912345678", "10086", LONG)])
    ids = {i for r in results for i in r.remote_ids}
    smsc.inject_mo("13900001111", "10086", "1")
    smsc.inject_mo("13900001111", "10086", "还是不行，" * 30)
    deadline = time.monotonic() + 5
    got = []
    while time.monotonic() < deadline and len(got) < 7:
        got += transport.drain_inbound()
        time.sleep(0.02)
    receipts = [g for g in got if isinstance(g, DeliveryReceipt)]
    replies = [g for g in got if isinstance(g, InboundSms)]
    assert {r.remote_id for r in receipts} == ids  # hex in resp, decimal in text: same ids
    assert all(r.state is DeliveryState.DELIVERED for r in receipts)
    assert [m.text for m in replies] == ["1", "还是不行，" * 30]
    assert transport.drain_inbound() == []


def test_receipt_text_only_is_matched(make_pair):
    _smsc, transport = make_pair(send_receipts=True, receipt_tlvs=False, receipt_stat="UNDELIV")
    [r] = transport.send_many(batch(1))
    deadline = time.monotonic() + 3
    got = []
    while not got and time.monotonic() < deadline:
        got = transport.drain_inbound()
        time.sleep(0.02)
    assert got == [DeliveryReceipt(r.remote_ids[0], DeliveryState.UNDELIVERABLE, got[0].at, "001")]


def test_malformed_deliver_sm_does_not_stop_the_reader(make_pair):
    smsc, transport = make_pair()
    smsc.inject_deliver(b"\x00\x00")  # truncated deliver_sm body
    from complaintkit_smpp import pdu as P
    smsc.inject_deliver(P.ShortMessage(source_addr="13900001111", destination_addr="10086",
                                       data_coding=8, short_message=b"\x4e"))  # odd UCS2
    smsc.inject_mo("13900001111", "10086", "2")
    deadline = time.monotonic() + 3
    got = []
    while len(got) < 2 and time.monotonic() < deadline:
        got += transport.drain_inbound()
        time.sleep(0.02)
    assert [g.text for g in got][-1] == "2"
    assert len(transport.decoder.malformed) == 2
    assert transport.send_many(batch(1))[0].outcome is SendOutcome.ACCEPTED


def test_concurrent_callers_share_one_bind(make_pair):
    import threading
    smsc, transport = make_pair(response_delay_ms=5)
    out = {}

    def worker(n):
        out[n] = transport.send_many(batch(40, f"c{n}"))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r.outcome is SendOutcome.ACCEPTED for rs in out.values() for r in rs)
    assert smsc.binds == 1 and len(smsc.received) == 160


@pytest.mark.parametrize("window", [1, 10])
def test_window_is_respected(window):
    with LocalSmsc(response_delay_ms=20) as smsc:
        transport = SmppTransport(SmppConfig.from_settings(dict(smsc.settings, window=window)))
        try:
            assert transport.wait_bound(5)
            start = time.perf_counter()
            transport.send_many(batch(40))
            elapsed = time.perf_counter() - start
        finally:
            transport.close()
    # 40 submits, `window` at a time, 20 ms each
    assert elapsed >= 40 / window * 0.020 * 0.9


def test_transient_error_answers_retry_and_resumes_only_missing_parts(make_pair):
    smsc, transport = make_pair(syserr_every=2)  # the 2nd submit gets ESME_RSYSERR
    text = "您的投诉正在处理中，" * 20  # 200 units: 3 parts
    request = SmsRequest("resume", "13912345678", "10086", text)
    [first] = transport.send_many([request])
    assert first.outcome is SendOutcome.RETRY and first.detail == "ESME_RSYSERR (0x08)"
    assert first.parts == 3 and len(first.remote_ids) >= 1
    deadline = time.monotonic() + 3  # part 3 may still be in flight when RETRY is answered
    while len(smsc.received) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(smsc.received) == 2  # parts 1 and 3 were taken, part 2 refused
    smsc.syserr_every = 0  # the SMSC recovers
    [second] = transport.send_many([request])  # the outbox tries again later
    assert second.outcome is SendOutcome.ACCEPTED and len(second.remote_ids) == 3
    assert set(first.remote_ids) <= set(second.remote_ids)
    assert smsc.duplicates == [] and len(smsc.received) == 3  # only the missing part was sent
    assert smsc.texts() == [("13912345678", text)]
