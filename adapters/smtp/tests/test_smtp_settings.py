"""The ``[email]`` settings go through the kit's one cattrs converter: every refusal is one line
naming ``email.<field>`` and the wrong value, from the settings table and from the environment."""

from __future__ import annotations

from typing import Any

import pytest
from complaintkit_smtp import SmtpConfig

from complaintkit.ports.settings import SettingsError

BASE = {"host": "smtp.example.cn", "sender": "complaints@example.cn"}


def refused(settings: dict[str, Any], environ: dict[str, str] | None = None) -> str:
    with pytest.raises(SettingsError) as caught:
        SmtpConfig.from_settings(settings, environ=environ or {})
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_a_wrong_type_names_the_field_and_the_value() -> None:
    assert refused({**BASE, "pool_size": "four"}) == "email.pool_size: 'four' is not a whole number"
    assert refused({**BASE, "tls_verify": "maybe"}) == "email.tls_verify: 'maybe' is not true or false"
    assert refused({**BASE, "port": [25]}).startswith("email.port: [25] is not a port number")


def test_an_unknown_key_is_refused_not_ignored() -> None:
    message = refused({**BASE, "pool_sise": 4})
    assert message.startswith("email.pool_sise: unknown setting (known: ")
    assert "pool_size" in message


def test_a_missing_required_key_names_it_and_its_environment_variable() -> None:
    assert refused({"sender": "a@example.cn"}) == "email.host: missing (set it or COMPLAINTKIT_SMTP_HOST)"
    assert refused({"host": "smtp.example.cn"}) == "email.sender: missing"


def test_a_wrong_value_from_the_environment_says_so() -> None:
    message = refused(BASE, {"COMPLAINTKIT_SMTP_PORT": "twenty-five"})
    assert message == ("email.port: 'twenty-five' is not a port number (1-65535) "
                       "(from COMPLAINTKIT_SMTP_PORT)")


def test_a_password_is_never_shown() -> None:
    message = refused({**BASE, "username": "ck", "password": 123456})
    assert message.startswith("email.password: ") and "123456" not in message
    assert "s3cret" not in repr(SmtpConfig.from_settings({**BASE, "username": "ck", "password": "s3cret"},
                                                         environ={}))


def test_pool_size_is_read_and_bounded() -> None:
    assert SmtpConfig.from_settings(BASE, environ={}).pool_size == 4
    assert SmtpConfig.from_settings({**BASE, "pool_size": "1"}, environ={}).pool_size == 1
    assert refused({**BASE, "pool_size": 0}) == "email.pool_size: 0 is not from 1 to 16"


def test_settings_errors_are_value_errors_for_existing_callers() -> None:
    with pytest.raises(ValueError, match=r"^email\.port: "):
        SmtpConfig.from_settings({**BASE, "port": "x"}, environ={})


def test_the_worker_stops_with_one_line_for_a_bad_settings_file(tmp_path: Any, monkeypatch: Any) -> None:
    from click.testing import CliRunner

    from complaintkit.cli import cli

    monkeypatch.delenv("COMPLAINTKIT_SMTP_HOST", raising=False)
    settings = tmp_path / "settings.toml"
    settings.write_text('[email]\nhost = "smtp.example.cn"\nsender = "a@example.cn"\n'
                        'password = 1234\nusername = "ck"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["worker", "--db", f"sqlite:///{tmp_path / 'ck.db'}",
                                       "--settings", str(settings)])
    assert result.exit_code == 1
    [line] = [x for x in result.output.splitlines() if x.strip()]
    assert "email.password: (hidden) is not text" in line and "1234" not in line
