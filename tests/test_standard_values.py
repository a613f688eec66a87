"""N4 / M1: a province standard is refused when loaded if anything in it could fail later — a
duration the calendar cannot add, a setting of the wrong type, a template a rule renders that
is missing or asks for what the rule does not give. Every refusal names the file and the field."""

from __future__ import annotations

import json
import shutil
import tempfile
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from complaintkit_baseline import DATA
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from complaintkit.core.errors import StandardInvalid
from complaintkit.core.model import Actor, Role
from complaintkit.engine.outbox import Outbox
from complaintkit.engine.store import Store
from complaintkit.engine.worker import Worker
from complaintkit.hooks.manager import Plugins
from complaintkit.kit import ComplaintKit
from complaintkit.ports.transports import InboundSms
from complaintkit.standard import load_standard
from complaintkit.testing import FakeMail, FakeSms, VirtualClock

FILES = sorted(p.name for p in Path(str(DATA)).iterdir() if p.suffix == ".toml")


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    """A copy of the baseline's folder, to break."""
    return Path(shutil.copytree(str(DATA), tmp_path / "province"))


def edit(folder: Path, name: str, old: str, new: str) -> None:
    text = (folder / name).read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {name}"
    (folder / name).write_text(text.replace(old, new, 1), encoding="utf-8")


def refusal(folder: Path) -> str:
    with pytest.raises(StandardInvalid) as info:
        load_standard(folder, plugin="henan")
    return str(info.value)


@pytest.mark.parametrize(("file", "old", "new", "expected"), [
    ("time_limits.toml", 'total = "48h"', 'total = "' + "9" * 31 + 'h"',
     "time_limits.toml: $.rule[0].limits.total: '99999999999999999999': more than a year (8784h at the most)"),
    ("time_limits.toml", 'total = "48h"', 'total = "400wd"', "time_limits.toml: $.rule[0].limits.total"),
    ("time_limits.toml", 'total = "48h"', 'total = "0h"', "a limit must be more than zero"),
    ("follow_up.toml", 'delay = "6h"', 'delay = "' + "1" * 31 + 'h"', "follow_up.toml: $.type[7].delay"),
    ("standard.toml", "[settings]", 'settings = "fast"\n[ignored]',
     "standard.toml: $.settings: must be a table, not text (write [settings])"),
    ("standard.toml", "[settings]", "[setting]", "standard.toml: $.setting: unknown table (expected name, version, settings)"),
    ("standard.toml", 'service_port = "10086"', "service_port = 10086",
     "standard.toml: $.settings.service_port: expected text, got a number"),
    ("standard.toml", 'service_port = "10086"', 'service_port = "' + "1" * 41 + '"',
     "standard.toml: $.settings.service_port: 41 characters is more than the 20 allowed"),
    ("standard.toml", 'service_port = "10086"', 'service_port = "100 86"', "a service number has no spaces"),
    ("standard.toml", 'follow_up_reply_code = "1"', 'follow_up_reply_code = ""',
     "standard.toml: $.settings.follow_up_reply_code: must not be empty"),
    ("standard.toml", "repeat_window_days = 30", "repeat_window_days = true",
     "standard.toml: $.settings.repeat_window_days: expected a whole number, got true/false"),
    ("standard.toml", "repeat_window_days = 30", "repeat_window_days = 0",
     "standard.toml: $.settings.repeat_window_days: 0 is outside 1..3650"),
    ("standard.toml", "pause_while_waiting = false", "pause_while_waiting = 0",
     "standard.toml: $.settings.pause_while_waiting: expected true or false"),
    ("standard.toml", 'follow_up_window = "12h"', 'follow_up_window = "0h"', "$.settings.follow_up_window"),
    ("standard.toml", 'working_hours = ""', 'working_hours = "9-5"', "standard.toml: $.settings.working_hours"),
    ("standard.toml", 'name = "baseline"', 'name = "base\\u0000line"',
     "standard.toml: $.name: contains a control character (U+0000)"),
    ("templates.toml", "reply_late = ", "reply_too_late = ",
     "templates.toml: $.templates.reply_late: missing (the process sends it)"),
    ("templates.toml", "near_overdue_reminder = ", "near_overdue_note = ",
     "templates.toml: $.templates.near_overdue_reminder: missing"),
    ("templates.toml", "请{department}（处理人{handler}）尽快处理", "请{department}联系客户{customer}",
     "templates.toml: $.templates.near_overdue_reminder: unknown variable 'customer'"),
    ("templates.toml", "工单号{ticket_id}", "工单号{ticket_id:>99999}", "format too wide"),
    ("templates.toml", "工单号{ticket_id}", "工单号{ticket_id.upper}", "a variable is a plain name"),
    ("templates.toml", "工单号{ticket_id}", "工单号{ticket_id:d}", "cannot be filled in"),
    ("templates.toml", "拨打{fast_service_number}，我们将为您重新受理", "拨打{fast_service_number}，工单{ticket_id}",
     "templates.toml: $.templates.reply_late: unknown variable 'ticket_id'"),
    ("templates.toml", "共 {count} 张", "共 {total} 张", "templates.toml: $.templates.daily_digest: unknown variable"),
    ("categories.toml", 'code = "hotline"', 'code = "' + "h" * 61 + '"', "61 characters is more than the 60"),
    ("categories.toml", 'code = "hotline"', 'code = "hot line"', "a code has no spaces"),
    ("organisation.toml", 'code = "city_south"', 'code = "' + "c" * 61 + '"',
     "organisation.toml: $.department[8].code: 61 characters"),
    ("templates.toml", "[templates]", 'templates = "none"\n[other]',
     "templates.toml: $.templates: must be a table, not text (write [templates])"),
])
def test_N4_a_value_that_would_fail_later_is_refused_at_load(broken: Path, file: str, old: str, new: str,
                                                             expected: str) -> None:
    edit(broken, file, old, new)
    message = refusal(broken)
    assert expected in message, message
    assert "henan:" in message


def test_N4_a_table_where_an_array_of_tables_belongs_is_refused(broken: Path) -> None:
    (broken / "categories.toml").write_text('[category]\ncode = "basic"\nname = "基础通信"\n', encoding="utf-8")
    assert "categories.toml: $.category: must be an array of tables, not a table (write [[category]])" \
        in refusal(broken)


def test_K3_the_daily_digest_may_use_its_numbers(broken: Path) -> None:
    edit(broken, "templates.toml", "共 {count} 张", "共 {count:d} 张（超时 {overdue}）")
    assert load_standard(broken).templates["daily_digest"]


def test_K3_the_window_is_said_from_the_setting(broken: Path) -> None:
    edit(broken, "standard.toml", 'follow_up_window = "12h"', 'follow_up_window = "24h"')
    standard = load_standard(broken)
    text = standard.render("follow_up_confirmation", problem="通话质量", ticket_id="CK1")
    assert "请在24小时内回复" in text and "12小时" not in text
    assert "超过24小时有效期" in standard.render("reply_late")


# -- any mutation: refused with StandardInvalid, or a standard that runs -------------------------


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k, ensure_ascii=False)} = {_toml(v)}" for k, v in value.items()) + "}"


def _write(path: Path, data: dict[str, Any]) -> None:
    text = "\n".join(f"{json.dumps(k, ensure_ascii=False)} = {_toml(v)}" for k, v in data.items()) + "\n"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))


scalars = st.one_of(
    st.text(st.characters(exclude_categories=()), max_size=12), st.sampled_from(["", "48h", "9" * 31 + "h", "1.5wd",
                                                                                "x" * 200, "{ticket_id}", "{nope}"]),
    st.integers(), st.sampled_from([0, -1, 10**30]), st.floats(), st.booleans())
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                      max_leaves=6)


def _like(original: Any) -> st.SearchStrategy[Any]:
    """A value of the original's type, so that more mutations get past the loader to run."""
    if isinstance(original, bool):
        return st.booleans()
    if isinstance(original, int):
        return st.integers(-5, 10**6)
    if isinstance(original, float):
        return st.floats()
    if isinstance(original, str):
        return st.one_of(st.from_regex(r"\A[0-9]{1,35}(\.[0-9]{1,3})?(h|wh|wd)\Z"), st.text(max_size=8),
                         st.just(original + "{ticket_id}"), st.just(original * 30))
    return st.nothing()


@settings(max_examples=80, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_N4_a_mutated_standard_is_refused_or_runs(data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as folder:
        province = Path(shutil.copytree(str(DATA), Path(folder) / "province"))
        _mutate(province, data)
        try:
            standard = load_standard(province)
        except StandardInvalid:
            return
    _runs(standard)


def _mutate(province: Path, data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(FILES), label="file")
    document = tomllib.loads((province / name).read_text(encoding="utf-8"))
    node: Any = document
    while True:  # walk down to a table or an array, then change one thing in it
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        if not keys:
            break
        key = data.draw(st.sampled_from(keys), label="key")
        if isinstance(node[key], (dict, list)) and node[key] and data.draw(st.booleans(), label="deeper"):
            node = node[key]
            continue
        action = data.draw(st.sampled_from(["replace", "delete", "add"]), label="action")
        if action == "replace":
            node[key] = data.draw(st.one_of(values, _like(node[key])), label="value")
        elif action == "delete":
            del node[key]
        elif isinstance(node, dict):
            node[data.draw(st.text(min_size=1, max_size=8), label="new key")] = data.draw(values, label="value")
        else:
            node.append(data.draw(values, label="value"))
        break
    _write(province / name, document)


def _runs(standard: Any) -> None:
    """A loaded standard carries tickets through the process without an error."""
    clock = VirtualClock()
    kit = ComplaintKit(Store.open("sqlite://"), standard=standard, plugins=Plugins.discover(), clock=clock)
    worker = Worker(kit, Outbox(kit, sms=FakeSms(), email=FakeMail()))
    clock.attach(worker)
    try:
        desk = Actor("fd001", Role.FRONT_DESK, standard.settings.complaint_department)
        leaf = next(c.code for c, _ in standard.iter_categories() if not c.children)
        kit.accept(desk, msisdn="13812345678", channel="hotline", category=leaf, description="信号差")
        for problem in standard.follow_up_types[:2]:
            kit.open_follow_up(desk, msisdn="13912345678", problem_type=problem.code, category=leaf,
                               description="已重启")
        clock.advance(hours=30)
        kit.receive_sms(InboundSms("13912345678", standard.settings.service_port, "1"))
        kit.receive_sms(InboundSms("13912345678", standard.settings.service_port, "不知道"))
        clock.advance(days=40)
        kit.send_daily_digest()
        worker.run_once()
    finally:
        kit.close()
    assert clock.now() - VirtualClock().now() >= timedelta(days=40)
