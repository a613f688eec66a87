"""Code written against complaintkit 0.1 keeps running: its import paths give the new modules."""

import importlib

import pytest

from complaintkit import _moved


@pytest.mark.parametrize(("old", "new"), sorted(_moved.MOVED.items()))
def test_a_01_import_path_is_the_same_module_as_its_new_home(old: str, new: str) -> None:
    assert importlib.import_module(old) is importlib.import_module(new)


def test_01_rules_package_still_gives_context_and_its_rule_modules() -> None:
    from complaintkit.rules import Context, lifecycle, time_limits
    from complaintkit.rules.lifecycle import TRANSITIONS

    from complaintkit.engine.context import Context as New
    from complaintkit.parts.intake import rules as intake_rules

    assert Context is New
    assert lifecycle is intake_rules
    assert TRANSITIONS is intake_rules.TRANSITIONS
    assert time_limits.MET_BY
