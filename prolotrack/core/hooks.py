"""Named hooks: how an app lower in the layers calls an app above it without importing it.

Layers only point down (docs/ARCHITECTURE.md, "Layers"). Where a lower app must ask a higher one something or tell it
that something happened, it declares a hook in its own `hooks.py`:

- a `Hook` (one function, a question with an answer), provided by exactly one higher app in its `AppConfig.ready()`;
- a Django `Signal` (an event; any number of receivers, run synchronously inside the sender's transaction, so a
  receiver's failure rolls the change back as a direct call did);
- an `AfterCommit` (an event that any number of higher apps listen to, each run once the sender's transaction has
  committed, on its own: a listener's failure is logged and neither undoes the change nor stops the other listeners).

Every hook and event is listed with its provider(s) in docs/ARCHITECTURE.md ("Hooks"); a test checks that each `Hook` has its
provider once the apps are loaded and that the page names it.
"""

from collections.abc import Callable
from functools import partial, update_wrapper
from typing import Any, Generic, ParamSpec, TypeVar

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

P = ParamSpec("P")
R = TypeVar("R")

HOOKS: list["Hook[..., Any]"] = []
EVENTS: list["AfterCommit[...]"] = []


class Hook(Generic[P, R]):
    """One function that a higher app provides to a lower one (`provide` in its AppConfig.ready())."""

    def __init__(self, name: str, doc: str) -> None:
        self.name = name
        self.doc = doc
        self._provider: Callable[P, R] | None = None
        HOOKS.append(self)

    def provide(self, provider: Callable[P, R]) -> Callable[P, R]:
        """Register the function that answers this hook; a second, different provider is a wiring mistake."""
        if self._provider is not None and self._provider is not provider:
            raise ImproperlyConfigured(f"The hook {self.name} already has a provider ({self._provider!r}).")
        self._provider = provider
        return provider

    @property
    def provided(self) -> bool:
        return self._provider is not None

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        if self._provider is None:
            raise ImproperlyConfigured(f"No installed app provides the hook {self.name} ({self.doc}).")
        return self._provider(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<Hook {self.name}>"


class AfterCommit(Generic[P]):
    """Something that happened in a lower app, told to every higher app that listens (`listen` in its
    AppConfig.ready()).

    `send` runs each listener once the caller's transaction commits (`transaction.on_commit(robust=True)`; at once
    outside a transaction), in the order the apps registered, each on its own: a listener that raises is logged by
    Django and neither undoes the sender's change nor keeps the next listener from running. For work that follows a
    committed fact and must never hold it back (a signed session's visit summary and its draft invoice); a check that
    may refuse the change is a `Hook` called inside the transaction instead.
    """

    def __init__(self, name: str, doc: str) -> None:
        self.name = name
        self.doc = doc
        self._listeners: list[Callable[P, object]] = []
        EVENTS.append(self)

    def listen(self, listener: Callable[P, object]) -> Callable[P, object]:
        """Add a listener (the same function registered twice runs once)."""
        if listener not in self._listeners:
            self._listeners.append(listener)
        return listener

    @property
    def listeners(self) -> tuple[Callable[P, object], ...]:
        return tuple(self._listeners)

    def send(self, *args: P.args, **kwargs: P.kwargs) -> None:
        for listener in self._listeners:
            # Named like the listener: Django's robust on_commit logs a failure with the callable's __qualname__,
            # which a bare partial lacks (the log line itself would then raise, after the commit).
            call = update_wrapper(partial(listener, *args, **kwargs), listener)
            transaction.on_commit(call, robust=True)

    def __repr__(self) -> str:
        return f"<AfterCommit {self.name}>"
