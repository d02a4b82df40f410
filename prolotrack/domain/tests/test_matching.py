"""The duplicate check of the front desk's confirm-or-merge screen (domain/matching.py; docs/BOOKING.md)."""

from datetime import date

import pytest

from prolotrack.domain.matching import Person, Strength, agreement, fold, match, name_match, same_phone, slips

BORN = date(1980, 5, 1)
RECORD = Person("José", "García-López", BORN, "Jose.Garcia@example.org", "+1 (312) 555-0101")


def typed(given="José", family="García-López", born=BORN, email="", phone="") -> Person:
    return Person(given, family, born, email, phone)


@pytest.mark.parametrize(
    ("case", "person", "strength", "sentence"),
    [
        ("exactly as on the chart", typed(), Strength.STRONG, "Same name, same date of birth."),
        ("case and accents", typed("JOSE", "garcia-lopez"), Strength.STRONG, "Same name, same date of birth."),
        ("hyphen as a space", typed("Jose", "Garcia Lopez"), Strength.STRONG, "Same name, same date of birth."),
        (
            "names swapped",
            typed("Garcia Lopez", "Jose"),
            Strength.STRONG,
            "Same name with given and family name swapped, same date of birth.",
        ),
        (
            "a typing slip",
            typed("Jsoe", "Garcia-Lopez"),
            Strength.STRONG,
            "Name within a typing slip, same date of birth.",
        ),
        (
            "one letter missing",
            typed("Jose", "Garcia-Lpez"),
            Strength.STRONG,
            "Name within a typing slip, same date of birth.",
        ),
        (
            "the family name split differently",
            typed("Jose Garcia", "Lopez"),
            Strength.STRONG,
            "Same name, same date of birth.",
        ),
        (
            "same dob and email, another family name (married)",
            typed("Jose", "Smith", email=" jose.garcia@EXAMPLE.org "),
            Strength.STRONG,
            "Same date of birth, same email.",
        ),
        (
            "same dob and phone in another format",
            typed("Joe", "Smith", phone="312 555 0101"),
            Strength.STRONG,
            "Same date of birth, same phone.",
        ),
        (
            "a date slip, same name and email",
            typed(born=date(1981, 5, 1), email="jose.garcia@example.org"),
            Strength.POSSIBLE,
            "Same name, same email.",
        ),
        (
            "day and month swapped",
            typed(born=date(1980, 1, 5)),
            Strength.POSSIBLE,
            "Same name, date of birth with day and month swapped.",
        ),
        ("a nickname, same dob", typed("Pepe"), Strength.POSSIBLE, "Same family name, same date of birth."),
        (
            "a shared phone only (a relative)",
            typed("Maria", "Perez", date(2010, 3, 3), phone="3125550101"),
            Strength.POSSIBLE,
            "Same phone, nothing else (family members often share a contact).",
        ),
        ("same name, another dob, no contact", typed(born=date(1990, 2, 2)), None, ""),
        ("same dob only", typed("Ana", "Ruiz"), None, ""),
        (
            "two slips in a short given name, counted over the whole name",
            typed("Jaes", "Garcia-Lopez", date(1990, 2, 2), "jose.garcia@example.org"),
            Strength.POSSIBLE,
            "Name within a typing slip, same email.",
        ),
        (
            "another name, another dob, a shared email",
            typed("Maria", "Perez", date(2010, 3, 3), "jose.garcia@example.org"),
            Strength.POSSIBLE,
            "Same email, nothing else (family members often share a contact).",
        ),
        ("a short phone never matches on its end", typed("Ana", "Ruiz", date(1990, 2, 2), phone="0101"), None, ""),
        ("day and month swapped, close name only", typed("Jsoe", born=date(1980, 1, 5)), None, ""),
    ],
)
def test_match_table(case, person, strength, sentence):
    found = match(person, RECORD)
    if strength is None:
        assert found is None, case
    else:
        assert found is not None and found.strength == strength and found.sentence == sentence, case


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("ana", "ana", 0),
        ("ana", "anna", 1),
        ("jose", "jsoe", 1),  # neighbours swapped: one slip
        ("kitten", "sitting", 3),
        ("", "abc", 3),
    ],
)
def test_slips(a, b, expected):
    assert slips(a, b) == expected == slips(b, a)


@pytest.mark.parametrize(
    ("given", "family", "expected"),
    [
        ("Ana", "Ruiz", "same"),
        ("ana", "RUÍZ", "same"),
        ("Ruiz", "Ana", "swapped"),
        ("Anna", "Ruiz", "close"),
        ("Ruis", "Ana", "close"),  # swapped and a slip
        ("Alexandra", "Ruiz", ""),
        ("", "", ""),
    ],
)
def test_name_match(given, family, expected):
    assert name_match(Person(given, family, None), Person("Ana", "Ruiz", None)) == expected


def test_a_long_name_allows_two_slips_a_short_one_one():
    long = Person("Christopher", "Ruiz", None)
    assert name_match(Person("Christofer", "Ruiz", None), long) == "close"  # ph -> f: two slips, 8+ letters
    assert name_match(Person("Kristofer", "Ruiz", None), long) == ""  # four slips
    assert name_match(Person("Ama", "Ruiz", None), Person("Ana", "Ruiz", None)) == "close"
    assert name_match(Person("Ema", "Ruiz", None), Person("Ana", "Ruiz", None)) == ""


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("+1 (312) 555-0101", "312.555.0101", True),
        ("00 34 612 345 678", "612345678", True),
        ("555-0101", "312-555-0101", True),  # 7 digits: a local number
        ("0101", "312-555-0101", False),
        ("", "", False),
        ("312-555-0101", "312-555-0102", False),
    ],
)
def test_same_phone(a, b, expected):
    assert same_phone(a, b) is expected


def test_fold():
    assert fold("José-María O'Brien") == "josemariaobrien"
    assert fold("Müller") == "muller"
    assert fold("ǅ") == "dz"


@pytest.mark.parametrize(
    ("typed", "held", "expected"),
    [
        (
            Person("José", "Ruiz", date(1970, 5, 1), "ANA@x.org ", "+1 (312) 555-0101"),
            Person("jose", "RUIZ", date(1970, 5, 1), "ana@x.org", "312.555.0101"),
            {"given_name": "same", "family_name": "same", "date_of_birth": "same", "email": "same", "phone": "same"},
        ),
        (
            Person("Grace", "Hoper", date(1970, 1, 5), "g@x.org", ""),
            Person("Margaret", "Hopper", date(1970, 5, 1), "m@x.org", "312-555-0101"),
            {
                "given_name": "different",
                "family_name": "close",
                "date_of_birth": "close",
                "email": "different",
                "phone": "missing",
            },
        ),
        (
            Person("Ruiz", "Ana", None),
            Person("Ana", "Ruiz", date(1970, 5, 1)),
            {"given_name": "close", "family_name": "close", "date_of_birth": "missing", "email": "missing"},
        ),
    ],
)
def test_agreement_field_by_field(typed, held, expected):
    found = agreement(typed, held)
    assert {k: found[k] for k in expected} == expected
