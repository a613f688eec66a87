"""A batch warning cleared for many callers while the worker delivering it is killed (SPEC E2, K4).

The front desk records the callers (one command), the lead department clears the warning — one
SMS per caller queued in the clearing transaction — and a ``complaintkit worker`` delivers them
through a local SMSC. The worker is killed with SIGKILL while the SMS are going out (each time a
share of them has reached the SMSC), started again, and finally drains. Then:

- callers without the SMS at the SMSC (must be 0);
- outbox rows per caller (must be exactly 1 each: the clearing decided once);
- duplicates at the SMSC (a caller who got the SMS twice or more) against the re-sends the outbox
  counted: a kill re-sends at most what was in flight when it died, and counts it.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from complaintkit.bench.soak import (
    SoakConfig,
    Workers,
    replaying_smsc,
    soak_standard,
    whole_messages,
)
from complaintkit.core.model import Actor, Role

DESK = Actor("fd-batch", Role.FRONT_DESK, "service_centre")
LEAD = Actor("net-batch", Role.DEPARTMENT, "network_dept")


def run_batch_crash(db_url: str, workdir: Path, *, callers: int = 10_000, kill_at: tuple[float, ...] = (0.2, 0.6),
                    timeout: float = 300.0, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Record ``callers`` callers, clear the warning, kill the worker each time the share of SMS
    at the SMSC passes one of ``kill_at``; return the figures."""
    import json

    from complaintkit.engine.store import schema
    from complaintkit.kit import ComplaintKit
    from complaintkit.standard import load_standard

    workdir.mkdir(parents=True, exist_ok=True)
    standard_dir = soak_standard(workdir / "standard")
    kit = ComplaintKit.open(db_url, standard=load_standard(standard_dir))
    smsc = replaying_smsc()
    smsc.start()
    started = time.monotonic()
    try:
        numbers = [str(13700000000 + i) for i in range(callers)]
        recorded = kit.parts.special.record_callers(DESK, numbers=numbers, category="call_quality")
        batch = recorded.batch
        assert batch.state == "warning", batch
        settings = workdir / "settings.toml"
        settings.write_text("[sms]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in smsc.settings.items())
                            # a killed worker's claimed messages are taken over after 5 s, not 30
                            + "[outbox]\nlease = 5\n",
                            encoding="utf-8")
        workers = Workers(SoakConfig(db_url=db_url, workdir=workdir, workers=1), settings, standard_dir)
        workers.start_all()
        cleared = kit.parts.special.clear_warning(batch.id, LEAD, result="基站已恢复")
        log(f"cleared {batch.id}: {cleared.sms_queued} SMS queued in {time.monotonic() - started:.1f}s")
        pending = sorted(kill_at)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with smsc._lock:
                at_smsc = len(smsc.received)
            share = at_smsc / callers
            if pending and share >= pending[0]:
                pending.pop(0)
                workers.kill(0)
                log(f"killed the worker with {at_smsc} of {callers} SMS at the SMSC")
                time.sleep(0.2)
                workers.revive()
            if not pending and _delivered(kit, batch.id) == callers:
                break
            time.sleep(0.05)
        codes = workers.stop_all()
        with kit.store.read() as tx:
            o = schema.outbox.c
            rows = tx.conn.execute(select(o.recipient, o.text, o.state, o.resends)
                                   .where(o.key.like(f"batch:{batch.id}:solved:%"))).all()
        text = rows[0].text if rows else ""
        counts = whole_messages(smsc)
        per_caller = Counter(r.recipient for r in rows)
        received = {n: counts[(n, text)] for n in numbers}
        figures = {
            "callers": callers,
            "sms_queued": cleared.sms_queued,
            "outbox_rows": len(rows),
            "callers_with_two_rows": sum(1 for n in numbers if per_caller[n] > 1),
            "completed": sum(1 for r in rows if r.state == "completed"),
            "callers_without_sms": sum(1 for n in numbers if received[n] == 0),
            "smsc_duplicates": sum(v - 1 for v in received.values() if v > 1),
            "resends_counted": sum(r.resends for r in rows),
            "kills": workers.kills,
            "worker_exit_codes": sorted(set(codes)),
            "worker_crashes": len(workers.crashes),
            "seconds": round(time.monotonic() - started, 1),
            "db": db_url.split(":")[0].split("+")[0],
        }
        return figures
    finally:
        smsc.stop()
        kit.close()


def _delivered(kit: Any, batch_id: str) -> int:
    from sqlalchemy import func

    from complaintkit.engine.store import schema

    o = schema.outbox.c
    with kit.store.read() as tx:
        return int(tx.conn.execute(select(func.count()).where(o.key.like(f"batch:{batch_id}:solved:%"),
                                                               o.state == "completed")).scalar_one())


def broken(figures: dict[str, Any]) -> list[str]:
    """Each broken guarantee, in words (empty: none)."""
    problems = []
    if figures["callers_without_sms"]:
        problems.append(f"{figures['callers_without_sms']} callers never got the SMS")
    if figures["outbox_rows"] != figures["callers"] or figures["callers_with_two_rows"]:
        problems.append(f"{figures['outbox_rows']} outbox rows for {figures['callers']} callers")
    if figures["completed"] != figures["callers"]:
        problems.append(f"{figures['callers'] - figures['completed']} SMS not completed")
    if figures["smsc_duplicates"] > figures["resends_counted"]:
        problems.append(f"{figures['smsc_duplicates']} duplicates at the SMSC but only "
                        f"{figures['resends_counted']} re-sends counted")
    if figures["worker_exit_codes"] != [0] or figures["worker_crashes"]:
        problems.append(f"the worker did not stop cleanly ({figures['worker_exit_codes']}, "
                        f"{figures['worker_crashes']} crashes)")
    return problems


__all__ = ["broken", "run_batch_crash"]
