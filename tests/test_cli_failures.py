"""N4: the command line turns every error into one message and a non-zero exit — no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from complaintkit.cli import cli


@pytest.mark.parametrize(("url", "expected"), [
    ("nonsense://x", "'nonsense://x' is not a database URL the kit can use"),
    ("::", "is not a database URL the kit can use"),
    ("postgresql://ck:secret@127.0.0.1:1/none", "cannot open the database postgresql://ck:***@127.0.0.1:1/none"),
    ("sqlite:////nonexistent-folder/x.db", "cannot open the database sqlite:////nonexistent-folder/x.db"),
])
@pytest.mark.parametrize("command", [["worker"], ["doctor"], ["demo", "--fake-sms", "--no-progress", "--tickets", "1"]])
def test_N4_a_database_the_kit_cannot_use_is_one_message(url: str, expected: str, command: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "--db", url])
    assert result.exit_code in (1, 2)
    assert "Traceback" not in result.output + result.stderr
    assert expected in result.stderr and "secret" not in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_N4_an_unreadable_settings_file_is_one_message(tmp_path: Path) -> None:
    settings = tmp_path / "settings.toml"
    settings.write_bytes(b"\xff\xfe[sms]")
    result = CliRunner().invoke(cli, ["worker", "--db", f"sqlite:///{tmp_path / 'w.db'}", "--settings", str(settings)])
    assert result.exit_code == 2
    assert "not valid TOML" in result.stderr and "Traceback" not in result.stderr


def test_N4_an_unexpected_error_is_named_not_dumped(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def broken(*_: object, **__: object) -> None:
        raise KeyError("customer 13812345678")

    monkeypatch.setattr("complaintkit.kit.ComplaintKit.__init__", broken)
    result = CliRunner().invoke(cli, ["worker", "--db", f"sqlite:///{tmp_path / 'w.db'}"])
    assert result.exit_code == 1
    assert "unexpected KeyError: 'customer 138****5678'" in result.stderr
    assert "COMPLAINTKIT_TRACEBACK=1" in result.stderr and "Traceback" not in result.stderr

    monkeypatch.setenv("COMPLAINTKIT_TRACEBACK", "1")
    result = CliRunner().invoke(cli, ["worker", "--db", f"sqlite:///{tmp_path / 'w.db'}"])
    assert isinstance(result.exception, KeyError)  # asked for: the error itself comes through
