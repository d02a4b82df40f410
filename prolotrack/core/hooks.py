"""Named hooks: how an app lower in the layers calls an app above it without importing it.

Layers only point down (docs/ARCHITECTURE.md, "Layers"). Where a lower app must ask a higher one something or tell it
that something happened, it declares a hook in its own `hooks.py`:

- a `Hook` (one function, a question with an answer), provided by exactly one higher app in its `AppConfig.ready()`;
- a Django `Signal` (an event; any number of receivers, run synchronously inside the sender's transaction, so a
  receiver's failure rolls the change back as a direct call did).

Every hook is listed with its provider in docs/ARCHITECTURE.md ("Hooks"); a test checks that each `Hook` has its
provider once the apps are loaded and that the page names it.
"""

from collections.abc import Callable
from typing import Any, Generic, ParamSpec, TypeVar

from django.core.exceptions import ImproperlyConfigured

P = ParamSpec("P")
R = TypeVar("R")

HOOKS: list["Hook[..., Any]"] = []


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
