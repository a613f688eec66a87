"""The demo's summary and the KPIs, counted by the database, against the same figures computed
from every ticket loaded into memory (how they were computed before), on a small province."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from complaintkit import demo as scenario
from complaintkit.core.model import TicketState
from complaintkit.demo_summary import DemoResult, summarize
from complaintkit.parts.reports import queries as reports
from complaintkit.parts.return_visits.store import all_visits
from complaintkit.parts.special.queries import marker_counts


@pytest.fixture
def province(ck_db_url: str) -> Iterator[tuple[Any, Any, datetime, DemoResult]]:
    """60 complaints over 4 days, through the whole process: (kit, clock, start, result)."""
    from complaintkit.engine.outbox import Outbox, RetryPolicy
    from complaintkit.engine.store import Store
    from complaintkit.engine.worker import Worker
    from complaintkit.hooks.manager import Plugins
    from complaintkit.kit import ComplaintKit
    from complaintkit.testing import FakeMail, FakeSms, VirtualClock

    clock = VirtualClock()
    kit = ComplaintKit(Store.open(ck_db_url), plugins=Plugins.discover(), clock=clock)
    sms = FakeSms()
    mail = FakeMail.for_departments(d.code for d in kit.standard.departments)
    worker = Worker(kit, Outbox(kit, sms=sms, email=mail, retry=RetryPolicy(first=timedelta(seconds=5))))
    clock.attach(worker)
    start = clock.now()
    result = scenario.run(kit, clock, worker, scenario.Sms(sms, sms.reply), tickets=60, days=4, seed=5)
    yield kit, clock, start, result
    worker.outbox.close()
    kit.close()


def in_memory(kit: Any, start: datetime, end: datetime, arbitrated: int) -> DemoResult:
    """The summary as the demo computed it before: every ticket, inbound row, message, visit
    and event loaded."""
    with kit.store.read() as tx:
        every = tx.find_tickets()
        all_tickets = [t for t in every if t.kind.value != "remedy"]
        inbound = tx.inbound()
        messages = tx.messages()
        visits = all_visits(tx)
        histories = [(t, tx.events(t.id)) for t in every]
    replies: Counter[str] = Counter(row["outcome"] for row in inbound)
    by_state = Counter(t.state.value for t in all_tickets)
    archived = [t for t in all_tickets if t.state is TicketState.ARCHIVED and t.kind.value == "normal"]
    hours = [(t.updated_at - t.created_at).total_seconds() / 3600 for t in archived]
    done = [v for v in visits if not v.is_open]
    kpis = reports.compute(histories, start, end + timedelta(seconds=1))
    batches = kit.parts.special.batches()
    return DemoResult(
        special=marker_counts(all_tickets),
        batch_callers=sum(b.callers for b in batches),
        batch_warnings=sum(1 for b in batches if b.warning_at is not None),
        batch_cleared=sum(1 for b in batches if b.state == "cleared"),
        arbitrated=arbitrated,
        tickets=len(all_tickets),
        by_state=dict(sorted(by_state.items())),
        overdue=sum(1 for t in all_tickets if any(m.value == "overdue" for m in t.markers)),
        archived=by_state.get("archived", 0),
        average_handling_hours=sum(hours) / len(hours) if hours else 0.0,
        follow_ups=sum(1 for t in all_tickets if t.problem_type),
        replies=dict(replies),
        sms_sent=sum(1 for m in messages if m["channel"] == "sms" and m["state"] == "completed"),
        messages_failed=sum(1 for m in messages if m["state"] == "failed"),
        virtual_days=(end - start).total_seconds() / 86400,
        visits_by_channel=dict(sorted(Counter(v.channel.value for v in done).items())),
        visits_by_outcome=dict(sorted(Counter(v.outcome for v in done).items())),
        remedy_tickets=len(every) - len(all_tickets),
        tracking_rounds=sum(row.rounds for row in kit.parts.tracking.tracked()),
        return_visit_timeliness=kpis.return_visit_timeliness,
    )


def test_the_summary_and_the_kpis_counted_by_the_database_are_those_computed_in_memory(
        province: tuple[Any, Any, datetime, DemoResult], monkeypatch: pytest.MonkeyPatch) -> None:
    """One scenario per database for both (it takes seconds to run)."""
    kit, clock, start, result = province
    old = in_memory(kit, start, clock.now(), result.arbitrated)
    # the run had something to count on every line that reads the ticket's JSON
    assert result.tickets == 60 and result.follow_ups and result.overdue and result.special["misdispatched"]
    assert result.remedy_tickets and result.replies and result.visits_by_channel
    assert summarize(kit, start, clock.now(), arbitrated=result.arbitrated) == result
    # the mean is summed exactly now, where the old one added rounded hours: the same to 1e-12
    assert result.average_handling_hours == pytest.approx(old.average_handling_hours, rel=1e-12)
    old.average_handling_hours = result.average_handling_hours
    assert result == old
    assert list(result.replies) == list(old.replies)  # the outcomes in the order they first came

    # the KPIs, read a chunk of tickets at a time, are those of every ticket and its events
    monkeypatch.setattr(reports, "CHUNK", 7)  # many chunks, and a last one not full
    with kit.store.read() as tx:
        histories = [(t, tx.events(t.id)) for t in tx.find_tickets()]
    departments = Counter(t.department for t, _ in histories)
    windows = [(start, clock.now() + timedelta(seconds=1)),
               (start + timedelta(days=1), start + timedelta(days=2)),
               (start + timedelta(days=2, hours=10), start + timedelta(days=2, hours=14)),
               (clock.now() + timedelta(days=1), clock.now() + timedelta(days=2))]
    for lo, hi in windows:
        for department in (None, *[d for d, _ in departments.most_common(2)]):
            want = reports.compute(histories, lo, hi, department=department)
            assert reports.kpis(kit, lo, hi, department=department) == want, (lo, hi, department)
    whole = reports.kpis(kit, *windows[0])
    assert whole.accepted and whole.deadlines_met and whole.return_visits_met
    assert whole.return_visit_timeliness == result.return_visit_timeliness
