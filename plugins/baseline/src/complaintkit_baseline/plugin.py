"""Hook implementations of the baseline standard.

``trylast``: a province plugin that answers ``complaintkit_standard`` replaces the baseline.
"""

from __future__ import annotations

from complaintkit import hookimpl
from complaintkit.standard import Standard
from complaintkit_baseline import standard


@hookimpl(trylast=True)
def complaintkit_standard() -> Standard:
    return standard()
