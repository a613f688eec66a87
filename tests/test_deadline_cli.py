"""``complaintkit deadline`` through click's CliRunner."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from complaintkit.cli.deadline import deadline


def run(*args: str):
    return CliRunner().invoke(deadline, list(args))


def test_working_hours_over_spring_festival() -> None:
    result = run("2026-02-13T17:00", "+12wh", "--hours", "09:00-18:00")
    assert result.exit_code == 0, result.output
    assert result.output == "2026-02-24T11:00:00+08:00\n"


def test_working_days_over_national_day() -> None:
    result = run("2025-09-30T16:00", "3wd")
    assert result.output == "2025-10-11T16:00:00+08:00\n"


def test_natural_hours_and_offsets() -> None:
    assert run("2025-10-01T03:00", "48h").output == "2025-10-03T03:00:00+08:00\n"
    # A start with an offset is honoured; the result is in --tz.
    assert run("2025-03-03T01:00+00:00", "2wh", "--hours", "09:00-18:00").output == "2025-03-03T11:00:00+08:00\n"
    assert run("2025-03-03T09:00", "2wh", "--tz", "UTC", "--hours", "09:00-18:00").output == "2025-03-03T11:00:00+00:00\n"


def test_between() -> None:
    result = run("2026-02-13T17:00", "--between", "2026-02-24T11:00", "--hours", "09:00-18:00")
    assert result.exit_code == 0, result.output
    assert result.output == "12wh\n"
    assert run("2025-03-03T09:00", "--between", "2025-03-03T10:30", "--hours", "09:00-18:00").output == "1.5wh\n"


def test_override_adds_a_year() -> None:
    missing = run("2026-12-31T10:00", "2wd")
    assert missing.exit_code == 2
    assert "2027" in missing.output and "--extra-year" in missing.output
    assert "Traceback" not in missing.output
    result = run(
        "2026-12-31T10:00", "2wd",
        "--extra-year", "2027", "--override", "2027-01-01=off", "--override", "2027-01-02=work",
    )
    assert result.exit_code == 0, result.output
    assert result.output == "2027-01-04T10:00:00+08:00\n"


def test_override_corrects_a_day() -> None:
    # 2025-10-08 is a holiday; a province that works it counts it.
    assert run("2025-09-30T16:00", "3wd", "--override", "2025-10-08=work").output == "2025-10-10T16:00:00+08:00\n"


@pytest.mark.parametrize(
    "args, message",
    [
        (["2026-02-13T17:00", "12x"], "unknown unit 'x'"),
        (["2026-02-13T17:00", "12wh", "--hours", "9-18"], "bad time '9'"),
        (["2026-02-13T17:00", "12wh", "--hours", "18:00-09:00"], "closes before it opens"),
        (["yesterday", "12wh"], "'yesterday' is not a date-time"),
        (["2026-02-13T17:00"], "either a DURATION"),
        (["2026-02-13T17:00", "1wh", "--between", "2026-02-14T00:00"], "either a DURATION"),
        (["2026-02-13T17:00", "1wh", "--tz", "Mars/Olympus"], "unknown time zone"),
        (["2026-02-13T17:00", "1wh", "--override", "2026-02-31=off"], "not a date"),
        (["2026-02-13T17:00", "1wh", "--override", "2026-02-14=maybe"], "'off'"),
        (["2026-02-13T17:00", "1wh", "--override", "2027-01-01=off"], "--extra-year 2027"),
        (["2030-01-02T10:00", "1wh"], "no working-calendar data for 2030"),
    ],
)
def test_bad_input_is_a_usage_error(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output


def test_command_object() -> None:
    import click

    assert isinstance(deadline, click.Command) and deadline.name == "deadline"
    assert "--hours" in run("--help").output
