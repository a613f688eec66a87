"""How adapters read their settings: one cattrs converter for every ``[sms]`` / ``[email]`` table.

An adapter describes its settings as an attrs class and calls :func:`read_settings`. The one
converter here turns the plain mapping (a table of the worker's ``--settings`` TOML file, with
environment variables filling what the table leaves out) into that class, strictly:

* a key the class does not have is refused (a misspelt ``windw = 5`` is an error, not ignored);
* a value of the wrong type is refused (``port = "abc"``, ``tls = "maybe"``), never guessed;
* a required key that is missing is refused.

Every refusal is one :class:`SettingsError` line naming the setting as ``<section>.<field>`` and
the wrong value (``sms.port: 'abc' is not a whole number``), and the environment variable when
the value came from one. A secret (a :data:`Secret` field, the passwords) is never shown.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from typing import Any, Literal, NewType, TypeVar, get_args, get_origin

import attrs
import cattrs
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError

from complaintkit.core.errors import InvalidInput

T = TypeVar("T")

#: a TCP port, 1-65535
Port = NewType("Port", int)
#: a duration in seconds, more than 0
Seconds = NewType("Seconds", float)
#: text that is never shown in an error or a repr (passwords)
Secret = NewType("Secret", str)
#: text that must not be empty (a host name)
Required = NewType("Required", str)

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_HIDDEN = "(hidden)"


class SettingsError(InvalidInput):
    """A setting an adapter cannot use; ``field`` is ``<section>.<name>``, the message one line."""


class BadValue(ValueError):
    """Raised by a structure hook: the message says what is wrong with the value (quoting it);
    ``path`` names a part inside the setting (``network_dept`` of ``email.recipients``)."""

    def __init__(self, problem: str, path: str = "") -> None:
        super().__init__(problem)
        self.path = path


def _show(value: object) -> str:
    return repr(value)


def _flag(value: object, _: type) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise BadValue(f"{_show(value)} is not true or false")


def _whole(value: object, _: type) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        return int(value)
    raise BadValue(f"{_show(value)} is not a whole number")


def _number(value: object, _: type) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise BadValue(f"{_show(value)} is not a number")


def _text(value: object, _: type) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):  # system_id = 123 in TOML
        return str(value)
    raise BadValue(f"{_show(value)} is not text")


def _required(value: object, _: type) -> str:
    text = _text(value, str).strip()
    if not text:
        raise BadValue("missing (it is empty)")
    return text


def _secret(value: object, _: type) -> str:
    if isinstance(value, str):
        return value
    raise BadValue(f"{_HIDDEN} is not text")


def _port(value: object, _: type) -> int:
    try:
        port = _whole(value, int)
    except BadValue:
        raise BadValue(f"{_show(value)} is not a port number (1-65535)") from None
    if not 0 < port < 65536:
        raise BadValue(f"{_show(value)} is not a port number (1-65535)")
    return port


def _seconds(value: object, _: type) -> float:
    try:
        seconds = _number(value, float)
    except BadValue:
        raise BadValue(f"{_show(value)} is not a number of seconds") from None
    if not seconds > 0:
        raise BadValue(f"{_show(value)} must be more than 0 seconds")
    return seconds


def _is_literal(cls: Any) -> bool:
    return get_origin(cls) is Literal


def _literal(cls: Any) -> Callable[[object, type], object]:
    choices = get_args(cls)

    def structure(value: object, _: type) -> object:
        if value in choices:
            return value
        raise BadValue(f"{_show(value)} is not one of {', '.join(repr(c) for c in choices)}")

    return structure


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=True)
    for cls, hook in ((bool, _flag), (int, _whole), (float, _number), (str, _text),
                      (Port, _port), (Seconds, _seconds), (Secret, _secret),
                      (Required, _required)):
        converter.register_structure_hook(cls, hook)
    converter.register_structure_hook_factory(_is_literal, _literal)
    return converter


#: the one converter of adapter settings; adapters add hooks for their own types with
#: ``converter.register_structure_hook`` (raise ``ValueError`` with the problem, value included)
converter = _make_converter()


def read_settings(cls: type[T], section: str, settings: Mapping[str, object] | None, *,
                  environ: Mapping[str, str], env: Mapping[str, str] | None = None,
                  ignore: Collection[str] = ()) -> T:
    """``settings`` (one table) as ``cls``; raise :class:`SettingsError` naming the setting.

    ``env`` maps a field to the environment variable read when the table has no value for it;
    ``ignore`` lists keys that belong to the caller (``transport``) and are not settings of
    ``cls``.
    """
    raw = {k: v for k, v in (settings or {}).items() if k not in ignore}
    sources: dict[str, str] = {}
    for name, variable in (env or {}).items():
        if raw.get(name) in (None, ""):
            value = environ.get(variable)
            if value:
                raw[name] = value
                sources[name] = variable
    try:
        return converter.structure(raw, cls)
    except ClassValidationError as exc:
        raise _one_line(exc, cls, section, sources, env or {}) from None
    except ForbiddenExtraKeysError as exc:  # raised alone by some cattrs versions
        raise _unknown(section, cls, exc.extra_fields) from None


def secret_fields(cls: type) -> frozenset[str]:
    return frozenset(f.name for f in attrs.fields(cls) if f.type in (Secret, "Secret"))


def _unknown(section: str, cls: type, extra: Collection[str]) -> SettingsError:
    known = ", ".join(sorted(f.name for f in attrs.fields(cls)))
    first = min(extra)
    more = f" (and {', '.join(sorted(extra)[1:])})" if len(extra) > 1 else ""
    return SettingsError(f"{section}.{first}", f"unknown setting{more} (known: {known})")


def _one_line(exc: ClassValidationError, cls: type, section: str, sources: Mapping[str, str],
              env: Mapping[str, str]) -> SettingsError:
    secrets = secret_fields(cls)
    problems: list[tuple[str, str]] = []
    with_notes, others = exc.group_exceptions()
    for other in others:
        if isinstance(other, ForbiddenExtraKeysError):
            error = _unknown(section, cls, other.extra_fields)
            problems.append((error.field, error.problem))
        else:  # pragma: no cover - cattrs notes every attribute's error
            problems.append((section, f"{type(other).__name__} cannot be used"))
    for sub, note in with_notes:
        name = str(note.name)
        if isinstance(sub, KeyError):
            hint = f" (set it or {env[name]})" if name in env else ""
            problem = f"missing{hint}"
        elif isinstance(sub, BadValue) and (name not in secrets or _HIDDEN in str(sub)):
            problem = str(sub)
            name = f"{name}.{sub.path}" if sub.path else name
        elif isinstance(sub, ValueError | TypeError) and name not in secrets:
            problem = f"cannot be used: {sub}"
        else:
            problem = f"{_HIDDEN} cannot be used"
        source = sources.get(name.split(".", 1)[0])
        if source:
            problem += f" (from {source})"
        problems.append((f"{section}.{name}" if name else section, problem))
    if not problems:  # pragma: no cover - cattrs always says why
        return SettingsError(section, str(exc))
    field, problem = problems[0]
    rest = "; ".join(f"{f}: {p}" for f, p in problems[1:])
    return SettingsError(field, problem + (f"; {rest}" if rest else ""))
