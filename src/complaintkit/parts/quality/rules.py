"""The monthly quality inspection's rules (SPEC I1): the frame, the stratified seeded sample, the scorecard.

Pure: the same month, tickets, standard and seed always give the same frame and the same sample.
The frame is the month's accepted complaints (in the calendar's time zone), each in a stratum of
the keys the standard names (``city``: the city of the ticket's department, ``province`` when it
has none; ``category``: the top of its category tree; ``handler``: the agent who accepted it, the
owner of record). The quota is shared between strata in proportion to their size (largest
remainders), every stratum getting at least ``min_per_stratum`` (or all it has); each stratum's
tickets are then drawn with a generator seeded by the seed, the month and the stratum, so adding
a stratum does not change what another one draws.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any

import attrs

from complaintkit.core.errors import InvalidInput
from complaintkit.core.model import Ticket, TicketKind
from complaintkit.standard.quality import QualitySpec, Sampling

#: the kinds of ticket that are accepted complaints (a remedy ticket is the kit's own follow-on)
ACCEPTED_KINDS = frozenset({TicketKind.NORMAL, TicketKind.ONLINE_FOLLOW_UP})


@attrs.define(frozen=True)
class FrameEntry:
    """One accepted complaint of the month, as it was when the cycle started."""

    ticket_id: str
    city: str
    category: str
    handler: str
    recording: str = ""

    def stratum(self, keys: Sequence[str]) -> str:
        return "|".join(getattr(self, k) for k in keys) if keys else "all"


def month_of(moment: datetime, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m")


def previous_month(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:])
    return f"{year - 1}-12" if mon == 1 else f"{year}-{mon - 1:02d}"


def next_month(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:])
    return f"{year + 1}-01" if mon == 12 else f"{year}-{mon + 1:02d}"


def month_start(month: str, tz: tzinfo) -> datetime:
    return datetime(int(month[:4]), int(month[5:]), 1, tzinfo=tz)


def check_month(month: Any) -> str:
    if (not isinstance(month, str) or len(month) != 7 or month[4] != "-" or not (month[:4] + month[5:]).isdigit()
            or not 1 <= int(month[5:]) <= 12):
        raise InvalidInput("month", f"{str(month)[:20]!r} is not a month like '2026-03'")
    return month


def frame(tickets: Iterable[Ticket], month: str, standard: Any, tz: tzinfo) -> tuple[FrameEntry, ...]:
    """The month's accepted complaints, by ticket id."""
    entries = []
    for t in tickets:
        if t.kind not in ACCEPTED_KINDS or month_of(t.created_at, tz) != month:
            continue
        entries.append(FrameEntry(t.id, _city(standard, t.department), _top_category(standard, t.category),
                                  t.owner, t.recording))
    return tuple(sorted(entries, key=lambda e: e.ticket_id))


def _city(standard: Any, department: str) -> str:
    for d in standard.departments:
        if d.code == department:
            return d.city or "province"
    return "province"


def _top_category(standard: Any, code: str) -> str:
    try:
        return str(standard.category_path(code)[0])
    except InvalidInput:
        return code


def allocate(sizes: Mapping[str, int], quota: int, least: int) -> dict[str, int]:
    """How many to draw from each stratum: ``quota`` shared in proportion to the sizes (largest
    remainders, ties by stratum name), then at least ``least`` from each (or its whole size)."""
    total = sum(sizes.values())
    if total == 0:
        return {s: 0 for s in sizes}
    quota = min(quota, total)
    exact = {s: quota * n / total for s, n in sizes.items()}
    counts = {s: int(x) for s, x in exact.items()}
    left = quota - sum(counts.values())
    for s in sorted(sizes, key=lambda s: (-(exact[s] - counts[s]), s))[:left]:
        counts[s] += 1
    return {s: min(sizes[s], max(counts[s], least)) for s in sizes}


def draw(entries: Sequence[FrameEntry], sampling: Sampling, seed: str, month: str) -> tuple[str, ...]:
    """The sampled ticket ids, by id."""
    strata: dict[str, list[str]] = {}
    for e in entries:
        strata.setdefault(e.stratum(sampling.strata), []).append(e.ticket_id)
    wanted = allocate({s: len(ids) for s, ids in strata.items()}, sampling.quota, sampling.min_per_stratum)
    chosen: list[str] = []
    for stratum in sorted(strata):
        ids = sorted(strata[stratum])
        chosen += random.Random(f"{seed}|{month}|{stratum}").sample(ids, wanted[stratum])
    return tuple(sorted(chosen))


@attrs.define(frozen=True)
class Scorecard:
    """One inspection: each norm's score out of 100, the weighted total and the verdict."""

    scores: dict[str, int]
    total_hundredths: int
    passed: bool

    @property
    def total(self) -> float:
        return self.total_hundredths / 100


def score(spec: QualitySpec, scores: Mapping[str, Any]) -> Scorecard:
    """Score every norm of the standard's scorecard (0–100 each); the total is weighted."""
    if not isinstance(scores, Mapping):
        raise InvalidInput("scores", "give a score for each norm, like {'service_language': 90, …}")
    codes = [n.code for n in spec.norms]
    for code in scores:
        if code not in codes:
            raise InvalidInput(f"scores.{str(code)[:40]}", f"no such norm (the scorecard has {', '.join(codes)})")
    checked: dict[str, int] = {}
    for norm in spec.norms:
        if norm.code not in scores:
            raise InvalidInput(f"scores.{norm.code}", f"missing: every norm is scored ({norm.name})")
        value = scores[norm.code]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
            raise InvalidInput(f"scores.{norm.code}", "a whole number from 0 to 100")
        checked[norm.code] = value
    total = sum(checked[n.code] * n.weight for n in spec.norms)  # weights add up to 100: hundredths
    return Scorecard(checked, total, total >= spec.sampling.pass_mark * 100)


__all__ = ["ACCEPTED_KINDS", "FrameEntry", "Scorecard", "allocate", "check_month", "draw", "frame", "month_of",
           "month_start", "next_month", "previous_month", "score"]
