"""``roles.toml`` checked and resolved: inheritance, known permission names, amounts and scopes.

A role may ``extends`` another: it then holds every permission of that role besides its own
(front desk ⊂ specialist ⊂ back office, as the province sets it — SPEC H2). A role that extends
another may not be narrower than it: its refund authorisation may not be smaller, its scope may
not be narrower. Inheritance may not go round in a circle. Every permission named must be one the
kit knows (:data:`complaintkit.parts.permissions.catalogue.PERMISSIONS`) or one the standard
declares in a ``[[permission]]`` table (for a vendor's part), and the system's own permissions
(``system.*``) belong to no role: the kit's timers, detectors and inbox run as the system actor.
"""

from __future__ import annotations

from typing import Any

import attrs

from complaintkit.core.model import Role
from complaintkit.parts.permissions.catalogue import PERMISSIONS, SYSTEM

#: how far a role's permissions reach over tickets
SCOPES = ("all", "own_department")
#: a scope's breadth, for "may not be narrower than the role it extends"
_BREADTH = {"all": 1, "own_department": 0}
#: what the process cannot go without: some role of every standard must hold each of these (a
#: standard where nobody may accept or archive a complaint would load and then refuse everything)
REQUIRED = ("ticket.accept", "ticket.follow_up", "ticket.dispatch", "ticket.handle", "ticket.record",
            "ticket.reply", "ticket.return_visit", "ticket.archive")
#: the largest amount a standard may authorise: 1 000 000 yuan (a typo beyond that)
MOST_FEN = 100_000_000


def check(roles: tuple[Any, ...], declared: tuple[Any, ...]) -> list[str]:
    """Every problem of the roles, each naming ``roles.toml`` and the field."""
    problems: list[str] = []
    known = set(PERMISSIONS)
    for i, p in enumerate(declared):
        where = f"roles.toml: $.permission[{i}].name"
        if p.name in PERMISSIONS:
            problems.append(f"{where}: {p.name!r} is one of the kit's own permissions; declare only new ones")
        elif not p.name or any(c.isspace() for c in p.name) or len(p.name) > 60:
            problems.append(f"{where}: {p.name[:60]!r}: a permission name is one word of at most 60 characters")
        known.add(p.name)
    by_role: dict[Role, tuple[int, Any]] = {}
    for i, spec in enumerate(roles):
        where = f"roles.toml: $.role[{i}]"
        if spec.role is Role.SYSTEM:
            problems.append(f"{where}.role: the system's permissions are the kit's own; a standard may not set them")
            continue
        if spec.role in by_role:
            problems.append(f"{where}.role: {spec.role.value!r} is defined twice")
        by_role[spec.role] = (i, spec)
        for j, name in enumerate(sorted(spec.permissions)):
            if name in SYSTEM:
                problems.append(f"{where}.permissions: {name!r} belongs to the system actor only")
            elif name not in known:
                problems.append(f"{where}.permissions: unknown permission {name[:60]!r} "
                                "(see docs/permissions.md, or declare it in a [[permission]] table)")
        if spec.scope not in SCOPES:
            problems.append(f"{where}.scope: {spec.scope[:40]!r}: must be one of {', '.join(SCOPES)}")
        if not 0 <= spec.refund_limit_fen <= MOST_FEN:
            problems.append(f"{where}.refund_limit_fen: must be between 0 and {MOST_FEN}")
    for role, (i, spec) in by_role.items():
        where = f"roles.toml: $.role[{i}]"
        if spec.extends is None:
            continue
        if spec.extends not in by_role:
            problems.append(f"{where}.extends: {role.value!r} extends {spec.extends.value!r}, "
                            "which roles.toml does not define")
            continue
        chain = [role]
        parent: Role | None = spec.extends
        while parent is not None and parent in by_role:
            if parent in chain:
                circle = " → ".join(r.value for r in [*chain[chain.index(parent):], parent])
                problems.append(f"{where}.extends: inheritance goes round in a circle: {circle}")
                break
            chain.append(parent)
            parent = by_role[parent][1].extends
        base = by_role[spec.extends][1]
        if spec.refund_limit_fen < base.refund_limit_fen:
            problems.append(f"{where}.refund_limit_fen: {role.value!r} extends {base.role.value!r} but may refund "
                            f"less ({spec.refund_limit_fen} fen < {base.refund_limit_fen} fen): not a superset")
        if _BREADTH.get(spec.scope, 1) < _BREADTH.get(base.scope, 1):
            problems.append(f"{where}.scope: {role.value!r} extends {base.role.value!r} but reaches fewer tickets "
                            f"({spec.scope!r} < {base.scope!r}): not a superset")
    if not problems:
        held = set().union(*(r.permissions for r in resolve(roles))) if roles else set()
        for name in REQUIRED:
            if name not in held:
                problems.append(f"roles.toml: $.role: no role holds {name!r} ({PERMISSIONS[name]}): "
                                "the process needs someone who may")
    return problems


def resolve(roles: tuple[Any, ...]) -> tuple[Any, ...]:
    """Each role with the permissions it inherits (call only on roles that passed :func:`check`)."""
    by_role = {r.role: r for r in roles}

    def effective(spec: Any, seen: frozenset[Role]) -> frozenset[str]:
        if spec.extends is None or spec.extends in seen or spec.extends not in by_role:
            return frozenset(spec.permissions)
        return frozenset(spec.permissions) | effective(by_role[spec.extends], seen | {spec.role})

    return tuple(attrs.evolve(r, permissions=effective(r, frozenset({r.role}))) for r in roles)


__all__ = ["MOST_FEN", "REQUIRED", "SCOPES", "check", "resolve"]
