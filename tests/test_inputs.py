"""N4: text that the store could not hold, or not give back, is refused where it comes in — by
the models and the rules — with the field named and nothing stored, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from complaintkit.core import inputs
from complaintkit.core.errors import InvalidInput
from complaintkit.core.model import Actor, Customer, Msisdn, Role
from complaintkit.parts.follow_up.rules import is_reply_code

# customers the BOSS does not know are accepted with the default facts
pytestmark = pytest.mark.complaintkit(boss="lenient")

DESK = Actor("fd001", Role.FRONT_DESK, "service_centre")
BACK = Actor("bo001", Role.BACK_OFFICE, "service_centre")
NUMBER = "13812345678"


def accept(kit: Any, **overrides: Any) -> Any:
    args = {"msisdn": NUMBER, "channel": "hotline", "category": "call_quality", "description": "通话断续"}
    args.update(overrides)
    return kit.accept(DESK, **args)


def nothing_stored(kit: Any) -> bool:
    with kit.store.read() as tx:
        return tx.find_tickets() == [] and tx.pending_timers() == []


@pytest.mark.parametrize(("value", "problem"), [
    (None, "expected text, got NoneType"),
    (b"abc", "expected text, got bytes"),
    ("a\x00b", "contains a control character (U+0000) at position 1"),
    ("a\x1bb", "contains a control character (U+001B)"),
    ("a\x85b", "contains a control character (U+0085)"),
    ("ok\ud800", "contains a lone surrogate (U+D800) at position 2"),
    ("x" * 61, "61 characters is more than the 60 allowed"),
])
def test_N4_one_line_text_is_checked(value: Any, problem: str) -> None:
    with pytest.raises(InvalidInput) as info:
        inputs.line("actor.id", value, limit="actor")
    assert info.value.field == "actor.id" and problem in str(info.value)


def test_N4_prose_may_span_lines_and_the_refusal_never_repeats_the_value() -> None:
    assert inputs.prose("notes", "第一行\r\n第二行\t完") == "第一行\r\n第二行\t完"
    with pytest.raises(InvalidInput) as info:
        inputs.prose("notes", "13812345678 " * 400)
    assert "13812345678" not in str(info.value) and "4800 characters" in str(info.value)
    with pytest.raises(InvalidInput, match="must not be empty"):
        inputs.line("to", "  ", limit="actor", required=True)


@pytest.mark.parametrize(("build", "field"), [
    (lambda: Customer(Msisdn.parse(NUMBER), star_level="五星"), "customer.star_level"),
    (lambda: Customer(Msisdn.parse(NUMBER), star_level=8), "customer.star_level"),
    (lambda: Customer(Msisdn.parse(NUMBER), star_level=True), "customer.star_level"),
    (lambda: Customer(Msisdn.parse(NUMBER), name="张\x00三"), "customer.name"),
    (lambda: Customer(Msisdn.parse(NUMBER), value_tier="x" * 21), "customer.value_tier"),
    (lambda: Customer(NUMBER), "customer.msisdn"),  # type: ignore[arg-type]
    (lambda: Actor("x" * 61, Role.FRONT_DESK), "actor.id"),
    (lambda: Actor("", Role.FRONT_DESK), "actor.id"),
    (lambda: Actor("fd001", "front_desk"), "actor.role"),  # type: ignore[arg-type]
    (lambda: Actor("fd001", Role.FRONT_DESK, "d" * 61), "actor.department"),
    (lambda: Msisdn("1381234567"), "msisdn"),
    (lambda: Msisdn("+8613812345678"), "msisdn"),  # the value holds the 11 digits only; parse() takes forms
])
def test_N4_a_model_value_the_store_cannot_hold_cannot_be_built(build: Any, field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        build()
    assert info.value.field == field


def test_N4_a_star_level_in_words_is_refused_and_nothing_is_stored(ck_kit: Any) -> None:
    with pytest.raises(InvalidInput) as info:
        accept(ck_kit, star_level="五星")
    assert info.value.field == "customer.star_level"
    assert nothing_stored(ck_kit)


@pytest.mark.parametrize(("overrides", "field"), [
    ({"description": None}, "description"),
    ({"description": "断续\x00"}, "description"),
    ({"description": "断续\udc80"}, "description"),
    ({"category": "c" * 61}, "category"),
    ({"name": "王\x00伟"}, "customer.name"),
    ({"value_tier": "high\x00"}, "customer.value_tier"),
])
def test_N4_bad_intake_text_is_refused_by_field(ck_kit: Any, overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        accept(ck_kit, **overrides)
    assert info.value.field == field
    assert nothing_stored(ck_kit)


def test_N4_bad_text_in_a_command_is_refused_and_the_ticket_is_unchanged(ck_kit: Any) -> None:
    ticket = accept(ck_kit)  # direct dispatch: in handling
    commands: list[tuple[str, Any]] = [
        ("reason", lambda: ck_kit.forward(ticket.id, "billing_dept", BACK, reason="长" * 2_000_000)),
        ("reason", lambda: ck_kit.forward(ticket.id, "billing_dept", BACK, reason=None)),
        ("department", lambda: ck_kit.forward(ticket.id, "\x00", BACK, reason="不归我们")),
        ("notes", lambda: ck_kit.warm_transfer(ticket.id, "sp007", BACK, notes="客户说\x00")),
        ("to", lambda: ck_kit.warm_transfer(ticket.id, "s" * 61, BACK, notes="客户说")),
        ("final_result", lambda: ck_kit.record(ticket.id, BACK, final_result="\ud800")),
        ("contact_attempt", lambda: ck_kit.record(ticket.id, BACK, contact_attempt="yes")),
        ("satisfaction", lambda: ck_kit.record(ticket.id, BACK, satisfaction="满意\n很满意")),
        ("result", lambda: ck_kit.reply(ticket.id, BACK, result="x" * 4001)),
        ("reason", lambda: ck_kit.reclassify(ticket.id, "bill_dispute", BACK, "\x07")),
        ("category", lambda: ck_kit.reclassify(ticket.id, 60, BACK, "分类错误")),
        ("reason", lambda: ck_kit.pause(ticket.id, BACK, None)),
        ("reason", lambda: ck_kit.archive(ticket.id, BACK, reason=b"done")),
        ("reason", lambda: ck_kit.reactivate(ticket.id, BACK, "\x00")),
    ]
    before = (ck_kit.ticket(ticket.id), len(ck_kit.history(ticket.id)))
    for field, command in commands:
        with pytest.raises(InvalidInput) as info:
            command()
        assert info.value.field == field
    assert (ck_kit.ticket(ticket.id), len(ck_kit.history(ticket.id))) == before


def test_N4_actor_ids_and_departments_longer_than_their_column_never_reach_it() -> None:
    # events.actor and tickets.department are varchar(60): PostgreSQL would refuse 61 characters
    assert inputs.LIMITS["actor"] == 60 and inputs.LIMITS["department"] == 60
    Actor("a" * 60, Role.DEPARTMENT, "d" * 60)


@pytest.mark.parametrize(("text", "is_code"), [("1", True), (" 1 ", True), ("１", True), ("\u00a01\u3000", True),
                                              ("11", False), ("一", False), ("", False)])
def test_B3_a_full_width_reply_is_the_reply_code(text: str, is_code: bool) -> None:
    assert is_reply_code(text, "1") is is_code
