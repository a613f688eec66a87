"""``complaintkit bench email``: the aiosmtplib pool against a sequential smtplib loop.

Both send the same kind of messages (built alike, while the clock runs) to one aiosmtpd server
on 127.0.0.1, in a process of its own, that answers each DATA after ``--delay-ms`` (a relay that
takes its time). The sequential loop is what the adapter did before
it had a pool: one smtplib connection, MAIL / RCPT / DATA for one message after the other. Its
rate times the pool size is the pool's bound; the target is 90 % of it.
"""

from __future__ import annotations

import asyncio
import smtplib
import socket
import time
from typing import Any

import click

from complaintkit.ports.transports import EmailRequest, SendOutcome

from .transport import SmtpConfig, SmtpTransport

SENDER = "complaints@bench.example.cn"
LIST = "network_dept"
ADDRESS = "noc@bench.example.cn"


class _SlowRelay:
    """aiosmtpd handler: takes every message, answering its DATA after ``delay`` seconds."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.taken = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.delay)
        self.taken += 1
        return "250 Message accepted for delivery"


def _requests(n: int, tag: str) -> list[EmailRequest]:
    return [EmailRequest(f"bench-{tag}-{i}", (LIST,), f"[overdue] TS2026030200{i:04d} 工单超时提醒",
                         f"工单 TS2026030200{i:04d} 的派单时限已超时，请网络部尽快处理。\n")
            for i in range(n)]


def _config(port: int, pool_size: int) -> SmtpConfig:
    return SmtpConfig.from_settings({"host": "127.0.0.1", "port": port, "sender": SENDER,
                                     "recipients": {LIST: [ADDRESS]}, "pool_size": pool_size},
                                    environ={})


def run_pool(port: int, n: int, pool_size: int) -> tuple[float, int]:
    transport = SmtpTransport(_config(port, pool_size))
    requests = _requests(n, "pool")
    start = time.perf_counter()
    results = transport.send_many(requests)
    elapsed = time.perf_counter() - start
    return elapsed, sum(r.outcome is SendOutcome.ACCEPTED for r in results)


def run_sequential(port: int, n: int) -> tuple[float, int]:
    """One smtplib connection, one message after the other (the same messages, built alike)."""
    builder = SmtpTransport(_config(port, 1))
    requests = _requests(n, "seq")
    accepted = 0
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        for request in requests:
            payload = builder._build(request, [ADDRESS]).data
            refused = smtp.sendmail(SENDER, [ADDRESS], payload)
            accepted += not refused
    return time.perf_counter() - start, accepted


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(port: int, delay: float, ready: Any, stop: Any, taken: Any) -> None:
    """The relay, in a process of its own (as a real relay is: it does not share the
    benchmark's interpreter lock)."""
    from aiosmtpd.controller import Controller

    relay = _SlowRelay(delay)
    controller = Controller(relay, hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()
    taken.value = relay.taken


@click.command("email")
@click.option("--messages", default=2000, show_default=True, help="messages per run")
@click.option("--delay-ms", default=20.0, show_default=True,
              help="the server answers each DATA after this many ms")
@click.option("--pool", "pool_size", default=4, show_default=True,
              help="connections of the adapter's pool (email.pool_size)")
def bench_email(messages: int, delay_ms: float, pool_size: int) -> None:
    """Messages/s of the SMTP adapter (aiosmtplib pool) vs a sequential smtplib loop."""
    import importlib.util
    import multiprocessing

    if importlib.util.find_spec("aiosmtpd") is None:
        raise click.ClickException("the benchmark's SMTP server is aiosmtpd: "
                                   "pip install 'complaintkit-smtp[bench]'")
    from complaintkit.bench.report import emit

    context = multiprocessing.get_context("spawn")
    ready, stop, taken = context.Event(), context.Event(), context.Value("i", 0)
    port = _free_port()
    server = context.Process(target=_serve, args=(port, delay_ms / 1000.0, ready, stop, taken),
                             daemon=True)
    server.start()
    try:
        if not ready.wait(30):
            raise click.ClickException("the benchmark's SMTP server did not start")
        pool_s, pool_ok = run_pool(port, messages, pool_size)
        seq_s, seq_ok = run_sequential(port, messages)
    finally:
        stop.set()
        server.join(10)
    pool_rate = messages / pool_s
    seq_rate = messages / seq_s
    bound = pool_size * seq_rate
    ratio = pool_rate / seq_rate
    share = pool_rate / bound
    emit(
        "email",
        ["sender", "messages", "accepted", "seconds", "msg/s"],
        [
            [f"adapter (aiosmtplib, pool {pool_size})", messages, pool_ok, round(pool_s, 3),
             pool_rate],
            ["sequential smtplib loop", messages, seq_ok, round(seq_s, 3), seq_rate],
            [f"bound pool {pool_size} x sequential", "", "", "", bound],
        ],
        {
            "messages": messages,
            "delay_ms": delay_ms,
            "pool_size": pool_size,
            "pool_msgs_per_s": round(pool_rate, 1),
            "sequential_msgs_per_s": round(seq_rate, 1),
            "ratio": round(ratio, 2),
            "bound_msgs_per_s": round(bound, 1),
            "pool_share_of_bound": round(share, 3),
            "target_share": 0.9,
            "pool_accepted": pool_ok,
            "sequential_accepted": seq_ok,
            "server_took": taken.value,
        },
    )
