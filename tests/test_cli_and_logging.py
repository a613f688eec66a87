"""N3 (masked logs) and the command line: demo, worker, bench intake, bench simulate."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import structlog
from click.testing import CliRunner

from complaintkit.cli import cli
from complaintkit.core.model import Msisdn
from complaintkit.logging import mask_pii, mask_text

UNMASKED_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def test_N3_mask_numbers_id_cards_and_names() -> None:
    event = {
        "event": "customer 13812345678 called about +86 139-1234-5678",
        "id_card": "110101199003071234",
        "name": "张三丰",
        "nested": {"numbers": ["15012345678", 13912345678], "customer_name": "李四"},
        "count": 42,
    }
    masked = mask_pii(None, "info", dict(event))
    text = json.dumps(masked, ensure_ascii=False)
    assert "138****5678" in text and "139****5678" in text and "150****5678" in text
    assert "110101********1234" not in text and "19900307" not in text
    assert masked["name"] == "张**" and masked["nested"]["customer_name"] == "李*"
    assert not UNMASKED_MOBILE.search(text)
    assert masked["count"] == 42


def test_N3_id_card_with_x_and_text_without_numbers() -> None:
    assert "11010119900307123X" not in mask_text("身份证 11010119900307123X")
    assert mask_text("工单 CK20260302AB 已处理") == "工单 CK20260302AB 已处理"


def test_A1_msisdn_forms() -> None:
    assert Msisdn.parse("+86 138 1234 5678").digits == "13812345678"
    assert Msisdn.parse("0086-13812345678").digits == "13812345678"
    assert Msisdn.parse("13812345678").masked() == "138****5678"


def test_N3_demo_logs_hold_no_unmasked_number(tmp_path: Path) -> None:
    """The demo at debug level logs every ticket change and SMS: none may show a number."""
    result = CliRunner().invoke(
        cli, ["demo", "--tickets", "40", "--days", "3", "--fake-sms", "--log-level", "debug",
              "--no-progress", "--db", f"sqlite:///{tmp_path / 'demo.db'}"])
    assert result.exit_code == 0, result.output + result.stderr
    logs = result.stderr
    assert "ticket changed" in logs and "inbound sms" in logs  # it did log, at length
    assert not UNMASKED_MOBILE.search(logs), UNMASKED_MOBILE.search(logs)
    assert "****" in logs
    structlog.reset_defaults()


def test_demo_prints_the_summary(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["demo", "--tickets", "60", "--days", "5", "--seed", "3", "--fake-sms", "--no-progress"],
        terminal_width=120)
    assert result.exit_code == 0, result.output + result.stderr
    out = result.stdout
    for row in ("tickets", "archived", "overdue (marked)", "average handling time", "online follow-ups",
                "SMS sent"):
        assert row in out, out
    assert re.search(r"tickets\s+│\s+60\b", out), out
    structlog.reset_defaults()


def test_demo_is_deterministic(tmp_path: Path) -> None:
    runs = [CliRunner().invoke(
        cli, ["demo", "--tickets", "30", "--days", "2", "--seed", "11", "--fake-sms", "--no-progress"],
        terminal_width=120).stdout.splitlines()[1:] for _ in range(2)]
    assert runs[0] == runs[1]
    structlog.reset_defaults()


def test_worker_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'w.db'}"
    exe = Path(sys.executable).with_name("complaintkit")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "complaintkit.cli"]
    proc = subprocess.Popen([*command, "worker", "--db", db, "--idle", "0.1"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.monotonic() + 30
        assert proc.stderr is not None
        line = ""
        seen: list[str] = []
        while time.monotonic() < deadline and "worker started" not in line:
            line = proc.stderr.readline()
            seen.append(line)
        assert "worker started" in line
        proc.send_signal(signal.SIGTERM)
        # read the rest through the same buffered reader: communicate() would miss what
        # readline() already read ahead (the warnings logged right after "worker started")
        err = "".join(seen) + proc.stderr.read()
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "received SIGTERM" in err and "worker stopped" in err
    # no settings given: the worker says, loudly, that nothing will be sent
    assert "no SMS or e-mail transport is configured" in err and "warning" in err.lower()


def test_bench_intake_ends_with_one_json_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["bench", "intake", "--tickets", "30", "--pg", ""])
    assert result.exit_code == 0, result.output + result.stderr
    figures: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["benchmark"] == "intake"
    assert {"sqlite_kit_per_s", "sqlite_raw_per_s", "sqlite_ratio"} <= figures.keys()
    structlog.reset_defaults()


SIMULATE_KEYS = {"benchmark", "tickets", "seed", "days", "db", "standard", "wall_s", "cpu_s", "cpu_ms_per_ticket",
                 "write_transactions", "read_transactions", "writes_per_ticket", "reads_per_ticket",
                 "peak_rss_mib", "peak_rss_before_run_mib", "projected_tickets", "projected_cpu_s",
                 "projected_cpu_h", "summary"}


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_bench_simulate_ends_with_one_json_line(database: str, request: pytest.FixtureRequest) -> None:
    db: list[str] = []
    if database == "postgresql":
        request.getfixturevalue("pg_schema_url")  # skips (or fails) as the suite says when unreachable
        db = ["--db", request.getfixturevalue("pg_admin_url")]  # the bench makes its own scratch schema
    result = CliRunner().invoke(cli, ["bench", "simulate", "--tickets", "40", "--days", "3", "--no-progress", *db])
    assert result.exit_code == 0, result.output + result.stderr
    lines = result.stdout.strip().splitlines()
    figures: dict[str, Any] = json.loads(lines[-1])
    assert figures.keys() == SIMULATE_KEYS and figures["benchmark"] == "simulate" and figures["db"] == database
    assert figures["tickets"] == figures["summary"]["tickets"] == 40
    # every write the run made went through a counted transaction, and the worker read
    assert figures["write_transactions"] >= 40 and figures["read_transactions"] > 0
    assert figures["projected_cpu_s"] == pytest.approx(figures["cpu_ms_per_ticket"] * 300, rel=1e-3)
    # the demo's summary lines are printed as the demo names them
    assert any(re.match(r"SMS sent\s+\d+", line) for line in lines), lines
    assert any(line.startswith("  in state archived") for line in lines), lines
    structlog.reset_defaults()


@pytest.mark.parametrize("argv", [["demo", "--smsc", "nohost"], ["demo", "--tickets", "x"]])
def test_bad_cli_input_is_a_message_not_a_traceback(argv: list[str]) -> None:
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code == 2
    assert "Traceback" not in result.output + result.stderr


def test_worker_settings_file_is_checked(tmp_path: Path) -> None:
    from complaintkit.cli.worker import load_settings

    good = tmp_path / "ok.toml"
    good.write_text('[sms]\nhost = "smsc.example"\nport = 2775\n', encoding="utf-8")
    assert load_settings(str(good)) == {"sms": {"host": "smsc.example", "port": 2775}}
    bad = tmp_path / "bad.toml"
    bad.write_text('sms = "smpp"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["worker", "--db", f"sqlite:///{tmp_path / 'w.db'}", "--settings", str(bad)])
    assert result.exit_code == 2 and "'sms' must be a table like [sms]" in result.output


def test_the_worker_command_loads_only_what_a_worker_needs() -> None:
    # a worker started again after a crash leaves due timers waiting while it imports: the
    # command line imports one command, and structlog without Rich (the logs never use it)
    script = ("import sys\nfrom complaintkit.cli import main\nsys.argv = ['complaintkit', 'worker', '--help']\n"
              "try:\n    main()\nexcept SystemExit:\n    pass\n"
              "loaded = [m for m in ('rich', 'psycopg', 'alembic', 'complaintkit.cli.demo', 'complaintkit.bench.deadlines',"
              " 'complaintkit_smtp.transport') if m in sys.modules]\n"
              "print('LOADED', loaded)\nimport rich.console\nprint('RICH', rich.console.Console is not None)\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert "--db" in out
    assert "LOADED []" in out and "RICH True" in out


def test_a_worker_stopped_while_it_starts_exits_cleanly(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # a supervisor may stop a worker it has just started again: SIGTERM before the worker runs
    # is a clean stop (exit 0), not a process killed by the signal
    import complaintkit.cli.worker as worker_command

    real = worker_command.load_settings

    def terminated_meanwhile(path: str | None) -> dict[str, Any]:
        os.kill(os.getpid(), signal.SIGTERM)
        return real(path)

    before = signal.getsignal(signal.SIGTERM)
    monkeypatch.setattr(worker_command, "load_settings", terminated_meanwhile)
    result = CliRunner().invoke(cli, ["worker", "--db", f"sqlite:///{tmp_path / 'w.db'}"])
    assert result.exit_code == 0, result.output
    assert "received SIGTERM while starting: worker stopped" in result.stderr
    assert signal.getsignal(signal.SIGTERM) is before  # the command puts the handlers back
    structlog.reset_defaults()
