"""End to end: a kit on SQLite, a virtual clock, the worker, and reminders over real SMTP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from complaintkit_smtp import message_id_for

from complaintkit.core.model import Actor, Role
from complaintkit.engine.outbox import Outbox
from complaintkit.engine.store import Store
from complaintkit.engine.worker import Worker
from complaintkit.hooks.manager import Plugins
from complaintkit.kit import ComplaintKit
from complaintkit.testing import VirtualClock

DESK = Actor("fd001", Role.FRONT_DESK, "service_centre")
# the back office dispatches (the front desk may not: SPEC H3)
BACK = Actor("bo001", Role.BACK_OFFICE, "service_centre")


def test_overdue_reminders_reach_the_departments_mailing_lists(smtp_server: Any, tmp_path: Path) -> None:
    clock = VirtualClock()
    kit = ComplaintKit(Store.open(f"sqlite:///{tmp_path / 'complaints.db'}"),
                       plugins=Plugins.discover(), clock=clock)
    transport = smtp_server.transport()
    worker = Worker(kit, Outbox(kit, email=transport))
    clock.attach(worker)
    try:
        pool = kit.accept(DESK, msisdn="13812345678", channel="hotline", category="hotline",
                          description="等待过久")
        dispatched = kit.accept(DESK, msisdn="13912345678", channel="hotline", category="hotline",
                                description="信号差，通话中断")
        kit.dispatch(dispatched.id, "network_dept", BACK)
        clock.advance(hours=50)

        received = smtp_server.received
        subjects = {got.message["Subject"]: got for got in received}
        for ticket in (pool, dispatched):
            assert f"[near_overdue] {ticket.id}" in subjects
            assert f"[overdue] {ticket.id}" in subjects
        # left in the pool: the standard's complaint department's list; dispatched: network_dept's
        for got in received:
            ticket_id = got.message["Subject"].split()[-1]
            expected = {pool.id: ("service@example.cn",),
                        dispatched.id: ("noc@example.cn", "network-duty@example.cn")}[ticket_id]
            assert got.rcpt_tos == expected, got.message["Subject"]
            assert got.message["To"] == ", ".join(expected)
            assert dispatched.id in got.message.get_content() or pool.id in got.message.get_content()
        # every e-mail row of the outbox went out once, completed, with the Message-ID of its key
        with kit.store.read() as tx:
            rows = tx.messages(channel="email")
        assert {r["recipient"] for r in rows} == {"service_centre", "network_dept"}
        assert all(r["state"] == "completed" for r in rows), [(r["key"], r["state"]) for r in rows]
        ids = sorted(got.message["Message-ID"] for got in received)
        assert ids == sorted(message_id_for(r["key"], "complaints@example.cn") for r in rows)
    finally:
        worker.outbox.close()
        kit.close()
