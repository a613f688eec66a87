"""Several messages at once over a small pool of aiosmtplib connections (``pool_size``)."""

from __future__ import annotations

from typing import Any

import aiosmtplib
from complaintkit_smtp import message_id_for

from complaintkit.ports.transports import EmailRequest, SendOutcome

SENDER = "complaints@example.cn"  # as in conftest.py


def req(key: str, to: str = "network_dept") -> EmailRequest:
    return EmailRequest(key, (to,), f"[overdue] {key} 工单超时提醒", f"工单 {key} 已超时，请尽快处理。")


def watch_concurrency(handler: Any) -> dict[str, int]:
    """Count the DATA commands the server is working on at once."""
    seen = {"now": 0, "most": 0}
    real = handler.handle_DATA

    async def handle_DATA(server: Any, session: Any, envelope: Any) -> str:
        seen["now"] += 1
        seen["most"] = max(seen["most"], seen["now"])
        try:
            return await real(server, session, envelope)
        finally:
            seen["now"] -= 1

    handler.handle_DATA = handle_DATA
    return seen


def count_connects(monkeypatch: Any) -> list[int]:
    opened: list[int] = []
    real = aiosmtplib.SMTP.connect

    async def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(1)
        return await real(self, *args, **kwargs)

    monkeypatch.setattr(aiosmtplib.SMTP, "connect", counting)
    return opened


def test_a_pool_sends_several_at_once_and_answers_in_request_order(smtp_server: Any, monkeypatch: Any) -> None:
    smtp_server.handler.data_delay = 0.05
    seen = watch_concurrency(smtp_server.handler)
    opened = count_connects(monkeypatch)
    transport = smtp_server.transport(pool_size=4)
    reported: list[str] = []
    requests = [req(f"TS{i}:overdue") for i in range(12)]
    results = transport.send_many(requests, on_result=lambda r: reported.append(r.key))
    assert [r.key for r in results] == [r.key for r in requests]
    assert [r.outcome for r in results] == [SendOutcome.ACCEPTED] * 12
    assert [r.remote_ids for r in results] == [(message_id_for(r.key, SENDER),) for r in requests]
    assert sorted(reported) == sorted(r.key for r in requests)  # each once, as answered
    assert len(opened) == 4 and seen["most"] == 4
    assert sorted(got.message["Message-ID"] for got in smtp_server.received) == sorted(
        message_id_for(r.key, SENDER) for r in requests)


def test_a_small_batch_opens_no_more_connections_than_it_needs(smtp_server: Any, monkeypatch: Any) -> None:
    opened = count_connects(monkeypatch)
    transport = smtp_server.transport(pool_size=8)
    assert [r.outcome for r in transport.send_many([req("a"), req("b")])] == [SendOutcome.ACCEPTED] * 2
    assert len(opened) == 2


def test_outcomes_per_message_are_the_same_in_a_pool(smtp_server: Any) -> None:
    smtp_server.handler.rcpt_replies = {
        "busy@example.com": "451 4.3.0 try later",
        "gone@example.com": "550 5.1.1 no such user",
    }
    transport = smtp_server.transport(pool_size=3)
    requests = [req("busy", "busy@example.com"), req("gone", "gone@example.com"), req("x", "legal_dept"),
                req("ok1"), req("ok2"), req("ok3")]
    results = {r.key: r for r in transport.send_many(requests)}
    assert results["busy"].outcome is SendOutcome.RETRY
    assert results["gone"].outcome is SendOutcome.FAILED
    assert results["x"].outcome is SendOutcome.FAILED and "'legal_dept'" in results["x"].detail
    assert all(results[k].outcome is SendOutcome.ACCEPTED for k in ("ok1", "ok2", "ok3"))
    assert len(smtp_server.received) == 3


def test_a_dropped_connection_in_a_pool_costs_only_its_message(smtp_server: Any) -> None:
    smtp_server.handler.drop_at = 3
    transport = smtp_server.transport(pool_size=3)
    results = transport.send_many([req(f"k{i}") for i in range(9)])
    outcomes = [r.outcome for r in results]
    assert outcomes.count(SendOutcome.RETRY) == 1 and outcomes.count(SendOutcome.ACCEPTED) == 8
    assert "connection lost" in next(r.detail for r in results if r.outcome is SendOutcome.RETRY)
    assert len(smtp_server.received) == 8


def test_no_server_answers_retry_for_every_message_of_the_pool(smtp_server: Any) -> None:
    transport = smtp_server.transport(pool_size=4)
    smtp_server.controller.stop()
    results = transport.send_many([req(f"k{i}") for i in range(6)] + [req("y", "legal_dept")])
    assert [r.outcome for r in results[:6]] == [SendOutcome.RETRY] * 6
    assert all("cannot connect" in r.detail for r in results[:6])
    assert results[6].outcome is SendOutcome.FAILED


def test_send_many_works_from_inside_a_running_event_loop(smtp_server: Any) -> None:
    import asyncio

    transport = smtp_server.transport(pool_size=2)

    async def caller() -> list[Any]:
        return transport.send_many([req("a"), req("b")])

    assert [r.outcome for r in asyncio.run(caller())] == [SendOutcome.ACCEPTED] * 2


def test_a_pool_reports_on_the_callers_thread(smtp_server: Any) -> None:
    # the connections run on threads of their own; the outbox records each result on its own
    # thread's database connection, so the results come back to the caller's
    import threading

    transport = smtp_server.transport(pool_size=3)
    threads: set[int] = set()
    results = transport.send_many([req(f"k{i}") for i in range(7)],
                                  on_result=lambda r: threads.add(threading.get_ident()))
    assert [r.outcome for r in results] == [SendOutcome.ACCEPTED] * 7
    assert threads == {threading.get_ident()}
