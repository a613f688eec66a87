"""SPEC M1–M2 and the province standard: discovery, validation, errors that name plugin, file and field."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from complaintkit_baseline import DATA
from complaintkit_baseline import standard as baseline

from complaintkit import hookimpl
from complaintkit.cli import cli
from complaintkit.core.errors import PluginError, StandardInvalid
from complaintkit.engine.store import Store
from complaintkit.hooks.manager import Plugins
from complaintkit.kit import ComplaintKit
from complaintkit.standard import load_standard


def test_M2_entry_point_plugins_are_found_and_built_ins_come_last() -> None:
    plugins = Plugins.discover()
    names = [info.name for info in plugins.info()]
    assert "baseline" in names
    assert names[-1] == "complaintkit.hooks.defaults"
    standard = plugins.call_first("complaintkit_standard")
    assert standard is not None and standard.name == "baseline"


def test_M2_a_plugin_overrides_the_baseline_standard() -> None:
    province = baseline()
    import attrs

    province = attrs.evolve(province, name="henan")

    class Henan:
        @hookimpl
        def complaintkit_standard(self) -> Any:
            return province

    assert Plugins.discover(extra=(Henan(),)).call_first("complaintkit_standard").name == "henan"


def test_M2_allow_and_deny_lists_from_the_environment() -> None:
    assert "baseline" not in [i.name for i in Plugins.discover(environ={"COMPLAINTKIT_DISABLE_PLUGINS": "baseline"}).info()]
    assert "baseline" not in [i.name for i in Plugins.discover(environ={"COMPLAINTKIT_PLUGINS": "smpp"}).info()]
    assert "baseline" in [i.name for i in Plugins.discover(environ={"COMPLAINTKIT_PLUGINS": "baseline"}).info()]


def test_M2_a_misspelt_hook_fails_start_up_naming_the_plugin() -> None:
    class Typo:
        @hookimpl
        def complaintkit_standrad(self) -> None:
            return None

    with pytest.raises(PluginError) as info:
        Plugins.discover(extra=(Typo(),))
    assert "Typo" in str(info.value) and "complaintkit_standrad" in str(info.value)


def test_M2_a_failing_hook_is_reported_with_plugin_and_hook() -> None:
    class Broken:
        @hookimpl(tryfirst=True)
        def complaintkit_boss_client(self, settings: Any) -> Any:
            raise ConnectionError("BOSS gateway 10.0.0.1 refused")

    plugins = Plugins.discover(extra=(Broken(),))
    with pytest.raises(PluginError) as info:
        plugins.call_first("complaintkit_boss_client", settings={})
    assert info.value.plugin == "Broken" and info.value.hook == "complaintkit_boss_client"
    assert "BOSS gateway" in str(info.value)


def test_M2_an_event_hook_failure_does_not_undo_the_command(sqlite_url: str) -> None:
    class Noisy:
        @hookimpl
        def complaintkit_ticket_changed(self, ticket: Any, events: Any) -> None:
            raise RuntimeError("listener down")

    from complaintkit.core.model import Actor, Role
    from complaintkit.testing import VirtualClock

    kit = ComplaintKit(Store.open(sqlite_url), plugins=Plugins.discover(extra=(Noisy(),)), clock=VirtualClock())
    t = kit.accept(Actor("fd1", Role.FRONT_DESK), msisdn="13812345678", channel="hotline", category="hotline",
                   description="x")
    assert kit.ticket(t.id).id == t.id
    kit.close()


def test_M2_plugins_command_lists_name_distribution_and_version() -> None:
    result = CliRunner().invoke(cli, ["plugins"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "baseline" in result.output and "complaintkit-baseline" in result.output and "0.1.0" in result.output
    assert "complaintkit.hooks.defaults" in result.output


def test_baseline_standard_is_complete() -> None:
    s = baseline()
    assert len(s.follow_up_types) == 10
    assert {d.level for d in s.departments} >= {"province", "city", "second_line", "service_centre"}
    assert {r.role.value for r in s.roles} == {"front_desk", "specialist", "back_office", "department"}
    front = s.role(__import__("complaintkit.core.model", fromlist=["Role"]).Role.FRONT_DESK)
    assert "customer.itemised_records" not in front.permissions  # H1


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    folder = tmp_path / "province"
    shutil.copytree(str(DATA), folder)
    return folder


def _edit(folder: Path, name: str, old: str, new: str) -> None:
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        ("time_limits.toml", 'total = "48h"', 'total = "48x"',
         "time_limits.toml: $.rule[0].limits.total: '48x': unknown unit 'x'"),
        ("time_limits.toml", 'reply = "24h"', 'answer = "24h"', "time_limits.toml: $.rule[0].limits.answer: unknown stage"),
        ("time_limits.toml", 'urgency = "general"', 'urgency = "someday"', "time_limits.toml: $.rule[0].urgency"),
        ("follow_up.toml", 'delay = "6h"', 'delay = "six hours"', "follow_up.toml: $.type[7].delay"),
        ("categories.toml", 'department = "network_dept"', 'department = "nowhere"',
         "categories.toml: category 'network': department 'nowhere' is not in organisation.toml"),
        ("standard.toml", 'near_overdue_before = "1h"', 'near_overdue_before = "1wd"',
         "standard.toml: $.settings.near_overdue_before: must be in natural hours"),
        ("standard.toml", "repeat_window_days = 30", 'repeat_window_days = "thirty"',
         "standard.toml: $.settings.repeat_window_days"),
        ("roles.toml", 'role = "front_desk"', 'role = "receptionist"', "roles.toml: $.role[0].role"),
        ("organisation.toml", 'level = "province"', 'levl = "province"', "organisation.toml: $.department[2]"),
        ("templates.toml", "[templates]", "[templates\n", "templates.toml: not valid TOML"),
    ],
)
def test_N4_broken_standard_file_names_file_and_field(broken: Path, file: str, old: str, new: str,
                                                     expected: str) -> None:
    _edit(broken, file, old, new)
    with pytest.raises(StandardInvalid) as info:
        load_standard(broken, plugin="henan")
    assert expected in str(info.value), str(info.value)
    assert "henan:" in str(info.value)


def test_N4_missing_file_is_named(broken: Path) -> None:
    (broken / "roles.toml").unlink()
    with pytest.raises(StandardInvalid, match="roles.toml: file missing"):
        load_standard(broken)


def test_N4_a_broken_standard_stops_start_up_and_touches_no_database(broken: Path, tmp_path: Path) -> None:
    _edit(broken, "time_limits.toml", 'total = "48h"', 'total = "soon"')

    class Province:
        @hookimpl
        def complaintkit_standard(self) -> Any:
            return load_standard(broken, plugin="henan")

    with pytest.raises(PluginError) as info:
        ComplaintKit(Store.open(f"sqlite:///{tmp_path / 'x.db'}"), plugins=Plugins.discover(extra=(Province(),)))
    assert "Province" in str(info.value) and "complaintkit_standard" in str(info.value)
    assert "time_limits.toml: $.rule[0].limits.total" in str(info.value)


def test_K3_an_sms_template_longer_than_the_province_allows_is_refused(broken: Path) -> None:
    _edit(broken, "standard.toml", "sms_max_chars = 350", "sms_max_chars = 60")
    with pytest.raises(StandardInvalid) as info:
        load_standard(broken)
    assert "templates.toml: $.templates.follow_up_confirmation:" in str(info.value)
    assert "more than standard.toml's sms_max_chars (60)" in str(info.value)


def test_K3_an_sms_template_with_an_unknown_variable_is_refused(broken: Path) -> None:
    _edit(broken, "templates.toml", "工单号{ticket_id}", "工单号{ticket_number}")
    with pytest.raises(StandardInvalid, match=r"templates.follow_up_converted: unknown variable 'ticket_number'"):
        load_standard(broken)
