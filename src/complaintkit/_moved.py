"""Import paths of complaintkit 0.1, kept working after the parts moved into rooms of their own.

``import complaintkit.model`` (0.1) gives the very module ``complaintkit.core.model`` (0.2): the
same object, so ``isinstance`` checks, monkeypatching and ``from … import …`` behave as before.
One table instead of a shim file per old module, so the tree shows only where things live now.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from types import ModuleType

#: old module path → where it lives now
MOVED: dict[str, str] = {
    "complaintkit.model": "complaintkit.core.model",
    "complaintkit.errors": "complaintkit.core.errors",
    "complaintkit.clock": "complaintkit.core.clock",
    "complaintkit.calendar": "complaintkit.core.calendar",
    "complaintkit.codec": "complaintkit.core.codec",
    "complaintkit.hookspecs": "complaintkit.hooks.specs",
    "complaintkit.plugins": "complaintkit.hooks.manager",
    "complaintkit.builtins": "complaintkit.hooks.defaults",
    "complaintkit.transports": "complaintkit.ports.transports",
    "complaintkit.boss": "complaintkit.ports.boss",
    "complaintkit.tmf": "complaintkit.interop.tmf",
    "complaintkit.store": "complaintkit.engine.store",
    "complaintkit.store.sql": "complaintkit.engine.store.sql",
    "complaintkit.store.schema": "complaintkit.engine.store.schema",
    "complaintkit.worker": "complaintkit.engine.worker",
    "complaintkit.outbox": "complaintkit.engine.outbox",
    "complaintkit.rules.lifecycle": "complaintkit.parts.intake.rules",
    "complaintkit.rules.time_limits": "complaintkit.parts.time_limits.rules",
    "complaintkit.rules.follow_up": "complaintkit.parts.follow_up.rules",
    "complaintkit.deadlines": "complaintkit.parts.time_limits.queries",
    "complaintkit.reports": "complaintkit.parts.reports.queries",
}

#: 0.1 packages that no longer exist as one module: what they exported
PACKAGES: dict[str, dict[str, str]] = {
    "complaintkit.rules": {"Context": "complaintkit.engine.context"},
}


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname: str, path: object = None, target: object = None) -> importlib.machinery.ModuleSpec | None:
        if fullname in MOVED or fullname in PACKAGES:
            return importlib.machinery.ModuleSpec(fullname, self, is_package=fullname in PACKAGES)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        name = module.__name__
        if name in PACKAGES:
            for attr, where in PACKAGES[name].items():
                setattr(module, attr, getattr(importlib.import_module(where), attr))
            return
        # the import system hands out whatever sys.modules holds for the name after this call
        sys.modules[name] = importlib.import_module(MOVED[name])


def install() -> None:
    if not any(isinstance(f, _Alias) for f in sys.meta_path):
        # first: a moved package's __path__ would otherwise let the path finder load a second copy
        sys.meta_path.insert(0, _Alias())
