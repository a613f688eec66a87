"""``SmppTransport``: one transceiver bind, owned by one I/O thread.

Callers (the outbox worker) never touch the socket. ``send_many`` hands a batch to the I/O
thread through a queue and waits; the I/O thread keeps up to ``window`` submit_sm outstanding,
matches each submit_sm_resp by sequence number, times out responses, keeps the link alive with
enquire_link, reconnects with back-off and re-sends every part that was never acknowledged,
answers 0x58 (throttled) and 0x14 (queue full) with a back-off and a retry.

Each request's result is reported through ``on_result`` as soon as it is known (the last part's
submit_sm_resp). A batch waits at most ``bind_wait`` without a bind and ``send_timeout`` in all;
the caller's thread enforces both, so a stuck I/O thread cannot hold it longer.

Delivery receipts and customer replies go to the inbound sink (``set_inbound_sink``) *before*
the deliver_sm is answered, and are answered ``ESME_RX_T_APPN`` (0x64, the SMSC delivers again)
when the sink could not store them; without a sink they are kept for ``drain_inbound``.
"""

from __future__ import annotations

import collections
import itertools
import os
import re
import select
import selectors
import socket
import ssl
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any, Literal, Self

import attrs

from complaintkit.core.masking import mask_number
from complaintkit.logging import get_logger
from complaintkit.ports.settings import (
    Port,
    Required,
    Seconds,
    Secret,
    SettingsError,
    read_settings,
)
from complaintkit.ports.transports import (
    DeliveryReceipt,
    InboundSink,
    InboundSms,
    ResultCallback,
    SendOutcome,
    SendResult,
    SmsRequest,
)

from . import pdu as P
from .receipts import InboundDecoder, normalise_id
from .text import RefAllocator, TextTooLong, encode_text

log = get_logger(__name__)

#: answered with a back-off and a re-send on the same batch; never dropped
BACKOFF_STATUSES = frozenset({P.ESME_RTHROTTLED, P.ESME_RMSGQFUL})
#: the SMSC had a passing problem: the request is answered RETRY (the outbox tries later)
TRANSIENT_STATUSES = frozenset({P.ESME_RSYSERR, P.ESME_RUNKNOWNERR, P.ESME_RX_T_APPN,
                                P.ESME_RINVBNDSTS})
_MSISDN = re.compile(r"^\+?[0-9]{3,20}$")
#: how often a waiting ``send_many`` looks at the bind and the clock
_POLL = 0.05
#: the I/O thread answers at ``send_timeout``; the caller gives it this long before answering
#: for it (the thread is stuck: a blocking connect, a slow inbound sink)
_GRACE = 1.0


_ENV = {"host": "COMPLAINTKIT_SMPP_HOST", "port": "COMPLAINTKIT_SMPP_PORT",
        "system_id": "COMPLAINTKIT_SMPP_SYSTEM_ID", "password": "COMPLAINTKIT_SMPP_PASSWORD"}
_SMPP_PORT = Port(2775)
_FIVE_SECONDS, _TEN_SECONDS, _THIRTY_SECONDS = Seconds(5.0), Seconds(10.0), Seconds(30.0)
#: how an SMSC writes message ids (see receipts.normalise_id)
IdBase = Literal["hex", "dec", "text"]


@attrs.define
class SmppConfig:
    """Settings of one bind. ``from_settings`` reads the ``[sms]`` table (and env-var fallbacks)
    through the kit's settings converter (:mod:`complaintkit.ports.settings`)."""

    host: Required
    port: Port = _SMPP_PORT
    system_id: str = ""
    password: Secret = attrs.field(default=Secret(""), repr=False)
    system_type: str = ""
    #: sender used when a request has none
    source_addr: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    dest_addr_ton: int = 0
    dest_addr_npi: int = 1
    service_type: str = ""
    registered_delivery: int = 1
    #: outstanding submit_sm at most
    window: int = 10
    #: seconds to wait for any response (submit_sm_resp, enquire_link_resp, bind resp)
    response_timeout: Seconds = _TEN_SECONDS
    enquire_link_interval: Seconds = _THIRTY_SECONDS
    connect_timeout: Seconds = _FIVE_SECONDS
    #: the longest ``send_many`` works on one batch before answering RETRY for what is left
    send_timeout: Seconds = _THIRTY_SECONDS
    #: the longest a batch waits while there is no bind (SMSC unreachable, bind refused,
    #: connection lost and not back yet) before what is left is answered RETRY
    bind_wait: Seconds = _FIVE_SECONDS
    reconnect_backoff_min: float = 0.05
    reconnect_backoff_max: float = 10.0
    throttle_backoff_min: float = 0.05
    throttle_backoff_max: float = 5.0
    tls: bool = False
    tls_verify: bool = True
    tls_ca_file: str | None = None
    #: send plain text as GSM 7-bit (data_coding 0); otherwise everything is UCS2
    gsm7: bool = True
    max_parts: int = 255
    #: how the SMSC writes message ids (see receipts.normalise_id)
    resp_id_base: IdBase = "hex"
    dlr_id_base: IdBase = "hex"
    remember_keys: int = 100_000

    @classmethod
    def from_settings(cls, settings: Mapping[str, object] | None = None,
                      environ: Mapping[str, str] | None = None) -> SmppConfig:
        """Read the ``[sms]`` table; ``host``, ``port``, ``system_id``, ``password`` it leaves
        out come from ``COMPLAINTKIT_SMPP_*``. Raises
        :class:`~complaintkit.ports.settings.SettingsError` (a ``ValueError``) naming
        ``sms.<field>`` and the wrong value."""
        config = read_settings(cls, "sms", settings, env=_ENV, ignore=("transport",),
                               environ=os.environ if environ is None else environ)
        if config.window < 1:
            raise SettingsError("sms.window", f"{config.window!r} must be at least 1")
        if not 1 <= config.max_parts <= 255:
            raise SettingsError("sms.max_parts", f"{config.max_parts!r} is not from 1 to 255")
        return config


@attrs.define(eq=False)
class _Part:
    job: _Job
    index: int
    payload: bytes
    #: queued | inflight | acked | idle (waiting for the key to be sent again) | done
    state: str = "queued"
    seq: int = 0
    sent_at: float = 0.0
    message_id: str = ""
    sends: int = 0


@attrs.define(eq=False)
class _Job:
    request: SmsRequest
    data_coding: int
    udhi: bool
    parts: list[_Part] = attrs.Factory(list)
    batches: list[_Batch] = attrs.Factory(list)
    problem: str = ""
    finished: bool = False


@attrs.define(eq=False)
class _Batch:
    requests: Sequence[SmsRequest]
    started: float
    deadline: float
    on_result: ResultCallback | None = None
    #: written only through ``settle``
    results: dict[str, SendResult] = attrs.Factory(dict)
    #: keys the I/O thread still works on (I/O thread only)
    remaining: set[str] = attrs.Factory(set)
    done: threading.Event = attrs.Factory(threading.Event)
    lock: threading.Lock = attrs.Factory(threading.Lock)
    #: the caller answered what was left and went away; the I/O thread lets the batch go
    abandoned: bool = False

    def settle(self, result: SendResult) -> bool:
        """Record one key's result. The first answer for a key wins and is the only one
        reported, whichever thread gives it (the I/O thread, or the caller giving up)."""
        with self.lock:
            if result.key in self.results:
                return False
            self.results[result.key] = result
        if self.on_result is not None:
            try:
                self.on_result(result)
            except Exception:  # the result is still returned by send_many
                log.exception("smpp.on_result.failed", key=result.key)
        return True

    def unsettled(self) -> list[str]:
        with self.lock:
            return [r.key for r in self.requests if r.key not in self.results]


class SmppTransport:
    """An ``SmsTransport`` over one SMPP 3.4 transceiver bind."""

    def __init__(self, config: SmppConfig) -> None:
        self.config = config
        self.stats: collections.Counter[str] = collections.Counter()
        self.decoder = InboundDecoder(resp_id_base=config.resp_id_base,
                                      dlr_id_base=config.dlr_id_base)
        self._refs = RefAllocator()
        self._inbound: collections.deque[DeliveryReceipt | InboundSms] = collections.deque()
        self._sink: InboundSink | None = None
        self._sink_retry_at = 0.0
        self._accepted: collections.OrderedDict[str, tuple[tuple[str, ...], int]] = (
            collections.OrderedDict())
        self._jobs: dict[str, _Job] = {}
        self._incoming: collections.deque[_Batch] = collections.deque()
        self._queue: collections.deque[_Part] = collections.deque()
        self._inflight: dict[int, _Part] = {}
        self._batches: list[_Batch] = []
        self._sock: socket.socket | None = None
        self._reader = P.FrameReader()
        self._seq = itertools.count(1)
        self._bound = threading.Event()
        #: since when there is no bind (None while bound); read by waiting callers
        self._unbound_since: float | None = time.monotonic()
        self._closing = threading.Event()
        self._closed = False
        self._pause_until = 0.0
        self._throttle_backoff = config.throttle_backoff_min
        self._reconnect_backoff = config.reconnect_backoff_min
        self._next_connect = 0.0
        self._last_error = "not connected yet"
        self._last_rx = 0.0
        self._enquire: tuple[int, float] | None = None
        #: sequence of the response whose timeout was forgiven once (input was waiting)
        self._forgiven: int | None = None
        self._out = bytearray()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._thread = threading.Thread(target=self._run, name=f"smpp-io-{config.host}",
                                        daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ public API (any thread)
    def send_many(self, requests: Sequence[SmsRequest], *,
                  on_result: ResultCallback | None = None) -> list[SendResult]:
        """Send a batch; one result per request, in the order given.

        ``on_result`` is called once per key with its result as soon as it is known — ACCEPTED
        when the last part's submit_sm_resp arrives, FAILED or RETRY when decided — from the I/O
        thread (or from this thread for what is answered without sending, or when it gives up
        waiting). Keep it short: the I/O thread sends nothing while it runs.

        Returns after at most ``bind_wait`` without a bind, and at most ``send_timeout`` (plus
        a second) in any case; what is not accepted by then is RETRY.
        """
        if not requests:
            return []
        now = time.monotonic()
        batch = _Batch(requests=list(requests), started=now,
                       deadline=now + self.config.send_timeout, on_result=on_result)
        if self._closed:
            for key in batch.unsettled():
                batch.settle(SendResult(key, SendOutcome.RETRY, detail="transport closed", reached=False))
        else:
            self._incoming.append(batch)
            self._wake()
            self._wait(batch)
        for key in batch.unsettled():  # never expected: every path above settles every key
            batch.settle(SendResult(key, SendOutcome.RETRY, detail="no answer from the I/O thread"))
        with batch.lock:
            return [batch.results[r.key] for r in batch.requests]

    def _wait(self, batch: _Batch) -> None:
        while not batch.done.wait(_POLL):
            reason = self._why_stop_waiting(batch, time.monotonic())
            if reason:
                break
        else:
            return
        # answer what is left ourselves; the I/O thread lets the batch go when it gets to it,
        # and parts already acknowledged stay remembered for the next try of the same key
        # without a bind the SMSC never judged these: the outbox retries them at no cost
        reached = self._unbound_since is None
        for key in batch.unsettled():
            batch.settle(SendResult(key, SendOutcome.RETRY, detail=reason, reached=reached))
        batch.abandoned = True
        batch.done.set()
        self._wake()

    def _why_stop_waiting(self, batch: _Batch, now: float) -> str:
        since = self._unbound_since  # read once: the I/O thread writes it
        if since is not None and now - max(since, batch.started) >= self.config.bind_wait:
            return self._last_error or "not bound"
        if now >= batch.deadline + _GRACE:
            log.error("smpp.send_many.io_thread_stuck")
            return "the SMPP I/O thread did not answer in time"
        return ""

    def set_inbound_sink(self, sink: InboundSink) -> None:
        """Hand every receipt and reply to ``sink.accept`` before answering the SMSC.

        ``accept`` runs on the I/O thread. When it raises, the deliver_sm is answered
        ``ESME_RX_T_APPN`` (0x64) so the SMSC delivers it again. What arrived before and waits
        for ``drain_inbound`` is handed to the sink first."""
        self._sink = sink
        self._sink_retry_at = 0.0
        self._wake()

    def drain_inbound(self) -> list[DeliveryReceipt | InboundSms]:
        out: list[DeliveryReceipt | InboundSms] = []
        while True:
            try:
                out.append(self._inbound.popleft())
            except IndexError:
                return out

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._closing.set()
        self._wake()
        self._thread.join(timeout=self.config.response_timeout + 5.0)
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()

    def wait_bound(self, timeout: float = 10.0) -> bool:
        """Block until the bind is up (for demos and tests)."""
        return self._bound.wait(timeout)

    @property
    def bound(self) -> bool:
        return self._bound.is_set()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ the I/O thread
    def _wake(self) -> None:
        try:
            self._wake_w.send(b"\x00")
        except (BlockingIOError, OSError):
            pass

    def _run(self) -> None:
        while not self._closing.is_set():
            try:
                self._step()
            except Exception as exc:
                log.exception("smpp.io.error", error=str(exc))
                self._drop(f"internal error: {type(exc).__name__}")
                time.sleep(0.05)
        self._shutdown()

    def _step(self) -> None:
        now = time.monotonic()
        while self._incoming:
            self._accept_batch(self._incoming.popleft(), now)
        if self._sink is not None and self._inbound and now >= self._sink_retry_at:
            self._hand_over_queued(now)
        if self._sock is None and now >= self._next_connect:
            self._connect()
            now = time.monotonic()
        if self._sock is not None:
            self._check_timeouts(now)
        if self._sock is not None:
            self._pump(now)
            self._flush()
        self._check_deadlines(now)
        timeout = self._next_timeout(time.monotonic())
        for key, _ in self._selector.select(timeout):
            if key.data == "wake":
                try:
                    while self._wake_r.recv(4096):
                        pass
                except (BlockingIOError, OSError):
                    pass
            elif self._sock is not None:
                self._read()
        stored = self.decoder.expire(accept=self._store if self._sink is not None else None)
        if self._sink is None:
            self._inbound.extend(stored)

    def _next_timeout(self, now: float) -> float:
        candidates = [1.0]
        if self._sock is None:
            candidates.append(self._next_connect - now)
        else:
            if self._inflight:
                oldest = next(iter(self._inflight.values()))
                candidates.append(oldest.sent_at + self.config.response_timeout - now)
            if self._queue and self._pause_until > now:
                candidates.append(self._pause_until - now)
            if self._enquire is not None:
                candidates.append(self._enquire[1] - now)
            else:
                candidates.append(self._last_rx + self.config.enquire_link_interval - now)
        if self._batches:
            candidates.append(min(b.deadline for b in self._batches) - now)
        if self._sink is not None and self._inbound:
            candidates.append(self._sink_retry_at - now)
        return max(0.0, min(candidates))

    # -- batches and jobs
    def _accept_batch(self, batch: _Batch, now: float) -> None:
        if batch.abandoned:  # the caller gave up before the thread got to it
            return
        for req in batch.requests:
            if req.key in batch.results or req.key in batch.remaining:
                continue
            remembered = self._accepted.get(req.key)
            if remembered is not None:
                self.stats["suppressed_resends"] += 1
                batch.settle(SendResult(req.key, SendOutcome.ACCEPTED, remembered[0],
                                        remembered[1], "already accepted"))
                continue
            job = self._jobs.get(req.key)
            if job is None:
                job = self._new_job(req, batch)
                if job is None:
                    continue
            batch.remaining.add(req.key)
            job.batches.append(batch)
            for part in job.parts:
                if part.state == "idle":
                    part.state = "queued"
                    self._queue.append(part)
        if batch.remaining:
            self._batches.append(batch)
        else:
            batch.done.set()

    def _new_job(self, req: SmsRequest, batch: _Batch) -> _Job | None:
        if not _MSISDN.match(req.to or ""):
            batch.settle(SendResult(req.key, SendOutcome.FAILED,
                                    detail="invalid destination address"))
            return None
        try:
            encoded = encode_text(req.text, None, allow_gsm=self.config.gsm7,
                                  max_parts=self.config.max_parts)
        except TextTooLong as exc:
            batch.settle(SendResult(req.key, SendOutcome.FAILED, detail=str(exc)))
            return None
        except ValueError:  # several parts: needs a reference for this destination
            encoded = encode_text(req.text, self._refs.next(req.to), allow_gsm=self.config.gsm7,
                                  max_parts=self.config.max_parts)
        job = _Job(req, encoded.data_coding, encoded.udhi)
        job.parts = [_Part(job, i, payload) for i, payload in enumerate(encoded.parts)]
        self._jobs[req.key] = job
        self._queue.extend(job.parts)
        return job

    def _finish(self, job: _Job, outcome: SendOutcome, detail: str = "") -> None:
        key = job.request.key
        ids = tuple(p.message_id for p in job.parts if p.state == "acked")
        result = SendResult(key, outcome, ids, len(job.parts), detail)
        job.finished = True
        for part in job.parts:
            if part.state in ("queued", "idle"):
                part.state = "done"
        self._jobs.pop(key, None)
        if outcome is SendOutcome.ACCEPTED:
            self._accepted[key] = (ids, len(job.parts))
            while len(self._accepted) > self.config.remember_keys:
                self._accepted.popitem(last=False)
        elif outcome is SendOutcome.FAILED:
            log.info("smpp.submit.failed", to=mask_number(job.request.to), detail=detail)
        for batch in job.batches:
            self._answer(batch, key, result)
        job.batches = []

    def _retry_later(self, job: _Job, batch: _Batch | None, detail: str) -> None:
        """Answer RETRY for ``job`` (to one batch, or all); unsent parts wait for a re-send."""
        targets = [batch] if batch is not None else list(job.batches)
        parts = len(job.parts)
        for b in targets:
            ids = tuple(p.message_id for p in job.parts if p.state == "acked")
            self._answer(b, job.request.key,
                         SendResult(job.request.key, SendOutcome.RETRY, ids, parts, detail))
            job.batches.remove(b)
        if not job.batches:
            for part in job.parts:
                if part.state == "queued":
                    part.state = "idle"

    def _answer(self, batch: _Batch, key: str, result: SendResult) -> None:
        batch.settle(result)
        batch.remaining.discard(key)
        if not batch.remaining:
            batch.done.set()
            if batch in self._batches:
                self._batches.remove(batch)

    def _check_deadlines(self, now: float) -> None:
        for batch in list(self._batches):
            if now < batch.deadline and not batch.abandoned:
                continue
            for key in list(batch.remaining):
                job = self._jobs.get(key)
                if job is None:
                    self._answer(batch, key, SendResult(key, SendOutcome.RETRY,
                                                        detail=self._last_error or "timed out"))
                    continue
                self.stats["retry_given_up" if batch.abandoned else "retry_deadline"] += 1
                self._retry_later(job, batch, job.problem or self._last_error or "timed out")
            if batch.remaining:  # only keys without a job could be left
                batch.remaining.clear()
                batch.done.set()
            if batch in self._batches:
                self._batches.remove(batch)

    # -- connection
    def _connect(self) -> None:
        cfg = self.config
        sock: socket.socket | None = None
        try:
            sock = socket.create_connection((cfg.host, cfg.port), timeout=cfg.connect_timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if cfg.tls:
                context = ssl.create_default_context(cafile=cfg.tls_ca_file)
                if not cfg.tls_verify:
                    context.check_hostname = False
                    context.verify_mode = ssl.CERT_NONE
                sock = context.wrap_socket(sock, server_hostname=cfg.host)
            sock.settimeout(cfg.response_timeout)
            seq = self._next_seq()
            sock.sendall(P.encode("bind_transceiver", seq, system_id=cfg.system_id,
                                  password=cfg.password, system_type=cfg.system_type,
                                  addr_ton=cfg.source_addr_ton, addr_npi=cfg.source_addr_npi,
                                  address_range=""))
            reader = P.FrameReader()
            early: list[bytes] = []
            deadline = time.monotonic() + cfg.response_timeout
            resp = None
            while resp is None:
                if time.monotonic() > deadline:
                    raise TimeoutError("no bind_transceiver_resp")
                data = sock.recv(65536)
                if not data:
                    raise ConnectionError("closed by the SMSC during bind")
                for frame in reader.feed(data):
                    header = P.Header.of(frame)
                    if header.sequence == seq and header.command_id in (
                            P.BIND_TRANSCEIVER | P.RESP, P.GENERIC_NACK):
                        resp = header
                    else:
                        early.append(frame)
            if resp.status != P.ESME_ROK:
                raise ConnectionError(f"bind refused: {P.status_name(resp.status)}")
            sock.setblocking(False)
        except (OSError, ssl.SSLError, TimeoutError, P.PduError) as exc:
            if sock is not None:
                sock.close()
            self._last_error = f"cannot bind {cfg.host}:{cfg.port}: {exc}"
            self._next_connect = time.monotonic() + self._reconnect_backoff
            log.warning("smpp.connect.failed", host=cfg.host, port=cfg.port, error=str(exc),
                        retry_in=round(self._reconnect_backoff, 3))
            self._reconnect_backoff = min(self._reconnect_backoff * 2, cfg.reconnect_backoff_max)
            self.stats["connect_failures"] += 1
            return
        self._sock = sock
        self._reader = reader
        self._selector.register(sock, selectors.EVENT_READ, "sock")
        self._reconnect_backoff = cfg.reconnect_backoff_min
        self._last_rx = time.monotonic()
        self._enquire = None
        self._last_error = ""
        self.stats["binds"] += 1
        self._unbound_since = None
        self._bound.set()
        log.info("smpp.bound", host=cfg.host, port=cfg.port, system_id=cfg.system_id,
                 tls=cfg.tls)
        for frame in early:
            self._on_frame(frame)

    def _drop(self, reason: str) -> None:
        """Close the connection; every unacknowledged part goes back to the front of the queue."""
        sock, self._sock = self._sock, None
        self._bound.clear()
        if self._unbound_since is None:
            self._unbound_since = time.monotonic()
        self._out.clear()
        if sock is not None:
            try:
                self._selector.unregister(sock)
            except (KeyError, ValueError):
                pass
            try:
                sock.close()
            except OSError:
                pass
            self.stats["disconnects"] += 1
            (log.info if self._closing.is_set() else log.warning)(
                "smpp.connection.lost", reason=reason, unacknowledged=len(self._inflight))
        self._last_error = reason
        inflight = sorted(self._inflight.values(), key=lambda p: p.sent_at, reverse=True)
        self._inflight.clear()
        for part in inflight:
            part.job.problem = reason
            if part.job.finished:
                part.state = "done"
            elif part.state == "inflight":
                part.state = "queued" if part.job.batches else "idle"
                if part.state == "queued":
                    self._queue.appendleft(part)
                self.stats["unacknowledged_resends"] += 1
        self._enquire = None
        self._next_connect = time.monotonic() + self._reconnect_backoff
        self._reconnect_backoff = min(self._reconnect_backoff * 2,
                                      self.config.reconnect_backoff_max)

    def _shutdown(self) -> None:
        for batch in list(self._batches) + list(self._incoming):
            for key in list(batch.remaining) or batch.unsettled():
                job = self._jobs.get(key)
                if job is not None and batch in job.batches:
                    self._retry_later(job, batch, "transport closed")
                else:
                    self._answer(batch, key, SendResult(key, SendOutcome.RETRY,
                                                        detail="transport closed"))
            batch.done.set()
        self._batches.clear()
        self._incoming.clear()
        sock = self._sock
        if sock is None:
            return
        try:
            seq = self._next_seq()
            self._out += P.encode("unbind", seq)
            self._flush()
            deadline = time.monotonic() + min(1.0, self.config.response_timeout)
            while self._sock is not None and time.monotonic() < deadline:
                if self._selector.select(max(0.0, deadline - time.monotonic())) and self._read(
                        stop_on=P.UNBIND | P.RESP):
                    break
        except OSError:
            pass
        self._drop("closed")

    # -- sending
    def _next_seq(self) -> int:
        seq = next(self._seq)
        if seq >= 0x7FFFFFFF:
            self._seq = itertools.count(2)
            seq = 1
        return seq

    def _pump(self, now: float) -> None:
        cfg = self.config
        if now < self._pause_until:
            return
        while self._queue and len(self._inflight) < cfg.window:
            part = self._queue.popleft()
            if part.state != "queued":
                continue
            job = part.job
            req = job.request
            seq = self._next_seq()
            self._out += P.encode(
                "submit_sm", seq,
                source_addr=req.sender or cfg.source_addr,
                destination_addr=req.to.lstrip("+"),
                short_message=part.payload,
                service_type=cfg.service_type,
                source_addr_ton=cfg.source_addr_ton,
                source_addr_npi=cfg.source_addr_npi,
                dest_addr_ton=cfg.dest_addr_ton,
                dest_addr_npi=cfg.dest_addr_npi,
                esm_class=0x40 if job.udhi else 0x00,
                registered_delivery=cfg.registered_delivery,
                data_coding=job.data_coding,
            )
            part.state, part.seq, part.sent_at = "inflight", seq, now
            part.sends += 1
            self._inflight[seq] = part
            self.stats["submit_sm"] += 1
            if part.sends > 1:
                self.stats["resubmits"] += 1

        if self._enquire is None and now - self._last_rx >= cfg.enquire_link_interval:
            seq = self._next_seq()
            self._out += P.encode("enquire_link", seq)
            self._enquire = (seq, now + cfg.response_timeout)
            self.stats["enquire_link"] += 1

    def _flush(self) -> None:
        sock = self._sock
        if sock is None or not self._out:
            return
        data = memoryview(bytes(self._out))
        self._out.clear()
        deadline = time.monotonic() + self.config.response_timeout
        try:
            while data:
                try:
                    sent = sock.send(data)
                    data = data[sent:]
                except (BlockingIOError, ssl.SSLWantWriteError, ssl.SSLWantReadError):
                    if time.monotonic() > deadline:
                        raise TimeoutError("socket write timed out") from None
                    select.select([], [sock], [], 0.05)
        except (OSError, TimeoutError) as exc:
            self._drop(f"write failed: {exc}")

    def _check_timeouts(self, now: float) -> None:
        if self._inflight:
            oldest = next(iter(self._inflight.values()))
            if now - oldest.sent_at > self.config.response_timeout:
                if self._forgive(oldest.seq):
                    return
                self._drop(f"no submit_sm_resp within {self.config.response_timeout:g}s")
                self.stats["response_timeouts"] += 1
                return
        if self._enquire is not None and now > self._enquire[1]:
            if self._forgive(self._enquire[0]):
                return
            self._drop("enquire_link unanswered")
            # counted after the drop: whoever sees the count sees the bind gone too
            self.stats["enquire_link_timeouts"] += 1

    def _forgive(self, seq: int) -> bool:
        """Once per late response: if input is waiting, read it before judging. The thread may
        have been busy (a slow inbound sink) while the response came in."""
        sock = self._sock
        if sock is None or self._forgiven == seq:
            return False
        try:
            readable, _, _ = select.select([sock], [], [], 0)
        except (OSError, ValueError):
            return False
        if readable:
            self._forgiven = seq
        return bool(readable)

    # -- receiving
    def _read(self, stop_on: int | None = None) -> bool:
        sock = self._sock
        assert sock is not None
        chunks: list[bytes] = []
        closed = False
        while True:
            try:
                data = sock.recv(65536)
            except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
                break
            except OSError as exc:
                self._drop(f"read failed: {exc}")
                return False
            if not data:
                closed = True
                break
            chunks.append(data)
        seen = False
        if chunks:
            self._last_rx = time.monotonic()
            try:
                frames = self._reader.feed(b"".join(chunks))
            except P.PduError as exc:
                self._drop(f"unreadable stream: {exc}")
                return False
            for frame in frames:
                if stop_on is not None and P.Header.of(frame).command_id == stop_on:
                    seen = True
                self._on_frame(frame)
            self._flush()
        if closed and self._sock is sock:
            self._drop("connection closed by the SMSC")
        return seen

    def _on_frame(self, frame: bytes) -> None:
        """One whole PDU off the wire: read by smpplib's command class, then handled."""
        if P.Header.of(frame).command_id == P.DELIVER_SM:
            # the decoder reads the body (smpplib's DeliverSM) and records what it cannot read
            self._on_deliver(P.Header.of(frame), frame[16:])
            return
        try:
            pdu = P.parse(frame)
        except P.PduError as exc:
            log.warning("smpp.unreadable_pdu", problem=str(exc))
            assert exc.header is not None
            pdu = exc.header  # answered by its header: a response still settles its request
        self._handle(pdu)

    def _handle(self, pdu: Any) -> None:
        command = pdu.command
        if command == "submit_sm_resp":
            self._on_submit_resp(pdu)
        elif command == "enquire_link":
            self._out += P.encode("enquire_link_resp", pdu.sequence)
        elif command == "enquire_link_resp":
            if self._enquire is not None and self._enquire[0] == pdu.sequence:
                self._enquire = None
        elif command == "unbind":
            self._out += P.encode("unbind_resp", pdu.sequence)
            self._flush()
            self._drop("unbound by the SMSC")
        elif command == "unbind_resp":
            pass
        elif command == "generic_nack":
            if pdu.sequence in self._inflight:
                self._on_submit_resp(pdu)
            else:
                log.warning("smpp.generic_nack", status=P.status_name(pdu.status))
        elif not pdu.is_response():
            self._out += P.encode("generic_nack", pdu.sequence, P.ESME_RINVCMDID)
        else:
            log.debug("smpp.unexpected_pdu", command_id=hex(pdu.command_id))

    def _on_deliver(self, header: P.Header, body: bytes) -> None:
        """A receipt or a reply: stored (or queued) first, answered after."""
        sink = self._sink
        status = P.ESME_ROK
        try:
            items = self.decoder.decode(body, self._store if sink is not None else None)
        except Exception:  # noqa: BLE001 - not stored (logged): the SMSC must deliver it again
            status = P.ESME_RX_T_APPN
            items = []
        for item in items:
            self.stats["receipts" if isinstance(item, DeliveryReceipt) else "mo"] += 1
            if sink is None:
                self._inbound.append(item)
        self._out += P.encode("deliver_sm_resp", header.sequence, status)

    def _store(self, item: DeliveryReceipt | InboundSms) -> None:
        sink = self._sink
        assert sink is not None
        try:
            sink.accept(item)
        except Exception as exc:
            self.stats["inbound_not_stored"] += 1
            # the exception's text may quote the row (a number, a reply): only its type is logged
            if isinstance(item, InboundSms):
                log.warning("smpp.inbound.not_stored", kind="reply",
                            sender=mask_number(item.sender), error=type(exc).__name__)
            else:
                log.warning("smpp.inbound.not_stored", kind="receipt",
                            remote_id=item.remote_id, error=type(exc).__name__)
            raise

    def _hand_over_queued(self, now: float) -> None:
        """What arrived before the sink was set (already answered) goes to the sink, in order."""
        while self._inbound:
            item = self._inbound.popleft()
            try:
                self._store(item)
            except Exception:  # noqa: BLE001 - kept, offered again later
                self._inbound.appendleft(item)
                self._sink_retry_at = now + self.decoder.retry_interval
                return

    def _on_submit_resp(self, pdu: Any) -> None:
        part = self._inflight.pop(pdu.sequence, None)
        if part is None:
            self.stats["late_or_unknown_resp"] += 1
            return
        job = part.job
        status = pdu.status
        if job.finished:  # e.g. another part failed for good meanwhile
            part.state = "acked" if status == P.ESME_ROK else "failed"
            return
        if status == P.ESME_ROK:
            part.state = "acked"
            part.message_id = normalise_id(getattr(pdu, "message_id", None) or "",
                                           self.config.resp_id_base)
            self._throttle_backoff = self.config.throttle_backoff_min
            if all(p.state == "acked" for p in job.parts):
                self._finish(job, SendOutcome.ACCEPTED)
            return
        detail = P.status_name(status)
        job.problem = detail
        if status in BACKOFF_STATUSES:
            self.stats["throttled" if status == P.ESME_RTHROTTLED else "queue_full"] += 1
            part.state = "queued" if job.batches else "idle"
            if part.state == "queued":
                self._queue.appendleft(part)
            now = time.monotonic()
            self._pause_until = max(self._pause_until, now + self._throttle_backoff)
            self._throttle_backoff = min(self._throttle_backoff * 2,
                                         self.config.throttle_backoff_max)
            log.info("smpp.submit.backoff", status=detail,
                     pause=round(self._pause_until - now, 3))
        elif status in TRANSIENT_STATUSES:
            self.stats["transient_errors"] += 1
            part.state = "idle"
            if job.batches:
                self._retry_later(job, None, detail)
            if status == P.ESME_RINVBNDSTS:
                self._drop(detail)
        else:
            part.state = "failed"
            self.stats["permanent_errors"] += 1
            self._finish(job, SendOutcome.FAILED, detail)
