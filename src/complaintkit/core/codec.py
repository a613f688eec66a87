"""The kit's private cattrs converter: model values ⇄ plain data (TOML, JSON, rows).

Private on purpose: users build values with the named constructors; this converter is how the
store and the standard loader read and write them.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import cattrs
from cattrs.preconf.json import make_converter

from complaintkit.core.model import Msisdn

converter: cattrs.Converter = make_converter(forbid_extra_keys=True)


def _structure_datetime(value: Any, _: type) -> datetime:
    if isinstance(value, datetime):
        result = value
    elif isinstance(value, str):
        result = datetime.fromisoformat(value)
    else:
        raise TypeError(f"expected an ISO 8601 date-time, got {value!r}")
    if result.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone (write it as 2026-02-13T17:00+08:00)")
    return result


def _structure_date(value: Any, _: type) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value)
    raise ValueError(f"expected a date like 2027-01-01, got {value!r}")


def _structure_time(value: Any, _: type) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, str):
        return time.fromisoformat(value)
    raise ValueError(f"expected a time like 08:30, got {value!r}")


converter.register_structure_hook(datetime, _structure_datetime)
converter.register_unstructure_hook(datetime, datetime.isoformat)
converter.register_structure_hook(date, _structure_date)
converter.register_unstructure_hook(date, lambda d: d.isoformat())
converter.register_structure_hook(time, _structure_time)
converter.register_unstructure_hook(time, lambda t: t.isoformat())
converter.register_structure_hook(Msisdn, lambda v, _: Msisdn.parse(v))
converter.register_unstructure_hook(Msisdn, lambda m: m.digits)
