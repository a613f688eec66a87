"""How the command line fails: one clear message on stderr and a non-zero exit, never a traceback.

The kit's own errors are already messages. The database's are turned into one (a URL the kit
cannot use, a server it cannot reach); anything else is named by its type and first line, with
``COMPLAINTKIT_TRACEBACK=1`` to see the traceback when reporting a bug. Every message is masked:
an error can quote a row with a customer's number in it.
"""

from __future__ import annotations

import os
from typing import Any

import click

from complaintkit.core.errors import ComplaintKitError
from complaintkit.core.masking import mask_text

#: the environment variable that lets an unexpected error's traceback through
TRACEBACK_ENV = "COMPLAINTKIT_TRACEBACK"


class Group(click.Group):
    """A click group whose commands fail with a message, not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except ComplaintKitError as exc:
            raise click.ClickException(mask_text(str(exc))) from exc
        except Exception as exc:
            if os.environ.get(TRACEBACK_ENV) == "1":
                raise
            raise click.ClickException(
                f"unexpected {type(exc).__name__}: {_first_line(exc)} "
                f"(set {TRACEBACK_ENV}=1 to see where)") from exc


def open_store(url: str, *, option: str = "--db") -> Any:
    """The store at ``url``; a URL the kit cannot use or a database it cannot open is one message."""
    from complaintkit.core.errors import StoreUnavailable
    from complaintkit.engine.store import Store

    try:
        return Store.open(url)
    except StoreUnavailable as exc:
        if exc.unusable:
            raise click.BadParameter(str(exc), param_hint=option) from exc
        raise click.ClickException(str(exc)) from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return mask_text(text[0][:300]) if text else type(exc).__name__
