"""SmtpConfig.from_settings and the plugin's hook."""

from __future__ import annotations

from typing import Any

import pytest
from complaintkit_smtp import SmtpConfig, SmtpTransport
from complaintkit_smtp import plugin as smtp_plugin

BASE = {"host": "smtp.example.cn", "sender": "complaints@example.cn"}


def config(environ: dict[str, str] | None = None, **settings: Any) -> SmtpConfig:
    return SmtpConfig.from_settings({**BASE, **settings}, environ=environ or {})


def test_defaults_and_ports_by_mode() -> None:
    assert config().port == 25
    assert config(starttls=True).port == 587
    assert config(ssl="true").port == 465
    assert config(port="2525").port == 2525
    assert config(timeout="7.5").timeout == 7.5


def test_recipients_accept_an_address_or_a_list() -> None:
    got = config(recipients={"network_dept": ["noc@example.cn", "duty@example.cn"],
                             "billing_dept": "billing@example.cn"}).recipients
    assert got == {"network_dept": ("noc@example.cn", "duty@example.cn"),
                   "billing_dept": ("billing@example.cn",)}


@pytest.mark.parametrize(("settings", "message"), [
    ({"port": "abc"}, "email.port: 'abc' is not a port number"),
    ({"port": 70000}, "email.port: 70000 is not a port number"),
    ({"starttls": "maybe"}, "email.starttls: 'maybe' is not true or false"),
    ({"starttls": True, "ssl": True}, "email.ssl: choose one"),
    ({"timeout": "soon"}, "email.timeout: 'soon' is not a number of seconds"),
    ({"timeout": 0}, "email.timeout: 0 must be more than 0"),
    ({"sender": "complaints"}, "email.sender: 'complaints' is not an e-mail address"),
    ({"sender": ""}, "email.sender: missing"),
    ({"username": "ck"}, "email.password: missing while username is set"),
    ({"password": "pw"}, "email.username: missing while password is set"),
    ({"recipients": {"network_dept": "noc"}}, "email.recipients.network_dept: 'noc' is not an e-mail"),
    ({"recipients": {"network_dept": []}}, "email.recipients.network_dept: must be an address"),
    ({"recipients": ["noc@example.cn"]}, "email.recipients: must be a table"),
    ({"hots": "x"}, "email.hots: unknown setting"),
])
def test_bad_settings_name_the_setting(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        config(**settings)


def test_missing_host() -> None:
    with pytest.raises(ValueError, match="email.host: missing"):
        SmtpConfig.from_settings({"sender": "a@example.cn"}, environ={})


def test_environment_fallbacks() -> None:
    env = {"COMPLAINTKIT_SMTP_HOST": "mail.example.cn", "COMPLAINTKIT_SMTP_PORT": "587",
           "COMPLAINTKIT_SMTP_USER": "ck", "COMPLAINTKIT_SMTP_PASSWORD": "secret"}
    got = SmtpConfig.from_settings({"sender": "a@example.cn"}, environ=env)
    assert (got.host, got.port, got.username, got.password) == ("mail.example.cn", 587, "ck", "secret")
    assert "secret" not in repr(got)
    # settings win over the environment
    assert SmtpConfig.from_settings({"sender": "a@example.cn", "host": "h"}, environ=env).host == "h"


def test_hook_answers_only_when_a_host_is_configured(monkeypatch: Any) -> None:
    monkeypatch.delenv("COMPLAINTKIT_SMTP_HOST", raising=False)
    assert smtp_plugin.complaintkit_email_transport(settings={}) is None
    transport = smtp_plugin.complaintkit_email_transport(settings=BASE)
    assert isinstance(transport, SmtpTransport)
    monkeypatch.setenv("COMPLAINTKIT_SMTP_HOST", "mail.example.cn")
    transport = smtp_plugin.complaintkit_email_transport(settings={"sender": "a@example.cn"})
    assert isinstance(transport, SmtpTransport) and transport.config.host == "mail.example.cn"


def test_plugin_is_registered_through_the_entry_point(monkeypatch: Any) -> None:
    from complaintkit.hooks.manager import Plugins

    monkeypatch.delenv("COMPLAINTKIT_SMTP_HOST", raising=False)
    plugins = Plugins.discover()
    transport = plugins.call_first("complaintkit_email_transport", settings=BASE)
    assert isinstance(transport, SmtpTransport)
    assert plugins.call_first("complaintkit_email_transport", settings={}) is None
