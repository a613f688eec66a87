"""The two pluggy markers of the ``complaintkit`` project.

A leaf module (it imports nothing of the kit), so a plugin's ``from complaintkit import hookimpl``
costs nothing and can never take part in an import cycle.
"""

from __future__ import annotations

import pluggy

#: the project name: entry-point group, hook prefix and marker name
PROJECT = "complaintkit"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

__all__ = ["PROJECT", "hookimpl", "hookspec"]
