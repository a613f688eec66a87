"""``complaintkit bench permissions``: what one permission check costs (SPEC H3).

The runner calls ``authorize`` for every command, so its cost is paid by every accept, reply
and timer. It is measured here on the installed standard in its three outcomes — allowed,
refused for the role, refused for the amount — and with a department's scope over a ticket;
``complaintkit bench intake`` prints the allowed figure too, next to the cost of a whole accept.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime
from typing import Any

import click

from complaintkit.bench.report import emit


def measure(checks: int = 200_000, rounds: int = 5) -> dict[str, float]:
    """Microseconds per check, the median of ``rounds``, for each case."""
    from complaintkit.core.model import (
        Actor,
        Channel,
        Customer,
        Msisdn,
        Role,
        Ticket,
        TicketKind,
        TicketState,
        Urgency,
    )
    from complaintkit.hooks.manager import Plugins
    from complaintkit.parts.permissions.rules import Policy, Resource, authorize

    standard = Plugins.discover().standard()
    if standard is None:
        raise click.ClickException("no province standard installed (complaintkit-baseline)")
    policy = Policy.build(standard)
    now = datetime(2026, 3, 2, 1, tzinfo=UTC)
    ticket = Ticket("CK0001", TicketKind.NORMAL, TicketState.IN_HANDLING, Customer(Msisdn("13812345678")),
                    Channel.HOTLINE, "hotline", "x", Urgency.GENERAL, now, now, "fd001", "dept:network_dept",
                    department="network_dept")
    desk = Actor("fd001", Role.FRONT_DESK, "service_centre")
    cases: dict[str, tuple[Actor, str, Resource]] = {
        "allowed (front desk accepts)": (desk, "accept", Resource()),
        "allowed, on a ticket (department replies)": (Actor("n1", Role.DEPARTMENT, "network_dept"), "reply",
                                                      Resource((ticket,))),
        "refused for the role (front desk archives)": (desk, "archive", Resource((ticket,))),
        "refused for the amount (promise of 50.01 yuan)": (desk, "boss:refund_promise", Resource((), 5001)),
    }
    found: dict[str, float] = {}
    for name, (actor, action, resource) in cases.items():
        per_round = []
        for _ in range(rounds):
            started = time.perf_counter()
            for _ in range(checks // rounds):
                authorize(actor, action, resource, policy)
            per_round.append((time.perf_counter() - started) / (checks // rounds) * 1e6)
        found[name] = statistics.median(per_round)
    return found


@click.command()
@click.option("--checks", default=200_000, show_default=True, help="Checks per case.")
def permissions(checks: int) -> None:
    """Microseconds per permission check (the runner makes one per command)."""
    found = measure(checks)
    rows: list[list[Any]] = [[name, round(us, 3)] for name, us in found.items()]
    figures: dict[str, Any] = {"checks": checks, **{f"case_{i}_us": round(us, 3) for i, us in enumerate(found.values())},
                               "max_us": round(max(found.values()), 3), "target_met": max(found.values()) < 50}
    emit("permissions", ["case", "µs per check (median of rounds)"], rows, figures)


__all__ = ["measure", "permissions"]
