"""``quality.toml``: the monthly quality inspection of acceptance (SPEC I1), checked at load.

``[sampling]`` says how many accepted complaints are drawn each month (``quota``), the least from
every stratum (``min_per_stratum``), what a stratum is made of (``strata``: any of ``city``,
``category``, ``handler``), the default ``seed`` and the ``pass_mark`` of an inspection. Each
``[[norm]]`` is one line of the scorecard — S001 names four: service language, call-transfer
norms, acceptance norms, ticket-record norms — with its ``weight`` (the weights add up to 100)
and the ``items`` an inspector checks.
"""

from __future__ import annotations

import attrs

#: what a stratum may be made of
STRATA = ("city", "category", "handler")


@attrs.define(frozen=True)
class Sampling:
    quota: int = 30
    min_per_stratum: int = 1
    strata: tuple[str, ...] = STRATA
    seed: str = "complaintkit"
    pass_mark: int = 80


@attrs.define(frozen=True)
class Norm:
    """One line of the scorecard."""

    code: str
    name: str
    weight: int
    items: tuple[str, ...] = ()


@attrs.define(frozen=True)
class QualitySpec:
    sampling: Sampling
    norms: tuple[Norm, ...]

    def norm(self, code: str) -> Norm | None:
        return next((n for n in self.norms if n.code == code), None)


def check(spec: QualitySpec) -> list[str]:
    problems: list[str] = []
    s = spec.sampling
    where = "quality.toml: $.sampling"
    if not 1 <= s.quota <= 100_000:
        problems.append(f"{where}.quota: must be between 1 and 100000")
    if not 0 <= s.min_per_stratum <= 1000:
        problems.append(f"{where}.min_per_stratum: must be between 0 and 1000")
    if not 0 <= s.pass_mark <= 100:
        problems.append(f"{where}.pass_mark: must be between 0 and 100")
    for i, key in enumerate(s.strata):
        if key not in STRATA:
            problems.append(f"{where}.strata[{i}]: {key[:40]!r}: use any of {', '.join(STRATA)}")
    if len(set(s.strata)) != len(s.strata):
        problems.append(f"{where}.strata: a key is named twice")
    if not s.seed or len(s.seed) > 60:
        problems.append(f"{where}.seed: one to 60 characters")
    if not spec.norms:
        problems.append("quality.toml: $.norm: the scorecard has no norm")
    seen: set[str] = set()
    for i, n in enumerate(spec.norms):
        at = f"quality.toml: $.norm[{i}]"
        if not n.code or any(c.isspace() for c in n.code) or len(n.code) > 40:
            problems.append(f"{at}.code: {n.code[:40]!r}: a code is one word of at most 40 characters")
        if n.code in seen:
            problems.append(f"{at}.code: {n.code!r} is defined twice")
        seen.add(n.code)
        if not n.name:
            problems.append(f"{at}.name: required text is missing")
        if not 1 <= n.weight <= 100:
            problems.append(f"{at}.weight: must be between 1 and 100")
    if spec.norms and sum(n.weight for n in spec.norms) != 100:
        problems.append(f"quality.toml: $.norm: the weights add up to {sum(n.weight for n in spec.norms)}, not 100")
    return problems


__all__ = ["STRATA", "Norm", "QualitySpec", "Sampling", "check"]
