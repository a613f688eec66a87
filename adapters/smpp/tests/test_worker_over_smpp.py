"""An operator's set-up: ``complaintkit worker --db URL --settings FILE`` delivering over SMPP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from complaintkit_smpp import LocalSmsc

from complaintkit.core.model import MessageChannel, OutgoingMessage
from complaintkit.engine.store import Store


def test_worker_delivers_the_outbox_to_the_smsc_in_its_settings(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ops.db'}"
    store = Store.open(url)
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    with store.transaction() as tx:
        tx.add_messages([OutgoingMessage(f"ops-{i}", MessageChannel.SMS, f"1391234{i:04d}", f"您好，第{i}条",
                                         sender="10086") for i in range(5)], now)
    store.close()
    with LocalSmsc(system_id="ops", password="pw") as smsc:
        settings = tmp_path / "settings.toml"
        settings.write_text(f'[sms]\nhost = "127.0.0.1"\nport = {smsc.port}\nsystem_id = "ops"\npassword = "pw"\n',
                            encoding="utf-8")
        exe = Path(sys.executable).with_name("complaintkit")
        proc = subprocess.Popen([str(exe), "worker", "--db", url, "--settings", str(settings), "--idle", "0.1"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            deadline = time.monotonic() + 30
            while len(smsc.texts()) < 5 and time.monotonic() < deadline:
                time.sleep(0.05)
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert sorted(smsc.texts()) == [(f"1391234{i:04d}", f"您好，第{i}条") for i in range(5)]
    assert proc.returncode == 0, err
    assert "worker stopped" in err
    assert "13912340000" not in err  # numbers in the worker's logs are masked
    store = Store.open(url)
    with store.read() as tx:
        assert {m["state"] for m in tx.messages()} == {"completed"}
    store.close()
