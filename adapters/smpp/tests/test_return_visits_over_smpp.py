"""SPEC G1–G3 and K1 end to end over real SMPP: the return-visit survey goes out over a bind, the
customer's MO answer comes back, a dissatisfied answer opens the phone visit (G2), and the phone
visit opens the remedy ticket (G3) — against the local SMSC and against PyPI's ``smpp34`` server."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
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

BACK = Actor("bo001", Role.BACK_OFFICE, "service_centre")
NUMBER = "13912340001"


def _loop(kit: ComplaintKit, clock: VirtualClock, worker: Worker, transport: WaitingTransport,
          sent: Any, answer: Any) -> None:
    t = kit.accept(BACK, msisdn=NUMBER, channel="hotline", category="hotline", description="网速慢")
    kit.handle(t.id, BACK)
    kit.record(t.id, BACK, verification="已核实")
    kit.reply(t.id, BACK, result="已优化")
    kit.parts.return_visits.send_survey(t.id, BACK)
    worker.run_once()
    deadline = time.monotonic() + 5
    while not sent() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert sent(), "the survey never reached the SMSC"
    clock.advance(hours=2)
    answer(NUMBER, "10086", "3 晚上还是很慢")
    assert transport.wait_for_inbound(InboundSms), "the answer never came back over the bind"
    worker.run_once()
    survey, phone = kit.parts.return_visits.visits(t.id)
    assert (survey.outcome, survey.words) == ("dissatisfied", "晚上还是很慢")
    assert (phone.channel.value, phone.status.value, phone.reason.value) == ("phone", "open", "sms_dissatisfied")
    visit = kit.parts.return_visits.record_visit(t.id, BACK, channel="phone", outcome="dissatisfied",
                                                 reason="晚高峰网速慢", needs="上门测试")
    remedy = kit.ticket(visit.remedy_id)
    assert (remedy.kind, remedy.parent_id, remedy.state) == (TicketKind.REMEDY, t.id, TicketState.ACCEPTED)
    with kit.store.read() as tx:
        surveys = [m for m in tx.messages(channel="sms") if m["template"] == "return_visit_survey"]
        assert [r["outcome"] for r in tx.inbound()] == ["survey_answer"]
    assert len(surveys) == 1 and surveys[0]["state"] == "completed" and surveys[0]["parts"] == 2


def _kit(tmp_path: Path, transport: Any) -> tuple[ComplaintKit, VirtualClock, Worker]:
    clock = VirtualClock("2026-10-10T10:00:00+08:00")  # a make-up Saturday
    kit = ComplaintKit(Store.open(f"sqlite:///{tmp_path / 'k.db'}"), plugins=Plugins.discover(), clock=clock)
    worker = Worker(kit, Outbox(kit, sms=transport))
    clock.attach(worker)
    return kit, clock, worker


def test_G1_G2_G3_survey_loop_against_the_local_smsc(tmp_path: Path) -> None:
    with LocalSmsc() as smsc:
        transport = WaitingTransport(SmppTransport(SmppConfig.from_settings(smsc.settings)))
        kit, clock, worker = _kit(tmp_path, transport)
        try:
            _loop(kit, clock, worker, transport,
                  lambda: [text for dest, text in smsc.texts() if dest == NUMBER and "回复3" in text],
                  smsc.inject_mo)
        finally:
            worker.outbox.close()
            kit.close()


def test_G1_G2_G3_survey_loop_against_the_smpp34_server(tmp_path: Path) -> None:
    pytest.importorskip("smpp34", reason="PyPI smpp34 (the test extra) is not installed")
    import importlib.util

    # the smpp34 server as test_smpp34_server.py runs it (the tests are not a package)
    spec = importlib.util.spec_from_file_location("smpp34_server", Path(__file__).with_name("test_smpp34_server.py"))
    assert spec is not None and spec.loader is not None
    server = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(server)
    smsc = server.Smpp34Smsc()
    settings = {"host": "127.0.0.1", "port": smsc.port, "system_id": "esme", "password": "pw",
                "source_addr": "10086", "resp_id_base": "hex", "dlr_id_base": "dec"}
    transport = WaitingTransport(SmppTransport(SmppConfig.from_settings(settings)))
    kit, clock, worker = _kit(tmp_path, transport)
    try:
        _loop(kit, clock, worker, transport,
              lambda: [s for s in smsc.submits if s[0] == NUMBER],
              lambda sender, to, text: smsc.mo(sender, to, text))
    finally:
        worker.outbox.close()
        kit.close()
        smsc.stop()
