"""complaintkit-smpp: SMS over SMPP 3.4 for complaintkit.

Public API: :class:`SmppTransport` and :class:`SmppConfig` (the transport), :class:`LocalSmsc`
(a small SMSC for demos, tests and the benchmark), :func:`encode_text` / :class:`RefAllocator`
(UCS2 concatenation), :class:`InboundDecoder` / :func:`normalise_id` (receipts and replies).
The pluggy hooks are in :mod:`complaintkit_smpp.plugin`.

The names are imported when first used: plugin discovery imports :mod:`complaintkit_smpp.plugin`,
and through it this package, in every complaintkit process (a worker restarting after a crash
among them), most of which never send an SMS.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from complaintkit.core.masking import mask_number

    from .receipts import InboundDecoder, normalise_id, parse_receipt_text
    from .smsc import LocalSmsc, Submission
    from .text import EncodedText, RefAllocator, encode_text, part_count
    from .transport import SmppConfig, SmppTransport

#: public name → the module that holds it
_WHERE = {
    "mask_number": "complaintkit.core.masking",
    "InboundDecoder": ".receipts", "normalise_id": ".receipts", "parse_receipt_text": ".receipts",
    "LocalSmsc": ".smsc", "Submission": ".smsc",
    "EncodedText": ".text", "RefAllocator": ".text", "encode_text": ".text", "part_count": ".text",
    "SmppConfig": ".transport", "SmppTransport": ".transport",
}


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(where, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE})


__all__ = [
    "EncodedText",
    "InboundDecoder",
    "LocalSmsc",
    "RefAllocator",
    "SmppConfig",
    "SmppTransport",
    "Submission",
    "encode_text",
    "mask_number",
    "normalise_id",
    "parse_receipt_text",
    "part_count",
]
