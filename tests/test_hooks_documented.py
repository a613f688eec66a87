"""Every hook in complaintkit.hooks.specs has a docstring and a reference page, and every page a hook.

Like datasette's ``test_plugin_hooks_are_documented``: a hook added to the spec module without a
page in ``docs/hooks/``, a page left behind for a hook that was removed or renamed, or a page that
forgets an argument fails here, and the failure names the hook.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from complaintkit.hooks import specs as hookspecs

DOCS = Path(__file__).resolve().parent.parent / "docs" / "hooks"
PROJECT = "complaintkit"


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


def test_hooks_are_found() -> None:
    # guards the introspection itself: an empty list would make every test below pass vacuously
    assert len(HOOKS) >= 5
    assert all(name.startswith("complaintkit_") for name in HOOKS)


@pytest.mark.parametrize("hook", sorted(HOOKS))
def test_hook_has_docstring(hook: str) -> None:
    doc = inspect.getdoc(HOOKS[hook])
    assert doc and doc.strip(), f"hook {hook} in complaintkit/hookspecs.py has no docstring"


@pytest.mark.parametrize("hook", sorted(HOOKS))
def test_hook_has_page(hook: str) -> None:
    assert (DOCS / f"{hook}.md").is_file(), f"hook {hook} has no page docs/hooks/{hook}.md"


@pytest.mark.parametrize("page", PAGES)
def test_page_documents_an_existing_hook(page: str) -> None:
    assert page in HOOKS, f"docs/hooks/{page}.md documents a hook that is not in complaintkit/hookspecs.py"


@pytest.mark.parametrize("hook", sorted(HOOKS))
def test_page_mentions_every_argument(hook: str) -> None:
    if not (DOCS / f"{hook}.md").is_file():
        pytest.fail(f"hook {hook} has no page docs/hooks/{hook}.md")
    text = _page(hook)
    assert text.startswith(f"# {hook}"), f"docs/hooks/{hook}.md must start with the heading '# {hook}'"
    arguments = list(inspect.signature(HOOKS[hook]).parameters)
    missing = [a for a in arguments if f"`{a}`" not in text]
    assert not missing, f"docs/hooks/{hook}.md does not mention the argument(s) {missing} of {hook}"


@pytest.mark.parametrize("hook", sorted(HOOKS))
def test_page_states_firstresult(hook: str) -> None:
    if not (DOCS / f"{hook}.md").is_file():
        pytest.fail(f"hook {hook} has no page docs/hooks/{hook}.md")
    spec = getattr(HOOKS[hook], f"{PROJECT}_spec")
    expected = "yes" if spec.get("firstresult") else "no"
    found = re.search(r"\*\*firstresult:\*\* (yes|no)", _page(hook))
    assert found, f"docs/hooks/{hook}.md does not say '**firstresult:** yes' or '**firstresult:** no'"
    assert found.group(1) == expected, (
        f"docs/hooks/{hook}.md says firstresult {found.group(1)}, but the spec says {expected}"
    )


@pytest.mark.parametrize("hook", sorted(HOOKS))
def test_index_links_the_page(hook: str) -> None:
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    assert f"({hook}.md)" in index, f"docs/hooks/index.md does not link {hook}.md"
