from __future__ import annotations

import json
import time

import click
import pluggy
import pytest
from click.testing import CliRunner
from complaintkit_smpp import plugin
from complaintkit_smpp.bench import bench_smpp
from complaintkit_smpp.transport import SmppConfig, SmppTransport

from complaintkit.ports.transports import InboundSms, SendOutcome, SmsRequest, SmsTransport


def test_entry_point_is_registered():
    from importlib.metadata import entry_points
    eps = {ep.name: ep.value for ep in entry_points(group="complaintkit")}
    assert eps.get("smpp") == "complaintkit_smpp.plugin"


def test_hooks_are_pluggy_hookimpls():
    for name in ("complaintkit_sms_transport", "complaintkit_local_smsc", "complaintkit_cli_commands"):
        assert hasattr(getattr(plugin, name), "complaintkit_impl")


def test_transport_hook_with_local_smsc_and_mo():
    with plugin.complaintkit_local_smsc() as smsc:
        transport = plugin.complaintkit_sms_transport(smsc.settings)
        try:
            assert isinstance(transport, SmppTransport) and isinstance(transport, SmsTransport)
            assert transport.wait_bound(5)
            [r] = transport.send_many([SmsRequest("k", "13812345678", "10086", "您好")])
            assert r.outcome is SendOutcome.ACCEPTED
            assert [(s.destination, s.text, s.message_id) for s in smsc.received] == [
                ("13812345678", "您好", "00001000")]
            assert smsc.inject_mo("13812345678", "10086", "不满意" * 30) == 2
            deadline, got = time.monotonic() + 3, []
            while not got and time.monotonic() < deadline:
                got = transport.drain_inbound()
                time.sleep(0.02)
            assert got == [InboundSms("13812345678", "10086", "不满意" * 30, got[0].received_at)]
        finally:
            transport.close()


def test_transport_hook_declines_other_transports_and_reads_env(monkeypatch):
    assert plugin.complaintkit_sms_transport({"transport": "http"}) is None
    monkeypatch.delenv("COMPLAINTKIT_SMPP_HOST", raising=False)
    assert plugin.complaintkit_sms_transport({}) is None  # not configured for SMPP
    with pytest.raises(ValueError, match="host"):
        plugin.complaintkit_sms_transport({"transport": "smpp"})
    monkeypatch.setenv("COMPLAINTKIT_SMPP_HOST", "smsc.example")
    monkeypatch.setenv("COMPLAINTKIT_SMPP_PORT", "2776")
    monkeypatch.setenv("COMPLAINTKIT_SMPP_SYSTEM_ID", "esme")
    monkeypatch.setenv("COMPLAINTKIT_SMPP_PASSWORD", "pw")
    config = SmppConfig.from_settings({"window": "20", "tls": "true", "system_id": "mine"})
    assert (config.host, config.port, config.system_id, config.password) == (
        "smsc.example", 2776, "mine", "pw")
    assert config.window == 20 and config.tls is True


def test_cli_hook_adds_bench_smpp():
    @click.group()
    def cli():
        pass

    @cli.group()
    def bench():
        pass

    plugin.complaintkit_cli_commands(cli)
    assert "smpp" in cli.commands["bench"].commands


def test_hooks_validate_against_core_hookspecs():
    hookspecs = pytest.importorskip("complaintkit.hooks.specs")
    pm = pluggy.PluginManager("complaintkit")
    pm.add_hookspecs(hookspecs)
    pm.register(plugin)
    pm.check_pending()


def test_bench_smoke():
    result = CliRunner().invoke(bench_smpp, ["--messages", "50"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    assert figures["benchmark"] == "smpp"
    for key in ("adapter_msgs_per_s", "plain_msgs_per_s", "ratio", "bound_msgs_per_s",
                "adapter_share_of_bound"):
        assert isinstance(figures[key], (int, float))
    assert figures["bound_msgs_per_s"] == 500.0
    assert figures["adapter_accepted"] == figures["plain_accepted"] == 50
