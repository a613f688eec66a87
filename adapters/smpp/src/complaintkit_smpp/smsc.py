"""A small SMSC for the demo, the tests and the benchmark (SMPP 3.4, threaded TCP).

It speaks enough SMPP for an ESME: bind_transceiver / transmitter / receiver, submit_sm,
enquire_link, unbind, and deliver_sm out (delivery receipts, injected customer replies).
Faults on demand: ``response_delay_ms`` (each submit answered after N ms, responses of a window
overlap: they are timed by one scheduler, not answered one after the other),
``throttle_every`` (every Nth submit answered 0x58), ``queue_full_every`` (0x14),
``syserr_every`` (0x08, a passing SMSC error),
``drop_after`` (close the connection after N submits on it), ``never_answer_every`` (every Nth
submit is taken but never answered), ``fail_destinations`` (answered 0x0B),
``slow_destinations`` (extra milliseconds before answering a submit to these numbers).

Like a real SMSC it keeps every deliver_sm (receipt, reply) until the ESME answers it with
status 0: one answered with an error is delivered again after ``redeliver_delay_ms``, and one
still unanswered when its connection closes is delivered again on the next bind.
``deliver_statuses`` lists the status of every deliver_sm_resp, in order.

Message ids are written in hexadecimal in submit_sm_resp and in the receipted_message_id TLV,
and in *decimal* in the receipt text, as some real SMSCs do: the transport settings this SMSC
hands out say so (``resp_id_base="hex"``, ``dlr_id_base="dec"``).
"""

from __future__ import annotations

import heapq
import itertools
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, Self

import attrs

from complaintkit.core.masking import mask_number
from complaintkit.logging import get_logger

from . import pdu as P
from .receipts import CHINA, decode_user_data, parse_udh
from .text import RefAllocator, encode_text

log = get_logger(__name__)

#: what is delivered: a deliver_sm, or a body as given (the tests' malformed ones)
_Delivery = P.DeliverSm | bytes

_STATES = {"DELIVRD": 2, "EXPIRED": 3, "DELETED": 4, "UNDELIV": 5, "ACCEPTD": 6, "UNKNOWN": 7,
           "REJECTD": 8}


@attrs.define
class Submission:
    """One submit_sm the SMSC took (accepted, or taken and never answered)."""

    destination: str
    source: str
    #: the text of this part (a long message arrives as several submissions)
    text: str
    message_id: str
    data_coding: int
    short_message: bytes
    #: (ref, total, seq) from the UDH, None for a single SMS
    concat: tuple[int, int, int] | None
    connection: int
    #: the submit_sm_resp was written to the socket
    answered: bool = False
    #: an identical submission (same destination, coding and user data) was taken before
    duplicate: bool = False


class _Conn:
    def __init__(self, smsc: LocalSmsc, sock: socket.socket, number: int) -> None:
        self.smsc = smsc
        self.sock = sock
        self.number = number
        self.lock = threading.Lock()
        self.open = True
        self.bound = False
        self.submits = 0
        self.seq = itertools.count(1)

    def send(self, data: bytes) -> bool:
        with self.lock:
            if not self.open:
                return False
            try:
                self.sock.sendall(data)
                return True
            except OSError:
                self.open = False
                return False

    def close(self) -> None:
        with self.lock:
            self.open = False
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass


class LocalSmsc:
    """Start with ``with LocalSmsc(...) as smsc:``; ``smsc.settings`` configures a transport."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, system_id: str = "complaintkit",
                 password: str = "secret", response_delay_ms: float = 0.0,
                 throttle_every: int = 0, queue_full_every: int = 0, syserr_every: int = 0,
                 drop_after: int = 0,
                 max_drops: int | None = None, never_answer_every: int = 0,
                 answer_enquire_link: bool = True, send_receipts: bool = False,
                 receipt_delay_ms: float = 0.0, receipt_tlvs: bool = True,
                 receipt_stat: str = "DELIVRD", fail_destinations: Iterable[str] = (),
                 slow_destinations: Mapping[str, float] | None = None,
                 redeliver_delay_ms: float = 50.0,
                 tls_context: ssl.SSLContext | None = None) -> None:
        self.host = host
        self.port = port
        self.system_id = system_id
        self.password = password
        self.response_delay = response_delay_ms / 1000.0
        self.throttle_every = throttle_every
        self.queue_full_every = queue_full_every
        self.syserr_every = syserr_every
        self.drop_after = drop_after
        self.max_drops = max_drops
        self.never_answer_every = never_answer_every
        self.answer_enquire_link = answer_enquire_link
        self.send_receipts = send_receipts
        self.receipt_delay = receipt_delay_ms / 1000.0
        self.receipt_tlvs = receipt_tlvs
        self.receipt_stat = receipt_stat
        self.fail_destinations = set(fail_destinations)
        self.slow_destinations = {d: ms / 1000.0 for d, ms in (slow_destinations or {}).items()}
        self.redeliver_delay = redeliver_delay_ms / 1000.0
        self.tls_context = tls_context

        self.received: list[Submission] = []
        self.duplicates: list[Submission] = []
        #: (destination, status) of every submit answered with an error
        self.rejected: list[tuple[str, int]] = []
        self.binds = 0
        self.drops = 0
        self.submit_count = 0
        self.deliver_resps = 0
        #: command_status of every deliver_sm_resp, in the order they came
        self.deliver_statuses: list[int] = []
        #: deliver_sm sent again (answered with an error, or unanswered when the connection closed)
        self.redeliveries = 0
        #: message ids in the order their submit_sm_resp was written
        self.answer_order: list[str] = []
        #: (connection number, sequence) -> body of each deliver_sm not answered yet
        self._unanswered: dict[tuple[int, int], _Delivery] = {}
        #: bodies waiting for the next bind
        self._undelivered: list[_Delivery] = []
        self._seen: dict[tuple[str, int, bytes], Submission] = {}
        self._ids = itertools.count(0x1000)
        self._lock = threading.Lock()
        self._conns: list[_Conn] = []
        self._conn_numbers = itertools.count(1)
        self._mo_refs = RefAllocator(start=0)
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._heap_counter = itertools.count()
        self._heap_cv = threading.Condition()
        self._stopping = False
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []

    # -- lifecycle
    def start(self) -> LocalSmsc:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(64)
        listener.settimeout(0.2)
        self.port = listener.getsockname()[1]
        self._listener = listener
        for target, name in ((self._accept_loop, "accept"), (self._scheduler, "scheduler")):
            t = threading.Thread(target=target, name=f"smsc-{name}-{self.port}", daemon=True)
            t.start()
            self._threads.append(t)
        log.info("smsc.started", host=self.host, port=self.port)
        return self

    def stop(self) -> None:
        self._stopping = True
        with self._heap_cv:
            self._heap_cv.notify_all()
        if self._listener is not None:
            self._listener.close()
        for conn in list(self._conns):
            conn.close()
        for t in self._threads:
            t.join(timeout=2)

    def __enter__(self) -> Self:
        if self._listener is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def settings(self) -> dict[str, object]:
        """Settings for ``complaintkit_sms_transport`` that bind to this SMSC."""
        return {
            "transport": "smpp",
            "host": self.host,
            "port": self.port,
            "system_id": self.system_id,
            "password": self.password,
            "source_addr": "10086",
            "window": 10,
            "response_timeout": 5.0,
            "tls": self.tls_context is not None,
            "tls_verify": False,
            "resp_id_base": "hex",
            "dlr_id_base": "dec",
        }

    # -- what the tests look at
    def texts(self) -> list[tuple[str, str]]:
        """(destination, whole text) of every distinct message taken, long ones reassembled."""
        singles: list[tuple[str, str]] = []
        groups: dict[tuple[str, int, int], dict[int, str]] = {}
        with self._lock:
            subs = [s for s in self.received if not s.duplicate]
        for s in subs:
            if s.concat is None:
                singles.append((s.destination, s.text))
            else:
                groups.setdefault((s.destination, s.concat[0], s.concat[1]), {})[s.concat[2]] = s.text
        for (dest, _ref, total), parts in groups.items():
            if len(parts) == total:
                singles.append((dest, "".join(parts[i] for i in range(1, total + 1))))
        return singles

    def wait_bound(self, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._session() is not None:
                return True
            time.sleep(0.01)
        return False

    # -- MO
    def inject_mo(self, sender: str, to: str, text: str) -> int:
        """Send a customer's SMS (deliver_sm) to the bound ESME; returns the number of parts."""
        conn = self._session()
        if conn is None and self.wait_bound(5.0):
            conn = self._session()
        if conn is None:
            raise RuntimeError("no ESME is bound to the local SMSC")
        encoded = encode_text(text, self._mo_refs.next(sender))
        for part in encoded.parts:
            sm = P.ShortMessage(source_addr=sender, destination_addr=to, short_message=part,
                                source_addr_ton=1, source_addr_npi=1,
                                esm_class=0x40 if encoded.udhi else 0,
                                data_coding=encoded.data_coding)
            self._deliver(conn, sm)
        log.info("smsc.mo", sender=mask_number(sender), parts=encoded.count)
        return encoded.count

    def inject_deliver(self, sm: P.DeliverSm | bytes) -> None:
        """Send a deliver_sm, or any deliver_sm body as bytes (malformed ones too), to the
        bound ESME."""
        conn = self._session()
        if conn is None and self.wait_bound(5.0):
            conn = self._session()
        if conn is None:
            raise RuntimeError("no ESME is bound to the local SMSC")
        self._deliver(conn, sm)

    def drop_connections(self) -> None:
        """Close every ESME connection now, as a crashed ESME's would be (its unanswered
        deliver_sm are delivered again on the next bind)."""
        for conn in list(self._conns):
            conn.close()
            self._orphan(conn)

    def _deliver(self, conn: _Conn, body: _Delivery) -> None:
        seq = next(conn.seq)
        with self._lock:
            self._unanswered[(conn.number, seq)] = body
        if isinstance(body, bytes):  # a body as given, malformed ones too
            conn.send(P.raw_frame(P.DELIVER_SM, seq, body))
        else:
            body.sequence = seq
            conn.send(body.generate())

    def _redeliver(self, body: _Delivery) -> None:
        conn = self._session()
        with self._lock:
            self.redeliveries += 1
            if conn is None:
                self._undelivered.append(body)
                return
        self._deliver(conn, body)

    def _orphan(self, conn: _Conn) -> None:
        """The connection is gone: what it never answered waits for the next bind."""
        with self._lock:
            for key in [k for k in self._unanswered if k[0] == conn.number]:
                self._undelivered.append(self._unanswered.pop(key))

    def _session(self) -> _Conn | None:
        for conn in reversed(self._conns):
            if conn.open and conn.bound:
                return conn
        return None

    # -- threads
    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stopping:
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.tls_context is not None:
                try:
                    sock.settimeout(5)
                    sock = self.tls_context.wrap_socket(sock, server_side=True)
                except (OSError, ssl.SSLError) as exc:
                    log.warning("smsc.tls_failed", error=str(exc))
                    sock.close()
                    continue
            sock.settimeout(None)
            conn = _Conn(self, sock, next(self._conn_numbers))
            self._conns.append(conn)
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True,
                                 name=f"smsc-conn-{conn.number}")
            t.start()

    def _scheduler(self) -> None:
        while True:
            with self._heap_cv:
                while not self._stopping:
                    if self._heap:
                        wait = self._heap[0][0] - time.monotonic()
                        if wait <= 0:
                            break
                        self._heap_cv.wait(wait)
                    else:
                        self._heap_cv.wait()
                if self._stopping:
                    return
                _, _, action = heapq.heappop(self._heap)
            try:
                action()
            except Exception as exc:  # noqa: BLE001
                log.warning("smsc.scheduled_action_failed", error=str(exc))

    def _later(self, delay: float, action: Callable[[], None]) -> None:
        with self._heap_cv:
            heapq.heappush(self._heap, (time.monotonic() + delay, next(self._heap_counter), action))
            self._heap_cv.notify()

    def _serve(self, conn: _Conn) -> None:
        reader = P.FrameReader()
        try:
            while conn.open and not self._stopping:
                data = conn.sock.recv(65536)
                if not data:
                    break
                for frame in reader.feed(data):
                    try:
                        pdu: Any = P.parse(frame)
                    except P.PduError as exc:  # answered by its header
                        pdu = exc.header
                    self._handle(conn, pdu)
                    if not conn.open:
                        break
        except (OSError, P.PduError) as exc:
            log.debug("smsc.connection_error", error=str(exc))
        finally:
            conn.close()
            self._orphan(conn)

    def _handle(self, conn: _Conn, pdu: Any) -> None:
        cid = pdu.command_id
        if cid in (P.BIND_TRANSCEIVER, P.BIND_TRANSMITTER, P.BIND_RECEIVER):
            status = P.ESME_ROK
            system_id = getattr(pdu, "system_id", "")
            if self.password and getattr(pdu, "password", None) != self.password:
                status = P.ESME_RINVPASWD
            if status == P.ESME_ROK:
                # before the resp: the ESME may inject, or a test count binds, once it is bound
                conn.bound = True
                with self._lock:
                    self.binds += 1
            conn.send(P.encode(f"{pdu.command}_resp", pdu.sequence, status,
                               system_id=self.system_id))
            if status == P.ESME_ROK:
                log.info("smsc.bound", system_id=system_id, connection=conn.number)
                if cid != P.BIND_TRANSMITTER:
                    with self._lock:
                        waiting, self._undelivered = self._undelivered, []
                    for body in waiting:
                        self._deliver(conn, body)
        elif cid == P.SUBMIT_SM:
            self._submit(conn, pdu)
        elif cid == P.ENQUIRE_LINK:
            if self.answer_enquire_link:
                conn.send(P.encode("enquire_link_resp", pdu.sequence))
        elif cid == P.UNBIND:
            conn.send(P.encode("unbind_resp", pdu.sequence))
            conn.close()
        elif cid == P.DELIVER_SM | P.RESP:
            with self._lock:
                self.deliver_resps += 1
                self.deliver_statuses.append(pdu.status)
                unanswered = self._unanswered.pop((conn.number, pdu.sequence), None)
            if unanswered is not None and pdu.status != P.ESME_ROK:
                self._later(self.redeliver_delay, lambda: self._redeliver(unanswered))
        elif cid & P.RESP:
            pass
        else:
            conn.send(P.encode("generic_nack", pdu.sequence, P.ESME_RINVCMDID))

    def _submit(self, conn: _Conn, pdu: Any) -> None:
        if not isinstance(pdu, P.SubmitSm):  # smpplib could not read its body
            conn.send(P.encode("submit_sm_resp", pdu.sequence, P.ESME_RINVMSGLEN))
            return
        sm = pdu
        with self._lock:
            self.submit_count += 1
            n = self.submit_count
            conn.submits += 1
            status = P.ESME_ROK
            if self.throttle_every and n % self.throttle_every == 0:
                status = P.ESME_RTHROTTLED
            elif self.queue_full_every and n % self.queue_full_every == 0:
                status = P.ESME_RMSGQFUL
            elif self.syserr_every and n % self.syserr_every == 0:
                status = P.ESME_RSYSERR
            elif sm.destination_addr in self.fail_destinations:
                status = P.ESME_RINVDSTADR
            if status != P.ESME_ROK:
                self.rejected.append((sm.destination_addr, status))
                sub = None
            else:
                sub = self._take(conn, sm)
            silent = bool(self.never_answer_every and n % self.never_answer_every == 0
                          and sub is not None)
            drop = bool(self.drop_after and conn.submits >= self.drop_after
                        and (self.max_drops is None or self.drops < self.max_drops))
            if drop:
                self.drops += 1
        if drop:
            log.info("smsc.dropping_connection", connection=conn.number, after=conn.submits)
            conn.close()
            return
        if silent:
            return
        resp = P.encode("submit_sm_resp", pdu.sequence, status,
                        message_id=sub.message_id if sub is not None else "")

        def answer() -> None:
            if conn.send(resp) and sub is not None:
                sub.answered = True
                with self._lock:
                    self.answer_order.append(sub.message_id)
                if self.send_receipts and sm.registered_delivery & 0x03:
                    self._later(self.receipt_delay, lambda: self._receipt(conn, sm, sub))

        delay = self.response_delay + self.slow_destinations.get(sm.destination_addr, 0.0)
        if delay > 0:
            self._later(delay, answer)
        else:
            answer()

    def _take(self, conn: _Conn, sm: P.SubmitSm) -> Submission:
        data, concat = sm.short_message, None
        if sm.esm_class & 0x40:
            try:
                concat, data = parse_udh(data)
            except P.PduError:
                pass
        text, _ = decode_user_data(data, sm.data_coding)
        sub = Submission(sm.destination_addr, sm.source_addr, text, f"{next(self._ids):08X}",
                         sm.data_coding, sm.short_message, concat, conn.number)
        key = (sm.destination_addr, sm.data_coding, sm.short_message)
        if key in self._seen:
            sub.duplicate = True
            self.duplicates.append(sub)
        else:
            self._seen[key] = sub
        self.received.append(sub)
        return sub

    def _receipt(self, conn: _Conn, sm: P.SubmitSm, sub: Submission) -> None:
        stamp = datetime.now(CHINA).strftime("%y%m%d%H%M")
        stat = self.receipt_stat
        err = "000" if stat == "DELIVRD" else "001"
        text = (f"id:{int(sub.message_id, 16)} sub:001 dlvrd:{'001' if stat == 'DELIVRD' else '000'}"
                f" submit date:{stamp} done date:{stamp} stat:{stat} err:{err} text:")
        tlvs: dict[str, Any] = {}
        if self.receipt_tlvs:
            tlvs["receipted_message_id"] = sub.message_id
            tlvs["message_state"] = _STATES.get(stat, 7)
            if stat != "DELIVRD":
                tlvs["network_error_code"] = bytes([3, 0, 1])
        receipt = P.DeliverSm(source_addr=sm.destination_addr, destination_addr=sm.source_addr,
                              esm_class=0x04, short_message=text.encode("ascii"), **tlvs)
        target = conn if conn.open else self._session()
        if target is not None:
            self._deliver(target, receipt)

