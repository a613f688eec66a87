from __future__ import annotations

import pytest
from complaintkit_smpp import LocalSmsc, SmppConfig, SmppTransport


@pytest.fixture
def make_pair():
    """make_pair(**smsc_options, transport_overrides={...}) -> (smsc, transport); both closed after."""
    made = []

    def make(transport_overrides=None, **smsc_options):
        smsc = LocalSmsc(**smsc_options).start()
        settings = dict(smsc.settings, **(transport_overrides or {}))
        transport = SmppTransport(SmppConfig.from_settings(settings))
        made.append((smsc, transport))
        assert transport.wait_bound(5), "transport did not bind"
        return smsc, transport

    yield make
    for smsc, transport in made:
        transport.close()
        smsc.stop()
