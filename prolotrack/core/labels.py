"""Display names for stored codes: the domain's vocabularies, plus code lists an app owns (registered at start-up).

The template filter `label` (core/templatetags/prolo.py) reads this, so every page shows the same name for a code.
"""

from collections.abc import Mapping

from prolotrack.domain.vocabulary import VOCABULARIES

# Code lists that belong to an app rather than the domain (e.g. the injection maps' drawings), by name.
_APP_LABELS: dict[str, Mapping[str, str]] = {}


def register(name: str, labels: Mapping[str, str]) -> None:
    """Add an app's code list (called from its AppConfig.ready); a domain vocabulary cannot be replaced."""
    if name in VOCABULARIES:
        raise ValueError(f"'{name}' is a domain vocabulary: its labels live in prolotrack/domain/vocabulary.py.")
    _APP_LABELS[name] = dict(labels)


def labels_of(name: str) -> Mapping[str, str]:
    """Return {code: label} of the named vocabulary; an unknown name is a programming error."""
    if name in VOCABULARIES:
        return VOCABULARIES[name].label_map
    if name in _APP_LABELS:
        return _APP_LABELS[name]
    raise KeyError(f"No vocabulary '{name}': add it to prolotrack/domain/vocabulary.py (or register an app's list).")


def label(code: object, name: str) -> str:
    """Return the display name of a code; a code the vocabulary does not know is shown as given."""
    text = "" if code is None else str(code)
    return labels_of(name).get(text, text)
