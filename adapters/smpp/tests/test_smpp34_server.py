"""The transport against an SMSC someone else wrote: the server side of PyPI's ``smpp34``.

``smpp34`` 1.5.0 (Real Time Telecom B.V., MIT) is a Rust/tokio SMPP 3.4 client *and server*
with an asyncio API: ``smpp34.Server`` accepts binds (and answers enquire_link itself) and yields
``SubmitSmEvent``s to accept or reject; ``Esme.deliver_sm`` pushes receipts and MO back.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest
from complaintkit_smpp import SmppConfig, SmppTransport

from complaintkit.ports.transports import (
    DeliveryReceipt,
    DeliveryState,
    InboundSms,
    SendOutcome,
    SmsRequest,
)

smpp34 = pytest.importorskip("smpp34", reason="PyPI smpp34 (the test extra) is not installed")

LONG = "【中国移动】您反映的“彩铃铃音变更不成功”问题已处理，请您测试。如问题仍未解决，请在12小时内回复1至10086，或拨打快速服务号码，我们将进一步为您处理。谢谢！"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Smpp34Smsc:
    """smpp34.Server in its own event loop thread; accepts every submit, sends a receipt."""

    def __init__(self, reject_every: int = 0) -> None:
        self.port = free_port()
        self.reject_every = reject_every
        self.submits: list = []
        self.sessions: dict = {}
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.main = asyncio.run_coroutine_threadsafe(self._main(), self.loop)
        assert self.ready.wait(5)

    async def _main(self) -> None:
        self.server = smpp34.Server(host="127.0.0.1", port=self.port, system_id="SMPP34")
        await self.server.start()
        self.ready.set()
        while True:
            ev = await self.server.next()
            if isinstance(ev, smpp34.Esme):
                self.sessions[ev.session_id] = ev
            elif isinstance(ev, smpp34.SubmitSmEvent):
                n = len(self.submits) + 1
                self.submits.append((ev.destination_addr, ev.data_coding, ev.esm_class,
                                     bytes(ev.short_message)))
                if self.reject_every and n % self.reject_every == 0:
                    ev.reject(smpp34.ESME_RTHROTTLED)
                    continue
                mid = f"{0xA000 + n:08X}"
                ev.accept(message_id=mid)
                esme = self.sessions.get(ev.session_id)
                if esme is not None and ev.registered_delivery:
                    text = (f"id:{int(mid, 16)} sub:001 dlvrd:001 submit date:2405011200 "
                            f"done date:2405011201 stat:DELIVRD err:000 text:").encode()
                    asyncio.ensure_future(esme.deliver_sm(
                        ev.source_addr, text, source_addr=ev.destination_addr, esm_class=0x04,
                        tlvs=[smpp34.Tlv(smpp34.TLV_RECEIPTED_MESSAGE_ID, mid.encode() + b"\x00"),
                              smpp34.Tlv(smpp34.TLV_MESSAGE_STATE, bytes([2]))]))

    def mo(self, sender: str, to: str, text: str) -> None:
        deadline = time.monotonic() + 5
        while not self.sessions and time.monotonic() < deadline:  # the Esme event may lag the bind
            time.sleep(0.01)
        esme = next(iter(self.sessions.values()))

        async def send() -> None:
            await esme.deliver_sm(to, text.encode("utf-16-be"), source_addr=sender, data_coding=8)

        asyncio.run_coroutine_threadsafe(send(), self.loop).result(5)

    def stop(self) -> None:
        async def stop() -> None:
            await self.server.stop()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(5)
        self.main.cancel()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture
def smsc34():
    smsc = Smpp34Smsc()
    yield smsc
    smsc.stop()


def transport_for(smsc: Smpp34Smsc, **extra) -> SmppTransport:
    settings = {"host": "127.0.0.1", "port": smsc.port, "system_id": "esme", "password": "pw",
                "source_addr": "10086", "resp_id_base": "hex", "dlr_id_base": "dec", **extra}
    t = SmppTransport(SmppConfig.from_settings(settings))
    assert t.wait_bound(5), "could not bind to the smpp34 server"
    return t


def drain(transport, n, timeout=5.0):
    got, deadline = [], time.monotonic() + timeout
    while len(got) < n and time.monotonic() < deadline:
        got += transport.drain_inbound()
        time.sleep(0.02)
    return got


def test_bind_submit_chinese_resp_and_receipts(smsc34):
    transport = transport_for(smsc34)
    try:
        requests = [SmsRequest(f"k{i}", f"1390000{i:04d}", "10086", f"您好，工单{i}已处理。")
                    for i in range(20)] + [SmsRequest("long", "13912345678", "10086", LONG)]
        results = transport.send_many(requests)
        assert all(r.outcome is SendOutcome.ACCEPTED for r in results), results
        assert results[-1].parts == 2
        # what the foreign SMSC decoded: UCS2, UDHI on the long one
        assert {s[1] for s in smsc34.submits} == {8}
        singles = {s[3].decode("utf-16-be") for s in smsc34.submits if s[2] == 0}
        assert singles == {f"您好，工单{i}已处理。" for i in range(20)}
        parts = sorted(s[3] for s in smsc34.submits if s[2] == 0x40)  # UDHI set
        assert len(parts) == 2 and parts[0][:5] == parts[1][:5]  # same UDH ref, 2 parts
        assert (parts[0][6:] + parts[1][6:]).decode("utf-16-be") == LONG
        ids = {i for r in results for i in r.remote_ids}
        assert len(ids) == 22
        receipts = [g for g in drain(transport, 22) if isinstance(g, DeliveryReceipt)]
        assert {r.remote_id for r in receipts} == ids
        assert all(r.state is DeliveryState.DELIVERED for r in receipts)
    finally:
        transport.close()


def test_mo_from_the_foreign_smsc(smsc34):
    transport = transport_for(smsc34)
    try:
        smsc34.mo("13900001111", "10086", "1 问题没有解决")
        [m] = drain(transport, 1)
        assert m == InboundSms("13900001111", "10086", "1 问题没有解决", m.received_at)
    finally:
        transport.close()


def test_keepalive_and_throttle_against_smpp34():
    smsc = Smpp34Smsc(reject_every=5)
    transport = transport_for(smsc, enquire_link_interval=0.2)
    try:
        results = transport.send_many([SmsRequest(f"t{i}", f"1370000{i:04d}", "10086", "测试")
                                       for i in range(30)])
        assert all(r.outcome is SendOutcome.ACCEPTED for r in results)
        assert transport.stats["throttled"] >= 6
        time.sleep(0.7)  # the server answers enquire_link itself
        assert transport.stats["enquire_link"] >= 2
        assert transport.stats["enquire_link_timeouts"] == 0 and transport.stats["binds"] == 1
    finally:
        transport.close()
        smsc.stop()


def test_reply_is_stored_before_the_foreign_smsc_gets_its_answer(smsc34):
    """smpp34's ``deliver_sm`` awaits the deliver_sm_resp: it must still be waiting while the
    reply is being stored, and get 0x64 (ESME_RX_T_APPN) when the reply could not be stored."""
    offered = []

    class Sink:
        refuse = False

        def accept(self, item):
            time.sleep(0.2)  # an early deliver_sm_resp would have completed the future by now
            offered.append((item, pending.done()))
            if self.refuse:
                raise OSError("database is down")

    sink = Sink()
    transport = transport_for(smsc34)
    transport.set_inbound_sink(sink)
    try:
        deadline = time.monotonic() + 5
        while not smsc34.sessions and time.monotonic() < deadline:
            time.sleep(0.01)
        esme = next(iter(smsc34.sessions.values()))

        def deliver(text):
            async def send():
                return await esme.deliver_sm("10086", text.encode("utf-16-be"),
                                             source_addr="13900001111", data_coding=8)

            return asyncio.run_coroutine_threadsafe(send(), smsc34.loop)

        pending = deliver("1 已解决")
        assert pending.result(5).command_status == 0
        sink.refuse = True
        pending = deliver("2 没解决")
        assert pending.result(5).command_status == 0x64
        assert [(m.text, done) for m, done in offered] == [("1 已解决", False), ("2 没解决", False)]
    finally:
        transport.close()
