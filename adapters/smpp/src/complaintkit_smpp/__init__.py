"""complaintkit-smpp: SMS over SMPP 3.4 for complaintkit.

Public API: :class:`SmppTransport` and :class:`SmppConfig` (the transport), :class:`LocalSmsc`
(a small SMSC for demos, tests and the benchmark), :func:`encode_text` / :class:`RefAllocator`
(UCS2 concatenation), :class:`InboundDecoder` / :func:`normalise_id` (receipts and replies).
The pluggy hooks are in :mod:`complaintkit_smpp.plugin`.
"""

from complaintkit.core.masking import mask_number

from .receipts import InboundDecoder, normalise_id, parse_receipt_text
from .smsc import LocalSmsc, Submission
from .text import EncodedText, RefAllocator, encode_text, part_count
from .transport import SmppConfig, SmppTransport

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
