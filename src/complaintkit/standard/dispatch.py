"""The standard's chapter on handling, as data: ``dispatch.toml`` (SPEC A6, D1–D6, E2).

=======================  ==========================================================================
``[[skill_group]]``      the business lines of the back office or the specialist seats (A6): a
                         code, a name, the category subtrees it handles
``[[route]]``            the dispatch standard (D1): a category subtree (and, optionally, the
                         customer's area) → a department; ``direct = true`` dispatches it at once,
                         skipping the pool (D2)
``[[transfer]]``         the transfer graph (D3, D4): two ends that may transfer to each other, each
                         a department code or ``level:<level>`` (every department of that level)
``[[handler]]``          handlers with their skills and skill level (D6, E6)
``[[batch_threshold]]``  callers that start a batch warning, by category and area (E2)
=======================  ==========================================================================

Everything here is checked when the standard loads: each edge's ends exist, every department can
reach the complaint-management department, every route's category and department exist, every
handler's skills are skill groups — each problem naming ``dispatch.toml`` and the field.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import attrs

from complaintkit.core.model import Role

if TYPE_CHECKING:
    from complaintkit.standard import Department, Standard

LEVEL = "level:"


@attrs.define(frozen=True)
class SkillGroup:
    """A business line (基础通信, 自有业务, 资费计费 …) of the back office or the specialist seats."""

    code: str
    name: str
    #: category codes; each covers its whole subtree
    categories: tuple[str, ...] = ()


@attrs.define(frozen=True)
class Route:
    """One line of the dispatch standard (D1): the most specific matching route wins (the
    deepest category, then a route naming the customer's area over one that does not)."""

    category: str
    department: str
    #: the customer's area (the city the CRM gives); empty = any
    area: str = ""
    #: dispatch automatically at acceptance, skipping the back-office pool (D2)
    direct: bool = False
    #: a new ticket of this route goes to a high-skill handler (D6)
    high_skill: bool = False


@attrs.define(frozen=True)
class Transfer:
    """An edge of the transfer graph: its two ends may transfer to each other (two-way, D3)."""

    between: tuple[str, str]


@attrs.define(frozen=True)
class Handler:
    """A person who handles tickets, with the lines they know and how well (1 = new … 5 = expert)."""

    id: str
    role: Role
    skills: tuple[str, ...] = ()
    level: int = 1


@attrs.define(frozen=True)
class BatchThreshold:
    """How many callers of one category (and area) start a batch warning (E2)."""

    threshold: int
    category: str = ""
    area: str = ""


@attrs.define(frozen=True)
class DispatchStandard:
    skill_groups: tuple[SkillGroup, ...] = ()
    routes: tuple[Route, ...] = ()
    transfers: tuple[Transfer, ...] = ()
    handlers: tuple[Handler, ...] = ()
    batch_thresholds: tuple[BatchThreshold, ...] = ()

    # -- look-ups ---------------------------------------------------------------------------------

    def route_for(self, path: Sequence[str], area: str = "") -> Route | None:
        """The route of a category (its codes from the root down) for a customer of ``area``."""
        best: tuple[tuple[int, int], Route] | None = None
        for route in self.routes:
            if route.category not in path or (route.area and route.area != area):
                continue
            score = (path.index(route.category), 1 if route.area else 0)
            if best is None or score > best[0]:
                best = (score, route)
        return best[1] if best else None

    def skill_group_for(self, path: Sequence[str]) -> SkillGroup | None:
        """The business line whose categories cover the deepest part of ``path``."""
        best: tuple[int, SkillGroup] | None = None
        for group in self.skill_groups:
            for code in group.categories:
                if code in path and (best is None or path.index(code) > best[0]):
                    best = (path.index(code), group)
        return best[1] if best else None

    def handler(self, handler_id: str) -> Handler | None:
        for h in self.handlers:
            if h.id == handler_id:
                return h
        return None

    def high_skill_handler(self, group: str | None, min_level: int, *, key: str, role: Role | None = None,
                           exclude: Iterable[str] = ()) -> Handler | None:
        """A high-skill handler of ``group`` (any group when None) and ``role`` (any when None),
        picked by a stable hash of ``key`` (the ticket id): the same ticket always gets the same
        one, and the load spreads."""
        skip = set(exclude)
        found = sorted((h for h in self.handlers if h.level >= min_level and h.id not in skip
                        and (group is None or group in h.skills) and (role is None or h.role is role)),
                       key=lambda h: h.id)
        if not found:
            return None
        digest = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16)
        return found[digest % len(found)]

    def batch_threshold_for(self, path: Sequence[str], area: str, default: int) -> int:
        best: tuple[tuple[int, int], int] | None = None
        for t in self.batch_thresholds:
            if t.category and t.category not in path:
                continue
            if t.area and t.area != area:
                continue
            score = (path.index(t.category) + 1 if t.category else 0, 1 if t.area else 0)
            if best is None or score > best[0]:
                best = (score, t.threshold)
        return best[1] if best else default

    def transfer_targets(self, department: str, departments: Sequence[Department]) -> list[str]:
        """Every department ``department`` may transfer to directly (D3), sorted."""
        return sorted(_neighbours(self.transfers, departments).get(department, set()))

    def allows(self, source: str, target: str, departments: Sequence[Department]) -> bool:
        """Whether the graph has an edge; a standard without a graph allows every transfer."""
        if not self.transfers:
            return True
        return target in _neighbours(self.transfers, departments).get(source, set())


def _members(end: str, departments: Sequence[Department]) -> set[str]:
    if end.startswith(LEVEL):
        level = end[len(LEVEL):]
        return {d.code for d in departments if d.level == level}
    return {end}


def _neighbours(transfers: Sequence[Transfer], departments: Sequence[Department]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for edge in transfers:
        left, right = (_members(end, departments) for end in edge.between)
        for a in left:
            for b in right:
                if a != b:
                    graph.setdefault(a, set()).add(b)
                    graph.setdefault(b, set()).add(a)
    return graph


# -- checks when the standard loads -------------------------------------------------------------------


def check(standard: Standard) -> list[str]:
    """Cross-file rules of ``dispatch.toml``; every problem names the file and the field."""
    d = standard.dispatch
    where = "dispatch.toml: $"
    problems: list[str] = []
    departments = {dep.code: dep for dep in standard.departments}
    levels = {dep.level for dep in standard.departments}
    categories = {c.code for c, _ in standard.iter_categories()}
    groups = set()
    for i, g in enumerate(d.skill_groups):
        if g.code in groups:
            problems.append(f"{where}.skill_group[{i}].code: {g.code!r} is defined twice")
        groups.add(g.code)
        for j, code in enumerate(g.categories):
            if code not in categories:
                problems.append(f"{where}.skill_group[{i}].categories[{j}]: unknown category {code!r}")
    for i, r in enumerate(d.routes):
        if r.category not in categories:
            problems.append(f"{where}.route[{i}].category: unknown category {r.category!r}")
        if r.department not in departments:
            problems.append(f"{where}.route[{i}].department: {r.department!r} is not in organisation.toml")
    for i, t in enumerate(d.transfers):
        if len(t.between) != 2:
            problems.append(f"{where}.transfer[{i}].between: an edge has two ends, not {len(t.between)}")
            continue
        for j, end in enumerate(t.between):
            if end.startswith(LEVEL):
                if end[len(LEVEL):] not in levels:
                    problems.append(f"{where}.transfer[{i}].between[{j}]: no department of level "
                                    f"{end[len(LEVEL):]!r} in organisation.toml")
            elif end not in departments:
                problems.append(f"{where}.transfer[{i}].between[{j}]: {end!r} is not in organisation.toml")
    if d.transfers and not problems:
        problems.extend(_reachability(d, standard))
    seen: set[str] = set()
    for i, h in enumerate(d.handlers):
        if h.id in seen:
            problems.append(f"{where}.handler[{i}].id: {h.id!r} is defined twice")
        seen.add(h.id)
        if not 1 <= h.level <= 5:
            problems.append(f"{where}.handler[{i}].level: {h.level} is not between 1 and 5")
        for j, skill in enumerate(h.skills):
            if skill not in groups:
                problems.append(f"{where}.handler[{i}].skills[{j}]: {skill!r} is not a skill_group")
    for i, b in enumerate(d.batch_thresholds):
        if not 1 <= b.threshold <= 1_000_000:
            problems.append(f"{where}.batch_threshold[{i}].threshold: {b.threshold} is not between 1 and 1000000")
        if b.category and b.category not in categories:
            problems.append(f"{where}.batch_threshold[{i}].category: unknown category {b.category!r}")
    return problems


def _reachability(d: DispatchStandard, standard: Standard) -> list[str]:
    """Every department can reach the complaint-management department through the graph: a ticket
    nobody owns must always be able to end up where it is arbitrated (D5)."""
    home = standard.settings.complaint_department
    graph = _neighbours(d.transfers, standard.departments)
    reached = {home}
    frontier = [home]
    while frontier:
        for n in graph.get(frontier.pop(), ()):
            if n not in reached:
                reached.add(n)
                frontier.append(n)
    return [f"dispatch.toml: $.transfer: department {dep.code!r} cannot reach the complaint-management "
            f"department {home!r}" for dep in standard.departments if dep.code not in reached]


__all__ = ["BatchThreshold", "DispatchStandard", "Handler", "Route", "SkillGroup", "Transfer", "check"]
