"""SPEC B1–B5 and K1 end to end over real SMPP: kit + worker + SmppTransport + an SMSC on loopback.

The kit runs on the virtual clock; the SMS travel over a real bind to the local SMSC, and the
customers' replies come back as MO deliver_sm.
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from complaintkit_baseline import standard as baseline
from complaintkit_smpp import LocalSmsc, SmppConfig, SmppTransport

from complaintkit.core.model import Actor, Role, TicketKind, TicketState
from complaintkit.demo import WaitingTransport
from complaintkit.engine.outbox import Outbox
from complaintkit.engine.store import Store
from complaintkit.engine.worker import Worker
from complaintkit.hooks.manager import Plugins
from complaintkit.kit import ComplaintKit
from complaintkit.ports.transports import InboundSms
from complaintkit.testing import VirtualClock

DESK = Actor("fd001", Role.FRONT_DESK, "service_centre")
TYPES = [(t.code, t.name, float(t.delay.removesuffix("h"))) for t in baseline().follow_up_types]


@pytest.fixture
def process(tmp_path: Path) -> Any:
    smsc = LocalSmsc().start()
    transport = WaitingTransport(SmppTransport(SmppConfig.from_settings(smsc.settings)))
    clock = VirtualClock()
    kit = ComplaintKit(Store.open(f"sqlite:///{tmp_path / 'k.db'}"), plugins=Plugins.discover(), clock=clock)
    worker = Worker(kit, Outbox(kit, sms=transport))
    clock.attach(worker)
    yield kit, clock, worker, smsc, transport
    worker.outbox.close()
    kit.close()
    smsc.stop()


def reply(smsc: LocalSmsc, transport: WaitingTransport, worker: Worker, number: str, text: str) -> None:
    smsc.inject_mo(number, "10086", text)
    assert transport.wait_for_inbound(InboundSms), "the reply never came back over the bind"
    worker.run_once()


def texts_to(smsc: LocalSmsc, number: str) -> list[str]:
    return [text for dest, text in smsc.texts() if dest == number]


def test_B_every_problem_type_over_smpp(process: Any) -> None:
    kit, clock, worker, smsc, transport = process
    tickets = {}
    for i, (code, _name, _delay) in enumerate(TYPES):
        number = f"1391234{i:04d}"
        tickets[code] = (number, kit.open_follow_up(DESK, msisdn=number, problem_type=code, category="hotline",
                                                    description="已指导客户重启"))
    # each confirmation leaves at its own delay
    start = clock.now()
    for code, name, delay in sorted(TYPES, key=lambda t: t[2]):
        number, _ = tickets[code]
        clock.advance_to(start + timedelta(hours=delay))
        _settle(smsc, number, 1)
        received = texts_to(smsc, number)
        assert len(received) == 1, (code, received)
        assert name in received[0] and "回复1至10086" in received[0]
    # even numbers answer the code in time, odd ones stay silent
    for i, (code, _name, _delay) in enumerate(TYPES):
        number, ticket = tickets[code]
        if i % 2 == 0:
            reply(smsc, transport, worker, number, "1")
            assert kit.ticket(ticket.id).kind is TicketKind.NORMAL
    clock.advance(hours=13)
    for i, (code, _name, _delay) in enumerate(TYPES):
        number, ticket = tickets[code]
        state = kit.ticket(ticket.id).state
        if i % 2 == 0:
            assert state is TicketState.ACCEPTED
            _settle(smsc, number, 2)
            assert any(ticket.id in text for text in texts_to(smsc, number))  # told the complaint goes on
        else:
            assert state is TicketState.ARCHIVED
    assert smsc.duplicates == []
    # K1: the long Chinese confirmation went as concatenated UCS2 parts, counted on the message
    with kit.store.read() as tx:
        confirmations = [m for m in tx.messages(channel="sms") if m["template"] == "follow_up_confirmation"]
    assert len(confirmations) == len(TYPES)
    for m in confirmations:
        assert m["state"] == "completed" and m["parts"] == 2
        assert len(m["remote_ids"].split(",")) == 2


def test_B5_late_and_unknown_replies_over_smpp(process: Any) -> None:
    kit, clock, worker, smsc, transport = process
    late = kit.open_follow_up(DESK, msisdn="13900000001", problem_type="call_quality", category="hotline",
                              description="x")
    kit.open_follow_up(DESK, msisdn="13900000002", problem_type="call_quality", category="hotline",
                       description="x")
    clock.advance(hours=2)
    reply(smsc, transport, worker, "13900000002", "怎么还不好")
    clock.advance(hours=13)
    reply(smsc, transport, worker, "13900000001", "1")
    reply(smsc, transport, worker, "13900000003", "你好")  # nobody we know
    _settle(smsc, "13900000003", 1)
    with kit.store.read() as tx:
        outcomes = {r["sender"]: r["outcome"] for r in tx.inbound()}
    assert outcomes == {"13900000002": "unknown_code", "13900000001": "late", "13900000003": "unmatched"}
    assert kit.ticket(late.id).state is TicketState.ARCHIVED
    _settle(smsc, "13900000002", 2)
    _settle(smsc, "13900000001", 2)
    assert any("未能识别" in text for text in texts_to(smsc, "13900000002"))
    assert any("超过12小时" in text for text in texts_to(smsc, "13900000001"))


def test_demo_against_another_smsc(tmp_path: Path) -> None:
    """``complaintkit demo --smsc HOST:PORT``: every SMS the process decided to send reaches it."""
    from complaintkit.cli import cli

    with LocalSmsc(system_id="operator", password="s3cret") as smsc:
        result = CliRunner().invoke(cli, [
            "demo", "--tickets", "30", "--days", "2", "--no-progress", "--smsc", f"127.0.0.1:{smsc.port}",
            "--system-id", "operator", "--password", "s3cret", "--db", f"sqlite:///{tmp_path / 'd.db'}"])
        assert result.exit_code == 0, result.output
        assert f"SMPP to 127.0.0.1:{smsc.port}" in result.stdout
        store = Store.open(f"sqlite:///{tmp_path / 'd.db'}")
        with store.read() as tx:
            decided = [m for m in tx.messages(channel="sms")]
        store.close()
        assert decided and all(m["state"] == "completed" for m in decided)
        deadline = time.monotonic() + 5
        while len(smsc.texts()) < len(decided) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sorted(d for d, _ in smsc.texts()) == sorted(m["recipient"] for m in decided)


def _settle(smsc: LocalSmsc, number: str, count: int) -> None:
    deadline = time.monotonic() + 5
    while len(texts_to(smsc, number)) < count and time.monotonic() < deadline:
        time.sleep(0.01)
