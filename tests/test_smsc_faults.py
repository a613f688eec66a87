"""An SMSC that misbehaves delays SMS only (SPEC K4, N2): timers keep firing on time and e-mail
keeps going, and no SMS is lost or given up on while the SMSC is away.

Each test runs the real worker (a thread per loop) on the system clock, with the SMPP adapter
against the local SMSC told to misbehave and the SMTP adapter against an aiosmtpd server; timers
come due every half second for four and a half seconds while e-mail and SMS wait in the outbox.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from complaintkit_smpp import LocalSmsc, SmppConfig, SmppTransport
from complaintkit_smtp import SmtpConfig, SmtpTransport

from complaintkit import hookimpl
from complaintkit.core.model import (
    Actor,
    Decision,
    Event,
    MessageChannel,
    OutgoingMessage,
    Role,
    Ticket,
    Timer,
)
from complaintkit.engine.context import Context
from complaintkit.engine.outbox import Outbox, RetryPolicy
from complaintkit.engine.registry import Part, TimerKind
from complaintkit.engine.store import Store
from complaintkit.engine.worker import Worker
from complaintkit.hooks.manager import Plugins
from complaintkit.kit import ComplaintKit

pytestmark = pytest.mark.complaintkit(boss="lenient")

DESK = Actor("fd001", Role.FRONT_DESK, "service_centre")
PROBES = 9           # timers, one due every half second
EMAILS = 8
SMS = 6
#: a timer fires within this of its due time, whatever the SMSC does (SPEC: within 5 s, p99)
ON_TIME = timedelta(seconds=5)


def on_probe(ticket: Ticket, timer: Timer, ctx: Context) -> Decision:
    return Decision(ticket, (Event(ticket.id, ctx.now, ctx.actor.id, "probe_fired",
                                   data={"late_ms": int((ctx.now - timer.due_at).total_seconds() * 1000)}),))


class ProbePart:
    @hookimpl
    def complaintkit_parts(self) -> list[Part]:
        return [Part("probes", timers=(TimerKind("probe", on_probe),))]


class Mailbox:
    """aiosmtpd handler that keeps the Message-IDs it accepted."""

    def __init__(self) -> None:
        self.ids: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        for line in envelope.content.decode("utf-8", "replace").splitlines():
            if line.lower().startswith("message-id:"):
                self.ids.append(line.split(":", 1)[1].strip())
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    handler = Mailbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.port = controller.port  # type: ignore[attr-defined]
    yield handler
    controller.stop()


def smpp(port: int) -> SmppTransport:
    return SmppTransport(SmppConfig(host="127.0.0.1", port=port, system_id="complaintkit", password="secret",
                                    source_addr="10086", response_timeout=2.0, send_timeout=4.0, bind_wait=1.0,
                                    reconnect_backoff_max=0.5, enquire_link_interval=1.0))


def run_worker(tmp_path: Path, mailbox: Mailbox, port: int,
               during: Callable[[], None] = lambda: None) -> tuple[ComplaintKit, Any]:
    """Queue e-mail and SMS, set the probe timers, run the worker ~6.5 s (calling ``during`` at
    +1.5 s); return the kit (to inspect) and the SMS transport."""
    kit = ComplaintKit(Store.open(f"sqlite:///{tmp_path / 'faults.db'}"),
                       plugins=Plugins.discover(extra=(ProbePart(),)))
    ticket = kit.accept(DESK, msisdn="13812345678", channel="hotline", category="call_quality",
                        description="信号差")
    now = kit.clock.now()
    with kit.store.transaction() as tx:
        tx.add_messages([OutgoingMessage(f"mail-{i}", MessageChannel.EMAIL, "network_dept", f"预警 {i}",
                                         subject=f"预警 {i}") for i in range(EMAILS)]
                        + [OutgoingMessage(f"sms-{i}", MessageChannel.SMS, f"1391234{i:04d}", f"您好，第{i}条",
                                           sender="10086") for i in range(SMS)], now)
        tx.set_timers([Timer(ticket.id, f"probe:{i}", now + timedelta(seconds=1 + i / 2)) for i in range(PROBES)])
    sms = smpp(port)
    mail = SmtpTransport(SmtpConfig(host="127.0.0.1", port=mailbox.port, sender="complaints@example.cn",  # type: ignore[attr-defined]
                                    timeout=5, recipients={"network_dept": ("noc@example.cn",)}))
    worker = Worker(kit, Outbox(kit, sms=sms, email=mail, retry=RetryPolicy(unreached=timedelta(seconds=1))))
    thread = threading.Thread(target=worker.run, kwargs={"idle": 0.2}, daemon=True)
    thread.start()
    time.sleep(1.5)
    during()
    time.sleep(5)
    worker.stop()
    thread.join(timeout=60)
    assert not thread.is_alive()
    return kit, sms


def lateness(kit: ComplaintKit) -> list[int]:
    fired = [e for t in kit.tickets() for e in kit.history(t.id) if e.kind == "probe_fired"]
    return sorted(e.data["late_ms"] for e in fired)


def outbox(kit: ComplaintKit, channel: str) -> dict[str, tuple[str, int]]:
    with kit.store.read() as tx:
        return {m["key"]: (m["state"], m["attempts"]) for m in tx.messages() if m["channel"] == channel}


def assert_timers_and_email_unaffected(kit: ComplaintKit, mailbox: Mailbox) -> None:
    late = lateness(kit)
    assert len(late) == PROBES, "every timer fired once"
    assert late[-1] <= ON_TIME.total_seconds() * 1000, f"timers fired late: {late}"
    mails = outbox(kit, "email")
    assert {k: s for k, (s, _) in mails.items() if k.startswith("mail-")} == {f"mail-{i}": "completed"
                                                                              for i in range(EMAILS)}
    assert len(mailbox.ids) >= EMAILS


def sms_sent(kit: ComplaintKit) -> dict[str, str]:
    return {k: s for k, (s, _) in outbox(kit, "sms").items() if k.startswith("sms-")}


def test_K4_a_silent_smsc_delays_sms_only(tmp_path: Path, mailbox: Mailbox) -> None:
    """Bound, but never answers a submit: the SMS wait, nothing else does."""
    with LocalSmsc(never_answer_every=1) as smsc:
        kit, _ = run_worker(tmp_path, mailbox, smsc.port)
    assert_timers_and_email_unaffected(kit, mailbox)
    assert set(sms_sent(kit).values()) <= {"queued", "inProgress"}  # kept to try again, not failed


def test_K4_a_throttling_smsc_delays_sms_only(tmp_path: Path, mailbox: Mailbox) -> None:
    with LocalSmsc(throttle_every=1) as smsc:
        kit, _ = run_worker(tmp_path, mailbox, smsc.port)
    assert_timers_and_email_unaffected(kit, mailbox)
    assert "failed" not in set(sms_sent(kit).values())


def test_K4_an_smsc_that_refuses_connections_costs_no_attempt(tmp_path: Path, mailbox: Mailbox) -> None:
    """Nothing listens at the SMSC's address: an outage of any length never fails an SMS."""
    kit, _ = run_worker(tmp_path, mailbox, free_port())
    assert_timers_and_email_unaffected(kit, mailbox)
    assert {s for s, _ in outbox(kit, "sms").values()} <= {"queued", "inProgress"}
    assert {a for _, a in outbox(kit, "sms").values()} == {0}


def test_K4_a_dropping_smsc_gets_every_sms_through(tmp_path: Path, mailbox: Mailbox) -> None:
    with LocalSmsc(drop_after=2, max_drops=2) as smsc:
        kit, sms = run_worker(tmp_path, mailbox, smsc.port)
        texts = smsc.texts()
    assert_timers_and_email_unaffected(kit, mailbox)
    assert sms_sent(kit) == {f"sms-{i}": "completed" for i in range(SMS)}
    assert {f"1391234{i:04d}" for i in range(SMS)} <= {to for to, _ in texts}
    assert len(texts) - SMS <= sms.stats["unacknowledged_resends"]  # every duplicate counted


def test_K4_a_restarted_smsc_gets_every_sms_through(tmp_path: Path, mailbox: Mailbox) -> None:
    """The SMSC is down when the worker starts and comes up 1.5 seconds later on its address."""
    port = free_port()
    smsc = LocalSmsc(port=port)
    try:
        kit, _ = run_worker(tmp_path, mailbox, port, during=smsc.start)
        texts = smsc.texts()
    finally:
        smsc.stop()
    assert_timers_and_email_unaffected(kit, mailbox)
    assert sms_sent(kit) == {f"sms-{i}": "completed" for i in range(SMS)}
    assert sorted(texts)[:SMS] == sorted((f"1391234{i:04d}", f"您好，第{i}条") for i in range(SMS))
    assert {a for _, a in outbox(kit, "sms").values()} <= {0, 1}  # the outage cost no attempts


