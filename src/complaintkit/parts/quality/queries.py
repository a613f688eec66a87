"""The quality inspection's read side: a month's results per handler and per norm (SPEC I1)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from complaintkit.standard.quality import QualitySpec


@attrs.define(frozen=True)
class HandlerResult:
    handler: str
    inspected: int
    passed: int
    #: the mean weighted total
    mean: float
    #: each norm's mean score
    norms: dict[str, float]


@attrs.define(frozen=True)
class NormResult:
    code: str
    name: str
    weight: int
    inspected: int
    mean: float
    #: inspections whose score on this norm is under the pass mark
    below_pass_mark: int


@attrs.define(frozen=True)
class QualityReport:
    month: str
    sampled: int
    inspected: int
    passed: int
    by_handler: tuple[HandlerResult, ...]
    by_norm: tuple[NormResult, ...]


def report(month: str, spec: QualitySpec, sampled: int, rows: Sequence[dict[str, Any]]) -> QualityReport:
    by_handler: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_handler.setdefault(r["handler"], []).append(r)

    def mean(values: Sequence[float]) -> float:
        return round(sum(values) / len(values), 2) if values else 0.0

    handlers = tuple(
        HandlerResult(h, len(rs), sum(1 for r in rs if r["passed"]), mean([r["total"] / 100 for r in rs]),
                      {n.code: mean([r["scores"][n.code] for r in rs if n.code in r["scores"]]) for n in spec.norms})
        for h, rs in sorted(by_handler.items()))
    mark = spec.sampling.pass_mark
    norms = tuple(
        NormResult(n.code, n.name, n.weight, sum(1 for r in rows if n.code in r["scores"]),
                   mean([r["scores"][n.code] for r in rows if n.code in r["scores"]]),
                   sum(1 for r in rows if r["scores"].get(n.code, 100) < mark))
        for n in spec.norms)
    return QualityReport(month, sampled, len(rows), sum(1 for r in rows if r["passed"]), handlers, norms)


__all__ = ["HandlerResult", "NormResult", "QualityReport", "report"]
