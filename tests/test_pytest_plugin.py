"""SPEC M3: the ck_* fixtures as an integrator's project sees them (pytester runs a project of its own).

What a user depends on: ``ck_boss`` strict unless the ``complaintkit`` marker says otherwise, the
marker accepted under ``--strict-markers``, what a test set up and never used failing the test at
teardown (with a way to allow it), and every fixture explained by ``pytest --fixtures``.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from complaintkit.testing import pytest_plugin

pytest_plugins = ["pytester"]

ACCEPT = """
from complaintkit.core.model import Actor, Role

DESK = Actor("fd001", Role.FRONT_DESK, "service_centre")


def accept(kit, msisdn="13812345678"):
    return kit.accept(DESK, msisdn=msisdn, channel="hotline", category="hotline",
                      description="热线等待时间过长")
"""


def run(pytester: pytest.Pytester, source: str, *, kit: bool = False) -> pytest.RunResult:
    """Run ``source`` as the project's tests; in a process of its own when it builds a kit.

    (An in-process run forgets the modules it imported, and SQLAlchemy does not survive being
    imported a second time in one process.)
    """
    pytester.makepyfile(test_integration=ACCEPT + source)
    runner = pytester.runpytest_subprocess if kit else pytester.runpytest_inprocess
    return runner("-v", "--strict-markers", "-p", "no:cacheprovider")


def outcomes(result: pytest.RunResult) -> dict[str, str]:
    """Each inner test's outcome, from the ``-v`` lines."""
    found = re.findall(r"^test_integration\.py::(\S+) (PASSED|FAILED|ERROR)", result.stdout.str(), re.MULTILINE)
    return dict(found)


def test_ck_boss_is_strict_by_default_and_the_marker_configures_it(pytester: pytest.Pytester) -> None:
    # one run in a process of its own for every case that builds a kit
    result = run(pytester, """
import pytest


def test_unknown_customer(ck_kit):
    accept(ck_kit)


def test_customer(ck_kit, ck_boss):
    ck_boss.add_customer("13812345678", value_tier="high", star_level=5)
    assert accept(ck_kit).customer.value_tier == "high"


def test_non_customer(ck_kit, ck_boss):
    ck_boss.add_non_customer("13812345678")
    assert accept(ck_kit).customer.value_tier == "medium"


@pytest.mark.complaintkit(boss="lenient", clock="2026-09-30T16:00:00+08:00")
class TestMarked:
    def test_class_marker(self, ck_kit, ck_clock):
        accept(ck_kit)
        assert ck_clock.now().isoformat() == "2026-09-30T16:00:00+08:00"

    @pytest.mark.complaintkit(boss="strict")
    def test_own_marker_wins_option_by_option(self, ck_kit, ck_clock):
        assert ck_clock.now().isoformat() == "2026-09-30T16:00:00+08:00"  # still the class's
        accept(ck_kit)
""", kit=True)
    assert outcomes(result) == {
        "test_unknown_customer": "FAILED",
        "test_customer": "PASSED",
        "test_non_customer": "PASSED",
        "TestMarked::test_class_marker": "PASSED",
        "TestMarked::test_own_marker_wins_option_by_option": "FAILED",
    }
    messages = [line for line in result.stdout.lines if line.startswith("E ") and "UnexpectedCall" in line]
    assert len(messages) == 2
    # the number is masked in the message; the message says how to set the customer up
    assert all("FakeBoss has no customer 138****5678; add_customer()" in m for m in messages)
    assert not any("13812345678" in m for m in messages)


def test_marker_with_an_unknown_option_is_an_error_naming_it(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
import pytest


@pytest.mark.complaintkit(bos="lenient")
def test_typo(ck_boss):
    pass
""")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*unknown option 'bos'*"])


def test_marker_is_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.complaintkit(*): configure complaintkit's ck_* fixtures*"])


def test_unused_scripted_failure_and_reply_fail_the_test_at_teardown(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
from complaintkit.ports.transports import SendOutcome


def test_forgot(ck_sms):
    ck_sms.fail_next(2, SendOutcome.FAILED)
    ck_sms.reply("13812345678", "1")
""")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines([
        "*ERROR at teardown of test_forgot*",
        "*ck_sms: set up but never used:*",
        "*2 scripted failure(s) from fail_next() that no message consumed (FAILED, FAILED)*",
        "*1 customer reply(ies) from reply() that no worker collected (from 138****5678)*",
        "*ck_sms.check_at_teardown = False*",
    ])


def test_unused_boss_set_up_and_mail_failure_fail_the_test_at_teardown(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
from complaintkit.ports.boss import Bill


def test_boss(ck_boss):
    ck_boss.add_customer("13812345678")
    ck_boss.bills[("13812345678", "2026-02")] = Bill("2026-02", 5800)


def test_mail(ck_mail):
    ck_mail.fail_next()
""")
    result.assert_outcomes(passed=2, errors=2)
    result.stdout.fnmatch_lines(["*customer(s) nothing asked about: 138****5678*",
                                 "*bill(s) nothing asked for: 138****5678 2026-02*"])
    result.stdout.fnmatch_lines(["*ck_mail: set up but never used:*"])


def test_what_is_used_passes_and_the_check_can_be_turned_off(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
import pytest


def test_used(ck_kit, ck_worker, ck_clock, ck_sms, ck_boss):
    ck_boss.add_customer("13812345678")
    ck_kit.open_follow_up(DESK, msisdn="13812345678", problem_type="call_quality",
                          category="call_quality", description="通话断续")
    ck_sms.fail_next()
    ck_clock.advance(hours=2)           # the follow-up SMS: refused once
    ck_clock.advance(minutes=5)         # and sent on the retry
    ck_sms.reply("13812345678", "1")
    ck_clock.advance(minutes=1)         # the worker collects the reply
    assert len(ck_sms.sent) == 2


def test_attribute(ck_sms):
    ck_sms.check_at_teardown = False
    ck_sms.fail_next()


@pytest.mark.complaintkit(assert_all_used=False)
def test_marker(ck_sms, ck_boss):
    ck_sms.fail_next()
    ck_boss.add_customer("13812345678")
""", kit=True)
    result.assert_outcomes(passed=3)


def test_a_failed_test_reports_its_own_failure_only(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
def test_fails(ck_sms):
    ck_sms.fail_next()
    assert 1 == 2
""")
    result.assert_outcomes(failed=1)
    assert "never used" not in result.stdout.str()


def test_ck_mail_resolves_departments_of_the_standard_and_refuses_unknown_codes(
        pytester: pytest.Pytester) -> None:
    result = run(pytester, """
import pytest

from complaintkit.ports.transports import EmailRequest, SendOutcome


def test_default(ck_mail, ck_standard):
    assert {d.code for d in ck_standard.departments} >= {"network_dept", "billing_dept"}
    (ok, unknown) = ck_mail.send_many([EmailRequest("a", ("network_dept",), "s", "b"),
                                       EmailRequest("b", ("legal_dept",), "s", "b")])
    assert ok.outcome is SendOutcome.ACCEPTED
    assert ck_mail.sent[0].addresses == ("network_dept@departments.invalid",)
    assert unknown.outcome is SendOutcome.FAILED
    assert unknown.detail.startswith("no address for department code 'legal_dept'")


@pytest.mark.complaintkit(mail_recipients={"network_dept": ["noc@example.cn", "duty@example.cn"]})
def test_marker(ck_mail):
    (ok, unknown) = ck_mail.send_many([EmailRequest("a", ("network_dept",), "s", "b"),
                                       EmailRequest("b", ("billing_dept",), "s", "b")])
    assert ck_mail.to("noc@example.cn")[0].addresses == ("noc@example.cn", "duty@example.cn")
    assert unknown.outcome is SendOutcome.FAILED
""")
    result.assert_outcomes(passed=2)


def _plugin_fixtures() -> list[str]:
    found = []
    for name, value in vars(pytest_plugin).items():
        marked = getattr(value, "_pytestfixturefunction", None) or type(value).__name__ == "FixtureFunctionDefinition"
        if marked:
            found.append(name)
    return sorted(found)


def test_every_fixture_is_found() -> None:
    # guards the introspection: an empty list would let the next test pass vacuously
    assert {"ck_boss", "ck_clock", "ck_kit", "ck_mail", "ck_sms", "ck_worker"} <= set(_plugin_fixtures())


def test_pytest_fixtures_explains_every_fixture(pytester: pytest.Pytester) -> None:
    output = pytester.runpytest_inprocess("--fixtures").stdout.str()
    problems = []
    for fixture in _plugin_fixtures():
        found = re.search(rf"^{fixture}\b.*\n((?:    .*\n)+)", output, re.MULTILINE)
        summary = (inspect.getdoc(getattr(pytest_plugin, fixture)) or "").split("\n")[0].strip()
        if not found:
            problems.append(f"pytest --fixtures does not list {fixture}")
        elif "no docstring available" in found.group(1) or not summary:
            problems.append(f"fixture {fixture} has no docstring")
        elif summary not in " ".join(found.group(1).split()):
            problems.append(f"pytest --fixtures does not show the docstring of {fixture}")
    assert not problems, problems


def test_the_example_in_the_testing_guide_passes(pytester: pytest.Pytester) -> None:
    guide = (Path(__file__).resolve().parent.parent / "docs" / "testing.md").read_text(encoding="utf-8")
    example = re.search(r"## An example\n.*?```python\n(.*?)```", guide, re.DOTALL)
    assert example, "docs/testing.md has no example under '## An example'"
    pytester.makepyfile(test_example=example.group(1))
    result = pytester.runpytest_subprocess("--strict-markers", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=example.group(1).count("\ndef test_"))
