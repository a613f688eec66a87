"""A real SMTP server on 127.0.0.1 (aiosmtpd) that records what it is given and answers as told."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from typing import Any

import attrs
import pytest
from aiosmtpd.controller import Controller
from complaintkit_smtp import SmtpConfig, SmtpTransport

SENDER = "complaints@example.cn"
RECIPIENTS = {
    "network_dept": ["noc@example.cn", "network-duty@example.cn"],
    "service_centre": ["service@example.cn"],
    "billing_dept": "billing@example.cn",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@attrs.define(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage


class Recorder:
    """aiosmtpd handler: ``rcpt_replies[address]`` answers RCPT for it, ``data_replies`` pops per DATA."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.mail_reply = ""
        self.rcpt_replies: dict[str, str] = {}
        self.data_replies: list[str] = []
        #: close the connection (and stop listening, with ``stop_listening``) at the n-th DATA
        self.drop_at: int | None = None
        self.stop_listening = False
        self.data_delay = 0.0
        self.datas = 0
        self.controller: Controller | None = None

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str,
                          mail_options: list[str]) -> str:
        if self.mail_reply:
            return self.mail_reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        reply = self.rcpt_replies.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.datas += 1
        if self.drop_at == self.datas:
            if self.stop_listening and self.controller is not None and self.controller.server:
                self.controller.server.close()
            server.transport.close()
            return "250 never heard"
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        if self.data_replies:
            return self.data_replies.pop(0)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


@attrs.define
class Server:
    controller: Controller
    handler: Recorder
    port: int

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def settings(self, **overrides: Any) -> dict[str, Any]:
        # one connection unless a test asks for more: these tests count the server's N-th DATA
        # and the order messages arrive in, which only one connection keeps
        return {"host": "127.0.0.1", "port": self.port, "sender": SENDER, "timeout": 5,
                "recipients": RECIPIENTS, "pool_size": 1, **overrides}

    def transport(self, **overrides: Any) -> SmtpTransport:
        return SmtpTransport(SmtpConfig.from_settings(self.settings(**overrides), environ={}))


@pytest.fixture
def start_smtp_server() -> Iterator[Callable[..., Server]]:
    """start_smtp_server(**controller_options) -> a started Server; stopped after the test."""
    started: list[Controller] = []

    def start(**options: Any) -> Server:
        handler = Recorder()
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
        handler.controller = controller
        controller.start()
        started.append(controller)
        return Server(controller, handler, port)

    yield start
    for controller in started:
        if controller._thread is not None:  # a test may have stopped it already
            controller.stop()


@pytest.fixture
def smtp_server(start_smtp_server: Callable[..., Server]) -> Server:
    return start_smtp_server()
