"""SPEC I1: the monthly quality inspection — stratified, seeded sampling on a frozen frame; scorecards.

A simulated month of accepted complaints (March 2026) by several agents, in several categories;
the sample is drawn on the first of April by the detector, or by hand for another seed.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import pytest

from complaintkit.core.errors import InvalidInput, PermissionDenied, RuleRefused
from complaintkit.core.model import Actor, Role
from complaintkit.engine.outbox import Outbox
from complaintkit.engine.worker import Worker
from complaintkit.parts.quality import rules
from complaintkit.testing import FakeMail, FakeSms

pytestmark = pytest.mark.complaintkit(boss="lenient", clock="2026-03-02T09:00:00+08:00")

AGENTS = [Actor(f"fd{n:03d}", Role.FRONT_DESK, "service_centre") for n in range(1, 5)]
INSPECTOR = Actor("qa001", Role.BACK_OFFICE, "service_centre")
CATEGORIES = ["call_quality", "bill_dispute", "monternet_unwanted"]  # three trees: basic, billing, monternet
SCORES = {"service_language": 90, "call_transfer": 80, "acceptance": 70, "ticket_record": 100}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def simulate_march(kit: Any, clock: Any) -> list[Any]:
    """36 complaints over March: agent i accepts, category by turn, one recording each."""
    accepted = []
    for n in range(36):
        agent = AGENTS[n % len(AGENTS)]
        accepted.append(kit.accept(agent, msisdn=f"138{n:08d}", channel="hotline", category=CATEGORIES[n % 3],
                                   description="客户反映问题", recording=f"rec-202603-{n:04d}"))
        clock.advance(hours=20)  # 36 × 20 h: from 2 March to 31 March
    return accepted


def test_I1_allocation_meets_the_quota_and_every_stratum() -> None:
    counts = rules.allocate({"a": 50, "b": 30, "c": 15, "d": 5, "e": 1}, 20, 1)
    assert counts == {"a": 10, "b": 6, "c": 3, "d": 1, "e": 1}
    assert sum(counts.values()) == 21  # the least per stratum may go beyond the quota
    assert rules.allocate({"a": 2}, 20, 1) == {"a": 2}  # never more than a stratum holds


def test_I1_the_detector_samples_last_month_once_on_the_first(ck_kit: Any, ck_clock: Any) -> None:
    march = simulate_march(ck_kit, ck_clock)
    worker = Worker(ck_kit, Outbox(ck_kit, sms=FakeSms(), email=FakeMail()))
    ck_clock.advance_to(at("2026-04-01T00:30:00+08:00"))
    worker.detect()
    cycle = ck_kit.parts.quality.cycle("2026-03")
    assert cycle is not None and cycle["frame_size"] == 36 and cycle["seed"] == "baseline"
    sample = ck_kit.parts.quality.sample("2026-03")
    spec = ck_kit.standard.quality
    # every stratum (city × category × agent: 1 × 3 × 4 = 12, three each) gets its share of 30
    by_stratum = Counter(r["stratum"] for r in sample)
    frame_strata = Counter(r["stratum"] for r in ck_kit.parts.quality.frame("2026-03"))
    assert len(frame_strata) == 12
    wanted = rules.allocate(frame_strata, spec.sampling.quota, spec.sampling.min_per_stratum)
    assert by_stratum == Counter({s: n for s, n in wanted.items() if n})
    assert len(sample) == 30 >= spec.sampling.quota
    # the recording's reference came with the ticket from the channel
    recordings = {t.id: t.recording for t in march}
    assert all(r["recording"] == recordings[r["ticket_id"]] for r in sample)
    # the next day (and another worker) leaves the started cycle as it is
    ck_clock.advance(days=1)
    worker.detect()
    assert ck_kit.parts.quality.sample("2026-03") == sample


def test_I1_same_month_and_seed_same_sample_another_seed_another(ck_kit: Any, ck_clock: Any) -> None:
    simulate_march(ck_kit, ck_clock)
    tickets = ck_kit.tickets()
    frame = rules.frame(tickets, "2026-03", ck_kit.standard, ck_kit.calendar.tz)
    sampling = ck_kit.standard.quality.sampling
    first = rules.draw(frame, sampling, "seed-1", "2026-03")
    assert rules.draw(frame, sampling, "seed-1", "2026-03") == first
    assert rules.draw(tuple(reversed(frame)), sampling, "seed-1", "2026-03") == first  # order does not matter
    assert rules.draw(frame, sampling, "seed-2", "2026-03") != first
    ck_clock.advance_to(at("2026-04-02T09:00:00+08:00"))
    ck_kit.parts.quality.start_cycle("2026-03", INSPECTOR, seed="seed-1")
    assert tuple(r["ticket_id"] for r in ck_kit.parts.quality.sample("2026-03")) == first


def test_I1_the_frame_is_frozen_when_the_cycle_starts(ck_kit: Any, ck_clock: Any) -> None:
    march = simulate_march(ck_kit, ck_clock)
    ck_clock.advance_to(at("2026-04-01T09:00:00+08:00"))
    ck_kit.parts.quality.start_cycle("2026-03", INSPECTOR)
    frame = ck_kit.parts.quality.frame("2026-03")
    sample = ck_kit.parts.quality.sample("2026-03")
    # afterwards a ticket moves to a city company: the frozen frame keeps the stratum it had
    ck_kit.forward(march[0].id, "city_north", INSPECTOR, reason="属地问题")
    ck_kit.parts.quality.start_cycle("2026-03", INSPECTOR, seed="another")  # already started: unchanged
    assert ck_kit.parts.quality.frame("2026-03") == frame
    assert ck_kit.parts.quality.sample("2026-03") == sample


def test_I1_an_inspection_is_recorded_and_reported_per_handler_and_norm(ck_kit: Any, ck_clock: Any) -> None:
    simulate_march(ck_kit, ck_clock)
    ck_clock.advance_to(at("2026-04-01T09:00:00+08:00"))
    ck_kit.parts.quality.start_cycle("2026-03", INSPECTOR)
    sample = ck_kit.parts.quality.sample("2026-03")
    first, second = sample[0], next(r for r in sample if r["handler"] != sample[0]["handler"])
    card = ck_kit.parts.quality.inspect(first["ticket_id"], INSPECTOR, SCORES, notes="开头语不规范")
    # weighted: 90×25 + 80×20 + 70×30 + 100×25 = 8450 hundredths
    assert card.total == 84.5 and card.passed
    ck_kit.parts.quality.inspect(second["ticket_id"], INSPECTOR, {**SCORES, "acceptance": 20})
    event = ck_kit.history(first["ticket_id"])[-1]
    assert event.kind == "quality_inspected" and event.data == {"month": "2026-03", "total": 84.5, "passed": True}

    report = ck_kit.parts.quality.report("2026-03")
    assert (report.sampled, report.inspected, report.passed) == (30, 2, 1)
    handlers = {h.handler: h for h in report.by_handler}
    assert handlers[first["handler"]].mean == 84.5 and handlers[first["handler"]].norms["acceptance"] == 70
    assert handlers[second["handler"]].passed == 0 and handlers[second["handler"]].mean == 69.5
    norms = {n.code: n for n in report.by_norm}
    assert set(norms) == {"service_language", "call_transfer", "acceptance", "ticket_record"}
    assert norms["acceptance"].mean == 45 and norms["acceptance"].below_pass_mark == 2
    assert norms["ticket_record"].below_pass_mark == 0

    with pytest.raises(RuleRefused, match="already inspected"):
        ck_kit.parts.quality.inspect(first["ticket_id"], INSPECTOR, SCORES)


def test_I1_bad_scorecards_and_unsampled_tickets_are_refused(ck_kit: Any, ck_clock: Any) -> None:
    march = simulate_march(ck_kit, ck_clock)
    ck_clock.advance_to(at("2026-04-01T09:00:00+08:00"))
    ck_kit.parts.quality.start_cycle("2026-03", INSPECTOR)
    sampled = {r["ticket_id"] for r in ck_kit.parts.quality.sample("2026-03")}
    target = next(iter(sorted(sampled)))
    with pytest.raises(InvalidInput, match="scores.call_transfer"):
        ck_kit.parts.quality.inspect(target, INSPECTOR, {k: v for k, v in SCORES.items() if k != "call_transfer"})
    with pytest.raises(InvalidInput, match="scores.acceptance"):
        ck_kit.parts.quality.inspect(target, INSPECTOR, {**SCORES, "acceptance": 101})
    with pytest.raises(InvalidInput, match="scores.politeness"):
        ck_kit.parts.quality.inspect(target, INSPECTOR, {**SCORES, "politeness": 50})
    outside = next(t.id for t in march if t.id not in sampled)
    with pytest.raises(RuleRefused, match="not in any month's quality sample"):
        ck_kit.parts.quality.inspect(outside, INSPECTOR, SCORES)
    with pytest.raises(PermissionDenied, match="quality.inspect"):
        ck_kit.parts.quality.inspect(target, AGENTS[0], SCORES)  # the front desk does not inspect itself
    assert ck_kit.parts.quality.inspections("2026-03") == []
