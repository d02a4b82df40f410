"""Is a person who booked online already a patient? The duplicate check of the front desk's confirm-or-merge screen
(issue 16, docs/BOOKING.md "Pending patients").

Pure: no Django, no I/O. The caller passes what the person typed and the clinic's candidate records (pre-filtered by
date of birth or contact); `match` says how strongly each is the same person and why, in sentences for the front desk.
The front desk decides; nothing here merges anything.

What counts (each rule is a row in the test table, prolotrack/domain/tests/test_matching.py):

- **Names** are compared after folding case and accents ("José" = "jose", "Müller" = "muller"), treating hyphens,
  apostrophes and spaces as the same (O'Brien = OBrien, Garcia-Lopez = Garcia Lopez), and in either order (given and
  family swapped, as forms often get them). A name is *close* when each part is within one typing slip (an added,
  missing, changed or swapped pair of letters; two slips for parts of 8 letters or more). A name is compared as the
  whole of given + family too, so a double family name typed as "Ana Maria / Ruiz" still meets "Ana / Maria Ruiz".
- **Date of birth**: the same date, or the same date with day and month swapped (05/01 typed for 01/05).
- **Contact**: the same email (case and spaces folded), or the same phone (digits only, the shorter at least 7 digits
  and the end of the longer: "+1 312 555 0101" = "(312) 555-0101").

Strength:

- STRONG (almost certainly the same person): same date of birth and the same or a close name; or same date of birth
  and the same contact (a changed family name at marriage).
- POSSIBLE (look before confirming): the same or a close name and the same contact with another date of birth (a
  typed date slip); the same name with day and month swapped; the same date of birth and the same family name (a
  nickname: "Bob" for "Robert"); the same contact only (family members often share one: never merge on it alone).
- None: nothing above.
"""

import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

# A typing slip a name part may hold: one for short parts, two from this many letters.
LONG_NAME = 8
# A phone number matches on its end only when the shorter number has at least this many digits (a local number).
MIN_PHONE_DIGITS = 7


class Strength(StrEnum):
    STRONG = "strong"
    POSSIBLE = "possible"


@dataclass(frozen=True)
class Person:
    """What is compared: names, date of birth, email, phone (any may be empty but the date)."""

    given_name: str
    family_name: str
    date_of_birth: date | None
    email: str = ""
    phone: str = ""


@dataclass(frozen=True)
class Match:
    strength: Strength
    reasons: tuple[str, ...]

    @property
    def sentence(self) -> str:
        """The reasons as one sentence for the front desk: 'Same name, same date of birth.'"""
        text = ", ".join(self.reasons)
        return text[0].upper() + text[1:] + "."


def fold(text: str) -> str:
    """Lower case without accents, letters and digits only: 'José-María O'Brien' -> 'josemariaobrien'."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "".join(c for c in bare.casefold() if c.isalnum())


def fold_email(text: str) -> str:
    return "".join((text or "").split()).casefold()


def digits(text: str) -> str:
    return "".join(c for c in (text or "") if c.isdigit())


def slips(a: str, b: str) -> int:
    """Typing slips between two strings: insertions, deletions, changes and swaps of neighbours (optimal string
    alignment distance)."""
    if a == b:
        return 0
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def _close(a: str, b: str) -> bool:
    if not a or not b:
        return False
    allowed = 2 if min(len(a), len(b)) >= LONG_NAME else 1
    return slips(a, b) <= allowed


def name_match(typed: Person, record: Person) -> str:
    """'same', 'swapped' (given and family the other way round), 'close' (typing slips), or '' (different)."""
    tg, tf = fold(typed.given_name), fold(typed.family_name)
    rg, rf = fold(record.given_name), fold(record.family_name)
    if not (tg or tf) or not (rg or rf):
        return ""
    if (tg, tf) == (rg, rf) or tg + tf == rg + rf:
        return "same"
    if (tg, tf) == (rf, rg) or tf + tg == rg + rf:
        return "swapped"
    if (_close(tg, rg) and _close(tf, rf)) or (_close(tg, rf) and _close(tf, rg)) or _close(tg + tf, rg + rf):
        return "close"
    return ""


def swapped_day_month(a: date, b: date) -> bool:
    """The same date with day and month the other way round (and not the same date)."""
    return a != b and a.year == b.year and a.month == b.day and a.day == b.month


def same_phone(a: str, b: str) -> bool:
    x, y = digits(a), digits(b)
    if not x or not y:
        return False
    short, long = sorted((x, y), key=len)
    return len(short) >= MIN_PHONE_DIGITS and long.endswith(short)


def same_email(a: str, b: str) -> bool:
    x, y = fold_email(a), fold_email(b)
    return bool(x) and x == y


NAME_WORDS = {
    "same": "same name",
    "swapped": "same name with given and family name swapped",
    "close": "name within a typing slip",
}


def match(typed: Person, record: Person) -> Match | None:
    """How strongly `record` is the person who typed `typed`, with the reasons; None when it is not a candidate."""
    name = name_match(typed, record)
    family_same = bool(fold(typed.family_name)) and fold(typed.family_name) == fold(record.family_name)
    born_same = typed.date_of_birth is not None and typed.date_of_birth == record.date_of_birth
    born_swapped = (
        typed.date_of_birth is not None
        and record.date_of_birth is not None
        and swapped_day_month(typed.date_of_birth, record.date_of_birth)
    )
    email = same_email(typed.email, record.email)
    phone = same_phone(typed.phone, record.phone)
    reasons = []
    if name:
        reasons.append(NAME_WORDS[name])
    elif family_same:
        reasons.append("same family name")
    if born_same:
        reasons.append("same date of birth")
    elif born_swapped:
        reasons.append("date of birth with day and month swapped")
    if email:
        reasons.append("same email")
    if phone:
        reasons.append("same phone")
    contact = email or phone
    if born_same and (name or contact):
        strength = Strength.STRONG
    elif (name and contact) or (name in ("same", "swapped") and born_swapped) or (born_same and family_same):
        strength = Strength.POSSIBLE
    elif contact:
        strength = Strength.POSSIBLE
        reasons.append("nothing else (family members often share a contact)")
    else:
        return None
    return Match(strength, tuple(reasons))


class Agreement(StrEnum):
    """How one field of a record agrees with what was typed, for the side-by-side screen (said in words there, never
    by colour alone)."""

    SAME = "same"  # equal once folded as the check folds it
    CLOSE = "close"  # within a typing slip, given and family swapped, or day and month swapped
    DIFFERENT = "different"
    MISSING = "missing"  # one side is empty: nothing to compare


def _part(typed: str, held: str) -> Agreement:
    a, b = fold(typed), fold(held)
    if not a or not b:
        return Agreement.MISSING
    if a == b:
        return Agreement.SAME
    return Agreement.CLOSE if _close(a, b) else Agreement.DIFFERENT


def agreement(typed: Person, record: Person) -> dict[str, Agreement]:
    """Field by field (given_name, family_name, date_of_birth, email, phone), with the check's own folding: 'José' is
    the same as 'jose', '(312) 555-0101' as '+1 312 555 0101'; a name with given and family swapped is close."""
    swapped = name_match(typed, record) == "swapped"
    out = {
        "given_name": Agreement.CLOSE if swapped else _part(typed.given_name, record.given_name),
        "family_name": Agreement.CLOSE if swapped else _part(typed.family_name, record.family_name),
    }
    if typed.date_of_birth is None or record.date_of_birth is None:
        out["date_of_birth"] = Agreement.MISSING
    elif typed.date_of_birth == record.date_of_birth:
        out["date_of_birth"] = Agreement.SAME
    else:
        close = swapped_day_month(typed.date_of_birth, record.date_of_birth)
        out["date_of_birth"] = Agreement.CLOSE if close else Agreement.DIFFERENT
    for name, same in (("email", same_email), ("phone", same_phone)):
        a, b = getattr(typed, name), getattr(record, name)
        if not a.strip() or not b.strip():
            out[name] = Agreement.MISSING
        else:
            out[name] = Agreement.SAME if same(a, b) else Agreement.DIFFERENT
    return out
