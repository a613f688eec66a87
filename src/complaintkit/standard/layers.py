"""A province standard that states only how it differs: ``extends`` and ``remove``.

``standard.toml`` may say ``extends = "complaintkit_baseline:data"`` (a package and the folder of
its data) or ``extends = "../baseline"`` (a folder, relative to this one). The base is read first
(and may extend another), then each file of this folder is laid over it:

- tables (``[settings]``, ``[templates]``, ``[year.2027]``) are merged key by key;
- arrays of tables (``[[department]]``, ``[[route]]`` …) are merged by each entry's identity —
  an entry with the identity of a base entry replaces it, any other is added;
- ``remove = ["city_north", …]`` at the top of a file drops base entries by identity.

The identities: a category, follow-up type, department or skill group by ``code``; a role by
``role``; a handler by ``id``; a route and a batch threshold by ``category@area``; a transfer by
its two ends ``a|b``; a calendar day by ``date``; a time-limit rule by its match
(``urgency/category/value_tier/kind``).
"""

from __future__ import annotations

import importlib.resources
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

IDENTITY: dict[str, Callable[[dict[str, Any]], str]] = {
    "category": lambda e: str(e.get("code")),
    "type": lambda e: str(e.get("code")),
    "department": lambda e: str(e.get("code")),
    "skill_group": lambda e: str(e.get("code")),
    "role": lambda e: str(e.get("role")),
    "handler": lambda e: str(e.get("id")),
    "route": lambda e: f"{e.get('category', '')}@{e.get('area', '')}",
    "batch_threshold": lambda e: f"{e.get('category', '')}@{e.get('area', '')}",
    "transfer": lambda e: "|".join(map(str, e.get("between", ()))),
    "day": lambda e: str(e.get("date")),
    "rule": lambda e: "/".join(str(e.get(k, "")) for k in ("urgency", "category", "value_tier", "kind")),
}

MAX_DEPTH = 5


def resolve(folder: Any, extends: str) -> Any:
    """The folder ``extends`` names: ``package:folder`` or a path relative to ``folder``."""
    package, sep, inner = extends.partition(":")
    if sep and package.replace("_", "").replace(".", "").isalnum() and "/" not in package:
        return importlib.resources.files(package).joinpath(inner)
    if isinstance(folder, Path):
        return (folder / extends).resolve()
    return Path(extends)


def read_layer(folder: Any, names: tuple[str, ...], problems: list[str], *, depth: int = 0,
               later: list[str] | None = None) -> dict[str, Any]:
    """The raw TOML of ``folder`` laid over what it extends (each file by name).

    ``problems``: what stops the loading (unreadable TOML, a base that is not there); ``later``:
    what does not (a ``remove`` of something the base does not have), reported with the rest."""
    raw: dict[str, Any] = {}
    for name in names:
        entry = folder.joinpath(name)
        if not entry.is_file():
            continue
        try:
            raw[name] = tomllib.loads(entry.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            problems.append(f"{name}: not valid TOML: {exc}")
    head = raw.get("standard.toml", {})
    extends = head.pop("extends", None) if isinstance(head, dict) else None
    if extends is None:
        return raw
    if not isinstance(extends, str) or not extends.strip():
        problems.append("standard.toml: $.extends: must be text, like 'complaintkit_baseline:data'")
        return raw
    if depth >= MAX_DEPTH:
        problems.append(f"standard.toml: $.extends: more than {MAX_DEPTH} standards extend one another")
        return raw
    try:
        base_folder = resolve(folder, extends)
        if not base_folder.joinpath("standard.toml").is_file():
            raise FileNotFoundError(extends)
    except (ModuleNotFoundError, FileNotFoundError, TypeError, ValueError):
        problems.append(f"standard.toml: $.extends: {extends[:100]!r}: no standard there "
                        "(a package:folder that is installed, or a folder with a standard.toml)")
        return raw
    base = read_layer(base_folder, names, problems, depth=depth + 1, later=later)
    return merge(base, raw, problems if later is None else later)


def merge(base: dict[str, Any], over: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    merged = {name: _copy(data) for name, data in base.items()}
    for name, data in over.items():
        target = merged.setdefault(name, {})
        removed = data.get("remove", [])
        if not isinstance(removed, list) or not all(isinstance(r, str) for r in removed):
            problems.append(f"{name}: $.remove: must be an array of codes")
            removed = []
        # what the base had is removed first: an entry this file adds may reuse the identity
        for i, code in enumerate(removed):
            found = False
            for key, value in list(target.items()):
                if isinstance(value, list) and key in IDENTITY:
                    kept = [e for e in value if not (isinstance(e, dict) and IDENTITY[key](e) == code)]
                    found = found or len(kept) != len(value)
                    target[key] = kept
            if not found:
                problems.append(f"{name}: $.remove[{i}]: {code[:60]!r} is not in the standard it extends")
        for key, value in data.items():
            if key == "remove":
                continue
            old = target.get(key)
            if isinstance(value, dict) and isinstance(old, dict):
                target[key] = {**old, **value}
            elif isinstance(value, list) and isinstance(old, list) and key in IDENTITY:
                target[key] = _merge_entries(old, value, IDENTITY[key])
            else:
                target[key] = value
    return merged


def _merge_entries(old: list[Any], new: list[Any], identity: Callable[[dict[str, Any]], str]) -> list[Any]:
    out = list(old)
    index = {identity(e): i for i, e in enumerate(out) if isinstance(e, dict)}
    for entry in new:
        key = identity(entry) if isinstance(entry, dict) else None
        if key is not None and key in index:
            out[index[key]] = entry
        else:
            out.append(entry)
    return out


def _copy(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_copy(v) for v in data]
    return data


__all__ = ["IDENTITY", "merge", "read_layer", "resolve"]
