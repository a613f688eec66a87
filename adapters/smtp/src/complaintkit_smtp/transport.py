"""The SMTP transport: the outbox's e-mail rows to department mailing lists.

The kit addresses reminders and digests to *department codes* (``network_dept``); the transport
maps each code to the addresses configured under ``recipients``. A ``to`` that contains ``@`` is
an address already and is used as is (it may be a customer's: it is never logged).

One SMTP connection serves a batch. Every request gets exactly one :class:`SendResult`:

* ``ACCEPTED`` — the server answered 250 to the end of DATA;
* ``FAILED`` — refused for good: a 5xx reply, a department code without addresses, a message
  that cannot be built;
* ``RETRY`` — a 4xx reply, a refused, dropped or timed-out connection, a failed TLS or login,
  MAIL FROM refused (the server's configuration or ours, not this message).

Each message's ``Message-ID`` is derived from the request's idempotency key, so a message sent
again after a lost answer carries the same id and a mail client or archive can recognise it.
"""

from __future__ import annotations

import hashlib
import os
import re
import smtplib
import ssl
from collections.abc import Iterable, Mapping, Sequence
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

import attrs

from complaintkit.logging import get_logger
from complaintkit.ports.recipients import UnresolvedRecipients, resolve_recipients
from complaintkit.ports.transports import EmailRequest, ResultCallback, SendOutcome, SendResult

log = get_logger(__name__)

_ENV = {"host": "HOST", "port": "PORT", "username": "USER", "password": "PASSWORD"}
_ADDRESS = re.compile(r"[^\s<>@,;:\"()\[\]]+@[^\s<>@,;:\"()\[\]]+")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _setting_error(name: str, problem: str) -> ValueError:
    return ValueError(f"email.{name}: {problem}")


def _flag(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise _setting_error(name, f"{value!r} is not true or false")


def _port(value: object) -> int:
    try:
        if isinstance(value, bool):
            raise TypeError
        port = int(str(value).strip()) if not isinstance(value, int) else value
    except (TypeError, ValueError):
        raise _setting_error("port", f"{value!r} is not a port number") from None
    if not 0 < port < 65536:
        raise _setting_error("port", f"{value!r} is not a port number (1-65535)")
    return port


def _seconds(name: str, value: object) -> float:
    try:
        if isinstance(value, bool):
            raise TypeError
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise _setting_error(name, f"{value!r} is not a number of seconds") from None
    if not seconds > 0:
        raise _setting_error(name, f"{value!r} must be more than 0 seconds")
    return seconds


def _address(name: str, value: object) -> str:
    text = str(value).strip() if isinstance(value, str) else ""
    if not _ADDRESS.fullmatch(text):
        raise _setting_error(name, f"{value!r} is not an e-mail address")
    return text


def _recipients(value: object) -> dict[str, tuple[str, ...]]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _setting_error("recipients", "must be a table of department code = [addresses]")
    mapping: dict[str, tuple[str, ...]] = {}
    for code, addresses in value.items():
        name = f"recipients.{code}"
        items = [addresses] if isinstance(addresses, str) else addresses
        if not isinstance(items, (list, tuple)) or not items:
            raise _setting_error(name, "must be an address or a non-empty list of addresses")
        mapping[str(code)] = tuple(_address(name, a) for a in items)
    return mapping


@attrs.define(frozen=True)
class SmtpConfig:
    """Settings of the SMTP transport. ``from_settings`` reads the ``[email]`` table."""

    host: str
    #: the From address (and envelope sender)
    sender: str
    #: 25, or 587 with ``starttls``, or 465 with ``ssl`` when not given
    port: int = 25
    username: str = ""
    password: str = attrs.field(default="", repr=False)
    #: upgrade the connection with STARTTLS (refuses to go on without it)
    starttls: bool = False
    #: implicit TLS from the first byte (SMTPS, usually port 465)
    ssl: bool = False
    #: seconds for connecting and for each reply
    timeout: float = 30.0
    #: check the server's certificate and host name (with STARTTLS or ssl)
    tls_verify: bool = True
    #: a CA bundle for a private CA (with STARTTLS or ssl)
    tls_ca_file: str | None = None
    #: department code -> addresses
    recipients: Mapping[str, tuple[str, ...]] = attrs.Factory(dict)

    @classmethod
    def from_settings(cls, settings: Mapping[str, object] | None = None,
                      environ: Mapping[str, str] | None = None) -> SmtpConfig:
        """Read a plain mapping (the ``[email]`` table); raise ``ValueError`` naming the setting."""
        raw = dict(settings or {})
        env = os.environ if environ is None else environ
        for name, suffix in _ENV.items():
            if raw.get(name) in (None, ""):
                value = env.get(f"COMPLAINTKIT_SMTP_{suffix}")
                if value:
                    raw[name] = value
        known = {f.name for f in attrs.fields(cls)} | {"transport"}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise _setting_error(unknown[0], f"unknown setting (known: {', '.join(sorted(known))})")
        host = str(raw.get("host") or "").strip()
        if not host:
            raise _setting_error("host", "missing (set it or COMPLAINTKIT_SMTP_HOST)")
        if not raw.get("sender"):
            raise _setting_error("sender", "missing: the From address, e.g. complaints@example.cn")
        sender = _address("sender", raw["sender"])
        use_starttls = _flag("starttls", raw.get("starttls", False))
        use_ssl = _flag("ssl", raw.get("ssl", False))
        if use_starttls and use_ssl:
            raise _setting_error("ssl", "choose one of ssl (implicit TLS) and starttls, not both")
        if raw.get("port") in (None, ""):
            port = 465 if use_ssl else 587 if use_starttls else 25
        else:
            port = _port(raw["port"])
        username = str(raw.get("username") or "")
        password = str(raw.get("password") or "")
        if username and not password:
            raise _setting_error("password", "missing while username is set "
                                 "(set it or COMPLAINTKIT_SMTP_PASSWORD)")
        if password and not username:
            raise _setting_error("username", "missing while password is set "
                                 "(set it or COMPLAINTKIT_SMTP_USER)")
        ca_file = raw.get("tls_ca_file")
        return cls(
            host=host, sender=sender, port=port, username=username, password=password,
            starttls=use_starttls, ssl=use_ssl,
            timeout=_seconds("timeout", raw.get("timeout", 30.0)),
            tls_verify=_flag("tls_verify", raw.get("tls_verify", True)),
            tls_ca_file=str(ca_file) if ca_file else None,
            recipients=_recipients(raw.get("recipients")),
        )


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


class SmtpTransport:
    """An :class:`~complaintkit.ports.transports.EmailTransport` over ``smtplib`` (synchronous)."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._smtp: smtplib.SMTP | None = None
        self._lists = {a.lower() for addresses in config.recipients.values() for a in addresses}

    # -- the EmailTransport protocol ----------------------------------------------------------

    def send_many(self, requests: Sequence[EmailRequest], *,
                  on_result: ResultCallback | None = None) -> list[SendResult]:
        """Send a batch over one connection; one result per request, never raises for one.

        ``on_result`` is called with each message's result as soon as the server has answered
        its DATA (or it was refused), before the next message is sent, once per request, on the
        caller's thread. An exception from it is logged; the result is still returned.
        """
        results: list[SendResult] = []
        connect_problem = ""
        try:
            for request in requests:
                result, problem = self._send_one(request, connect_problem)
                connect_problem = connect_problem or problem
                results.append(result)
                if on_result is not None:
                    try:
                        on_result(result)
                    except Exception:  # the batch goes on; the returned list has the result
                        log.exception("smtp on_result failed", key=result.key)
        finally:
            self._quit()
        accepted = sum(r.outcome is SendOutcome.ACCEPTED for r in results)
        log.info("smtp batch", host=self.config.host, requests=len(requests), accepted=accepted,
                 retry=sum(r.outcome is SendOutcome.RETRY for r in results),
                 failed=sum(r.outcome is SendOutcome.FAILED for r in results))
        return results

    def drain_inbound(self) -> list[Any]:
        """E-mail has no inbound traffic for the kit."""
        return []

    def close(self) -> None:
        """Say QUIT if a connection is still open; the transport is not used afterwards."""
        self._quit()

    # -- one message ----------------------------------------------------------------------------

    def _send_one(self, request: EmailRequest, connect_problem: str = "") -> tuple[SendResult, str]:
        """The request's result, and a reason to give up on the rest of the batch (or "").

        After a failed connect (``connect_problem``) the rest of the batch is not sent: each
        request is still checked (an unknown department code stays FAILED), then answered RETRY.
        """
        key = request.key
        codes = [t for t in request.to if "@" not in t]
        try:
            addresses = self._resolve(request.to)
            message = self._build(request, addresses)
        except _Refused as refused:
            log.warning("smtp message refused before sending", key=key, departments=codes,
                        detail=refused.detail)
            return SendResult(key, refused.outcome, detail=refused.detail), ""
        except Exception as exc:  # noqa: BLE001 - a message that cannot be built is not retried
            detail = f"cannot build the message: {type(exc).__name__}: {self._redact(str(exc))}"
            log.warning("smtp message refused before sending", key=key, departments=codes,
                        detail=detail)
            return SendResult(key, SendOutcome.FAILED, detail=detail), ""

        if connect_problem:
            return SendResult(key, SendOutcome.RETRY, detail=connect_problem, reached=False), ""
        for attempt in (1, 2):
            try:
                smtp = self._connection()
            except Exception as exc:  # noqa: BLE001 - refused, timed out, TLS, login: retry later
                detail = f"cannot connect to {self.config.host}:{self.config.port}: {self._describe(exc)}"
                log.warning("smtp connect failed", host=self.config.host, port=self.config.port,
                            detail=detail)
                return SendResult(key, SendOutcome.RETRY, detail=detail, reached=False), detail
            try:
                self._transmit(smtp, message, addresses)
            except _Refused as refused:
                log.warning("smtp message refused", key=key, departments=codes,
                            outcome=refused.outcome.value, detail=refused.detail)
                return SendResult(key, refused.outcome, detail=refused.detail), ""
            except _Dropped as dropped:
                self._abandon()
                if not dropped.sent_data and attempt == 1:
                    # nothing was delivered: try once more on a fresh connection
                    log.info("smtp connection dropped; reconnecting", key=key, detail=dropped.detail)
                    continue
                log.warning("smtp connection dropped", key=key, departments=codes,
                            maybe_delivered=dropped.sent_data, detail=dropped.detail)
                return SendResult(key, SendOutcome.RETRY, detail=dropped.detail), ""
            log.info("smtp message accepted", key=key, departments=codes,
                     recipients=len(addresses))
            return SendResult(key, SendOutcome.ACCEPTED, remote_ids=(message["Message-ID"],)), ""
        raise AssertionError("unreachable")  # pragma: no cover

    def _resolve(self, to: Iterable[str]) -> list[str]:
        # the rule is shared with complaintkit.testing.FakeMail, so tests against the fake
        # refuse exactly what this transport refuses
        try:
            return list(resolve_recipients(to, self.config.recipients))
        except UnresolvedRecipients as exc:
            hint = " (add it under [email.recipients])" if exc.unknown else ""
            raise _Refused(SendOutcome.FAILED, f"{exc}{hint}") from None

    def _build(self, request: EmailRequest, addresses: Sequence[str]) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.config.sender
        message["To"] = ", ".join(addresses)
        message["Subject"] = request.subject
        message["Date"] = formatdate(localtime=True)
        message["Message-ID"] = message_id_for(request.key, self.config.sender)
        message["X-Complaintkit-Key"] = request.key
        # base64: 7-bit clean, so any relay takes it whether or not it offers 8BITMIME
        message.set_content(request.body, charset="utf-8", cte="base64")
        return message

    def _transmit(self, smtp: smtplib.SMTP, message: EmailMessage, addresses: Sequence[str]) -> None:
        """MAIL, RCPT for each address, DATA; raise _Refused or _Dropped unless all went well.

        Any 4xx for a recipient means RSET and RETRY for the whole message, so that nobody gets
        it twice; 5xx for some recipients delivers to the others; 5xx for all means FAILED.
        """
        sent_data = False
        try:
            code, reply = smtp.mail(self.config.sender)
            if code != 250:
                self._reset(smtp)
                # 530 STARTTLS/AUTH first, 550 sender not allowed: the server's configuration or
                # ours, the same for every message — retried, never a lost reminder
                raise _Refused(SendOutcome.RETRY, f"sender refused: {self._reply(code, reply)}")
            accepted: list[str] = []
            refused: list[tuple[str, int, bytes]] = []
            for address in addresses:
                code, reply = smtp.rcpt(address)
                if code in (250, 251):
                    accepted.append(address)
                else:
                    refused.append((address, code, reply))
            temporary = [r for r in refused if not 500 <= r[1] < 600]
            if temporary or not accepted:
                self._reset(smtp)
                worst = temporary[0] if temporary else refused[0]
                outcome = SendOutcome.RETRY if temporary else SendOutcome.FAILED
                raise _Refused(outcome, f"recipient refused: {self._reply(worst[1], worst[2])}")
            if refused:
                log.warning("smtp some recipients refused; delivering to the others",
                            refused=[self._show(r[0]) for r in refused],
                            reply=self._reply(refused[0][1], refused[0][2]))
            payload = message.as_bytes()
            sent_data = True
            try:
                code, reply = smtp.data(payload)
            except smtplib.SMTPDataError as exc:  # the DATA command itself was refused
                sent_data = False
                self._reset(smtp)
                raise _Refused(self._outcome(exc.smtp_code),
                               f"DATA refused: {self._reply(exc.smtp_code, exc.smtp_error)}") from None
            if code != 250:
                raise _Refused(self._outcome(code), f"message refused: {self._reply(code, reply)}")
        except (_Refused, _Dropped):
            raise
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPResponseException, OSError) as exc:
            raise _Dropped(f"connection lost: {self._describe(exc)}", sent_data=sent_data) from None
        except Exception as exc:  # noqa: BLE001 - whatever else broke, the message is retried
            raise _Dropped(f"{type(exc).__name__}: {self._redact(str(exc))}",
                           sent_data=sent_data) from None

    # -- the connection -----------------------------------------------------------------------

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is not None:
            return self._smtp
        config = self.config
        context = self._tls_context() if (config.ssl or config.starttls) else None
        smtp: smtplib.SMTP
        if config.ssl:
            smtp = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout, context=context)
        else:
            smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
        try:
            smtp.ehlo()
            if config.starttls:
                if not smtp.has_extn("starttls"):
                    raise smtplib.SMTPNotSupportedError("the server does not offer STARTTLS")
                smtp.starttls(context=context)
                smtp.ehlo()
            if config.username:
                smtp.login(config.username, config.password)
        except BaseException:
            self._close_socket(smtp)
            raise
        log.info("smtp connected", host=config.host, port=config.port,
                 tls="ssl" if config.ssl else "starttls" if config.starttls else "none")
        self._smtp = smtp
        return smtp

    def _tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self.config.tls_ca_file)
        if not self.config.tls_verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def _reset(self, smtp: smtplib.SMTP) -> None:
        try:
            smtp.rset()
        except (smtplib.SMTPException, OSError) as exc:
            raise _Dropped(f"connection lost: {self._describe(exc)}", sent_data=False) from None

    def _quit(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except Exception:  # noqa: BLE001 - the server went away first: nothing to say goodbye to
            self._close_socket(smtp)

    def _abandon(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            self._close_socket(smtp)

    @staticmethod
    def _close_socket(smtp: smtplib.SMTP) -> None:
        try:
            smtp.close()
        except Exception:  # noqa: BLE001, S110 - closing a broken socket
            pass

    # -- wording: details go to the database and to logs, so customer addresses are masked -------

    @staticmethod
    def _outcome(code: int) -> SendOutcome:
        return SendOutcome.FAILED if 500 <= code < 600 else SendOutcome.RETRY

    def _reply(self, code: int, reply: bytes | str) -> str:
        text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
        return f"{code} {self._redact(' '.join(text.split()))}".strip()

    def _describe(self, exc: BaseException) -> str:
        if isinstance(exc, smtplib.SMTPResponseException):
            return f"{type(exc).__name__}: {self._reply(exc.smtp_code, exc.smtp_error)}"
        return f"{type(exc).__name__}: {self._redact(str(exc))}".rstrip(": ")

    def _show(self, address: str) -> str:
        return address if address.lower() in self._lists or address == self.config.sender else "<address>"

    def _redact(self, text: str) -> str:
        return _ADDRESS.sub(lambda m: self._show(m.group(0)), text)
