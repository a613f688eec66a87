"""A griffe extension for complaintkit's reference pages; ``mkdocs.yml`` loads it by path.

The docstrings are written for readers of the source and of ``help()``, in reStructuredText's
habits; mkdocstrings renders Markdown. This extension bridges the two when the docs are built,
so the source needs no second way of writing:

- a Sphinx role (:class:`~complaintkit.core.model.Ticket`, :meth:`advance`) becomes a
  cross-reference that mkdocs-autorefs links when the target is documented, and plain code when
  it is not — so ``mkdocs build --strict`` never fails on a name the reference does not show;
- "::" ending a paragraph before an indented block becomes ":" (the block shows as code anyway);
- a hook specification says whether it is *firstresult*, read from its ``@hookspec`` decorator,
  so the reference cannot disagree with what pluggy does.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|data|mod|attr|exc|obj|const):`(~?)([^`<>]+)`")
_LITERAL_BLOCK = re.compile(r"(?<=\S)::(?=\n\n[ \t])")
_HOOKSPEC = "complaintkit.hooks.markers.hookspec"

FIRSTRESULT = {
    True: "**firstresult:** yes — the first answer that is not `None` wins; the plugins after it "
          "are not asked.",
    False: "**firstresult:** no — every implementation is called.",
}


def _target(obj: griffe.Object, name: str, loader: griffe.GriffeLoader,
            by_name: dict[str, list[str]]) -> str | None:
    """The path of ``name`` as written in ``obj``'s docstring, or None when it names nothing."""
    head, _, rest = name.partition(".")
    path: str | None = None
    if name.startswith("complaintkit."):
        path = name
    else:
        scope = obj if obj.is_class or obj.is_module else obj.parent
        try:
            path = scope.resolve(head) if scope is not None else None
        except griffe.NameResolutionError:
            if scope is not None and scope.is_class and head in scope.all_members:
                path = scope.all_members[head].path  # inherited: not in resolve()'s scope
        if path is not None and rest:
            path = f"{path}.{rest}"
    try:
        if path is not None:
            found = loader.modules_collection[path]
            return str(found.final_target.path if found.is_alias else found.path)
    except (KeyError, griffe.AliasResolutionError, griffe.CyclicAliasError):
        pass
    # a name the reader knows but the module does not import (or a lazy re-export such as
    # complaintkit.ComplaintKit): the one object of the package with that name, if there is one
    candidates = by_name.get(name.rsplit(".", 1)[-1] if name.startswith("complaintkit.") else head, [])
    if len(candidates) == 1:
        return candidates[0] + (f".{rest}" if rest and not name.startswith("complaintkit.") else "")
    return path


def _roles_to_references(text: str, obj: griffe.Object, loader: griffe.GriffeLoader,
                         by_name: dict[str, list[str]]) -> str:
    def reference(match: re.Match[str]) -> str:
        short, name = match.group(1) == "~", match.group(2).strip()
        shown = name.rsplit(".", 1)[-1] if short else name
        path = _target(obj, name, loader, by_name)
        if path is None:
            return f"`{shown}`"
        # "optional": autorefs renders plain code, without a warning, when nothing documents it
        return f'<autoref identifier="{path}" optional><code>{shown}</code></autoref>'

    return _ROLE.sub(reference, text)


def _firstresult(function: griffe.Function) -> bool | None:
    """``True``/``False`` for a hook specification, ``None`` for any other function."""
    for decorator in function.decorators:
        if decorator.callable_path != _HOOKSPEC:
            continue
        arguments = getattr(decorator.value, "arguments", ())
        return any(getattr(a, "name", None) == "firstresult" and str(a.value) == "True" for a in arguments)
    return None


class ComplaintkitDocstrings(griffe.Extension):
    """Sphinx roles to cross-references, rst literal markers, and the firstresult of each hook."""

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        if pkg.name != "complaintkit":
            return
        objects = _walk(pkg)
        by_name: dict[str, list[str]] = {}
        for obj in objects:
            by_name.setdefault(obj.name, []).append(obj.path)
        for obj in objects:
            if isinstance(obj, griffe.Function) and (first := _firstresult(obj)) is not None:
                note = FIRSTRESULT[first]
                if obj.docstring is None:
                    obj.docstring = griffe.Docstring(note, parent=obj)
                else:
                    obj.docstring.value = f"{obj.docstring.value.rstrip()}\n\n{note}"
            if obj.docstring is not None:
                text = _LITERAL_BLOCK.sub(":", obj.docstring.value)
                obj.docstring.value = _roles_to_references(text, obj, loader, by_name)


def _walk(obj: griffe.Object) -> list[griffe.Object]:
    found = [obj]
    for member in obj.members.values():
        if not member.is_alias:
            found.extend(_walk(member))  # type: ignore[arg-type]
    return found
