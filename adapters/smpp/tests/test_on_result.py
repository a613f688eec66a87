"""Each message's result is reported as the SMSC acknowledges it, and an outage answers fast.

The outbox records each row from ``on_result``, so a worker killed in the middle of a batch
sends again only what was still in flight; and a batch comes back RETRY within ``bind_wait``
when there is no SMSC to talk to, instead of holding the worker for ``send_timeout``.
"""

from __future__ import annotations

import socket
import threading
import time

from complaintkit_smpp import SmppConfig, SmppTransport, normalise_id

from complaintkit.ports.transports import SendOutcome, SmsRequest

LONG = "您的投诉正在处理中，" * 20  # 200 units: 3 parts


def requests(n, prefix="r"):
    return [SmsRequest(f"{prefix}{i}", f"1380000{i:04d}", "10086", f"工单{i}已处理") for i in range(n)]


class Recorder:
    def __init__(self, smsc=None):
        self.smsc = smsc
        self.results = []
        #: how many submits the SMSC had answered when each result was reported
        self.answered = []
        self.threads = set()
        self.lock = threading.Lock()

    def __call__(self, result):
        with self.lock:
            self.results.append(result)
            self.threads.add(threading.current_thread().name)
            if self.smsc is not None:
                self.answered.append(len(self.smsc.answer_order))


def test_each_result_is_reported_once_as_it_is_acknowledged(make_pair):
    # the first message is answered last: its result must come last, the others before it
    smsc, transport = make_pair(slow_destinations={"13800000000": 300})
    batch = requests(5) + [SmsRequest("long", "13912345678", "10086", LONG)]
    seen = Recorder(smsc)
    results = transport.send_many(batch, on_result=seen)
    assert [r.key for r in results] == [r.key for r in batch]  # the list keeps the given order
    assert all(r.outcome is SendOutcome.ACCEPTED for r in results)
    assert sorted(r.key for r in seen.results) == sorted(r.key for r in batch)  # once each
    assert {r.key: r for r in seen.results} == {r.key: r for r in results}
    # in acknowledgement order: the order of each message's last submit_sm_resp
    id_of = {i: r.key for r in results for i in r.remote_ids}
    last_ack = {id_of[normalise_id(i)]: n for n, i in enumerate(smsc.answer_order)}
    assert [r.key for r in seen.results] == sorted(last_ack, key=last_ack.__getitem__)
    assert seen.results[-1].key == "r0"
    # reported when acknowledged, not when the batch was done: r0 was still unanswered
    assert seen.answered[0] < len(smsc.answer_order)
    assert seen.answered[-2] < len(smsc.answer_order)  # all but r0 were reported before it
    long_result = next(r for r in seen.results if r.key == "long")
    assert long_result.parts == 3 and len(long_result.remote_ids) == 3
    assert seen.threads == {f"smpp-io-{transport.config.host}"}


def test_refused_and_unsendable_requests_are_reported_too(make_pair):
    _smsc, transport = make_pair(fail_destinations={"13800000001"})
    seen = Recorder()
    batch = requests(3) + [SmsRequest("bad", "not-a-number", "10086", "hi")]
    results = transport.send_many(batch + batch[:1], on_result=seen)  # r0 twice in one batch
    outcomes = {r.key: r.outcome for r in seen.results}
    assert len(seen.results) == 4  # once per key
    assert outcomes == {"r0": SendOutcome.ACCEPTED, "r1": SendOutcome.FAILED,
                        "r2": SendOutcome.ACCEPTED, "bad": SendOutcome.FAILED}
    assert len(results) == 5 and results[4] == results[0]
    again = Recorder()
    transport.send_many(batch[:1], on_result=again)  # accepted before: answered from memory
    assert [(r.key, r.outcome, r.detail) for r in again.results] == [
        ("r0", SendOutcome.ACCEPTED, "already accepted")]


def test_transient_error_is_reported_retry_once(make_pair):
    _smsc, transport = make_pair(syserr_every=2)  # the 2nd submit (a part of LONG) is refused
    seen = Recorder()
    [result] = transport.send_many([SmsRequest("L", "13912345678", "10086", LONG)],
                                   on_result=seen)
    time.sleep(0.2)  # part 3's late acknowledgement must not report again
    assert seen.results == [result]
    assert result.outcome is SendOutcome.RETRY and result.detail == "ESME_RSYSERR (0x08)"


def test_a_callback_that_raises_does_not_stop_the_transport(make_pair):
    _smsc, transport = make_pair()

    def broken(result):
        raise RuntimeError("the outbox is gone")

    results = transport.send_many(requests(3), on_result=broken)
    assert [r.outcome for r in results] == [SendOutcome.ACCEPTED] * 3
    assert transport.send_many(requests(2, "again"))[0].outcome is SendOutcome.ACCEPTED


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_smsc_answers_retry_within_bind_wait_not_send_timeout():
    config = SmppConfig(host="127.0.0.1", port=free_port(), bind_wait=0.5, send_timeout=60.0)
    transport = SmppTransport(config)
    seen = Recorder()
    try:
        started = time.monotonic()
        results = transport.send_many(requests(5), on_result=seen)
        took = time.monotonic() - started
        assert all(r.outcome is SendOutcome.RETRY for r in results)
        assert "cannot bind" in results[0].detail
        assert sorted(r.key for r in seen.results) == [f"r{i}" for i in range(5)]
        assert took < config.send_timeout / 4  # came back on bind_wait, not on send_timeout
    finally:
        transport.close()


def test_smsc_that_never_answers_the_bind_answers_retry_within_bind_wait():
    """The I/O thread is stuck waiting for bind_transceiver_resp (up to response_timeout): the
    waiting caller answers for it."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # the kernel completes the connection; nobody ever reads or answers
    config = SmppConfig(host="127.0.0.1", port=listener.getsockname()[1], bind_wait=0.5,
                        response_timeout=30.0, send_timeout=60.0)
    transport = SmppTransport(config)
    seen = Recorder()
    try:
        started = time.monotonic()
        results = transport.send_many(requests(3), on_result=seen)
        assert time.monotonic() - started < config.response_timeout / 2
        assert all(r.outcome is SendOutcome.RETRY for r in results)
        assert len(seen.results) == 3
    finally:
        listener.close()
        transport.close()


def test_connection_lost_mid_batch_and_not_back_answers_retry_for_the_rest(make_pair):
    smsc, transport = make_pair(response_delay_ms=100,
                                transport_overrides={"bind_wait": 0.5, "send_timeout": 60.0,
                                                     "reconnect_backoff_min": 0.2})
    seen = Recorder()
    out = {}
    worker = threading.Thread(target=lambda: out.setdefault(
        "results", transport.send_many(requests(30), on_result=seen)))
    worker.start()
    assert _wait(lambda: len(smsc.answer_order) >= 10)
    smsc.stop()  # the SMSC goes away for good
    worker.join(timeout=30)
    assert not worker.is_alive()
    results = out["results"]
    assert len(seen.results) == 30 and sorted(r.key for r in seen.results) == sorted(
        r.key for r in results)
    accepted = {r.key for r in results if r.outcome is SendOutcome.ACCEPTED}
    assert len(accepted) >= 10
    assert all(r.outcome is SendOutcome.RETRY for r in results if r.key not in accepted)


def _wait(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def test_closed_transport_reports_retry():
    transport = SmppTransport(SmppConfig(host="127.0.0.1", port=free_port()))
    transport.close()
    seen = Recorder()
    results = transport.send_many(requests(2), on_result=seen)
    assert seen.results == results and all(r.detail == "transport closed" for r in results)
