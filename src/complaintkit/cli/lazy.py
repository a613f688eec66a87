"""Commands imported when they run, and the plugins discovered once per command line.

A worker restarted after a crash leaves its timers waiting while Python starts it, so
``complaintkit worker`` must not pay for the demo, the benchmarks, the deadline calculator or
Rich. A :class:`LazyGroup` knows its built-in commands by name (``"module:attribute"``) and
imports one when it is invoked; ``--help`` imports them all, to show their help lines.
Commands that plugins add (``complaintkit_cli_commands``) are asked for only when the name is not
a built-in one or when the commands are listed. The plugins found then are kept on the command
line's context, so the kit the command opens uses the same ones instead of discovering them again.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import click

from complaintkit.cli.failures import Group

if TYPE_CHECKING:
    from complaintkit.hooks.manager import Plugins

#: where the plugins discovered for this command line are kept (``ctx.meta`` is shared by the
#: whole chain of contexts: the group's and the command's)
_PLUGINS = "complaintkit.plugins"


class LazyGroup(Group):
    """A group whose built-in commands are imported when they are invoked or listed.

    ``lazy`` maps each name to ``"module:attribute"``; ``extend`` is called (with the context)
    before a name that is not built in is looked up, and before the commands are listed: it adds
    the plugins' commands.
    """

    def __init__(self, *args: Any, lazy: Mapping[str, str] | None = None,
                 extend: Callable[[click.Context], None] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})
        self.extend = extend

    def list_commands(self, ctx: click.Context) -> list[str]:
        if self.extend is not None:
            self.extend(ctx)
        return sorted({*self.lazy, *super().list_commands(ctx)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        # a command already added (by a plugin, or loaded before) is the one that answers
        found = super().get_command(ctx, cmd_name)
        if found is not None:
            return found
        if cmd_name in self.lazy:
            return self._load(cmd_name)
        if self.extend is not None:
            self.extend(ctx)
        return super().get_command(ctx, cmd_name)

    def _load(self, name: str) -> click.Command:
        module, _, attribute = self.lazy[name].partition(":")
        command = getattr(importlib.import_module(module), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.lazy[name]} is not a click command")
        self.add_command(command, name)
        return command


def discovered_plugins(ctx: click.Context | None = None) -> Plugins:
    """The plugins, discovered once per command line (outside one: discovered now)."""
    from complaintkit.hooks.manager import Plugins

    ctx = ctx or click.get_current_context(silent=True)
    if ctx is None:
        return Plugins.discover()
    found: Plugins | None = ctx.meta.get(_PLUGINS)
    if found is None:
        found = ctx.meta[_PLUGINS] = Plugins.discover()
    return found


__all__ = ["LazyGroup", "discovered_plugins"]
