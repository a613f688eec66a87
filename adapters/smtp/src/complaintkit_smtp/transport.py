"""The SMTP transport (aiosmtplib): the outbox's e-mail rows to department mailing lists.

The kit addresses reminders and digests to *department codes* (``network_dept``); the transport
maps each code to the addresses configured under ``recipients``. A ``to`` that contains ``@`` is
an address already and is used as is (it may be a customer's: it is never logged).

A batch is sent over a small pool of SMTP connections (``pool_size``, 4 by default; 1: one
connection, the messages in order). Every request gets exactly one :class:`SendResult`:

* ``ACCEPTED`` — the server answered 250 to the end of DATA;
* ``FAILED`` — refused for good: a 5xx reply, a department code without addresses, a message
  that cannot be built;
* ``RETRY`` — a 4xx reply, a refused, dropped or timed-out connection, a failed TLS or login,
  MAIL FROM refused (the server's configuration or ours, not this message).

Each message's ``Message-ID`` is derived from the request's idempotency key, so a message sent
again after a lost answer carries the same id and a mail client or archive can recognise it.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import functools
import hashlib
import os
import queue
import re
import ssl
import threading
import time
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from email.utils import formatdate
from typing import Any, NewType, TypeVar

import aiosmtplib
import attrs
from aiosmtplib.email import quote_address

from complaintkit.logging import get_logger
from complaintkit.ports.recipients import UnresolvedRecipients, resolve_recipients
from complaintkit.ports.settings import (
    BadValue,
    Port,
    Required,
    Seconds,
    Secret,
    SettingsError,
    converter,
    read_settings,
)
from complaintkit.ports.transports import EmailRequest, ResultCallback, SendOutcome, SendResult

log = get_logger(__name__)


@attrs.define(frozen=True)
class _Built:
    """A message as it goes on the wire, with the Message-ID it was given."""

    message_id: str
    data: bytes


def _encoded_word(text: str) -> str:
    """``text`` for a header: as it is when plain ASCII, else RFC 2047 base64 encoded-words of
    at most 75 characters each, on continuation lines (whole characters per word)."""
    if text.isascii():
        return text
    words: list[str] = []
    chunk = ""
    for char in text:
        # 45 bytes of UTF-8 → 60 base64 characters + 12 of "=?utf-8?b?…?=" stays under 75
        if len((chunk + char).encode("utf-8")) > 45:
            words.append(chunk)
            chunk = ""
        chunk += char
    words.append(chunk)
    return "\r\n ".join(f"=?utf-8?b?{base64.b64encode(w.encode('utf-8')).decode('ascii')}?=" for w in words)

@functools.lru_cache(maxsize=4)
def _date(second: int) -> str:
    """The Date header's value: the same for every message of one second, so written once."""
    return formatdate(second, localtime=True)

def _quoted(address: str) -> bytes:
    """``<address>`` for MAIL FROM / RCPT TO, by aiosmtplib's rule (ValueError: not sendable)."""
    return quote_address(address).encode("ascii")

_T = TypeVar("_T")
_ENV = {"host": "COMPLAINTKIT_SMTP_HOST", "port": "COMPLAINTKIT_SMTP_PORT",
        "username": "COMPLAINTKIT_SMTP_USER", "password": "COMPLAINTKIT_SMTP_PASSWORD"}
_ADDRESS = re.compile(r"[^\s<>@,;:\"()\[\]]+@[^\s<>@,;:\"()\[\]]+")
#: the most connections one transport opens at once
MAX_POOL = 16

_PORT_25 = Port(25)
_THIRTY_SECONDS = Seconds(30.0)

#: an e-mail address (the From address)
Address = NewType("Address", str)
#: department code -> addresses
Recipients = NewType("Recipients", dict[str, tuple[str, ...]])


def _address(value: object, _: type = str, path: str = "") -> Address:
    text = value.strip() if isinstance(value, str) else ""
    if not text and not path:
        raise BadValue("missing: the From address, e.g. complaints@example.cn", path)
    if not _ADDRESS.fullmatch(text):
        raise BadValue(f"{value!r} is not an e-mail address", path)
    return Address(text)


def _recipients(value: object, _: type) -> Recipients:
    if value is None:
        return Recipients({})
    if not isinstance(value, Mapping):
        raise BadValue("must be a table of department code = [addresses]")
    mapping: dict[str, tuple[str, ...]] = {}
    for code, addresses in value.items():
        items = [addresses] if isinstance(addresses, str) else addresses
        if not isinstance(items, (list, tuple)) or not items:
            raise BadValue("must be an address or a non-empty list of addresses", str(code))
        mapping[str(code)] = tuple(_address(a, str, str(code)) for a in items)
    return Recipients(mapping)


converter.register_structure_hook(Address, _address)
converter.register_structure_hook(Recipients, _recipients)


@attrs.define(frozen=True)
class SmtpConfig:
    """Settings of the SMTP transport. ``from_settings`` reads the ``[email]`` table."""

    host: Required
    #: the From address (and envelope sender)
    sender: Address
    #: 25, or 587 with ``starttls``, or 465 with ``ssl`` when not given
    port: Port = _PORT_25
    username: str = ""
    password: Secret = attrs.field(default=Secret(""), repr=False)
    #: upgrade the connection with STARTTLS (refuses to go on without it)
    starttls: bool = False
    #: implicit TLS from the first byte (SMTPS, usually port 465)
    ssl: bool = False
    #: seconds for connecting and for each reply
    timeout: Seconds = _THIRTY_SECONDS
    #: check the server's certificate and host name (with STARTTLS or ssl)
    tls_verify: bool = True
    #: a CA bundle for a private CA (with STARTTLS or ssl)
    tls_ca_file: str | None = None
    #: department code -> addresses
    recipients: Recipients = attrs.Factory(lambda: Recipients({}))
    #: connections a batch is sent over at once (1: one message after the other, in order)
    pool_size: int = 4

    @classmethod
    def from_settings(cls, settings: Mapping[str, object] | None = None,
                      environ: Mapping[str, str] | None = None) -> SmtpConfig:
        """Read a plain mapping (the ``[email]`` table, environment variables for what it leaves
        out); raise :class:`~complaintkit.ports.settings.SettingsError` (a ``ValueError``)
        naming the setting and the wrong value."""
        raw = dict(settings or {})
        port_given = raw.get("port") not in (None, "") or bool(
            (os.environ if environ is None else environ).get(_ENV["port"]))
        config = read_settings(cls, "email", raw, environ=os.environ if environ is None else environ,
                               env=_ENV, ignore=("transport",))
        if config.starttls and config.ssl:
            raise SettingsError("email.ssl", "choose one of ssl (implicit TLS) and starttls, not both")
        if config.username and not config.password:
            raise SettingsError("email.password", "missing while username is set "
                                f"(set it or {_ENV['password']})")
        if config.password and not config.username:
            raise SettingsError("email.username", "missing while password is set "
                                f"(set it or {_ENV['username']})")
        if not 1 <= config.pool_size <= MAX_POOL:
            raise SettingsError("email.pool_size", f"{config.pool_size!r} is not from 1 to {MAX_POOL}")
        port = config.port if port_given else Port(465 if config.ssl else 587 if config.starttls else 25)
        return attrs.evolve(config, port=port)

def message_id_for(key: str, sender: str) -> str:
    """The ``Message-ID`` of the request with idempotency ``key``: the same key, the same id."""
    safe = re.sub(r"[^A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+", ".", key).strip(".") or "message"
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]
    domain = sender.rpartition("@")[2] or "complaintkit.invalid"
    return f"<{safe}.{digest}@{domain}>"


class _Dropped(Exception):
    """The connection broke; ``sent_data`` tells whether the message may have been delivered."""

    def __init__(self, detail: str, *, sent_data: bool) -> None:
        super().__init__(detail)
        self.detail = detail
        self.sent_data = sent_data


class _Refused(Exception):
    def __init__(self, outcome: SendOutcome, detail: str) -> None:
        super().__init__(detail)
        self.outcome = outcome
        self.detail = detail


@attrs.define(eq=False)
class _Batch:
    """One ``send_many``: the requests, their results, and why the rest is not tried."""

    requests: Sequence[EmailRequest]
    on_result: ResultCallback | None
    results: dict[int, SendResult] = attrs.Factory(dict)
    #: the next request to take (the pool's connections take them in order)
    next: int = 0
    #: a connect failed: what is not started yet is answered RETRY with this
    connect_problem: str = ""
    #: the caller gave up (an interrupt): no connection takes another request
    stopped: bool = False
    #: the pool's connections take requests from their own threads
    _taking: threading.Lock = attrs.Factory(threading.Lock)

    def take(self) -> int | None:
        with self._taking:
            if self.stopped or self.next >= len(self.requests):
                return None
            self.next += 1
            return self.next - 1

    def report(self, index: int, result: SendResult) -> None:
        self.results[index] = result
        if self.on_result is not None:
            try:
                self.on_result(result)
            except Exception:  # the batch goes on; the returned list has the result
                log.exception("smtp on_result failed", key=result.key)


class SmtpTransport:
    """An :class:`~complaintkit.ports.transports.EmailTransport` over ``aiosmtplib``.

    ``send_many`` sends over up to ``pool_size`` connections at once, each taking the next
    request when it is free. One connection runs on an asyncio event loop on the caller's thread;
    a pool runs each connection on a thread and event loop of its own and hands the results to
    the caller's thread. The connections are opened as they are needed and closed (QUIT) at the
    end of the batch.
    """

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._lists = {a.lower() for addresses in config.recipients.values() for a in addresses}
        # MAIL FROM / RCPT TO arguments of the sender and the configured lists, checked and quoted
        # once (aiosmtplib's mail() and rcpt() parse the address again for every message)
        self._envelope: dict[str, bytes] = {}
        for address in (config.sender, *(a for addresses in config.recipients.values() for a in addresses)):
            try:
                self._envelope[address] = _quoted(address)
            except ValueError:  # not ASCII: refused when sending, as any such address is
                pass

    # -- the EmailTransport protocol ----------------------------------------------------------

    def send_many(self, requests: Sequence[EmailRequest], *,
                  on_result: ResultCallback | None = None) -> list[SendResult]:
        """Send a batch; one result per request (in the order given), never raises for one.

        ``on_result`` is called with each message's result as soon as the server has answered
        its DATA (or it was refused), once per request, on the caller's thread. With
        ``pool_size`` 1 the messages go one after the other in the order given (and are reported
        in that order); with more, up to ``pool_size`` are on their way at once. An exception
        from ``on_result`` is logged; the result is still returned.
        """
        if not requests:
            return []
        batch = _Batch(list(requests), on_result)
        lanes = min(self.config.pool_size, len(batch.requests))
        if lanes == 1:
            _run(self._lane(batch, batch.report))
        else:
            self._send_on_lanes(batch, lanes)
        results = [batch.results.get(i) or SendResult(r.key, SendOutcome.RETRY,
                                                      detail="not sent: the batch stopped")
                   for i, r in enumerate(batch.requests)]
        log.info("smtp batch", host=self.config.host, requests=len(results),
                 connections=min(self.config.pool_size, len(results)),
                 accepted=sum(r.outcome is SendOutcome.ACCEPTED for r in results),
                 retry=sum(r.outcome is SendOutcome.RETRY for r in results),
                 failed=sum(r.outcome is SendOutcome.FAILED for r in results))
        return results

    def drain_inbound(self) -> list[Any]:
        """E-mail has no inbound traffic for the kit."""
        return []

    def close(self) -> None:
        """Nothing stays open between batches: each batch says QUIT on its connections."""

    # -- the batch ------------------------------------------------------------------------------

    def _send_on_lanes(self, batch: _Batch, lanes: int) -> None:
        """Each connection on a thread and event loop of its own; results reported here.

        On one event loop the connections wait for each other: replies that arrive together are
        all read before any connection sends its next command, so every exchange of one
        connection also pays for the others'. On threads of their own each sends as soon as its
        reply is read (the interpreter lock is let go around every socket call), and ``on_result``
        (the outbox writes each result to its database) runs here, on the caller's thread, while
        the connections go on sending.
        """
        answers: queue.SimpleQueue[tuple[int, SendResult] | None] = queue.SimpleQueue()

        def lane() -> None:
            try:
                asyncio.run(self._lane(batch, lambda index, result: answers.put((index, result))))
            finally:
                answers.put(None)  # this connection is done

        with concurrent.futures.ThreadPoolExecutor(lanes, thread_name_prefix="smtp") as pool:
            running = [pool.submit(lane) for _ in range(lanes)]
            try:
                left = lanes
                while left:
                    answer = answers.get()
                    if answer is None:
                        left -= 1
                    else:
                        batch.report(*answer)
            except BaseException:
                # interrupted: the connections finish the message they are on and say QUIT
                batch.stopped = True
                raise
        for done in running:
            done.result()  # a connection's own failure is the batch's, as on one event loop

    async def _lane(self, batch: _Batch, report: Callable[[int, SendResult], None]) -> None:
        """One connection of the pool: takes the next request until none is left."""
        connection = _Connection(self)
        try:
            while (index := batch.take()) is not None:
                result = await self._send_one(batch, batch.requests[index], connection)
                report(index, result)
        finally:
            await connection.quit()

    # -- one message ----------------------------------------------------------------------------

    async def _send_one(self, batch: _Batch, request: EmailRequest,
                        connection: _Connection) -> SendResult:
        """The request's result. After a failed connect (``batch.connect_problem``) nothing more
        is sent: each request is still checked (an unknown department code stays FAILED), then
        answered RETRY."""
        key = request.key
        codes = [t for t in request.to if "@" not in t]
        try:
            addresses = self._resolve(request.to)
            message = self._build(request, addresses)
        except _Refused as refused:
            log.warning("smtp message refused before sending", key=key, departments=codes,
                        detail=refused.detail)
            return SendResult(key, refused.outcome, detail=refused.detail)
        except Exception as exc:  # noqa: BLE001 - a message that cannot be built is not retried
            detail = f"cannot build the message: {type(exc).__name__}: {self._redact(str(exc))}"
            log.warning("smtp message refused before sending", key=key, departments=codes,
                        detail=detail)
            return SendResult(key, SendOutcome.FAILED, detail=detail)

        for attempt in (1, 2):
            if batch.connect_problem:
                # the server was never reached: the outbox retries it without using an attempt
                return SendResult(key, SendOutcome.RETRY, detail=batch.connect_problem, reached=False)
            try:
                smtp = await connection.open()
            except Exception as exc:  # noqa: BLE001 - refused, timed out, TLS, login: retry later
                detail = f"cannot connect to {self.config.host}:{self.config.port}: {self._describe(exc)}"
                log.warning("smtp connect failed", host=self.config.host, port=self.config.port,
                            detail=detail)
                batch.connect_problem = batch.connect_problem or detail
                return SendResult(key, SendOutcome.RETRY, detail=detail, reached=False)
            try:
                await self._transmit(smtp, message, addresses)
            except _Refused as refused:
                log.warning("smtp message refused", key=key, departments=codes,
                            outcome=refused.outcome.value, detail=refused.detail)
                return SendResult(key, refused.outcome, detail=refused.detail)
            except _Dropped as dropped:
                connection.abandon()
                if not dropped.sent_data and attempt == 1:
                    # nothing was delivered: try once more on a fresh connection
                    log.info("smtp connection dropped; reconnecting", key=key, detail=dropped.detail)
                    continue
                log.warning("smtp connection dropped", key=key, departments=codes,
                            maybe_delivered=dropped.sent_data, detail=dropped.detail)
                return SendResult(key, SendOutcome.RETRY, detail=dropped.detail)
            log.info("smtp message accepted", key=key, departments=codes,
                     recipients=len(addresses))
            return SendResult(key, SendOutcome.ACCEPTED, remote_ids=(message.message_id,))
        raise AssertionError("unreachable")  # pragma: no cover

    def _resolve(self, to: Iterable[str]) -> list[str]:
        # the rule is shared with complaintkit.testing.FakeMail, so tests against the fake
        # refuse exactly what this transport refuses
        try:
            return list(resolve_recipients(to, self.config.recipients))
        except UnresolvedRecipients as exc:
            hint = " (add it under [email.recipients])" if exc.unknown else ""
            raise _Refused(SendOutcome.FAILED, f"{exc}{hint}") from None

    def _build(self, request: EmailRequest, addresses: Sequence[str]) -> _Built:
        # written out directly rather than through email.message: the stdlib's header folding
        # costs milliseconds of CPU a message, and on the pool's one event loop that CPU is what
        # limits how many connections can be kept busy
        for name, value in (("Subject", request.subject), ("To", ", ".join(addresses)), ("key", request.key)):
            if "\r" in value or "\n" in value:
                # a line break would start a new header: never let text from a ticket do that
                raise ValueError(f"the {name} header may not contain a line break")
        message_id = message_id_for(request.key, self.config.sender)
        headers = (
            f"From: {self.config.sender}",
            f"To: {', '.join(addresses)}",
            f"Subject: {_encoded_word(request.subject)}",
            f"Date: {_date(int(time.time()))}",
            f"Message-ID: {message_id}",
            f"X-Complaintkit-Key: {_encoded_word(request.key)}",
            "MIME-Version: 1.0",
            'Content-Type: text/plain; charset="utf-8"',
            # base64: 7-bit clean, so any relay takes it whether or not it offers 8BITMIME
            "Content-Transfer-Encoding: base64",
        )
        body = base64.encodebytes(request.body.encode("utf-8")).replace(b"\n", b"\r\n")
        return _Built(message_id, "\r\n".join(headers).encode("ascii") + b"\r\n\r\n" + body)

    async def _transmit(self, smtp: aiosmtplib.SMTP, message: _Built,
                        addresses: Sequence[str]) -> None:
        """MAIL, RCPT for each address, DATA; raise _Refused or _Dropped unless all went well.

        Any 4xx for a recipient means RSET and RETRY for the whole message, so that nobody gets
        it twice; 5xx for some recipients delivers to the others; 5xx for all means FAILED.
        """
        sent_data = False
        try:
            try:
                await self._mail(smtp)
            except aiosmtplib.SMTPSenderRefused as exc:
                await self._reset(smtp)
                # 530 STARTTLS/AUTH first, 550 sender not allowed: the server's configuration or
                # ours, the same for every message — retried, never a lost reminder
                raise _Refused(SendOutcome.RETRY,
                               f"sender refused: {self._reply(exc.code, exc.message)}") from None
            accepted: list[str] = []
            refused: list[tuple[str, int, str]] = []
            for address in addresses:
                try:
                    await self._rcpt(smtp, address)
                    accepted.append(address)
                except aiosmtplib.SMTPRecipientRefused as exc:
                    refused.append((address, exc.code, exc.message))
            temporary = [r for r in refused if not 500 <= r[1] < 600]
            if temporary or not accepted:
                await self._reset(smtp)
                worst = temporary[0] if temporary else refused[0]
                outcome = SendOutcome.RETRY if temporary else SendOutcome.FAILED
                raise _Refused(outcome, f"recipient refused: {self._reply(worst[1], worst[2])}")
            if refused:
                log.warning("smtp some recipients refused; delivering to the others",
                            refused=[self._show(r[0]) for r in refused],
                            reply=self._reply(refused[0][1], refused[0][2]))
            payload = message.data
            sent_data = True
            try:
                await smtp.data(payload)
            except aiosmtplib.SMTPDataError as exc:
                # aiosmtplib raises this for a refused DATA command and for a refused message
                # alike; RSET leaves the connection ready for the next message in both cases
                await self._reset(smtp)
                raise _Refused(self._outcome(exc.code),
                               f"message refused: {self._reply(exc.code, exc.message)}") from None
        except (_Refused, _Dropped):
            raise
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise _Dropped(f"connection lost: {self._describe(exc)}", sent_data=sent_data) from None
        except Exception as exc:  # noqa: BLE001 - whatever else broke, the message is retried
            raise _Dropped(f"{type(exc).__name__}: {self._redact(str(exc))}",
                           sent_data=sent_data) from None

    async def _mail(self, smtp: aiosmtplib.SMTP) -> None:
        """``smtp.mail(sender)`` with the sender quoted once for the transport."""
        sender = self.config.sender
        reply = await smtp.execute_command(b"MAIL", b"FROM:" + (self._envelope.get(sender) or _quoted(sender)))
        if reply.code != 250:
            raise aiosmtplib.SMTPSenderRefused(reply.code, reply.message, sender)

    async def _rcpt(self, smtp: aiosmtplib.SMTP, address: str) -> None:
        """``smtp.rcpt(address)``; a configured list's address quoted once for the transport."""
        reply = await smtp.execute_command(b"RCPT", b"TO:" + (self._envelope.get(address) or _quoted(address)))
        if reply.code not in (250, 251):
            raise aiosmtplib.SMTPRecipientRefused(reply.code, reply.message, address)

    async def _reset(self, smtp: aiosmtplib.SMTP) -> None:
        try:
            await smtp.rset()
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise _Dropped(f"connection lost: {self._describe(exc)}", sent_data=False) from None

    # -- the connection -----------------------------------------------------------------------

    async def _connect(self) -> aiosmtplib.SMTP:
        config = self.config
        context = self._tls_context() if (config.ssl or config.starttls) else None
        # STARTTLS is done below, by hand: aiosmtplib would otherwise upgrade whenever the server
        # offers it (start_tls=None), and this transport does exactly what it is configured for
        smtp = aiosmtplib.SMTP(hostname=config.host, port=config.port, timeout=config.timeout,
                               use_tls=config.ssl, start_tls=False, tls_context=context)
        try:
            await smtp.connect()
            await smtp.ehlo()
            if config.starttls:
                if not smtp.supports_extension("starttls"):
                    raise aiosmtplib.SMTPNotSupported("the server does not offer STARTTLS")
                await smtp.starttls(tls_context=context)
                await smtp.ehlo()
            if config.username:
                await smtp.login(config.username, config.password)
        except BaseException:
            smtp.close()
            raise
        log.info("smtp connected", host=config.host, port=config.port,
                 tls="ssl" if config.ssl else "starttls" if config.starttls else "none")
        return smtp

    def _tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self.config.tls_ca_file)
        if not self.config.tls_verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    # -- wording: details go to the database and to logs, so customer addresses are masked -------

    @staticmethod
    def _outcome(code: int) -> SendOutcome:
        return SendOutcome.FAILED if 500 <= code < 600 else SendOutcome.RETRY

    def _reply(self, code: int, reply: bytes | str) -> str:
        text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
        return f"{code} {self._redact(' '.join(text.split()))}".strip()

    def _describe(self, exc: BaseException) -> str:
        if isinstance(exc, aiosmtplib.SMTPResponseException):
            text = f"{type(exc).__name__}: {self._reply(exc.code, exc.message)}"
        else:
            text = f"{type(exc).__name__}: {self._redact(str(exc))}".rstrip(": ")
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, OSError):  # the operating system's reason (refused, TLS, reset)
            text += f" ({type(cause).__name__}: {self._redact(str(cause))})".replace(": )", ")")
        return text

    def _show(self, address: str) -> str:
        return address if address.lower() in self._lists or address == self.config.sender else "<address>"

    def _redact(self, text: str) -> str:
        return _ADDRESS.sub(lambda m: self._show(m.group(0)), text)


class _Connection:
    """One connection of a batch's pool, opened when first needed and again after a drop."""

    def __init__(self, transport: SmtpTransport) -> None:
        self.transport = transport
        self.smtp: aiosmtplib.SMTP | None = None

    async def open(self) -> aiosmtplib.SMTP:
        if self.smtp is None or not self.smtp.is_connected:
            self.abandon()
            self.smtp = await self.transport._connect()
        return self.smtp

    def abandon(self) -> None:
        smtp, self.smtp = self.smtp, None
        if smtp is not None:
            try:
                smtp.close()
            except Exception:  # noqa: BLE001, S110 - closing a broken connection
                pass

    async def quit(self) -> None:
        smtp, self.smtp = self.smtp, None
        if smtp is None:
            return
        try:
            await smtp.quit()
        except Exception:  # noqa: BLE001 - the server went away first: nothing to say goodbye to
            smtp.close()


def _run(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run ``coro`` to its end on an event loop of its own (the worker is synchronous); from
    inside a running loop (an async caller), on a helper thread, so that loop is not blocked
    by a nested one."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="smtp") as pool:
        return pool.submit(asyncio.run, coro).result()
