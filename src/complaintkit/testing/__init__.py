"""Test doubles for integrators: a virtual clock and strict, recording fakes of every adapter.

Installed as a pytest plugin (entry point ``pytest11``), so these are fixtures in any project that
has complaintkit installed: ``ck_clock``, ``ck_sms``, ``ck_mail``, ``ck_oa``, ``ck_boss``,
``ck_standard``, ``ck_db_url``, ``ck_kit`` and ``ck_worker``, configured with the
``complaintkit`` marker (see :mod:`complaintkit.testing.pytest_plugin`).
"""

from complaintkit.testing.clock import VirtualClock
from complaintkit.testing.fakes import (
    FakeBoss,
    FakeMail,
    FakeOa,
    FakeSms,
    SentMail,
    SentSms,
    UnexpectedCall,
    UnusedSetUp,
)

__all__ = ["FakeBoss", "FakeMail", "FakeOa", "FakeSms", "SentMail", "SentSms", "UnexpectedCall", "UnusedSetUp",
           "VirtualClock"]
