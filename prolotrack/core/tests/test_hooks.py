"""Every named hook and event (core/hooks.py) has its provider or listeners once the apps are loaded, and
docs/ARCHITECTURE.md explains it; an event's listeners run after commit, each on its own."""

import logging
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from prolotrack.core.hooks import EVENTS, HOOKS, AfterCommit, Hook

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


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.name)
def test_every_event_has_a_listener_and_is_explained(event):
    assert event.listeners, f"No installed app listens to {event.name}: register it in the listening app's ready()"
    assert f"`{event.name}`" in ARCHITECTURE.read_text(), f"docs/ARCHITECTURE.md, 'Hooks', does not name {event.name}"


def _event() -> AfterCommit[[list[str], str]]:
    event: AfterCommit[[list[str], str]] = AfterCommit("test.event", "an event for this test")
    EVENTS.remove(event)
    return event


@pytest.mark.django_db
def test_an_event_runs_each_listener_after_commit_on_its_own(django_capture_on_commit_callbacks, caplog):
    event = _event()
    seen: list[str] = []

    def first(out: list[str], text: str) -> None:
        raise RuntimeError("the first listener failed")

    def second(out: list[str], text: str) -> None:
        out.append(text)

    event.listen(first)
    event.listen(second)
    event.listen(second)  # registered once
    assert event.listeners == (first, second)
    caplog.set_level(logging.ERROR)
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        event.send(seen, "signed")
        assert seen == []  # nothing before the commit
    assert len(callbacks) == 2
    assert seen == ["signed"]  # the failing first listener did not stop the second
    assert "the first listener failed" in caplog.text
