from __future__ import annotations

import shutil
import ssl
import subprocess

import pytest
from complaintkit_smpp import LocalSmsc, SmppConfig, SmppTransport

from complaintkit.ports.transports import SendOutcome, SmsRequest

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None,
                                reason="the openssl command is needed to make a test certificate")


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem")],
        check=True, capture_output=True)
    return d / "cert.pem", d / "key.pem"


@pytest.mark.parametrize("verify", [False, True])
def test_tls_bind_and_submit(cert, verify):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert[0]), str(cert[1]))
    with LocalSmsc(tls_context=context, send_receipts=True) as smsc:
        settings = dict(smsc.settings, tls_verify=verify, tls_ca_file=str(cert[0]) if verify else None)
        transport = SmppTransport(SmppConfig.from_settings(settings))
        try:
            assert transport.wait_bound(5)
            results = transport.send_many([SmsRequest(f"k{i}", "13812345678", "10086", f"加密{i}" * 30)
                                           for i in range(20)])
            assert all(r.outcome is SendOutcome.ACCEPTED and r.parts == 2 for r in results)
            assert len(smsc.received) == 40
        finally:
            transport.close()


def test_tls_refuses_an_unknown_certificate(cert):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert[0]), str(cert[1]))
    with LocalSmsc(tls_context=context) as smsc:
        settings = dict(smsc.settings, tls_verify=True, send_timeout=0.5)
        transport = SmppTransport(SmppConfig.from_settings(settings))
        try:
            [r] = transport.send_many([SmsRequest("k", "13812345678", "10086", "你好")])
            assert r.outcome is SendOutcome.RETRY and "CERTIFICATE_VERIFY_FAILED" in r.detail
            assert smsc.received == []
        finally:
            transport.close()
