"""SmtpTransport against a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import time
from typing import Any

from complaintkit_smtp import message_id_for

from complaintkit.ports.transports import EmailRequest, SendOutcome

SENDER = "complaints@example.cn"  # as in conftest.py

SUBJECT = "[overdue] TS20260302000001 工单超时提醒"
BODY = "工单 TS20260302000001 的派单时限已超时，请网络部尽快处理。\n处理人：张三\n"


def req(key: str, to: str = "network_dept", subject: str = SUBJECT, body: str = BODY) -> EmailRequest:
    return EmailRequest(key, (to,), subject, body)


def by_key(results: list[Any]) -> dict[str, Any]:
    return {r.key: r for r in results}


def test_batch_delivered_with_chinese_subject_and_body(smtp_server: Any) -> None:
    transport = smtp_server.transport()
    requests = [req(f"TS1:overdue:{i}", body=BODY + f"第{i}封") for i in range(5)]
    results = transport.send_many(requests)
    transport.close()
    assert [r.outcome for r in results] == [SendOutcome.ACCEPTED] * 5
    assert len(smtp_server.received) == 5
    for i, got in enumerate(smtp_server.received):
        assert got.message["Subject"] == SUBJECT
        assert got.message.get_content().rstrip("\n").endswith(f"第{i}封")
        assert "请网络部尽快处理" in got.message.get_content()
        assert got.message.get_content_charset() == "utf-8"
        assert got.mail_from == SENDER and got.message["From"] == SENDER
        assert got.message["Message-ID"] == message_id_for(f"TS1:overdue:{i}", SENDER)
        assert results[i].remote_ids == (got.message["Message-ID"],)


def test_one_connection_per_batch(smtp_server: Any, monkeypatch: Any) -> None:
    import aiosmtplib

    opened: list[int] = []
    real = aiosmtplib.SMTP.connect

    async def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(1)
        return await real(self, *args, **kwargs)

    monkeypatch.setattr(aiosmtplib.SMTP, "connect", counting)
    transport = smtp_server.transport()
    transport.send_many([req(f"k{i}") for i in range(10)])
    assert len(opened) == 1
    transport.send_many([req("k10")])
    assert len(opened) == 2  # quit after each batch, a fresh connection for the next
    transport.close()


def test_department_code_is_mapped_to_its_addresses(smtp_server: Any) -> None:
    transport = smtp_server.transport()
    results = transport.send_many([req("a", "network_dept"), req("b", "billing_dept"),
                                   req("c", "someone@example.com")])
    assert {r.outcome for r in results} == {SendOutcome.ACCEPTED}
    rcpts = [got.rcpt_tos for got in smtp_server.received]
    assert rcpts == [("noc@example.cn", "network-duty@example.cn"), ("billing@example.cn",),
                     ("someone@example.com",)]
    assert smtp_server.received[0].message["To"] == "noc@example.cn, network-duty@example.cn"


def test_unknown_department_code_fails_naming_the_code(smtp_server: Any) -> None:
    transport = smtp_server.transport()
    results = by_key(transport.send_many([req("x", "legal_dept"), req("y", "network_dept")]))
    assert results["x"].outcome is SendOutcome.FAILED
    assert "'legal_dept'" in results["x"].detail
    assert results["y"].outcome is SendOutcome.ACCEPTED
    assert len(smtp_server.received) == 1


def test_4xx_for_a_recipient_is_retry_5xx_is_failed(smtp_server: Any) -> None:
    smtp_server.handler.rcpt_replies = {
        "busy@example.com": "451 4.3.0 <busy@example.com> mailbox busy, try later",
        "gone@example.com": "550 5.1.1 <gone@example.com> no such user",
    }
    transport = smtp_server.transport()
    results = by_key(transport.send_many([req("busy", "busy@example.com"), req("gone", "gone@example.com"),
                                          req("ok", "service_centre")]))
    assert results["busy"].outcome is SendOutcome.RETRY and results["busy"].detail.startswith(
        "recipient refused: 451")
    assert results["gone"].outcome is SendOutcome.FAILED and "550" in results["gone"].detail
    assert results["ok"].outcome is SendOutcome.ACCEPTED
    # a customer's address never reaches the detail (which goes to the database and the logs)
    assert "busy@example.com" not in results["busy"].detail
    assert "gone@example.com" not in results["gone"].detail
    assert [got.rcpt_tos for got in smtp_server.received] == [("service@example.cn",)]


def test_4xx_for_one_list_address_retries_the_whole_message_and_sends_nothing(smtp_server: Any) -> None:
    smtp_server.handler.rcpt_replies = {"network-duty@example.cn": "452 4.2.2 mailbox full"}
    results = smtp_server.transport().send_many([req("k")])
    assert results[0].outcome is SendOutcome.RETRY
    assert smtp_server.received == []


def test_5xx_for_some_list_addresses_delivers_to_the_others(smtp_server: Any) -> None:
    smtp_server.handler.rcpt_replies = {"network-duty@example.cn": "550 5.1.1 no such user"}
    results = smtp_server.transport().send_many([req("k")])
    assert results[0].outcome is SendOutcome.ACCEPTED
    assert [got.rcpt_tos for got in smtp_server.received] == [("noc@example.cn",)]


def test_sender_refused_is_retry_even_5xx(smtp_server: Any) -> None:
    smtp_server.handler.mail_reply = "553 5.7.1 sender not allowed to relay"
    results = smtp_server.transport().send_many([req("a"), req("b", "legal_dept")])
    assert results[0].outcome is SendOutcome.RETRY and results[0].detail.startswith("sender refused: 553")
    assert results[1].outcome is SendOutcome.FAILED
    assert smtp_server.received == []


def test_data_refused_4xx_and_5xx(smtp_server: Any) -> None:
    smtp_server.handler.data_replies = ["452 4.3.1 insufficient storage", "554 5.6.0 content rejected"]
    results = smtp_server.transport().send_many([req("a"), req("b"), req("c")])
    assert [r.outcome for r in results] == [SendOutcome.RETRY, SendOutcome.FAILED, SendOutcome.ACCEPTED]
    assert results[1].detail.startswith("message refused: 554")


def test_server_dropping_the_connection_mid_batch_is_retry_then_reconnects(smtp_server: Any) -> None:
    smtp_server.handler.drop_at = 2
    transport = smtp_server.transport()
    results = transport.send_many([req(f"k{i}") for i in range(4)])
    assert [r.outcome for r in results] == [SendOutcome.ACCEPTED, SendOutcome.RETRY,
                                            SendOutcome.ACCEPTED, SendOutcome.ACCEPTED]
    assert "connection lost" in results[1].detail
    assert len(smtp_server.received) == 3


def test_server_stopped_mid_batch_is_retry_and_nothing_raises(smtp_server: Any) -> None:
    smtp_server.handler.drop_at = 2
    smtp_server.handler.stop_listening = True
    transport = smtp_server.transport()
    started = time.monotonic()
    results = transport.send_many([req(f"k{i}") for i in range(6)])
    assert time.monotonic() - started < 5
    assert results[0].outcome is SendOutcome.ACCEPTED
    assert all(r.outcome is SendOutcome.RETRY for r in results[1:])
    assert "cannot connect" in results[2].detail and "ConnectionRefusedError" in results[2].detail
    transport.close()


def test_no_server_at_all_is_retry(smtp_server: Any) -> None:
    transport = smtp_server.transport()
    smtp_server.controller.stop()
    results = transport.send_many([req("a"), req("b", "legal_dept")])
    assert results[0].outcome is SendOutcome.RETRY and "cannot connect" in results[0].detail
    assert results[1].outcome is SendOutcome.FAILED  # an unknown code stays a permanent failure
    transport.close()


def test_timeout_is_retry(smtp_server: Any) -> None:
    smtp_server.handler.data_delay = 2.0
    transport = smtp_server.transport(timeout=0.3)
    results = transport.send_many([req("slow")])
    assert results[0].outcome is SendOutcome.RETRY
    assert "timed out" in results[0].detail.lower() or "Timeout" in results[0].detail


def test_a_message_that_cannot_be_built_fails_alone(smtp_server: Any) -> None:
    results = by_key(smtp_server.transport().send_many([req("bad", subject="两行\n标题"), req("ok")]))
    assert results["bad"].outcome is SendOutcome.FAILED and "cannot build" in results["bad"].detail
    assert results["ok"].outcome is SendOutcome.ACCEPTED


def test_same_key_same_message_id() -> None:
    key = "TS20260302000001:overdue:dispatch:2026-03-02T11:00:00+08:00"
    first = message_id_for(key, SENDER)
    assert first == message_id_for(key, SENDER)
    assert first != message_id_for(key + "x", SENDER)
    assert first.startswith("<TS20260302000001.overdue.dispatch.2026-03-02T11.00.00+08.00.")
    assert first.endswith("@example.cn>")


def test_drain_inbound_is_empty(smtp_server: Any) -> None:
    assert smtp_server.transport().drain_inbound() == []


def test_on_result_reports_each_message_as_the_server_answers_it(smtp_server: Any) -> None:
    smtp_server.handler.rcpt_replies = {"busy@example.com": "451 4.3.0 try later"}
    transport = smtp_server.transport()
    reported: list[tuple[str, SendOutcome, int]] = []

    def on_result(result: Any) -> None:
        # what the server had taken when this result was reported
        reported.append((result.key, result.outcome, len(smtp_server.received)))

    requests = [req("a"), req("b", "busy@example.com"), req("c", "legal_dept"), req("d")]
    results = transport.send_many(requests, on_result=on_result)
    transport.close()
    assert reported == [("a", SendOutcome.ACCEPTED, 1), ("b", SendOutcome.RETRY, 1),
                        ("c", SendOutcome.FAILED, 1), ("d", SendOutcome.ACCEPTED, 2)]
    assert [r.key for r in results] == ["a", "b", "c", "d"]


def test_on_result_that_raises_does_not_stop_the_batch(smtp_server: Any) -> None:
    def broken(result: Any) -> None:
        raise RuntimeError("outbox gone")

    results = smtp_server.transport().send_many([req("a"), req("b")], on_result=broken)
    assert [r.outcome for r in results] == [SendOutcome.ACCEPTED] * 2
    assert len(smtp_server.received) == 2


def test_long_message_ids_reach_the_result_whole(smtp_server: Any) -> None:
    """Keys of the kit's reminders make Message-IDs of 81-92 characters and more; the remote id
    recorded for the message is the header the server received, never cut."""
    keys = ["TS20260302000001:overdue:dispatch:2026-03-02T11:00:00+08:00",
            "TS20260302000001:near-overdue:network_dept:handling:2026-03-02T11:00:00+08:00",
            "digest:network_dept:2026-03-02:" + "x" * 80]
    transport = smtp_server.transport()
    results = transport.send_many([req(k) for k in keys])
    transport.close()
    ids = [r.remote_ids[0] for r in results]
    assert [len(i) for i in ids] == [len(message_id_for(k, SENDER)) for k in keys]
    assert min(len(i) for i in ids) > 80
    assert ids == [got.message["Message-ID"] for got in smtp_server.received]
    assert ids == [message_id_for(k, SENDER) for k in keys]
