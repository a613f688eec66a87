"""complaintkit's pytest plugin: fixtures for testing an integration against fakes.

``ck_kit`` is a kit on a fresh SQLite database with the installed standard, a
:class:`VirtualClock` and a lenient :class:`FakeBoss`; ``ck_worker`` delivers its outbox to
``ck_sms`` and ``ck_mail``. Override ``ck_db_url`` to run the same tests on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from complaintkit.testing.clock import VirtualClock
from complaintkit.testing.fakes import FakeBoss, FakeMail, FakeOa, FakeSms


@pytest.fixture
def ck_clock() -> VirtualClock:
    """A virtual clock at Monday 2026-03-02 09:00 Asia/Shanghai."""
    return VirtualClock()


@pytest.fixture
def ck_sms() -> FakeSms:
    return FakeSms()


@pytest.fixture
def ck_mail() -> FakeMail:
    return FakeMail()


@pytest.fixture
def ck_oa() -> FakeOa:
    return FakeOa()


@pytest.fixture
def ck_boss() -> FakeBoss:
    return FakeBoss(lenient=True)


@pytest.fixture
def ck_db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'complaints.db'}"


@pytest.fixture
def ck_kit(ck_db_url: str, ck_clock: VirtualClock, ck_boss: FakeBoss) -> Iterator[Any]:
    from complaintkit.engine.store import Store
    from complaintkit.hooks.manager import Plugins, hookimpl
    from complaintkit.kit import ComplaintKit

    class _Boss:
        @hookimpl(tryfirst=True)
        def complaintkit_boss_client(self, settings: Any) -> Any:
            return ck_boss

    kit = ComplaintKit(Store.open(ck_db_url), plugins=Plugins.discover(extra=(_Boss(),)), clock=ck_clock)
    yield kit
    kit.close()


@pytest.fixture
def ck_worker(ck_kit: Any, ck_sms: FakeSms, ck_mail: FakeMail) -> Any:
    from complaintkit.engine.outbox import Outbox
    from complaintkit.engine.worker import Worker

    worker = Worker(ck_kit, Outbox(ck_kit, sms=ck_sms, email=ck_mail))
    ck_kit.clock.attach(worker)
    return worker
