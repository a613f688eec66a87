"""Finding, checking, calling and listing plugins: a small typed facade over ``pm.hook``.

Entry points in the ``complaintkit`` group are loaded first, then the kit's internal plugins —
its parts and its defaults — from one list, :data:`INTERNAL_PLUGINS` (the way pytest ships its
own features as ``default_plugins``). Defaults are ``trylast``, so an installed plugin always
wins. Two environment variables choose what loads: ``COMPLAINTKIT_PLUGINS`` (comma-separated
allow list of entry-point names; unset = all) and ``COMPLAINTKIT_DISABLE_PLUGINS`` (deny list,
internal plugins included: they are blocked with pluggy's ``set_blocked``). ``check_pending()``
always runs, so a misspelt hook name fails start-up instead of never being called.

Hooks are called the way pluggy documents — ``pm.hook.<name>(...)`` — so ``tryfirst``,
``trylast``, ``wrapper=True`` and ``hookwrapper=True`` behave as pluggy says. Every
implementation is guarded when it is registered: whatever it raises comes out as
:class:`~complaintkit.core.errors.PluginError` naming the plugin and the hook; an *event* hook's
failure (ticket changed, major complaint …) is logged with those names and the other listeners
still run, because a committed change must not be undone by a listener.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import inspect
import os
from collections.abc import Callable, Generator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import pluggy

from complaintkit.core.errors import PluginError
from complaintkit.hooks import specs
from complaintkit.hooks.markers import PROJECT, hookimpl
from complaintkit.logging import get_logger

if TYPE_CHECKING:
    import click

    from complaintkit.core.model import Event, Ticket
    from complaintkit.engine.registry import Part
    from complaintkit.ports.boss import BossCrm
    from complaintkit.ports.transports import EmailTransport, LocalSmsc, OaPublisher, SmsTransport
    from complaintkit.standard import Standard

log = get_logger(__name__)

GROUP = PROJECT

#: the kit's own plugins, registered after the installed ones: one line per part of the process,
#: then the defaults. A new part is a folder under ``complaintkit/parts`` and one line here.
INTERNAL_PLUGINS: tuple[str, ...] = (
    "complaintkit.parts.intake.part",
    "complaintkit.parts.time_limits.part",
    "complaintkit.parts.follow_up.part",
    "complaintkit.parts.reports.part",
    "complaintkit.parts.delivery.part",
    "complaintkit.parts.permissions.part",
    "complaintkit.parts.boss.part",
    "complaintkit.parts.quality.part",
    "complaintkit.parts.tracking.part",
    "complaintkit.parts.return_visits.part",
    "complaintkit.parts.dispatch.part",
    "complaintkit.parts.special.part",
    "complaintkit.hooks.defaults",
)

#: hooks that tell plugins what happened: a failure is logged, never raised
EVENT_HOOKS = frozenset({"complaintkit_ticket_changed", "complaintkit_major_complaint",
                         "complaintkit_sensitive_ticket", "complaintkit_escalation"})


@attrs.define(frozen=True)
class PluginInfo:
    name: str
    distribution: str
    version: str
    hooks: tuple[str, ...]


class GuardedPluginManager(pluggy.PluginManager):
    """A pluggy manager whose hook implementations name themselves when they fail.

    Each implementation's function is wrapped once, at registration (not per call), so a hook
    call costs what pluggy's does plus one frame per implementation.
    """

    def register(self, plugin: object, name: str | None = None) -> str | None:
        registered = super().register(plugin, name)
        if registered is None:  # blocked
            return None
        for caller in self.get_hookcallers(plugin) or ():
            for impl in caller.get_hookimpls():
                if impl.plugin is plugin and not getattr(impl.function, "_ck_guarded", False):
                    impl.function = _guard(impl.function, impl.plugin_name, caller.name)  # type: ignore[misc]
        return registered


def _guard(function: Callable[..., Any], plugin: str, hook: str) -> Callable[..., Any]:
    def blame(exc: Exception) -> PluginError:
        error = PluginError(plugin, hook, f"{type(exc).__name__}: {exc}")
        error.__cause__ = exc
        return error

    if inspect.isgeneratorfunction(function):
        # a wrapper: exceptions thrown *into* it come from inner implementations and pass
        # through untouched; only what the wrapper itself raises is blamed on it
        @functools.wraps(function)
        def guarded_wrapper(*args: Any) -> Generator[Any, Any, Any]:
            gen = function(*args)
            try:
                value = next(gen)
            except PluginError:
                raise
            except Exception as exc:
                raise blame(exc) from exc
            while True:
                try:
                    sent = yield value
                except BaseException as thrown:  # noqa: BLE001 - handed on to the wrapped generator
                    try:
                        value = gen.throw(thrown)
                    except StopIteration as stop:
                        return stop.value
                    except PluginError:
                        raise
                    except Exception as exc:
                        if exc is thrown:
                            raise
                        raise blame(exc) from exc
                else:
                    try:
                        value = gen.send(sent)
                    except StopIteration as stop:
                        return stop.value
                    except PluginError:
                        raise
                    except Exception as exc:
                        raise blame(exc) from exc

        guarded_wrapper._ck_guarded = True  # type: ignore[attr-defined]
        return guarded_wrapper

    if hook in EVENT_HOOKS:
        @functools.wraps(function)
        def listener(*args: Any) -> Any:
            try:
                return function(*args)
            except Exception as exc:  # noqa: BLE001 - logged with its plugin; the change stands
                log.error("plugin hook failed", plugin=plugin, hook=hook, error=f"{type(exc).__name__}: {exc}")
                return None

        listener._ck_guarded = True  # type: ignore[attr-defined]
        return listener

    @functools.wraps(function)
    def guarded(*args: Any) -> Any:
        try:
            return function(*args)
        except PluginError:
            raise
        except Exception as exc:
            raise blame(exc) from exc

    guarded._ck_guarded = True  # type: ignore[attr-defined]
    return guarded


class Plugins:
    """The typed facade: one method per hook, each calling ``pm.hook.<name>``."""

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm

    @classmethod
    def discover(cls, *, extra: tuple[Any, ...] = (), entry_points: bool = True,
                 environ: Mapping[str, str] | None = None) -> Plugins:
        """Load entry-point plugins (filtered by the environment), then ``extra``, then the
        internal plugins (:data:`INTERNAL_PLUGINS`)."""
        environ = os.environ if environ is None else environ
        pm = GuardedPluginManager(GROUP)
        pm.add_hookspecs(specs)
        allow = _names(environ.get("COMPLAINTKIT_PLUGINS"))
        for name in _names(environ.get("COMPLAINTKIT_DISABLE_PLUGINS")) or ():
            pm.set_blocked(name)
        if entry_points:
            for ep in sorted(importlib.metadata.entry_points(group=GROUP), key=lambda e: e.name):
                if (allow is not None and ep.name not in allow) or pm.is_blocked(ep.name):
                    log.info("plugin skipped", plugin=ep.name)
                    continue
                if pm.get_plugin(ep.name) is not None:
                    continue
                try:
                    plugin = ep.load()
                except Exception as exc:  # a broken plugin must say who it is
                    raise PluginError(ep.name, "(import)", f"cannot load {ep.value}: {exc}") from exc
                _register(pm, plugin, ep.name, getattr(ep, "dist", None))
        for plugin in extra:
            _register(pm, plugin, getattr(plugin, "__name__", None) or type(plugin).__name__, None)
        for module in INTERNAL_PLUGINS:
            if not pm.is_blocked(module):
                _register(pm, importlib.import_module(module), module, None)
        try:
            pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise PluginError(pm.get_name(exc.plugin) or "?", "(unknown hook)", str(exc)) from exc
        return cls(pm)

    # -- start-up hooks: each returns a typed object or None --------------------------------

    def standard(self) -> Standard | None:
        return self.pm.hook.complaintkit_standard()  # type: ignore[no-any-return]

    def calendar_overrides(self, standard: Standard) -> list[tuple[str, object]]:
        """Each plugin's answer with the plugin's name (so a bad override can be blamed)."""
        answers = []
        for impl in reversed(self.pm.hook.complaintkit_calendar_overrides.get_hookimpls()):
            answer = impl.function(standard)
            if answer is not None:
                answers.append((impl.plugin_name, answer))
        return answers

    def sms_transport(self, settings: Mapping[str, Any]) -> SmsTransport | None:
        return self.pm.hook.complaintkit_sms_transport(settings=settings)  # type: ignore[no-any-return]

    def email_transport(self, settings: Mapping[str, Any]) -> EmailTransport | None:
        return self.pm.hook.complaintkit_email_transport(settings=settings)  # type: ignore[no-any-return]

    def oa_publisher(self, settings: Mapping[str, Any]) -> OaPublisher | None:
        return self.pm.hook.complaintkit_oa_publisher(settings=settings)  # type: ignore[no-any-return]

    def local_smsc(self) -> LocalSmsc | None:
        return self.pm.hook.complaintkit_local_smsc()  # type: ignore[no-any-return]

    def boss_client(self, settings: Mapping[str, Any]) -> BossCrm | None:
        return self.pm.hook.complaintkit_boss_client(settings=settings)  # type: ignore[no-any-return]

    def parts(self) -> list[tuple[str, Part]]:
        """Every part of the process the plugins register, with the plugin's name; internal
        parts first (they are registered last, and pluggy calls the last registered first)."""
        found: list[tuple[str, Part]] = []
        # the kit's own parts first, so a clash is blamed on the plugin that came to it
        impls = sorted(self.pm.hook.complaintkit_parts.get_hookimpls(),
                       key=lambda impl: impl.plugin_name not in INTERNAL_PLUGINS)
        for impl in impls:
            answer = impl.function()
            if answer is None:
                continue
            if isinstance(answer, (str, bytes)) or not hasattr(answer, "__iter__"):
                raise PluginError(impl.plugin_name, "complaintkit_parts", f"must return a list of Part, not {answer!r}")
            found.extend((impl.plugin_name, part) for part in answer)
        return found

    def cli_commands(self, cli: click.Group) -> None:
        self.pm.hook.complaintkit_cli_commands(cli=cli)

    # -- event hooks: failures are logged by the guard, never raised ---------------------------

    def ticket_changed(self, ticket: Ticket, events: Sequence[Event]) -> None:
        self.pm.hook.complaintkit_ticket_changed(ticket=ticket, events=events)

    def major_complaint(self, ticket: Ticket) -> None:
        self.pm.hook.complaintkit_major_complaint(ticket=ticket)

    def sensitive_ticket(self, ticket: Ticket, marker: str) -> None:
        self.pm.hook.complaintkit_sensitive_ticket(ticket=ticket, marker=marker)

    def escalation(self, ticket: Ticket, source: str, reason: str) -> None:
        self.pm.hook.complaintkit_escalation(ticket=ticket, source=source, reason=reason)

    # -- by name, for plugins' own hooks and 0.1 callers ------------------------------------

    def call_first(self, hook: str, **kwargs: Any) -> Any:
        """Ask the plugins in order until one answers something other than ``None``."""
        for impl in reversed(getattr(self.pm.hook, hook).get_hookimpls()):
            if impl.hookwrapper or impl.wrapper:
                continue
            result = impl.function(*(kwargs[name] for name in impl.argnames))
            if result is not None:
                return result
        return None

    def call_all(self, hook: str, **kwargs: Any) -> list[Any]:
        """Call every implementation (``pm.hook.<hook>``); the answers that are not ``None``."""
        return list(getattr(self.pm.hook, hook)(**kwargs))

    def notify(self, hook: str, **kwargs: Any) -> None:
        """Call an event hook; a failure is logged with its plugin, never raised."""
        try:
            getattr(self.pm.hook, hook)(**kwargs)
        except PluginError as exc:
            log.error("plugin hook failed", plugin=exc.plugin, hook=hook, error=str(exc.__cause__))

    def info(self) -> list[PluginInfo]:
        """What is loaded, with versions, in the order it is consulted."""
        dists = {self.pm.get_name(p): d for p, d in self.pm.list_plugin_distinfo()}
        out = []
        for name, plugin in self.pm.list_name_plugin():
            if plugin is None:  # blocked
                continue
            dist = dists.get(name)
            hooks = tuple(sorted(h.name for h in self.pm.get_hookcallers(plugin) or ()))
            if dist is not None:
                out.append(PluginInfo(name, dist.project_name, dist.version, hooks))
            else:
                from complaintkit import __version__

                internal = name.startswith("complaintkit")
                out.append(PluginInfo(name, "complaintkit" if internal else "(local)",
                                      __version__ if internal else "", hooks))
        return out


def _names(text: str | None) -> set[str] | None:
    if text is None:
        return None
    return {n.strip() for n in text.split(",") if n.strip()}


def _register(pm: pluggy.PluginManager, plugin: Any, name: str, dist: Any) -> None:
    try:
        pm.register(plugin, name=name)
    except (pluggy.PluginValidationError, ValueError) as exc:
        raise PluginError(name, "(register)", str(exc)) from exc
    if dist is not None:
        # what pluggy's load_setuptools_entrypoints records, so list_plugin_distinfo() knows versions
        pm._plugin_distinfo.append((plugin, pluggy._manager.DistFacade(dist)))  # type: ignore[arg-type]


__all__ = ["EVENT_HOOKS", "INTERNAL_PLUGINS", "PluginInfo", "Plugins", "hookimpl"]
