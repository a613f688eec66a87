"""E2 / K4: a batch warning of 10,000 callers cleared while the worker delivering the SMS is
killed with SIGKILL — every caller gets the SMS, one outbox row each, and a duplicate only for
what was in flight at a kill, counted (``-m soak`` alone)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("complaintkit_smpp", reason="delivered through complaintkit-smpp's local SMSC")

from complaintkit.bench.batch_crash import broken, run_batch_crash

pytestmark = pytest.mark.soak


def test_E2_clearing_10000_callers_survives_a_killed_worker(ck_db_url: str, tmp_path: Path) -> None:
    figures = run_batch_crash(ck_db_url, tmp_path, callers=10_000, kill_at=(0.15, 0.5))
    print(figures)
    assert figures["sms_queued"] == 10_000
    assert figures["kills"] == 2
    assert figures["callers_without_sms"] == 0
    assert figures["outbox_rows"] == 10_000 and figures["callers_with_two_rows"] == 0
    assert figures["completed"] == 10_000
    assert figures["smsc_duplicates"] <= figures["resends_counted"]
    assert broken(figures) == []
