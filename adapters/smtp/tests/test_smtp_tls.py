"""STARTTLS against aiosmtpd with a self-signed certificate (made with ``cryptography``)."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from pathlib import Path
from typing import Any

import pytest
from complaintkit_smtp import SmtpConfig, SmtpTransport

from complaintkit.ports.transports import EmailRequest, SendOutcome

REQUEST = EmailRequest("TS1:overdue", ("network_dept",), "[overdue] TS1 超时", "请尽快处理。")


def self_signed(folder: Path) -> tuple[Path, Path]:
    pytest.importorskip("cryptography", reason="the STARTTLS test makes its self-signed certificate "
                        "with the 'cryptography' package, which is not installed")
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def test_starttls_required_by_the_server(tmp_path: Path, start_smtp_server: Any) -> None:
    cert_file, key_file = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    server = start_smtp_server(tls_context=context, require_starttls=True)
    handler = server.handler
    settings = server.settings()
    plain = SmtpTransport(SmtpConfig.from_settings(settings, environ={}))
    assert plain.send_many([REQUEST])[0].outcome is SendOutcome.RETRY  # 530: STARTTLS first
    secure = SmtpTransport(SmtpConfig.from_settings(
        dict(settings, starttls=True, tls_ca_file=str(cert_file)), environ={}))
    results = secure.send_many([REQUEST])
    assert results[0].outcome is SendOutcome.ACCEPTED, results[0].detail
    assert handler.received[0].message["Subject"] == REQUEST.subject
    unverified = SmtpTransport(SmtpConfig.from_settings(dict(settings, starttls=True), environ={}))
    failed = unverified.send_many([REQUEST])[0]
    assert failed.outcome is SendOutcome.RETRY and "CERTIFICATE_VERIFY_FAILED" in failed.detail


def test_starttls_not_offered_is_retry_never_plain_text(smtp_server: Any) -> None:
    results = smtp_server.transport(starttls=True).send_many([REQUEST])
    assert results[0].outcome is SendOutcome.RETRY
    assert "does not offer STARTTLS" in results[0].detail
    assert smtp_server.received == []
