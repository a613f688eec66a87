"""A customer's reply must be stored before the SMSC is told it arrived (the durable inbox).

Once the transport answers deliver_sm_resp the SMSC forgets the message: a worker killed after
that answer and before the reply reached the database loses it for good. The engine's inbox
(:mod:`complaintkit.engine.inbox`) is built for this: a transport with ``set_inbound_sink``
hands each item to the sink, which returns after the commit, *before* answering. (Before
``SmppTransport`` took a sink it answered at once and kept the reply in memory until the
worker's next ``drain_inbound``; the crash soak counts such losses as ``replies_lost_after_ack``.)
"""

from __future__ import annotations

import time
from pathlib import Path

from complaintkit_smpp import pdu as P
from sqlalchemy import select

from complaintkit.engine.outbox import Outbox
from complaintkit.engine.store import schema
from complaintkit.kit import ComplaintKit


def test_an_acknowledged_reply_is_already_in_the_inbox(make_pair, tmp_path: Path) -> None:
    kit = ComplaintKit.open(f"sqlite:///{tmp_path / 'ck.db'}")
    smsc, transport = make_pair()
    Outbox(kit, sms=transport)  # gives the transport the inbox sink, when it takes one
    smsc.inject_mo("13912345678", "10086", "1")
    deadline = time.monotonic() + 5
    while smsc.deliver_resps < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert smsc.deliver_resps == 1, "the transport did not acknowledge the reply"
    # the worker dies here, before any drain: what the SMSC was told arrived must be stored
    with kit.store.read() as tx:
        rows = tx.conn.execute(select(schema.inbox.c.payload)).scalars().all()
    kit.close()
    assert len(rows) == 1 and "13912345678" in rows[0]


def test_a_reply_that_cannot_be_stored_is_not_acknowledged(make_pair) -> None:
    class Broken:
        def accept(self, item: object) -> None:
            raise OSError("database unreachable")

    smsc, transport = make_pair()
    statuses: list[int] = []
    handle = smsc._handle

    def spy(conn: object, pdu: P.Pdu) -> None:
        if pdu.command_id == P.DELIVER_SM | P.RESP:
            statuses.append(pdu.status)
        handle(conn, pdu)

    smsc._handle = spy
    transport.set_inbound_sink(Broken())
    smsc.inject_mo("13912345678", "10086", "1")
    deadline = time.monotonic() + 5
    while smsc.deliver_resps < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    # answered with an error (the SMSC keeps it and delivers again), and nothing kept in memory
    assert smsc.deliver_resps == 1
    assert statuses == [P.ESME_RX_T_APPN]
    assert transport.drain_inbound() == []
