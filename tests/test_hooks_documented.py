"""Every hook in complaintkit.hooks.specs has a docstring and a reference page, and every page a hook.

Like datasette's ``test_plugin_hooks_are_documented``. A hook's page renders its specification
(``::: complaintkit.hooks.specs.<hook>``: signature, docstring, firstresult) when mkdocs builds
the docs, and adds what the docstring leaves out. So a hook added to the spec module without a
page in ``docs/hooks/``, a page left behind for a hook that was removed or renamed, or an
argument explained neither in the docstring nor on the page fails here, and the failure names the
hook. ``tox -e docs`` builds the pages (``mkdocs build --strict``).
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from complaintkit.hooks import specs as hookspecs

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "hooks"
PROJECT = "complaintkit"
MODULE = "complaintkit.hooks.specs"
DIRECTIVE = re.compile(rf"^::: {re.escape(MODULE)}\.(\w+)\s*$", re.MULTILINE)


def _hooks() -> dict[str, object]:
    """Every hook specification in the module, found the way pluggy finds them."""
    return {
        name: fn
        for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
        if getattr(fn, f"{PROJECT}_spec", None) is not None
    }


HOOKS = _hooks()
PAGES = sorted(p.stem for p in DOCS.glob("*.md") if p.name != "index.md")


def _page(name: str) -> str:
    return (DOCS / f"{name}.md").read_text(encoding="utf-8")


def _firstresult(hook: str) -> bool:
    return bool(getattr(HOOKS[hook], f"{PROJECT}_spec").get("firstresult"))


def test_hooks_are_found() -> None:
    # guards the introspection itself: an empty list would make every test below pass vacuously
    assert len(HOOKS) >= 5
    assert all(name.startswith("complaintkit_") for name in HOOKS)


@pytest.mark.parametrize("hook", sorted(HOOKS))
def test_hook_has_docstring(hook: str) -> None:
    doc = inspect.getdoc(HOOKS[hook])
    assert doc and doc.strip(), f"hook {hook} in {MODULE} has no docstring"


@pytest.mark.parametrize("hook", sorted(HOOKS))
def test_hook_page_renders_the_spec(hook: str) -> None:
    assert (DOCS / f"{hook}.md").is_file(), f"hook {hook} has no page docs/hooks/{hook}.md"
    rendered = DIRECTIVE.findall(_page(hook))
    assert rendered == [hook], (
        f"docs/hooks/{hook}.md must render its hook's docstring once, with the line "
        f"'::: {MODULE}.{hook}' (it renders {rendered})"
    )


@pytest.mark.parametrize("page", PAGES)
def test_page_documents_an_existing_hook(page: str) -> None:
    assert page in HOOKS, f"docs/hooks/{page}.md documents a hook that is not in {MODULE}"


def test_every_rendered_hook_exists() -> None:
    # a '::: complaintkit.hooks.specs.x' anywhere in the docs fails the build when x is gone;
    # here it fails with the hook's name, without building
    stale = {
        (str(path.relative_to(ROOT)), name)
        for path in (ROOT / "docs").rglob("*.md")
        for name in DIRECTIVE.findall(path.read_text(encoding="utf-8"))
        if name not in HOOKS
    }
    assert not stale, f"pages render hooks that are not in {MODULE}: {sorted(stale)}"


@pytest.mark.parametrize("hook", sorted(HOOKS))
def test_every_argument_is_explained(hook: str) -> None:
    if not (DOCS / f"{hook}.md").is_file():
        pytest.fail(f"hook {hook} has no page docs/hooks/{hook}.md")
    doc = inspect.getdoc(HOOKS[hook]) or ""
    page = DIRECTIVE.sub("", _page(hook))  # the signature alone names an argument, not explains it
    arguments = list(inspect.signature(HOOKS[hook]).parameters)
    missing = [a for a in arguments if f"``{a}``" not in doc and f"`{a}`" not in page]
    assert not missing, (
        f"the argument(s) {missing} of {hook} are explained neither in its docstring "
        f"(``{missing[0] if missing else ''}``) nor on docs/hooks/{hook}.md"
    )


@pytest.mark.parametrize("hook", sorted(HOOKS))
def test_index_links_the_page_and_states_firstresult(hook: str) -> None:
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    row = re.search(rf"^\| \[{hook}\]\({hook}\.md\) \| (yes|no) \|", index, re.MULTILINE)
    assert row, f"docs/hooks/index.md has no row '| [{hook}]({hook}.md) | yes or no | … |'"
    expected = "yes" if _firstresult(hook) else "no"
    assert row.group(1) == expected, (
        f"docs/hooks/index.md says firstresult {row.group(1)} for {hook}, but the spec says {expected}"
    )


@pytest.mark.parametrize("hook", sorted(HOOKS))
def test_page_is_in_the_navigation(hook: str) -> None:
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert f"hooks/{hook}.md" in nav, f"mkdocs.yml's nav does not list hooks/{hook}.md"


def test_the_docs_build_states_firstresult_from_the_spec() -> None:
    # the pages do not write "firstresult": the griffe extension reads it from each @hookspec
    # decorator when mkdocs builds; this keeps the extension loaded and finding the decorator
    mkdocs = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert "tools/griffe_complaintkit.py:ComplaintkitDocstrings" in mkdocs
    extension = (ROOT / "tools" / "griffe_complaintkit.py").read_text(encoding="utf-8")
    marker = re.search(r'^_HOOKSPEC = "(.+)\.(\w+)"$', extension, re.MULTILINE)
    assert marker, "tools/griffe_complaintkit.py no longer names the hookspec marker"
    assert f"from {marker.group(1)} import {marker.group(2)}\n" in inspect.getsource(hookspecs), (
        f"{MODULE} no longer imports the hookspec marker from {marker.group(1)}: "
        "update _HOOKSPEC in tools/griffe_complaintkit.py"
    )
