"""complaintkit: the complaint work-order (投诉工单) process of Chinese telecom operators."""

from complaintkit import _moved
from complaintkit.hooks.markers import hookimpl

_moved.install()

__version__ = "0.1.0"

__all__ = ["ComplaintKit", "__version__", "hookimpl"]


def __getattr__(name: str) -> object:
    # The kit pulls in the store and SQLAlchemy; plugins importing ``hookimpl`` should not pay for it.
    if name == "ComplaintKit":
        from complaintkit.kit import ComplaintKit

        return ComplaintKit
    raise AttributeError(name)
