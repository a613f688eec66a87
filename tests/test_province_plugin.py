"""A second province plugin (Ningxia) that states only how it differs from the baseline, the
``complaintkit standard check`` command for vendors, and the demo on a named standard."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from complaintkit_baseline import standard as baseline
from complaintkit_ningxia import DATA as NINGXIA
from complaintkit_ningxia import standard as ningxia

from complaintkit.cli import cli
from complaintkit.core.errors import InvalidInput, StandardInvalid, TransferRefused
from complaintkit.core.model import Actor, Role, TicketState
from complaintkit.engine.store import Store
from complaintkit.hooks.manager import Plugins
from complaintkit.kit import ComplaintKit
from complaintkit.standard import load_standard
from complaintkit.standard.installed import named, names

DESK = Actor("fd001", Role.FRONT_DESK, "service_centre")


def test_the_province_extends_the_baseline_instead_of_copying_it() -> None:
    files = sorted(p.name for p in Path(str(NINGXIA)).iterdir())
    assert files == ["dispatch.toml", "organisation.toml", "standard.toml"]  # only the differences
    base, nx = baseline(), ningxia()
    assert nx.categories == base.categories and nx.time_limits == base.time_limits  # inherited
    assert nx.templates == base.templates
    assert (nx.settings.processing_mode, nx.settings.follow_up_reply_code, nx.settings.fast_service_number) == (
        "specialist", "8", "1008611")
    assert base.settings.follow_up_reply_code == "1"
    codes = {d.code for d in nx.departments}
    assert {"yinchuan", "guyuan", "service_mgmt", "network_dept"} <= codes and "city_north" not in codes
    assert [g.code for g in nx.dispatch.skill_groups] == ["network_seat", "business_seat", "billing_seat",
                                                          "service_seat"]
    assert {(t.category, t.area, t.threshold) for t in nx.dispatch.batch_thresholds} == {
        ("network", "", 20), ("network", "yinchuan", 40)}
    assert names() >= ["baseline", "ningxia"] and named("ningxia") == nx
    with pytest.raises(InvalidInput, match="installed: .*ningxia"):
        named("atlantis")


@pytest.mark.complaintkit(boss="lenient")
def test_A6_D2_D3_ningxia_routes_by_city_seats_specialists_and_keeps_its_graph(ck_db_url: str, ck_clock: Any) -> None:
    kit = ComplaintKit(Store.open(ck_db_url), standard=ningxia(), plugins=Plugins.discover(), clock=ck_clock)
    try:
        t = kit.accept(DESK, msisdn="13912345678", channel="hotline", category="no_signal", description="无信号",
                       city="guyuan")
        assert (t.state, t.department) == (TicketState.IN_HANDLING, "guyuan")
        seat = kit.accept(DESK, msisdn="13912345679", channel="hotline", category="bill_dispute",
                          description="话费争议")  # category department: billing_dept (inherited)
        assert seat.department == "billing_dept"
        pooled = kit.accept(DESK, msisdn="13912345670", channel="hotline", category="sms_failure", description="短信")
        assert pooled.handler == "seat:network_seat"
        with pytest.raises(TransferRefused, match="allowed: .*service_mgmt"):
            kit.forward(t.id, "second_line", Actor("gy-01", Role.DEPARTMENT, "guyuan"), reason="转二线")
        # two misdispatches (misdispatch_limit = 2) reach the service management department
        kit.parts.dispatch.misdispatch(t.id, "zhongwei", Actor("gy-01", Role.DEPARTMENT, "guyuan"), reason="不在本市")
        t = kit.parts.dispatch.misdispatch(t.id, "wuzhong", Actor("zw-01", Role.DEPARTMENT, "zhongwei"), reason="不在本市")
        assert (t.department, t.bounces) == ("service_mgmt", 2)
        t = kit.parts.dispatch.arbitrate(t.id, "guyuan", Actor("sm-01", Role.BACK_OFFICE, "service_mgmt"),
                                         reason="基站归属固原")
        assert t.lead_department == "guyuan"
    finally:
        kit.close()


def test_standard_check_prints_what_a_standard_defines() -> None:
    result = CliRunner().invoke(cli, ["standard", "check", "ningxia"])
    assert result.exit_code == 0, result.output
    assert "standard ningxia 2026.1" in result.output and "no problems" in result.output
    assert "specialist: network_seat" in result.output and "8 / 1008611" in result.output
    result = CliRunner().invoke(cli, ["standard", "check", str(NINGXIA)])
    assert result.exit_code == 0 and "service_mgmt" in result.output


def test_standard_check_lists_every_problem_with_file_and_field(tmp_path: Path) -> None:
    folder = Path(shutil.copytree(str(NINGXIA), tmp_path / "nx"))
    text = (folder / "dispatch.toml").read_text(encoding="utf-8")
    (folder / "dispatch.toml").write_text(text.replace('skills = ["billing_seat"]\nlevel = 2',
                                                       'skills = ["billing"]\nlevel = 2')
                                          .replace('department = "guyuan"', 'department = "gu_yuan"'), encoding="utf-8")
    (folder / "organisation.toml").write_text((folder / "organisation.toml").read_text(encoding="utf-8")
                                              .replace('"city_south"]', '"city_east"]'), encoding="utf-8")
    result = CliRunner().invoke(cli, ["standard", "check", str(folder)])
    assert result.exit_code == 1
    assert "3 problems" in result.output
    assert "organisation.toml: $.remove[2]: 'city_east' is not in the standard it extends" in result.output
    assert "dispatch.toml: $.handler[4].skills[0]: 'billing' is not a skill_group" in result.output
    assert "dispatch.toml: $.route[7].department: 'gu_yuan' is not in organisation.toml" in result.output
    with pytest.raises(StandardInvalid):
        load_standard(folder)
    assert CliRunner().invoke(cli, ["standard", "check", "nowhere"]).exit_code == 1


def test_a_standard_extending_a_missing_base_is_refused(tmp_path: Path) -> None:
    folder = Path(shutil.copytree(str(NINGXIA), tmp_path / "nx"))
    head = folder / "standard.toml"
    head.write_text(head.read_text(encoding="utf-8").replace("complaintkit_baseline:data", "no_such_pkg:data"),
                    encoding="utf-8")
    with pytest.raises(StandardInvalid, match=r"standard.toml: \$.extends: 'no_such_pkg:data': no standard there"):
        load_standard(folder)


def test_the_demo_runs_on_the_second_province_and_shows_the_special_tickets() -> None:
    result = CliRunner().invoke(cli, ["demo", "--standard", "ningxia", "--tickets", "120", "--days", "10",
                                      "--fake-sms", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "standard ningxia" in result.output
    for row in ("repeat", "major", "misdispatched (D5)", "batch callers recorded", "batch warnings started"):
        assert row in result.output
    bad = CliRunner().invoke(cli, ["demo", "--standard", "atlantis", "--fake-sms", "--no-progress"])
    assert bad.exit_code != 0 and "no installed standard 'atlantis'" in bad.output
