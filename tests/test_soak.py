"""Nothing lost, nothing stuck: the crash soak, small, in the normal suite (``-m soak`` alone).

Workers (``complaintkit worker`` processes: one on SQLite, three on PostgreSQL) are killed with
SIGKILL at random moments while follow-ups come due, confirmations go out through a local SMSC
and customers answer them; after a clean drain nothing may be lost, fired twice, or sent twice
without being counted. ``complaintkit soak`` runs the same at full size.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("complaintkit_smpp", reason="the soak delivers through complaintkit-smpp's local SMSC")

from complaintkit.bench.soak import SoakConfig, broken, report, run_soak

pytestmark = pytest.mark.soak


def test_killed_workers_lose_nothing_and_fire_nothing_twice(ck_db_url: str, tmp_path: Path) -> None:
    workers = 1 if ck_db_url.startswith("sqlite") else 3
    figures = run_soak(SoakConfig(db_url=ck_db_url, workdir=tmp_path, tickets=24, kills=3, workers=workers,
                                  seed=7, duration=6.0, drain_timeout=60.0))
    report(figures)
    assert figures["tickets"] == 24 and figures["follow_ups"] > 0
    assert figures["kills"] == 3
    assert figures["replies_injected"] > 0, "the soak must exercise customer replies"
    assert figures["tickets_lost"] == 0
    assert figures["timers_lost"] == 0
    assert figures["timers_fired_twice"] == 0
    assert figures["messages_lost"] == 0
    assert figures["replies_lost"] == 0
    assert figures["smsc_duplicates"] <= figures["resends_counted"]
    # every follow-up ended: closed when its window passed, or converted by the reply
    assert figures["follow_ups_closed"] + figures["follow_ups_converted"] == figures["follow_ups"]
    assert figures["worker_exit_codes"] == [0]
    assert figures["worker_crashes"] == 0
    assert broken(figures) == []


def test_the_soak_reports_each_broken_guarantee() -> None:
    clean = {"tickets_lost": 0, "timers_lost": 0, "timers_fired_twice": 0, "messages_lost": 0,
             "replies_lost": 0, "smsc_duplicates": 2, "resends_counted": 2, "worker_exit_codes": [0]}
    assert broken(clean) == []
    assert broken({**clean, "replies_lost": 3}) == ["3 replies lost"]
    assert broken({**clean, "smsc_duplicates": 3}) == ["3 duplicates at the SMSC but only 2 re-sends counted"]
    assert broken({**clean, "worker_exit_codes": [0, 1]}) == ["a worker did not stop cleanly (exit codes [0, 1])"]


def test_bench_restart_ends_with_one_json_line() -> None:
    import json

    from click.testing import CliRunner

    from complaintkit.cli import cli

    result = CliRunner().invoke(cli, ["bench", "restart", "--runs", "1"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["benchmark"] == "restart" and figures["runs"] == 1
    assert figures["first_timer_p50_s"] > 0 and figures["help_p50_s"] > 0
