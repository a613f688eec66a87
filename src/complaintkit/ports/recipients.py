"""How an e-mail request's ``to`` becomes addresses: the rule every e-mail transport follows.

The kit addresses reminders, alerts and digests to *department codes* (``network_dept``); a
deployment maps each code to its mailing list. A target that contains ``@`` is an address already
and is used as it is. The SMTP adapter and :class:`~complaintkit.testing.FakeMail` both call
:func:`resolve_recipients`, so a test against the fake refuses exactly what the adapter refuses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence


class UnresolvedRecipients(ValueError):
    """No address for a request: an unknown department code, or no target at all.

    Permanent for that request (the transport answers ``FAILED``): retrying does not help until
    the deployment maps the code. ``unknown`` holds the department codes without addresses.
    """

    def __init__(self, unknown: Sequence[str]) -> None:
        self.unknown = tuple(unknown)
        if self.unknown:
            names = ", ".join(repr(u) for u in self.unknown)
            message = f"no address for department code {names}"
        else:
            message = "no recipient"
        super().__init__(message)


def resolve_recipients(to: Iterable[str], departments: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    """The addresses for ``to``: each department code's addresses, each address as it is.

    In order of first appearance, without repeating an address (compared case-insensitively), so
    that a department named twice, or an address on two lists, gets the message once. Raises
    :class:`UnresolvedRecipients` naming every code without addresses, or when nothing is left.
    """
    addresses: list[str] = []
    seen: set[str] = set()
    unknown: list[str] = []
    for target in to:
        target = target.strip()
        if "@" in target:
            found: Sequence[str] = (target,)
        else:
            found = departments.get(target, ())
            if not found:
                unknown.append(target)
        for address in found:
            if address.lower() not in seen:
                seen.add(address.lower())
                addresses.append(address)
    if unknown or not addresses:
        raise UnresolvedRecipients(unknown)
    return tuple(addresses)
