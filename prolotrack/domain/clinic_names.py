"""Names a clinic types for things patients read (appointment types today), in each patient language.

A clinic names its appointment types once, in its default language (English, `settings.LANGUAGE_CODE`): "New
patient assessment", "Follow-up". A patient reading in Spanish (docs/LANGUAGES.md) would see that English name in
the middle of Spanish text, so the administrator may add the name in each other language the clinic offers
patients. The names are stored as a small mapping {language code: name} beside the default name; a language left
blank has no entry and the patient reads the default name (the fallback). Pure: the callers pass the languages
offered and the language of the page or message.
"""

from collections.abc import Collection, Mapping
from typing import Any

from .errors import InputError
from .inputs import check_text


class NameRefused(InputError):
    """A refused translated name; `language` is the language whose name is wrong, None when the code itself is."""

    def __init__(self, message: str, language: str | None = None) -> None:
        super().__init__(message)
        self.language = language


def base_language(code: str | None) -> str:
    """The language part of a code as Django writes it: "es-MX" and "es_mx" -> "es"; None or "" -> ""."""
    return str(code or "").strip().lower().replace("_", "-").split("-")[0]


def name_in(default: str, names: Mapping[str, str] | None, language: str | None) -> str:
    """The name a reader of `language` sees: the clinic's name in that language ("es-MX" reads "es"), else the
    default name. A blank or missing entry, an unknown language, or no language at all gives the default."""
    if not names:
        return default
    found = names.get(base_language(language), "")
    return found if isinstance(found, str) and found.strip() else default


def clean_names(
    raw: Any, *, offered: Collection[str], default_language: str, limit: int, what: str = "name"
) -> dict[str, str]:
    """The mapping to store, from what the administrator typed: {code: name} for the languages in `offered` other
    than `default_language` (the default name is the record's own field). Spaces are collapsed; a blank name is left
    out, so that language falls back to the default name. Refused, with a message saying what to fix: a value that
    is not a mapping, a language the clinic does not offer patients (or the default language itself), a name that is
    not text, longer than `limit` characters, or holding control characters."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise NameRefused(f"Give the {what}s as pairs of a language code and a name.")
    others = sorted(code for code in offered if code != default_language)
    clean: dict[str, str] = {}
    for code, value in raw.items():
        if not isinstance(code, str) or code not in others:
            if code == default_language:
                raise NameRefused(
                    f"The {what} in {default_language} is the default {what}: change it there, not as a translation."
                )
            choose = ", ".join(others) if others else "none: the clinic offers patients one language"
            raise NameRefused(f"No patient language {str(code)!r}: the languages to translate into are {choose}.")
        if value is None:
            continue
        if not isinstance(value, str):
            raise NameRefused(f"The {what} in {code} must be text.", code)
        text = " ".join(value.split())
        try:
            check_text(text, f"The {what} in {code}")
        except InputError as error:
            raise NameRefused(str(error), code) from None
        if len(text) > limit:
            raise NameRefused(f"The {what} in {code} is at most {limit} characters, not {len(text)}.", code)
        if text:
            clean[code] = text
    return dict(sorted(clean.items()))
