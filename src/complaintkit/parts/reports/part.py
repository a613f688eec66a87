"""Reports (SPEC L): the KPIs of the time limits, read from the store."""

from __future__ import annotations

from complaintkit.engine.registry import Part
from complaintkit.hooks.markers import hookimpl

PART = Part("reports")


@hookimpl
def complaintkit_parts() -> list[Part]:
    return [PART]
