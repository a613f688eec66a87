"""complaintkit.testing.FakeMail answers like this transport: a test against the fake holds here.

Each case goes to the real transport (against aiosmtpd) and to a FakeMail with the same
``recipients``: the same outcome, the same addresses, the same reason when refused.
"""

from __future__ import annotations

from typing import Any

import pytest

from complaintkit.ports.transports import EmailRequest, SendOutcome
from complaintkit.testing import FakeMail

CASES = {
    "a department's list": ("network_dept",),
    "one address as a string": ("billing_dept",),
    "an address as it is": ("someone@example.com",),
    "spaces around a code": (" service_centre ",),
    "an address already on a list, in another case": ("network_dept", "NOC@example.cn"),
    "two departments": ("service_centre", "billing_dept"),
    "an unknown department": ("legal_dept",),
    "an unknown among known ones": ("network_dept", "legal_dept", "audit_dept"),
    "nobody": (),
}


@pytest.mark.parametrize("to", list(CASES.values()), ids=list(CASES))
def test_fake_mail_resolves_and_refuses_as_the_transport_does(smtp_server: Any, to: tuple[str, ...]) -> None:
    request = EmailRequest("TS1:overdue:c", to, "[overdue] TS1", "工单超时")
    (real,) = smtp_server.transport().send_many([request])
    fake = FakeMail(smtp_server.settings()["recipients"])  # the transport's [email.recipients]
    (faked,) = fake.send_many([request])

    assert faked.outcome is real.outcome
    if real.outcome is SendOutcome.ACCEPTED:
        (received,) = smtp_server.received
        assert fake.sent[0].addresses == received.rcpt_tos
    else:
        assert real.outcome is SendOutcome.FAILED
        # the same reason; only the hint on where to configure the code differs
        assert faked.detail.split(" (")[0] == real.detail.split(" (")[0]
        assert fake.sent == [] and smtp_server.received == []
