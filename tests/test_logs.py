"""N3: logs hold no unmasked number, ID-card number or name — in text and in JSON, tracebacks
included — and still say why something failed. The library prints nothing until told to."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from complaintkit.cli import cli
from complaintkit.core.masking import MSISDN
from complaintkit.core.model import Customer, Msisdn
from complaintkit.engine.outbox import Outbox
from complaintkit.engine.worker import Worker
from complaintkit.logging import configure_cli_logging, reset_cli_logging
from complaintkit.testing import FakeMail, FakeSms

ID_CARD = "110101199003071234"
NAME = "张三丰"


@pytest.fixture(autouse=True)
def _logging_reset() -> Iterator[None]:
    yield
    reset_cli_logging()


def assert_clean(logs: str, *, numbers: list[str] = (), names: list[str] = ()) -> None:  # type: ignore[assignment]
    found = MSISDN.search(logs)
    assert found is None, f"unmasked number {found.group()!r} in the logs"
    assert "19900307" not in logs, "an ID-card number's birth date is in the logs"
    for number in numbers:
        assert number not in logs
    for name in names:
        assert name not in logs, f"a customer's name is in the logs: {name}"


@pytest.mark.parametrize("json_logs", [False, True], ids=["text", "json"])
def test_N3_demo_logs_are_masked(tmp_path: Path, json_logs: bool) -> None:
    db = tmp_path / "demo.db"
    result = CliRunner().invoke(cli, ["demo", "--fake-sms", "--tickets", "30", "--days", "2", "--no-progress",
                                      "--log-level", "debug", "--db", f"sqlite:///{db}",
                                      *(["--json-logs"] if json_logs else [])])
    assert result.exit_code == 0, result.output + result.stderr
    logs = result.stderr
    assert "ticket changed" in logs and "inbound sms" in logs
    if json_logs:
        events = [json.loads(line) for line in logs.splitlines() if line.strip()]
        assert {e["level"] for e in events} <= {"debug", "info", "warning", "error"}
    from complaintkit.engine.store import Store

    store = Store.open(f"sqlite:///{db}")
    with store.read() as tx:
        tickets = tx.find_tickets()
    store.close()
    assert_clean(logs, numbers=[t.customer.msisdn.digits for t in tickets],
                 names=[t.customer.name for t in tickets if t.customer.name])


def _failing_pass() -> None:
    customer = Customer(Msisdn.parse("+86 138 1234 5678"), name=NAME)  # a local: never shown
    raise RuntimeError(f"BOSS refused {customer!r}: 身份证 {ID_CARD}, 备用号码 138-1234-5678")


@pytest.mark.parametrize("json_logs", [False, True], ids=["text", "json"])
def test_N3_a_failed_worker_pass_logs_its_cause_masked(ck_kit: Any, json_logs: bool) -> None:
    stream = io.StringIO()
    configure_cli_logging(level="info", json=json_logs, stream=stream)
    worker = Worker(ck_kit, Outbox(ck_kit, sms=FakeSms(), email=FakeMail()))

    def fire() -> int:
        worker.stop()
        _failing_pass()
        return 0

    worker.fire = fire  # type: ignore[method-assign]
    runner = threading.Thread(target=worker.run, kwargs={"idle": 0.01}, daemon=True)
    runner.start()
    runner.join(timeout=30)
    assert not runner.is_alive()

    logs = stream.getvalue()
    assert_clean(logs, numbers=["13812345678"], names=[NAME])
    if json_logs:
        failed = [e for e in map(json.loads, logs.splitlines()) if e["event"] == "worker step failed; retrying"]
        assert len(failed) == 1 and "exc_info" not in failed[0] and failed[0]["step"] == "timers"
        cause = failed[0]["exception"]
    else:
        cause = logs[logs.index("worker step failed"):]
    # the cause is there: the exception, its (masked) message and where it was raised
    assert "Traceback" in cause and "RuntimeError: BOSS refused" in cause and "_failing_pass" in cause
    assert "138****5678" in cause and "name='张**'" in cause and "110101************" in cause
    assert "customer =" not in cause  # no local variables


def test_N3_the_library_prints_nothing_until_the_application_asks() -> None:
    script = """
import logging
from complaintkit.kit import ComplaintKit
from complaintkit.core.model import Actor, Role
from complaintkit.engine.store import Store
from complaintkit.ports.transports import InboundSms
from complaintkit.testing import VirtualClock
from complaintkit.logging import get_logger

kit = ComplaintKit(Store.open("sqlite://"), clock=VirtualClock())
kit.receive_sms(InboundSms("not a number", "10086", "hi"))  # logs a warning
log = get_logger("complaintkit.anything")
log.error("an error", msisdn="13812345678")
try:
    1 / 0
except ZeroDivisionError:
    log.exception("failed")
kit.close()
"""
    quiet = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=120)
    assert quiet.returncode == 0, quiet.stderr
    assert (quiet.stdout, quiet.stderr) == ("", "")

    # and once the application asks, the same events come out, masked
    loud = subprocess.run([sys.executable, "-c", "from complaintkit.logging import configure_cli_logging\n"
                           "configure_cli_logging(json=True)\n" + script], check=False,
                          capture_output=True, text=True, timeout=120)
    events = [json.loads(line) for line in loud.stderr.splitlines()]
    assert [e["event"] for e in events] == ["inbound sms from a malformed number", "an error", "failed"]
    assert events[1]["msisdn"] == "138****5678"
    assert "ZeroDivisionError" in events[2]["exception"]


def test_N3_an_application_with_plain_logging_still_gets_masked_events() -> None:
    """An application that sets up stdlib logging without structlog sees the events as dicts —
    masked already, with the traceback as masked text and not attached to the record again."""
    script = """
import logging, sys
logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(levelname)s %(message)s")
from complaintkit.logging import get_logger
log = get_logger("complaintkit.x")
try:
    raise ValueError("customer 13812345678")
except ValueError:
    log.exception("failed", name="张三丰")
"""
    out = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ERROR {") and "138****5678" in out.stdout and "张**" in out.stdout
    assert "13812345678" not in out.stdout + out.stderr and "张三丰" not in out.stdout
    assert out.stdout.count("Traceback") == 1
