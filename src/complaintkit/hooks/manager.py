"""Finding, checking, calling and listing plugins.

Entry points in the ``complaintkit`` group are loaded first, the built-in defaults last (their
implementations are ``trylast``), so an installed plugin always wins. Two environment variables
choose what loads: ``COMPLAINTKIT_PLUGINS`` (comma-separated allow list of entry-point names;
unset = all) and ``COMPLAINTKIT_DISABLE_PLUGINS`` (deny list). ``check_pending()`` always runs, so a
misspelt hook name fails start-up instead of never being called.

Every failure names the plugin and the hook: a plugin that cannot be imported, one that
implements an unknown hook, one whose hook raises.
"""

from __future__ import annotations

import importlib.metadata
import os
from collections.abc import Mapping
from typing import Any

import attrs
import pluggy

from complaintkit.core.errors import PluginError
from complaintkit.hooks import specs as hookspecs
from complaintkit.logging import get_logger

log = get_logger(__name__)

GROUP = "complaintkit"
hookimpl = pluggy.HookimplMarker(GROUP)


@attrs.define(frozen=True)
class PluginInfo:
    name: str
    distribution: str
    version: str
    hooks: tuple[str, ...]


class Plugins:
    """A small typed facade over ``pm.hook``."""

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm

    @classmethod
    def discover(cls, *, extra: tuple[Any, ...] = (), entry_points: bool = True,
                 environ: Mapping[str, str] | None = None) -> Plugins:
        """Load entry-point plugins (filtered by the environment), then ``extra``, then built-ins."""
        environ = os.environ if environ is None else environ
        pm = pluggy.PluginManager(GROUP)
        pm.add_hookspecs(hookspecs)
        allow = _names(environ.get("COMPLAINTKIT_PLUGINS"))
        deny = _names(environ.get("COMPLAINTKIT_DISABLE_PLUGINS")) or set()
        if entry_points:
            for ep in sorted(importlib.metadata.entry_points(group=GROUP), key=lambda e: e.name):
                if (allow is not None and ep.name not in allow) or ep.name in deny:
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
        from complaintkit.hooks import defaults as builtins

        _register(pm, builtins, "complaintkit.hooks.defaults", None)
        try:
            pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise PluginError(pm.get_name(exc.plugin) or "?", "(unknown hook)", str(exc)) from exc
        return cls(pm)

    def call_first(self, hook: str, **kwargs: Any) -> Any:
        """Ask the plugins in order until one answers something other than ``None``."""
        for impl in reversed(getattr(self.pm.hook, hook).get_hookimpls()):
            result = self._call(impl, hook, kwargs)
            if result is not None:
                return result
        return None

    def call_all(self, hook: str, **kwargs: Any) -> list[Any]:
        """Call every implementation; collect the answers that are not ``None``."""
        results = []
        for impl in reversed(getattr(self.pm.hook, hook).get_hookimpls()):
            result = self._call(impl, hook, kwargs)
            if result is not None:
                results.append(result)
        return results

    def notify(self, hook: str, **kwargs: Any) -> None:
        """Call every implementation of an event hook; a failure is logged, never raised."""
        for impl in reversed(getattr(self.pm.hook, hook).get_hookimpls()):
            try:
                self._call(impl, hook, kwargs)
            except PluginError as exc:
                log.error("plugin hook failed", plugin=exc.plugin, hook=hook, error=str(exc.__cause__))

    def _call(self, impl: Any, hook: str, kwargs: dict[str, Any]) -> Any:
        args = {name: kwargs[name] for name in impl.argnames}
        try:
            return impl.function(**args)
        except PluginError:
            raise
        except Exception as exc:
            raise PluginError(impl.plugin_name, hook, f"{type(exc).__name__}: {exc}") from exc

    def info(self) -> list[PluginInfo]:
        """What is loaded, with versions, in the order it is consulted."""
        dists = {self.pm.get_name(p): d for p, d in self.pm.list_plugin_distinfo()}
        out = []
        for name, plugin in self.pm.list_name_plugin():
            dist = dists.get(name)
            hooks = tuple(sorted(h.name for h in self.pm.get_hookcallers(plugin) or ()))
            if dist is not None:
                out.append(PluginInfo(name, dist.project_name, dist.version, hooks))
            else:
                from complaintkit import __version__

                out.append(PluginInfo(name, "complaintkit" if name.startswith("complaintkit") else "(local)",
                                      __version__ if name.startswith("complaintkit") else "", hooks))
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
