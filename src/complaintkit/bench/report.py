"""The common output of every benchmark: a table for people, one JSON line for machines."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import click


def emit(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]], figures: Mapping[str, Any]) -> None:
    """Print ``rows`` under ``header`` as an aligned table, then ``figures`` as one JSON object.

    The JSON object is always the last line, so a script can take ``tail -n 1``.
    """
    cells = [[str(h) for h in header]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    click.echo(title)
    click.echo("  ".join(h.ljust(w) for h, w in zip(cells[0], widths)))
    click.echo("  ".join("-" * w for w in widths))
    for row in cells[1:]:
        click.echo("  ".join(c.rjust(w) if _numeric(c) else c.ljust(w) for c, w in zip(row, widths)))
    click.echo(json.dumps({"benchmark": title, **figures}, ensure_ascii=False, sort_keys=True))


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.3g}"
    return str(value)


def _numeric(text: str) -> bool:
    return text.replace(",", "").replace(".", "", 1).replace("-", "", 1).replace("x", "").isdigit()
