"""Standards installed as distributions, found by name in the ``complaintkit.standards``
entry-point group (``baseline``, ``ningxia`` …): each entry is a function returning the
:class:`~complaintkit.standard.Standard`.

A province plugin registers its standard there, beside — or instead of — answering the
``complaintkit_standard`` hook: several standards can be installed side by side (a vendor's
test environment, the demo), and the deployment names the one it runs.
"""

from __future__ import annotations

import importlib.metadata

from complaintkit.core.errors import InvalidInput, PluginError
from complaintkit.standard import Standard

GROUP = "complaintkit.standards"


def names() -> list[str]:
    """The installed standards' names, sorted."""
    return sorted({ep.name for ep in importlib.metadata.entry_points(group=GROUP)})


def named(name: str) -> Standard:
    """Load the installed standard called ``name`` (validated as it loads)."""
    for ep in importlib.metadata.entry_points(group=GROUP):
        if ep.name == name:
            try:
                loader = ep.load()
            except Exception as exc:  # a broken plugin must say who it is
                raise PluginError(name, "(import)", f"cannot load {ep.value}: {exc}") from exc
            found = loader()
            if not isinstance(found, Standard):
                raise PluginError(name, GROUP, f"{ep.value} returned {type(found).__name__}, not a Standard")
            return found
    raise InvalidInput("standard", f"no installed standard {name[:60]!r} (installed: {', '.join(names()) or 'none'})")


__all__ = ["GROUP", "named", "names"]
