"""Every named hook (core/hooks.py) has its provider once the apps are loaded, and docs/ARCHITECTURE.md explains it."""

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from prolotrack.core.hooks import HOOKS, Hook

ARCHITECTURE = Path(__file__).resolve().parents[3] / "docs" / "ARCHITECTURE.md"


def test_hooks_are_declared():
    assert len(HOOKS) >= 2


@pytest.mark.parametrize("hook", HOOKS, ids=lambda h: h.name)
def test_every_hook_has_a_provider(hook):
    assert hook.provided, f"No installed app provides {hook.name}: register it in the providing app's ready()"


@pytest.mark.parametrize("hook", HOOKS, ids=lambda h: h.name)
def test_every_hook_is_explained_in_architecture_md(hook):
    assert f"`{hook.name}`" in ARCHITECTURE.read_text(), f"docs/ARCHITECTURE.md, 'Hooks', does not name {hook.name}"


def test_a_hook_without_provider_says_which_one_is_missing():
    lonely: Hook[[], int] = Hook("test.lonely", "a hook nobody provides")
    HOOKS.remove(lonely)
    with pytest.raises(ImproperlyConfigured, match=r"test\.lonely"):
        lonely()


def test_a_second_provider_is_refused():
    hook: Hook[[], int] = Hook("test.twice", "a hook provided twice")
    HOOKS.remove(hook)
    hook.provide(lambda: 1)
    with pytest.raises(ImproperlyConfigured, match="already has a provider"):
        hook.provide(lambda: 2)
    assert hook() == 1
