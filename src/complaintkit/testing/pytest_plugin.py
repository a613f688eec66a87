"""complaintkit's pytest plugin: fixtures for testing an integration against fakes.

``ck_kit`` is a kit on a fresh SQLite database with the installed standard, a
:class:`VirtualClock` and a strict :class:`FakeBoss`; ``ck_worker`` delivers its outbox to
``ck_sms`` and ``ck_mail``. Override ``ck_db_url`` to run the same tests on PostgreSQL.

The marker ``@pytest.mark.complaintkit(...)`` configures the fixtures of a test, a class or a
module (``pytestmark``); where several apply, the closest wins option by option:

``boss="strict" | "lenient"``
    ``ck_boss`` raises :class:`UnexpectedCall` for a number it was not told about (``strict``,
    the default), or answers it as a non-customer (``lenient``).
``mail_recipients={code: address or [addresses]}``
    ``ck_mail``'s department mailing lists, like the SMTP adapter's ``[email.recipients]``;
    by default every department of the standard has one address.
``sms_receipts=True``
    ``ck_sms`` queues a delivery receipt for each message it accepts.
``clock="2026-09-30T16:00:00+08:00"``
    where ``ck_clock`` starts (default: Monday 2026-03-02 09:00 Asia/Shanghai).
``assert_all_used=False``
    do not fail the test when a fake was set up with something never used (see below).

At teardown, each fake's ``assert_all_used()`` runs, like respx's ``assert_all_called``: a
scripted failure (``fail_next``) no message consumed, a customer's reply no worker collected, a
BOSS customer, bill or subscription nothing asked about fails the test with the list. Set
``check_at_teardown = False`` on one fake, or ``assert_all_used=False`` in the marker, to allow it.
A test that already failed is not checked, so its own failure is the one reported.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs
import pytest

from complaintkit.testing.clock import VirtualClock
from complaintkit.testing.fakes import FakeBoss, FakeMail, FakeOa, FakeSms

MARKER = "complaintkit"

_CALL_FAILED = pytest.StashKey[bool]()


@attrs.define(frozen=True)
class Options:
    """The fixtures' options, from the ``complaintkit`` markers that apply to a test."""

    boss: str = "strict"
    mail_recipients: Mapping[str, str | Sequence[str]] | None = None
    sms_receipts: bool = False
    clock: datetime | str | None = None
    assert_all_used: bool = True

    @classmethod
    def of(cls, node: pytest.Item) -> Options:
        """Merge the node's markers, the closest first, so a test overrides its module option by option."""
        known = {f.name for f in attrs.fields(cls)}
        chosen: dict[str, Any] = {}
        for marker in node.iter_markers(MARKER):
            if marker.args:
                raise pytest.UsageError(
                    f"{node.nodeid}: @pytest.mark.{MARKER} takes keyword options only "
                    f"({', '.join(sorted(known))}), got {marker.args!r}")
            for name, value in marker.kwargs.items():
                if name not in known:
                    raise pytest.UsageError(
                        f"{node.nodeid}: @pytest.mark.{MARKER}: unknown option {name!r} "
                        f"(known: {', '.join(sorted(known))})")
                chosen.setdefault(name, value)
        options = cls(**chosen)
        if options.boss not in ("strict", "lenient"):
            raise pytest.UsageError(
                f"{node.nodeid}: @pytest.mark.{MARKER}: boss={options.boss!r}, expected 'strict' or 'lenient'")
        return options


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(boss='strict', mail_recipients=None, sms_receipts=False, clock=None, "
        "assert_all_used=True): configure complaintkit's ck_* fixtures for this test, class or module",
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    # the teardown check stays quiet after a failed test: its own failure is what matters
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        item.stash[_CALL_FAILED] = True


def _check_at_teardown(request: pytest.FixtureRequest, fixture: str, fake: Any) -> None:
    item = request.node
    if item.stash.get(_CALL_FAILED, False) or not fake.check_at_teardown:
        return
    if not Options.of(item).assert_all_used:
        return
    problems = fake.unused()
    if problems:
        pytest.fail(
            f"{fixture}: set up but never used:\n  - " + "\n  - ".join(problems)
            + f"\n(allow it with {fixture}.check_at_teardown = False, or "
            f"@pytest.mark.{MARKER}(assert_all_used=False))",
            pytrace=False,
        )


@pytest.fixture
def ck_clock(request: pytest.FixtureRequest) -> VirtualClock:
    """A VirtualClock at Monday 2026-03-02 09:00 Asia/Shanghai, or at the marker's ``clock=``.

    It moves only when told (``advance``, ``advance_to``) and fires due timers on the way.
    """
    start = Options.of(request.node).clock
    return VirtualClock() if start is None else VirtualClock(start)


@pytest.fixture
def ck_sms(request: pytest.FixtureRequest) -> Iterator[FakeSms]:
    """A FakeSms, the SMS gateway in memory (``sms_receipts=True`` in the marker: with receipts).

    Fails the test at teardown if a ``fail_next`` failure or a ``reply`` was never used.
    """
    sms = FakeSms(receipts=Options.of(request.node).sms_receipts)
    yield sms
    _check_at_teardown(request, "ck_sms", sms)


@pytest.fixture
def ck_standard() -> Any:
    """The installed province standard: yours if your plugin is installed, otherwise the baseline.

    ``ck_kit`` runs on it and ``ck_mail`` gives each of its departments a mailing list. Override
    it to test against another standard (``load_standard(folder)``).
    """
    from complaintkit.core.errors import InvalidInput
    from complaintkit.hooks.manager import Plugins

    standard = Plugins.discover().call_first("complaintkit_standard")
    if standard is None:
        raise InvalidInput("standard", "no province standard: install a standard plugin (complaintkit-baseline)")
    return standard


@pytest.fixture
def ck_mail(request: pytest.FixtureRequest, ck_standard: Any) -> Iterator[FakeMail]:
    """A FakeMail, the SMTP server in memory, resolving department codes as the SMTP adapter does.

    Each department of ``ck_standard`` has the address ``<code>@departments.invalid``, unless the
    marker gives ``mail_recipients``; a code without addresses is refused (``FAILED``). Fails the
    test at teardown if a ``fail_next`` failure was never used.
    """
    recipients = Options.of(request.node).mail_recipients
    if recipients is None:
        mail = FakeMail.for_departments(d.code for d in ck_standard.departments)
    else:
        mail = FakeMail(recipients)
    yield mail
    _check_at_teardown(request, "ck_mail", mail)


@pytest.fixture
def ck_oa() -> FakeOa:
    """A FakeOa, the OA platform in memory: ``publish`` records and returns ``OA-000001``, …"""
    return FakeOa()


@pytest.fixture
def ck_boss(request: pytest.FixtureRequest) -> Iterator[FakeBoss]:
    """A FakeBoss, the BOSS/CRM in memory; strict unless the marker says ``boss="lenient"``.

    Strict: a number neither ``add_customer``-ed nor ``add_non_customer``-ed raises
    ``UnexpectedCall`` (every acceptance asks for the customer's profile). Fails the test at
    teardown if a customer, bill or subscription it was given was never asked about.
    """
    boss = FakeBoss(lenient=Options.of(request.node).boss == "lenient")
    yield boss
    _check_at_teardown(request, "ck_boss", boss)


@pytest.fixture
def ck_db_url(tmp_path: Path) -> str:
    """The kit's database: a fresh SQLite file in the test's temporary folder.

    Override it in your ``conftest.py`` to run the same tests on PostgreSQL.
    """
    return f"sqlite:///{tmp_path / 'complaints.db'}"


@pytest.fixture
def ck_kit(ck_db_url: str, ck_clock: VirtualClock, ck_boss: FakeBoss, ck_standard: Any) -> Iterator[Any]:
    """A ComplaintKit on ``ck_db_url`` with ``ck_standard``, the installed plugins and ``ck_clock``.

    ``ck_boss`` is its BOSS/CRM (registered ``tryfirst``, so it wins over an installed one).
    Closed after the test.
    """
    from complaintkit.engine.store import Store
    from complaintkit.hooks.manager import Plugins, hookimpl
    from complaintkit.kit import ComplaintKit

    class _Boss:
        @hookimpl(tryfirst=True)
        def complaintkit_boss_client(self, settings: Any) -> Any:
            return ck_boss

    kit = ComplaintKit(Store.open(ck_db_url), standard=ck_standard,
                       plugins=Plugins.discover(extra=(_Boss(),)), clock=ck_clock)
    yield kit
    kit.close()


@pytest.fixture
def ck_worker(ck_kit: Any, ck_sms: FakeSms, ck_mail: FakeMail) -> Any:
    """A Worker for ``ck_kit`` delivering SMS to ``ck_sms`` and e-mail to ``ck_mail``.

    Attached to ``ck_clock``, so ``ck_clock.advance(...)`` runs it at every due timer.
    """
    from complaintkit.engine.outbox import Outbox
    from complaintkit.engine.worker import Worker

    worker = Worker(ck_kit, Outbox(ck_kit, sms=ck_sms, email=ck_mail))
    ck_kit.clock.attach(worker)
    return worker
