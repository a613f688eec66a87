"""The crash soak: nothing lost, nothing stuck, while workers are killed with SIGKILL.

Tickets are created (online follow-ups, whose confirmation SMS comes due within seconds, and
normal complaints) while ``complaintkit worker`` processes deliver through a local SMSC, customers
answer some confirmations with the reply code, and workers are killed at random moments and
started again. After the killing stops the surviving workers drain everything and are stopped
cleanly; then the database and the SMSC are compared:

- tickets lost: created (the call returned) but not stored;
- timers lost: still pending well after they came due, or quarantined;
- timers fired twice: a follow-up that sent its confirmation, or closed, more than once;
- messages lost: outbox rows not completed, or completed but never seen by the SMSC;
- replies lost: customer replies the SMSC handed to a worker that are not in the inbound log;
- duplicates at the SMSC (whole messages received more than once) against the re-sends the
  outbox counted (a kill re-sends at most what was in flight, and counts it);
- timer lateness (fired − due), which a kill stretches by the restart time.

The SMSC here re-delivers a customer reply the worker did not acknowledge (as a real SMSC does),
so a reply lost is one the worker acknowledged and then forgot.

Timers come due in real time: the soak writes a copy of the baseline standard whose follow-up
delays and reply window are seconds long (natural hours, so the working calendar plays no part).
"""

from __future__ import annotations

import importlib.resources
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
from sqlalchemy import select

from complaintkit.core.model import Actor, Role

DESK = Actor("soak001", Role.FRONT_DESK, "service_centre")

#: seconds a due timer may stay pending at the end before it counts as lost
OVERDUE_GRACE = 5.0
#: seconds an acknowledged reply may take to reach the inbound log before it counts as lost
REPLY_GRACE = 5.0
#: follow-up delays (natural hours: 1.08 s and 2.16 s) and the reply window (7.2 s)
DELAYS = ("0.0003h", "0.0006h")
WINDOW = "0.002h"
FOLLOW_UP_TYPES = ("payment_not_reopened", "call_quality", "sms_failure", "ringback_change_failed")


@attrs.define(frozen=True)
class SoakConfig:
    db_url: str
    workdir: Path
    tickets: int = 200
    kills: int = 20
    workers: int = 1
    seed: int = 1
    #: share of the tickets that are online follow-ups (the rest are normal complaints)
    follow_up_share: float = 0.7
    #: share of the follow-ups whose customer replies with the code
    reply_share: float = 0.5
    #: seconds over which tickets are created and workers killed
    duration: float | None = None
    #: most seconds to wait for the surviving workers to drain everything
    drain_timeout: float = 90.0
    log: Callable[[str], None] = print

    @property
    def phase(self) -> float:
        return self.duration if self.duration is not None else max(8.0, 1.0 * self.kills, self.tickets / 40)


# -- the standard ---------------------------------------------------------------------------------


def soak_standard(folder: Path) -> Path:
    """A copy of the baseline standard whose follow-ups come due within seconds."""
    source = importlib.resources.files("complaintkit_baseline") / "data"
    folder.mkdir(parents=True, exist_ok=True)
    for entry in source.iterdir():
        if entry.name.endswith(".toml"):
            (folder / entry.name).write_text(entry.read_text(encoding="utf-8"), encoding="utf-8")
    follow_up = folder / "follow_up.toml"
    counter = iter(range(1000))
    follow_up.write_text(re.sub(r'(?m)^delay = ".*"$', lambda _m: f'delay = "{DELAYS[next(counter) % 2]}"',
                                follow_up.read_text(encoding="utf-8")), encoding="utf-8")
    head = folder / "standard.toml"
    head.write_text(re.sub(r'(?m)^follow_up_window = ".*"$', f'follow_up_window = "{WINDOW}"',
                           head.read_text(encoding="utf-8")), encoding="utf-8")
    return folder


# -- an SMSC that re-delivers what was not acknowledged ------------------------------------------------


def replaying_smsc() -> Any:
    from complaintkit_smpp import LocalSmsc
    from complaintkit_smpp import pdu as P

    class ReplayingSmsc(LocalSmsc):  # type: ignore[misc]
        """The local SMSC, plus what a real one does with a customer's SMS: it keeps it until an
        ESME answers deliver_sm_resp, and delivers it again on another session if the session
        it went out on closes first."""

        def __init__(self, **kw: Any) -> None:
            super().__init__(**kw)
            self.pending: dict[tuple[int, int], tuple[str, str, str]] = {}
            self.acked: list[tuple[str, str, str]] = []
            self.redeliveries = 0
            self._mo_lock = threading.Lock()
            self._sent_on: dict[tuple[int, int], Any] = {}

        def reply(self, sender: str, to: str, text: str) -> bool:
            conn = self._session()
            if conn is None:
                return False
            seq = next(conn.seq)
            sm = P.DeliverSm(sequence=seq, source_addr=sender, destination_addr=to,
                             short_message=text.encode("ascii"), source_addr_ton=1, source_addr_npi=1)
            with self._mo_lock:
                self.pending[(conn.number, seq)] = (sender, to, text)
                self._sent_on[(conn.number, seq)] = conn
            conn.send(sm.generate())
            return True

        def replay(self) -> int:
            """Deliver again what went out on a session that closed unanswered."""
            with self._mo_lock:
                orphans = [(k, v) for k, v in self.pending.items() if not self._sent_on[k].open]
                for k, _ in orphans:
                    del self.pending[k]
                    del self._sent_on[k]
            again = 0
            for k, (sender, to, text) in orphans:
                if self.reply(sender, to, text):
                    again += 1
                else:
                    with self._mo_lock:  # no session now: keep it for the next try
                        self.pending[k] = (sender, to, text)
                        self._sent_on[k] = _Closed
            self.redeliveries += again
            return again

        def _handle(self, conn: Any, pdu: Any) -> None:
            if pdu.command_id == P.DELIVER_SM | P.RESP:
                with self._mo_lock:
                    key = (conn.number, pdu.sequence)
                    if pdu.status != P.ESME_ROK:
                        if key in self._sent_on:
                            self._sent_on[key] = _Closed  # refused: delivered again on replay()
                    else:
                        item = self.pending.pop(key, None)
                        self._sent_on.pop(key, None)
                        if item is not None:
                            self.acked.append(item)
            super()._handle(conn, pdu)

    return ReplayingSmsc()


class _Closed:
    open = False


def whole_messages(smsc: Any) -> Counter[tuple[str, str]]:
    """How many times each (destination, whole text) reached the SMSC, long ones reassembled."""
    counts: Counter[tuple[str, str]] = Counter()
    groups: dict[tuple[int, str, int, int], dict[int, str]] = {}
    with smsc._lock:
        subs = list(smsc.received)
    for s in subs:
        if s.concat is None:
            counts[(s.destination, s.text)] += 1
        else:
            groups.setdefault((s.connection, s.destination, s.concat[0], s.concat[1]), {})[s.concat[2]] = s.text
    for (_conn, dest, _ref, total), parts in groups.items():
        if len(parts) == total:
            counts[(dest, "".join(parts[i] for i in range(1, total + 1)))] += 1
    return counts


# -- the workers ---------------------------------------------------------------------------------------


class Workers:
    """``complaintkit worker`` processes, killed and started again on demand."""

    def __init__(self, config: SoakConfig, settings: Path, standard: Path) -> None:
        exe = Path(sys.executable).with_name("complaintkit")
        self.argv = [str(exe), "worker", "--db", config.db_url, "--settings", str(settings),
                     "--standard", str(standard), "--idle", "0.2", "--log-level", "warning"]
        self.workdir = config.workdir
        self.procs: list[subprocess.Popen[bytes] | None] = [None] * config.workers
        self.logs: list[Path | None] = [None] * config.workers
        self.kills = 0
        self.starts = 0
        #: workers that exited by themselves: (exit code, the end of their log)
        self.crashes: list[tuple[int, str]] = []

    def start(self, i: int) -> None:
        self.logs[i] = path = self.workdir / f"worker-{self.starts}.log"
        with open(path, "ab") as log:
            self.procs[i] = subprocess.Popen(self.argv, stdout=log, stderr=log,
                                             env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.starts += 1

    def _check(self, i: int) -> None:
        proc, path = self.procs[i], self.logs[i]
        if proc is not None and proc.poll() is not None and path is not None:
            tail = path.read_text(encoding="utf-8", errors="replace")[-2000:]
            self.crashes.append((proc.returncode, tail))
            self.procs[i] = None

    def start_all(self) -> None:
        for i in range(len(self.procs)):
            self.start(i)

    def kill(self, i: int) -> None:
        self._check(i)
        proc = self.procs[i]
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            self.kills += 1
        self.procs[i] = None

    def revive(self) -> None:
        """Start again any worker that is not running (killed, or died by itself)."""
        for i in range(len(self.procs)):
            self._check(i)
            if self.procs[i] is None:
                self.start(i)

    def stop_all(self, timeout: float = 30.0) -> list[int]:
        """SIGTERM each worker and wait: their exit codes (0 is a clean stop)."""
        codes = []
        for i in range(len(self.procs)):
            self._check(i)
        for proc in self.procs:
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            if proc is None:
                continue
            try:
                codes.append(proc.wait(timeout=timeout))
            except subprocess.TimeoutExpired:
                proc.kill()
                codes.append(proc.wait())
        return codes


# -- the run -------------------------------------------------------------------------------------------


@attrs.define
class _Plan:
    follow_ups: dict[str, str] = attrs.field(factory=dict)  # msisdn -> ticket id
    complaints: dict[str, str] = attrs.field(factory=dict)
    repliers: set[str] = attrs.field(factory=set)
    replied: set[str] = attrs.field(factory=set)

    @property
    def ticket_ids(self) -> set[str]:
        return set(self.follow_ups.values()) | set(self.complaints.values())


def run_soak(config: SoakConfig) -> dict[str, Any]:
    """Run the soak and return its figures (see the module doc)."""
    from complaintkit.kit import ComplaintKit
    from complaintkit.standard import load_standard

    rng = random.Random(config.seed)
    config.workdir.mkdir(parents=True, exist_ok=True)
    standard_dir = soak_standard(config.workdir / "standard")
    kit = ComplaintKit.open(config.db_url, standard=load_standard(standard_dir))
    started = time.monotonic()
    plan = _Plan()
    smsc = replaying_smsc()
    smsc.start()
    try:
        settings = config.workdir / "settings.toml"
        settings.write_text("[sms]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in smsc.settings.items())
                            # a killed worker's claimed messages are taken over after 5 s, not 30
                            + "[outbox]\nlease = 5\n",
                            encoding="utf-8")
        workers = Workers(config, settings, standard_dir)
        workers.start_all()
        service_port = kit.standard.settings.service_port
        phase = config.phase
        create_at = sorted(rng.uniform(0, phase * 0.6) for _ in range(config.tickets))
        kill_at = sorted(rng.uniform(0.5, phase) for _ in range(config.kills))
        base = 13900000000 + rng.randrange(0, 90_000_000)
        created = 0

        def answer_confirmations() -> None:
            # the customer answers once the confirmation SMS reached the SMSC (the phone)
            seen = {dest for dest, _text in whole_messages(smsc)}
            for msisdn in sorted((plan.repliers - plan.replied) & seen):
                if smsc.reply(msisdn, service_port, kit.standard.settings.follow_up_reply_code):
                    plan.replied.add(msisdn)
            smsc.replay()

        while time.monotonic() - started < phase or created < config.tickets or kill_at:
            elapsed = time.monotonic() - started
            while created < config.tickets and create_at[created] <= elapsed:
                msisdn = str(base + created)
                if rng.random() < config.follow_up_share:
                    t = kit.open_follow_up(DESK, msisdn=msisdn, problem_type=rng.choice(FOLLOW_UP_TYPES),
                                           category="hotline", description="已处理")
                    plan.follow_ups[msisdn] = t.id
                    if rng.random() < config.reply_share:
                        plan.repliers.add(msisdn)
                else:
                    t = kit.accept(DESK, msisdn=msisdn, channel="hotline", category="hotline",
                                   description="等待过久")
                    plan.complaints[msisdn] = t.id
                created += 1
            while kill_at and kill_at[0] <= elapsed:
                kill_at.pop(0)
                workers.kill(rng.randrange(len(workers.procs)))
                time.sleep(rng.uniform(0, 0.3))
                workers.revive()
            answer_confirmations()
            time.sleep(0.05)
        config.log(f"created {created} tickets, {workers.kills} kills in {time.monotonic() - started:.1f}s; draining")

        # no more kills: the workers drain everything (a dead worker's claims expire first)
        workers.revive()
        deadline = time.monotonic() + config.drain_timeout
        quiet_since: float | None = None
        while time.monotonic() < deadline:
            answer_confirmations()
            work_done, replies_stored = _settled(kit, plan, smsc)
            if work_done and replies_stored:
                break
            if work_done:
                # every reply was acknowledged by a worker; one not stored by now never will be
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since > REPLY_GRACE:
                    break
            else:
                quiet_since = None
            time.sleep(0.25)
        codes = workers.stop_all()
        ended = datetime.now(UTC)
        figures = measure(kit, plan, smsc, ended)
        figures.update(db=config.db_url.split(":")[0].split("+")[0],
                       workers=config.workers, kills=workers.kills, worker_exit_codes=sorted(set(codes)),
                       worker_crashes=len(workers.crashes),
                       seconds=round(time.monotonic() - started, 1), smsc_redeliveries=smsc.redeliveries)
        for code, tail in workers.crashes:
            config.log(f"a worker exited by itself with code {code}; its log ends:\n{tail}")
        return figures
    finally:
        smsc.stop()
        kit.close()


def _settled(kit: Any, plan: _Plan, smsc: Any) -> tuple[bool, bool]:
    """(no follow-up waits, nothing is left to send and every reply was acknowledged;
    every reply is stored)."""
    from complaintkit.engine.store import schema

    ids = plan.ticket_ids
    with kit.store.read() as tx:
        c = tx.conn
        t, o = schema.tickets, schema.outbox
        waiting = set(c.execute(select(t.c.id).where(t.c.state == "follow_up")).scalars().all()) & ids
        # the same rows measure() counts: a ticket's messages and the answers to its customer's
        # SMS (those carry no ticket id)
        numbers = set(plan.follow_ups) | set(plan.complaints)
        unsent = [r for r in c.execute(select(o.c.ticket_id, o.c.recipient).where(o.c.state != "completed")).all()
                  if r.ticket_id in ids or r.recipient in numbers]
        received = set(c.execute(select(schema.inbound.c.sender)).scalars().all())
    work_done = not (waiting or unsent or plan.repliers - plan.replied or smsc.pending)
    return work_done, plan.replied <= received


def measure(kit: Any, plan: _Plan, smsc: Any, end: datetime) -> dict[str, Any]:
    from complaintkit.engine.store import schema

    ids = plan.ticket_ids
    numbers = set(plan.follow_ups) | set(plan.complaints)
    with kit.store.read() as tx:
        c = tx.conn
        stored = set(c.execute(select(schema.tickets.c.id)).scalars().all()) & ids
        tm = schema.timers.c
        timer_rows = [r for r in c.execute(select(tm.ticket_id, tm.name, tm.due_at, tm.state, tm.fired_at)).all()
                      if r.ticket_id in ids]
        ev = schema.events.c
        event_rows = [r for r in c.execute(select(ev.ticket_id, ev.kind)).all() if r.ticket_id in ids]
        o = schema.outbox.c
        outbox_rows = [r for r in c.execute(select(o.ticket_id, o.recipient, o.text, o.state, o.resends)).all()
                       if r.ticket_id in ids or r.recipient in numbers]
        ib = schema.inbound.c
        inbound = [r for r in c.execute(select(ib.sender, ib.outcome, ib.ticket_id)).all() if r.sender in numbers]
        bx = schema.inbox.c
        inbox_states = Counter(r.state for r in c.execute(select(bx.state, bx.kind)).all() if r.kind == "sms")

    naive_end = end.replace(tzinfo=None)
    grace = timedelta(seconds=OVERDUE_GRACE)
    overdue = [r for r in timer_rows if r.state == "pending" and r.due_at < naive_end - grace]
    quarantined = [r for r in timer_rows if r.state == "quarantined"]
    per_ticket = Counter((r.ticket_id, r.kind) for r in event_rows
                         if r.kind in ("follow_up_sms_sent", "close_follow_up", "convert"))
    twice = sorted({tid for (tid, _kind), n in per_ticket.items() if n > 1})
    lateness = sorted((r.fired_at - r.due_at).total_seconds() for r in timer_rows if r.state == "fired")
    at_smsc = whole_messages(smsc)
    unsent = [r for r in outbox_rows if r.state != "completed"]
    vanished = [r for r in outbox_rows if r.state == "completed" and at_smsc[(r.recipient, r.text)] == 0]
    ours = {(r.recipient, r.text) for r in outbox_rows}
    duplicates = sum(n - 1 for key, n in at_smsc.items() if key in ours and n > 1)
    received_from = {r.sender for r in inbound}
    outcomes = Counter(r.outcome for r in inbound)
    follow_up_ids = set(plan.follow_ups.values())
    closed = Counter(r.kind for r in event_rows if r.ticket_id in follow_up_ids
                     and r.kind in ("close_follow_up", "convert"))
    return {
        "tickets": len(ids),
        "follow_ups": len(plan.follow_ups),
        "tickets_lost": len(ids - stored),
        "timers": len(timer_rows),
        "timers_fired": len(lateness),
        "timers_lost": len(overdue) + len(quarantined),
        "timers_quarantined": len(quarantined),
        "timers_fired_twice": len(twice),
        "messages": len(outbox_rows),
        "messages_lost": len(unsent) + len(vanished),
        "replies_injected": len(plan.replied),
        "replies_lost": len(plan.replied - received_from),
        # acknowledged to the SMSC by a worker, then lost: the SMSC will not deliver them again
        "replies_lost_after_ack": len((plan.replied - received_from) & {a[0] for a in smsc.acked}),
        "replies_converted": outcomes.get("converted", 0),
        "replies_outcomes": dict(outcomes),
        "follow_ups_closed": closed.get("close_follow_up", 0),
        "follow_ups_converted": closed.get("convert", 0),
        "inbox_sms_states": dict(inbox_states),
        "smsc_duplicates": duplicates,
        "resends_counted": sum(r.resends for r in outbox_rows),
        "timer_lateness_p50_s": _pct(lateness, 0.50),
        "timer_lateness_p99_s": _pct(lateness, 0.99),
        "timer_lateness_max_s": round(lateness[-1], 3) if lateness else 0.0,
    }


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    return round(values[min(len(values) - 1, int(q * len(values)))], 3)


def report(figures: dict[str, Any], echo: Callable[[str], None] = print) -> None:
    """The figures for people, then one JSON object (the last line) for machines."""
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        echo(f"{key.ljust(width)}  {value}")
    echo(json.dumps({"benchmark": "soak", **figures}, ensure_ascii=False, sort_keys=True, default=str))


def broken(figures: dict[str, Any]) -> list[str]:
    """The guarantees the figures break, in words (none: nothing lost, nothing stuck)."""
    problems = [f"{figures[k]} {k.replace('_', ' ')}" for k in
                ("tickets_lost", "timers_lost", "timers_fired_twice", "messages_lost", "replies_lost")
                if figures[k]]
    if figures["smsc_duplicates"] > figures["resends_counted"]:
        problems.append(f"{figures['smsc_duplicates']} duplicates at the SMSC but only "
                        f"{figures['resends_counted']} re-sends counted")
    if figures.get("worker_crashes"):
        problems.append(f"{figures['worker_crashes']} workers exited by themselves")
    if any(figures["worker_exit_codes"]):
        problems.append(f"a worker did not stop cleanly (exit codes {figures['worker_exit_codes']})")
    return problems


__all__ = ["SoakConfig", "broken", "measure", "report", "run_soak", "soak_standard", "whole_messages"]
