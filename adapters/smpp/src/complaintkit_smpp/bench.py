"""``complaintkit bench smpp``: the windowed adapter against a plain one-at-a-time smpplib loop."""

from __future__ import annotations

import time

import click

from complaintkit.ports.transports import SendOutcome, SmsRequest

from .smsc import LocalSmsc
from .transport import SmppConfig, SmppTransport


def _texts(n: int, tag: str) -> list[SmsRequest]:
    # single-part Chinese (≤ 70 UCS2 code units), all different
    return [
        SmsRequest(key=f"bench-{tag}-{i}", to=f"138{i % 100_000_000:08d}", sender="10086",
                   text=f"【中国移动】您反映的通话质量问题已处理，请测试。编号{tag}{i}")
        for i in range(n)
    ]


def run_adapter(smsc: LocalSmsc, n: int, window: int) -> tuple[float, int]:
    settings = dict(smsc.settings, window=window, response_timeout=10.0, send_timeout=600.0)
    transport = SmppTransport(SmppConfig.from_settings(settings))
    try:
        if not transport.wait_bound(10):
            raise click.ClickException("the adapter could not bind to the local SMSC")
        requests = _texts(n, "A")
        start = time.perf_counter()
        results = transport.send_many(requests)
        elapsed = time.perf_counter() - start
    finally:
        transport.close()
    return elapsed, sum(r.outcome is SendOutcome.ACCEPTED for r in results)


def run_plain(smsc: LocalSmsc, n: int) -> tuple[float, int]:
    import smpplib.client
    import smpplib.consts

    client = smpplib.client.Client(smsc.host, smsc.port, timeout=10, allow_unknown_opt_params=True)
    client.connect()
    try:
        client.bind_transceiver(system_id=smsc.system_id, password=smsc.password)
        accepted = 0
        requests = _texts(n, "P")
        start = time.perf_counter()
        for req in requests:
            client.send_message(
                source_addr=req.sender, destination_addr=req.to,
                short_message=req.text.encode("utf-16-be"),
                data_coding=smpplib.consts.SMPP_ENCODING_ISO10646,
                source_addr_ton=0, source_addr_npi=0, dest_addr_ton=0, dest_addr_npi=1,
                registered_delivery=1)
            while True:
                resp = client.read_pdu()
                if resp.command == "submit_sm_resp":
                    accepted += resp.status == 0
                    break
        elapsed = time.perf_counter() - start
        try:
            client.unbind()
        except Exception as exc:  # noqa: BLE001 - the measurement is done
            click.echo(f"(plain loop: unbind failed: {exc})", err=True)
    finally:
        client.disconnect()
    return elapsed, accepted


@click.command("smpp")
@click.option("--messages", default=2000, show_default=True, help="messages per run")
@click.option("--delay-ms", default=20.0, show_default=True,
              help="the local SMSC answers each submit_sm after this many ms")
@click.option("--window", default=10, show_default=True, help="the adapter's window")
def bench_smpp(messages: int, delay_ms: float, window: int) -> None:
    """Messages/s of the SMPP adapter (windowed) vs a plain smpplib send-and-wait loop."""
    from complaintkit.bench.report import emit

    with LocalSmsc(response_delay_ms=delay_ms) as smsc:
        adapter_s, adapter_ok = run_adapter(smsc, messages, window)
        plain_s, plain_ok = run_plain(smsc, messages)
    adapter_rate = messages / adapter_s
    plain_rate = messages / plain_s
    bound = window / (delay_ms / 1000.0) if delay_ms > 0 else float("inf")
    share = adapter_rate / bound if bound != float("inf") else 0.0
    ratio = adapter_rate / plain_rate
    emit(
        "smpp",
        ["sender", "messages", "accepted", "seconds", "msg/s"],
        [
            [f"adapter (window {window})", messages, adapter_ok, round(adapter_s, 3), adapter_rate],
            ["plain smpplib loop", messages, plain_ok, round(plain_s, 3), plain_rate],
            [f"bound window/{delay_ms:g} ms", "", "", "", bound],
        ],
        {
            "messages": messages,
            "delay_ms": delay_ms,
            "window": window,
            "adapter_msgs_per_s": round(adapter_rate, 1),
            "plain_msgs_per_s": round(plain_rate, 1),
            "ratio": round(ratio, 2),
            "bound_msgs_per_s": round(bound, 1),
            "adapter_share_of_bound": round(share, 3),
            "adapter_accepted": adapter_ok,
            "plain_accepted": plain_ok,
        },
    )
