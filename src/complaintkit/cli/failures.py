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
    from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

    from complaintkit.engine.store import Store

    shown = _safe_url(url)
    try:
        return Store.open(url)
    except (ArgumentError, NoSuchModuleError, ModuleNotFoundError) as exc:
        raise click.BadParameter(
            f"{shown!r} is not a database URL the kit can use ({_first_line(exc)}); "
            "write sqlite:///complaints.db or postgresql://user@host/database", param_hint=option) from exc
    except DBAPIError as exc:
        raise click.ClickException(f"cannot open the database {shown}: {_first_line(exc.orig or exc)}") from exc
    except OSError as exc:
        raise click.ClickException(f"cannot open the database {shown}: {_first_line(exc)}") from exc


def _safe_url(url: str) -> str:
    """The URL without its password (it ends up on a terminal, in CI logs)."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparseable URL is shown by its scheme only
        scheme, sep, _ = url.partition("://")
        return f"{scheme}://…" if sep else "…"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return mask_text(text[0][:300]) if text else type(exc).__name__
