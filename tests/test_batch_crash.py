"""E2 / K4: a batch warning of 10,000 callers cleared while the worker delivering the SMS is
killed with SIGKILL — every caller gets the SMS, one outbox row each, and a duplicate only for
what was in flight at a kill, counted.

The normal suite runs it with 1,000 callers (the same two kills, at the same shares of the
delivery); ``COMPLAINTKIT_SOAK_FULL=1`` runs the 10,000 the issue names (about 3 minutes)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.importorskip("complaintkit_smpp", reason="delivered through complaintkit-smpp's local SMSC")

from complaintkit.bench.batch_crash import broken, run_batch_crash

pytestmark = pytest.mark.soak


def test_E2_clearing_a_batch_of_callers_survives_a_killed_worker(ck_db_url: str, tmp_path: Path) -> None:
    callers = 10_000 if os.environ.get("COMPLAINTKIT_SOAK_FULL") == "1" else 1_000
    figures = run_batch_crash(ck_db_url, tmp_path, callers=callers, kill_at=(0.15, 0.5))
    print(figures)
    assert figures["sms_queued"] == callers
    assert figures["kills"] == 2
    assert figures["callers_without_sms"] == 0
    assert figures["outbox_rows"] == callers and figures["callers_with_two_rows"] == 0
    assert figures["completed"] == callers
    assert figures["smsc_duplicates"] <= figures["resends_counted"]
    assert broken(figures) == []
