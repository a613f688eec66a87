"""The ``[sms]`` settings go through the kit's one cattrs converter: every refusal is one line
naming ``sms.<field>`` and the wrong value, from the settings table and from the environment."""

from __future__ import annotations

from typing import Any

import pytest
from complaintkit_smpp import SmppConfig

from complaintkit.ports.settings import SettingsError

BASE = {"transport": "smpp", "host": "smsc.example.cn", "system_id": "ck", "password": "pw"}


def refused(settings: dict[str, Any], environ: dict[str, str] | None = None) -> str:
    with pytest.raises(SettingsError) as caught:
        SmppConfig.from_settings(settings, environ=environ or {})
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_a_wrong_type_names_the_field_and_the_value() -> None:
    assert refused({**BASE, "port": "abc"}) == "sms.port: 'abc' is not a port number (1-65535)"
    assert refused({**BASE, "tls": "maybe"}) == "sms.tls: 'maybe' is not true or false"
    assert refused({**BASE, "window": 2.5}) == "sms.window: 2.5 is not a whole number"
    assert refused({**BASE, "response_timeout": "soon"}) == (
        "sms.response_timeout: 'soon' is not a number of seconds")
    assert refused({**BASE, "resp_id_base": "octal"}) == (
        "sms.resp_id_base: 'octal' is not one of 'hex', 'dec', 'text'")


def test_an_unknown_key_is_refused_not_ignored() -> None:
    message = refused({**BASE, "windw": 5})
    assert message.startswith("sms.windw: unknown setting (known: ")
    assert "window" in message


def test_a_missing_required_key_names_it_and_its_environment_variable() -> None:
    settings = {k: v for k, v in BASE.items() if k != "host"}
    assert refused(settings) == "sms.host: missing (set it or COMPLAINTKIT_SMPP_HOST)"
    assert refused({**BASE, "host": ""}).startswith("sms.host: missing")


def test_a_wrong_value_from_the_environment_says_so() -> None:
    settings = {k: v for k, v in BASE.items() if k != "host"}
    message = refused(settings, {"COMPLAINTKIT_SMPP_HOST": "smsc", "COMPLAINTKIT_SMPP_PORT": "27x5"})
    assert message == "sms.port: '27x5' is not a port number (1-65535) (from COMPLAINTKIT_SMPP_PORT)"


def test_a_password_is_never_shown() -> None:
    message = refused({**BASE, "password": 8675309})
    assert message.startswith("sms.password: ") and "8675309" not in message
    config = SmppConfig.from_settings({**BASE, "password": "s3cret"}, environ={})
    assert "s3cret" not in repr(config)


def test_several_problems_stay_on_one_line() -> None:
    message = refused({**BASE, "port": "abc", "window": "ten", "windw": 5})
    assert "sms.port: 'abc'" in message and "sms.window: 'ten'" in message and "sms.windw" in message


def test_values_read_and_checked() -> None:
    config = SmppConfig.from_settings({**BASE, "port": "2776", "window": "20", "tls": "yes",
                                       "dlr_id_base": "dec"}, environ={})
    assert (config.port, config.window, config.tls, config.dlr_id_base) == (2776, 20, True, "dec")
    assert refused({**BASE, "window": 0}) == "sms.window: 0 must be at least 1"
