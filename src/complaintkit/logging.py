"""Logging: the library's loggers, silent until the application turns them on, and the CLI's set-up.

Library modules (the kit and its adapters) get their logger from :func:`get_logger`: structlog
bound to a stdlib logger. Each library's top logger (``complaintkit``, ``complaintkit_smpp`` …)
has a ``NullHandler``, so an application that configures nothing sees nothing (structlog's own
default would print to stdout). Personal data is masked and an exception is formatted — plainly,
without local variables — *before* the event leaves the library, so whatever the application does
with the records, no phone number, ID-card number or name gets through (SPEC N3).

An application turns the logs on with :func:`configure_cli_logging`, as the CLI does, or with its
own stdlib handler and structlog's ``ProcessorFormatter``::

    handler = logging.StreamHandler()
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(processors=[
        structlog.stdlib.ProcessorFormatter.remove_processors_meta,
        structlog.processors.format_exc_info, mask_pii, structlog.processors.JSONRenderer()]))
    logging.getLogger("complaintkit").addHandler(handler)
    logging.getLogger("complaintkit").setLevel(logging.INFO)

:func:`mask_pii` is the processor that masks; the masks themselves are
:mod:`complaintkit.core.masking`'s.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from complaintkit.core.masking import NAME_KEYS, mask_name, mask_text

__all__ = ["configure_cli_logging", "get_logger", "mask_name", "mask_pii", "mask_text", "reset_cli_logging"]


def _mask(value: Any, key: str = "") -> Any:
    if isinstance(value, str):
        return mask_name(value) if key.lower() in NAME_KEYS else mask_text(value)
    if isinstance(value, dict):
        return {k: _mask(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_mask(v) for v in value)
    if isinstance(value, (set, frozenset)):
        return [_mask(v) for v in value]
    if value is None or isinstance(value, (bool, float)):
        return value
    # numbers (13812345678 as an int) and any other object: judged by their text
    text = str(value) if not isinstance(value, int) else repr(value)
    masked = mask_name(text) if key.lower() in NAME_KEYS else mask_text(text)
    return value if masked == text else masked


def mask_pii(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: mask personal data everywhere in the event."""
    for key in list(event_dict):
        event_dict[key] = _mask(event_dict[key], key)
    return event_dict


class _LibraryLogger(structlog.stdlib.BoundLogger):
    def exception(self, event: str | None = None, *args: Any, **kw: Any) -> Any:
        # stdlib's Logger.exception would attach the traceback to the record again, unmasked,
        # for any plain formatter to print; the event already holds it, formatted and masked
        kw.setdefault("exc_info", True)
        return self._proxy_to_logger("error", event, *args, **kw)


def _to_capture(logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Inside ``structlog.testing.capture_logs()`` the library's events go to the capture, as
    they would with structlog's own loggers: an application's tests may look for them."""
    processors = structlog.get_config()["processors"]
    if any(isinstance(p, structlog.testing.LogCapture) for p in processors):
        for processor in processors:  # the capture comes last, keeps the event and drops it
            event_dict = processor(logger, method, event_dict)
    return event_dict


#: what every library event goes through before it reaches stdlib logging
_LIBRARY_CHAIN: list[Any] = [
    _to_capture,
    structlog.stdlib.filter_by_level,  # a disabled level costs nothing more
    structlog.contextvars.merge_contextvars,
    structlog.processors.format_exc_info,  # the traceback as text, without local variables
    mask_pii,
    structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
]

#: top-level logger names of the libraries that log through get_logger
_libraries: set[str] = set()
#: the CLI's handlers and level, once configured: (library handler, other handler, level)
_cli: tuple[logging.Handler, logging.Handler, int] | None = None


def get_logger(name: str) -> Any:
    """The logger a library module uses (``log = get_logger(__name__)``); silent until configured."""
    top = name.partition(".")[0]
    if top not in _libraries:
        _libraries.add(top)
        logging.getLogger(top).addHandler(logging.NullHandler())
        if _cli is not None:
            _attach(top, _cli[0], _cli[2])
    return structlog.wrap_logger(logging.getLogger(name), processors=_LIBRARY_CHAIN,
                                 wrapper_class=_LibraryLogger, cache_logger_on_first_use=True)


def _attach(top: str, handler: logging.Handler, level: int) -> None:
    logger = logging.getLogger(top)
    if handler not in logger.handlers:
        logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False  # the root handler below would print it a second time


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when the record comes (click's test runner swaps it)."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def configure_cli_logging(*, level: str = "info", json: bool = False, stream: Any = None) -> None:
    """The CLI's logging: every library's events at ``level`` and everything else from warnings up,
    masked, as text or JSON lines, to ``stream`` (stderr). Calling it again replaces the set-up."""
    global _cli
    renderer: Any = (structlog.processors.JSONRenderer(ensure_ascii=False) if json else
                     structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback))
    formatter = structlog.stdlib.ProcessorFormatter(processors=[
        structlog.stdlib.ProcessorFormatter.remove_processors_meta,
        structlog.processors.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso"),
        # other libraries' records arrive unmasked, with their traceback still attached
        structlog.processors.format_exc_info,
        mask_pii,
        renderer,
    ])
    ours = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    others = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    for handler in (ours, others):
        handler.setFormatter(formatter)
    others.setLevel(logging.WARNING)
    number = logging.getLevelName(level.upper())
    reset_cli_logging()
    _cli = (ours, others, number)
    logging.getLogger().addHandler(others)
    for top in _libraries | {"complaintkit"}:
        _attach(top, ours, number)
    # a plugin that logs with plain structlog.get_logger goes the same way
    structlog.configure(processors=list(_LIBRARY_CHAIN[1:]), logger_factory=structlog.stdlib.LoggerFactory(),
                        wrapper_class=_LibraryLogger, cache_logger_on_first_use=False)


def reset_cli_logging() -> None:
    """Undo :func:`configure_cli_logging`: the libraries are silent again (tests use it)."""
    global _cli
    if _cli is None:
        return
    logging.getLogger().removeHandler(_cli[1])
    for top in _libraries | {"complaintkit"}:
        logger = logging.getLogger(top)
        logger.removeHandler(_cli[0])
        logger.setLevel(logging.NOTSET)
        logger.propagate = True
    _cli = None
    structlog.reset_defaults()
