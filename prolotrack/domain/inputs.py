"""Rules every input channel shares (pages, the JSON API, FHIR, CSV imports, commands): text a record may hold and
a plausible date of birth. The services apply them before each save, so no channel can skip them.

Sources: docs/clinical/inputs.md.
"""

import re
import unicodedata
from datetime import date

from .dates import add_months
from .errors import InputError

# Line breaks and tabs belong in free text (notes, reasons); every other control character does not.
MULTILINE_ALLOWED = frozenset("\t\n\r")
# Every character of Unicode categories Cc (U+0000-U+001F, U+007F-U+009F) and Cs (U+D800-U+DFFF): text without one
# has nothing to report, found with one regex scan instead of a category lookup per character.
_CONTROL_OR_SURROGATE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")

# Oldest verified human lifespan: 122 years 164 days (Jeanne Calment, 1875-1997; Robine & Allard, Science 1998).
# 130 years leaves room above that record and still refuses a mistyped century (0001-01-01, 1800-…).
MAX_AGE_YEARS = 130


def control_characters(text: str, *, multiline: bool = False) -> list[str]:
    """Return the control characters (and unpaired surrogates) in `text`, as U+XXXX codes, in order of appearance.

    Control characters (Unicode category Cc: NUL, C0 except the allowed ones, DEL, C1) are invisible, break exports
    and searches, and PostgreSQL refuses NUL. Unpaired surrogates (Cs) cannot be stored as UTF-8 at all.
    """
    if _CONTROL_OR_SURROGATE.search(text) is None:
        return []
    found = []
    for char in text:
        if multiline and char in MULTILINE_ALLOWED:
            continue
        if unicodedata.category(char) in ("Cc", "Cs"):
            code = f"U+{ord(char):04X}"
            if code not in found:
                found.append(code)
    return found


def check_text(text: str, what: str, *, multiline: bool = False) -> None:
    """Refuse text holding control characters, naming them so the sender can find them."""
    found = control_characters(text, multiline=multiline)
    if found:
        allowed = " (line breaks and tabs are fine)" if multiline else ""
        raise InputError(f"{what} contains control characters ({', '.join(found)}): remove them{allowed}.")


def earliest_date_of_birth(today: date) -> date:
    """Return the earliest date of birth accepted on `today` (MAX_AGE_YEARS before it)."""
    return add_months(today, -12 * MAX_AGE_YEARS)


def check_date_of_birth(born: date, today: date) -> None:
    """Refuse a date of birth in the future or more than MAX_AGE_YEARS before `today` (the clinic's date)."""
    if born > today:
        raise InputError(f"Date of birth {born.isoformat()} is in the future: check the date.")
    earliest = earliest_date_of_birth(today)
    if born < earliest:
        raise InputError(
            f"Date of birth {born.isoformat()} would make the patient older than {MAX_AGE_YEARS} years "
            f"(earliest accepted {earliest.isoformat()}): check the year."
        )


def check_not_future(day: date, today: date, what: str) -> None:
    """Refuse a date of something that already happened (a measurement, an onset, a last dose) after `today`."""
    if day > today:
        raise InputError(f"{what} {day.isoformat()} is in the future: check the date.")
