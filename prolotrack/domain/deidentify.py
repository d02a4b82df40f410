"""De-identification rules for the research export: HIPAA Safe Harbor, 45 CFR 164.514(b)(2).

Pure functions, no clock, no I/O. The export (prolotrack.research) applies them to every row; docs/RESEARCH.md maps each
of the 18 identifiers to what the product does.

- Pseudonymous ids are HMAC-SHA256 of a record's random internal id under a key made for one export (or, under a
  longitudinal study's data use agreement, `study_key`), so nobody without the key can link a pseudonym back and two
  exports share no pseudonym. The code is
  not derived from information about the individual (the input is a random UUID), as 164.514(c) requires of a
  re-identification code.
- Dates are reduced to the year (the Safe Harbor rule, 164.514(b)(2)(i)(C)) or, as an export option, shifted by a
  per-patient number of days derived by HMAC from the same key, so intervals within a patient's record are kept.
- Ages over 89 are aggregated into one category, "90+", and the birth year of such a patient is withheld
  (164.514(b)(2)(i)(C): "all ages over 89 and all elements of dates (including year) indicative of such age").
- Free text is not exported. Short clinical labels (a course's indication) are exported only when they pass
  `safe_label`, which withholds anything that contains the patient's own identifiers or looks like a number, a date,
  an address, an email or a web address.
"""

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from .dates import age_in_years
from .errors import DomainError

SOURCE = "45 CFR 164.514(b)(2)(i), HIPAA Privacy Rule, de-identification by the Safe Harbor method"


class DeidentifyError(DomainError):
    """Reject a de-identification request that cannot be carried out safely."""


@dataclass(frozen=True)
class SafeHarborIdentifier:
    """One of the 18 identifiers of 164.514(b)(2)(i)(A)-(R) and what the research export does with it."""

    letter: str
    identifier: str
    handling: str


# The list as the regulation words it (paraphrased closely), with the product's handling.
SAFE_HARBOR_IDENTIFIERS: tuple[SafeHarborIdentifier, ...] = (
    SafeHarborIdentifier(
        "A",
        "Names",
        "Not exported: no patient, relative, staff or signer name; no typed text at all (indications are codes).",
    ),
    SafeHarborIdentifier(
        "B",
        "Geographic subdivisions smaller than a state (street address, city, county, precinct, ZIP code and their "
        "equivalent geocodes)",
        "Not exported: address, city, region, postal code and country are dropped (the 3-digit ZIP exception is "
        "not used).",
    ),
    SafeHarborIdentifier(
        "C",
        "All elements of dates (except year) directly related to an individual (birth, admission, discharge, death "
        "dates); all ages over 89 and all elements of dates (including year) indicative of such age",
        "Dates become years (shifted dates only in a limited data set under a data use agreement). No birth year; "
        "ages are 5-year bands or wider at each course's start, '90+' over 89. Times of day are not exported.",
    ),
    SafeHarborIdentifier("D", "Telephone numbers", "Not exported."),
    SafeHarborIdentifier("E", "Fax numbers", "Not exported (not stored)."),
    SafeHarborIdentifier("F", "Electronic mail addresses", "Not exported."),
    SafeHarborIdentifier("G", "Social security numbers", "Not exported (not stored)."),
    SafeHarborIdentifier(
        "H", "Medical record numbers", "Not exported; replaced by a pseudonym keyed for this export only."
    ),
    SafeHarborIdentifier("I", "Health plan beneficiary numbers", "Not exported (not stored)."),
    SafeHarborIdentifier("J", "Account numbers", "Not exported (not stored)."),
    SafeHarborIdentifier("K", "Certificate/license numbers", "Not exported (not stored)."),
    SafeHarborIdentifier(
        "L",
        "Vehicle identifiers and serial numbers, including license plate numbers",
        "Not exported (not stored).",
    ),
    SafeHarborIdentifier(
        "M",
        "Device identifiers and serial numbers",
        "Not exported: lot numbers, batch numbers and expiry dates of solutions are dropped.",
    ),
    SafeHarborIdentifier("N", "Web Universal Resource Locators (URLs)", "Not exported (questionnaire links dropped)."),
    SafeHarborIdentifier("O", "Internet Protocol (IP) address numbers", "Not exported (audit rows are not exported)."),
    SafeHarborIdentifier(
        "P",
        "Biometric identifiers, including finger and voice prints",
        "Not exported (not stored; signatures and consent PDFs are not exported).",
    ),
    SafeHarborIdentifier(
        "Q", "Full face photographic images and any comparable images", "Not exported: imaging files are not exported."
    ),
    SafeHarborIdentifier(
        "R",
        "Any other unique identifying number, characteristic, or code (except a re-identification code permitted by "
        "164.514(c))",
        "Record UUIDs are replaced by keyed pseudonyms (a 164.514(c) code: not derived from information about the "
        "individual, the key is never disclosed). No free text; rare combinations are removed by the k-anonymity "
        "check.",
    ),
)

# --- Keys and pseudonyms ---------------------------------------------------------------------------------------------

MIN_KEY_BYTES = 32
PSEUDONYM_HEX_CHARS = 16  # 64 bits: collisions are negligible at clinic sizes (birthday bound ~4 billion records)

# Pseudonyms say what they name: P-… is a patient, C-… a course, and so on.
KIND_PREFIX = {
    "patient": "P",
    "course": "C",
    "session": "S",
    "solution": "X",
    "site": "I",
    "adverse_event": "A",
    "outcome": "O",
}


def _check_key(key: bytes) -> None:
    if not isinstance(key, bytes) or len(key) < MIN_KEY_BYTES:
        raise DeidentifyError(
            f"The research key must be at least {MIN_KEY_BYTES} random bytes; generate it with secrets.token_bytes."
        )


def _mac(key: bytes, purpose: str, record_id: str) -> bytes:
    _check_key(key)
    if not record_id:
        raise DeidentifyError("A pseudonym needs the record's internal id; none was given.")
    return hmac.new(key, f"prolotrack-research:{purpose}:{record_id}".encode(), hashlib.sha256).digest()


def study_key(clinic_key: bytes, agreement_id: str) -> bytes:
    """The key of one longitudinal study (a data use agreement): stable for that study, unrelated to any other
    study's or to a one-off export's key, derived so the clinic stores no extra secret."""
    return _mac(clinic_key, "study", agreement_id)


def pseudonym(key: bytes, kind: str, record_id: str) -> str:
    """Return the stable pseudonymous id of a record: kind prefix and 16 hex digits of HMAC-SHA256(key, kind:id)."""
    prefix = KIND_PREFIX.get(kind)
    if prefix is None:
        raise DeidentifyError(f"Unknown record kind {kind!r}: use one of {', '.join(sorted(KIND_PREFIX))}.")
    return f"{prefix}-{_mac(key, kind, record_id).hex()[:PSEUDONYM_HEX_CHARS]}"


# --- Dates -------------------------------------------------------------------------------------------------------------


class DateMode(StrEnum):
    """How dates leave the product: the year only (Safe Harbor), or shifted per patient."""

    YEAR = "year"
    SHIFT = "shift"

    @property
    def label(self) -> str:
        return {
            DateMode.YEAR: "Year only (Safe Harbor)",
            DateMode.SHIFT: "Shifted per patient (keeps intervals)",
        }[self]


# A shift of up to a year either way, never zero: wide enough that a shifted date does not give the month or the season
# of the real one, small enough that the year moves by at most one. A product choice; see docs/RESEARCH.md.
MAX_SHIFT_DAYS = 365


def date_shift_days(key: bytes, patient_id: str) -> int:
    """Return the patient's date shift in days: in [-365, -1] or [1, 365], the same for every export with the key."""
    number = int.from_bytes(_mac(key, "date-shift", patient_id)[:8], "big") % (2 * MAX_SHIFT_DAYS)
    # 0..364 -> -365..-1, 365..729 -> 1..365
    return number - MAX_SHIFT_DAYS if number < MAX_SHIFT_DAYS else number - MAX_SHIFT_DAYS + 1


def shift_date(day: date, shift_days: int) -> date:
    """Return the date moved by the patient's shift."""
    if shift_days == 0 or abs(shift_days) > MAX_SHIFT_DAYS:
        raise DeidentifyError(f"A date shift must be 1 to {MAX_SHIFT_DAYS} days either way, not {shift_days}.")
    return day + timedelta(days=shift_days)


def deidentify_date(day: date | None, mode: DateMode, shift_days: int) -> date | int | None:
    """Return the year (year mode) or the shifted date (shift mode) of a date, or None when there is none."""
    if day is None:
        return None
    if mode is DateMode.YEAR:
        return day.year
    return shift_date(day, shift_days)


# --- Ages --------------------------------------------------------------------------------------------------------------

# 164.514(b)(2)(i)(C): "all ages over 89 ... may be aggregated into a single category of age 90 or older".
OLDEST_EXACT_AGE = 89
AGE_90_PLUS = "90+"


def is_90_or_over(date_of_birth: date, on: date) -> bool:
    """Return True when the person is over 89 on the date."""
    return age_in_years(date_of_birth, on) > OLDEST_EXACT_AGE


def age_text(date_of_birth: date, on: date, *, oldest_on: date | None = None) -> str:
    """Return the age in completed years on a date as text, or "90+" over 89.

    `oldest_on` is the latest date the export knows of (the export's date): a patient who is over 89 then has every
    age reported as "90+", because an exact earlier age with its year would tell the birth year.
    """
    if is_90_or_over(date_of_birth, on) or (oldest_on is not None and is_90_or_over(date_of_birth, oldest_on)):
        return AGE_90_PLUS
    return str(age_in_years(date_of_birth, on))


def birth_year(date_of_birth: date, on: date) -> int | None:
    """Return the birth year, or None when the person is over 89 on the date (the year would tell the age)."""
    if is_90_or_over(date_of_birth, on):
        return None
    return date_of_birth.year


# --- Labels --------------------------------------------------------------------------------------------------------

WITHHELD = "[withheld]"
MAX_LABEL_CHARS = 120

# What a clinical label never needs and an identifier often has: a run of 3+ digits (record numbers, phone numbers,
# years, ZIP codes, house numbers), a date written with separators, an email, a web address, a street word.
_SUSPECT = re.compile(
    r"\d{3,}"
    r"|\b\d{1,2}/\d{1,2}\b|\b\d{1,2}[.\-]\d{1,2}[.\-]\d{2,4}\b"
    r"|@"
    r"|https?:|www\."
    r"|\b(?:street|st|road|rd|avenue|ave|lane|ln|drive|dr|blvd|boulevard|apt|suite|po box)\b\.?"
    r"|\b(?:mr|mrs|ms|miss|dr)\.?\s+[a-z]",
    re.IGNORECASE,
)


def _tokens(text: str) -> set[str]:
    return {t for t in re.split(r"[^0-9a-z]+", text.lower()) if len(t) >= 3}


def safe_label(text: str | None, patient_identifiers: tuple[str, ...] = ()) -> str | None:
    """Return a short clinical label as it is, or WITHHELD when it may identify someone; None when empty.

    Withheld when it is longer than a label, contains a word of the patient's own identifiers (name parts, record
    number, email, phone, address, city), or matches a pattern identifiers have (see _SUSPECT).
    """
    if text is None or not text.strip():
        return None
    text = " ".join(text.split())
    if len(text) > MAX_LABEL_CHARS or _SUSPECT.search(text):
        return WITHHELD
    own = set()
    for value in patient_identifiers:
        own |= _tokens(value or "")
    if _tokens(text) & own:
        return WITHHELD
    return text
