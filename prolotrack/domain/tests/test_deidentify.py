from datetime import date

import pytest

from prolotrack.domain.deidentify import (
    AGE_90_PLUS,
    MAX_SHIFT_DAYS,
    SAFE_HARBOR_IDENTIFIERS,
    WITHHELD,
    DateMode,
    DeidentifyError,
    age_text,
    birth_year,
    date_shift_days,
    deidentify_date,
    pseudonym,
    safe_label,
    shift_date,
)

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))


def test_all_eighteen_safe_harbor_identifiers_are_listed_in_order_with_a_handling():
    assert [i.letter for i in SAFE_HARBOR_IDENTIFIERS] == list("ABCDEFGHIJKLMNOPQR")
    assert all(i.identifier and i.handling for i in SAFE_HARBOR_IDENTIFIERS)


@pytest.mark.parametrize(
    ("kind", "prefix"),
    [
        ("patient", "P-"),
        ("course", "C-"),
        ("session", "S-"),
        ("site", "I-"),
        ("adverse_event", "A-"),
        ("outcome", "O-"),
    ],
)
def test_pseudonyms_are_prefixed_by_kind_and_stable_for_the_same_key(kind, prefix):
    first = pseudonym(KEY, kind, "3f1c0d2e-0000-4000-8000-000000000001")
    assert first.startswith(prefix)
    assert len(first) == len(prefix) + 16
    assert pseudonym(KEY, kind, "3f1c0d2e-0000-4000-8000-000000000001") == first


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ((KEY, "patient", "id-1"), (KEY, "patient", "id-2")),  # another record
        ((KEY, "patient", "id-1"), (OTHER_KEY, "patient", "id-1")),  # another key: no linkage across keys
        ((KEY, "course", "id-1"), (KEY, "session", "id-1")),  # the same id as another kind
    ],
)
def test_pseudonyms_differ_by_record_key_and_kind(a, b):
    assert pseudonym(*a)[2:] != pseudonym(*b)[2:]


@pytest.mark.parametrize(
    ("key", "kind", "record_id", "message"),
    [
        (b"short", "patient", "id", "at least 32 random bytes"),
        ("x" * 40, "patient", "id", "at least 32 random bytes"),
        (KEY, "clinic", "id", "Unknown record kind 'clinic'"),
        (KEY, "patient", "", "needs the record's internal id"),
    ],
)
def test_bad_pseudonym_input_is_refused_with_what_to_fix(key, kind, record_id, message):
    with pytest.raises(DeidentifyError, match=message):
        pseudonym(key, kind, record_id)


def test_date_shifts_are_within_the_range_never_zero_stable_and_spread_both_ways():
    shifts = [date_shift_days(KEY, f"patient-{n}") for n in range(2000)]
    assert all(1 <= abs(s) <= MAX_SHIFT_DAYS for s in shifts)
    assert [date_shift_days(KEY, f"patient-{n}") for n in range(2000)] == shifts
    assert min(shifts) < -300 and max(shifts) > 300
    assert 800 < sum(1 for s in shifts if s > 0) < 1200
    assert len(set(shifts)) > 500


def test_one_patient_gets_one_shift_so_intervals_are_kept():
    shift = date_shift_days(KEY, "patient-a")
    start, later = date(2025, 1, 31), date(2025, 3, 14)
    assert (shift_date(later, shift) - shift_date(start, shift)) == (later - start)


@pytest.mark.parametrize(
    ("day", "mode", "shift", "expected"),
    [
        (date(2025, 3, 14), DateMode.YEAR, 40, 2025),
        (date(2025, 12, 31), DateMode.YEAR, 40, 2025),  # the year is the true year, never the shifted one
        (date(2025, 3, 14), DateMode.SHIFT, 40, date(2025, 4, 23)),
        (date(2025, 3, 14), DateMode.SHIFT, -365, date(2024, 3, 14)),
        (date(2024, 2, 29), DateMode.SHIFT, 1, date(2024, 3, 1)),
        (None, DateMode.SHIFT, 40, None),
        (None, DateMode.YEAR, 40, None),
    ],
)
def test_dates_become_a_year_or_a_shifted_date(day, mode, shift, expected):
    assert deidentify_date(day, mode, shift) == expected


@pytest.mark.parametrize("shift", [0, 366, -400])
def test_a_shift_outside_the_range_is_refused(shift):
    with pytest.raises(DeidentifyError, match="1 to 365 days"):
        shift_date(date(2025, 1, 1), shift)


@pytest.mark.parametrize(
    ("born", "on", "oldest_on", "age", "year"),
    [
        (date(1960, 5, 17), date(2025, 5, 16), None, "64", 1960),
        (date(1960, 5, 17), date(2025, 5, 17), None, "65", 1960),
        (date(1936, 6, 1), date(2026, 5, 31), None, "89", 1936),  # 89 is still an exact age
        (date(1936, 6, 1), date(2026, 6, 1), None, AGE_90_PLUS, None),  # the 90th birthday: 90+
        (date(1920, 1, 1), date(2026, 1, 1), None, AGE_90_PLUS, None),
        # 88 at a course, 90 now: the exact 88 with the course's year would tell the birth year
        (date(1935, 1, 1), date(2023, 6, 1), date(2026, 1, 2), AGE_90_PLUS, 1935),
        (date(2000, 2, 29), date(2018, 2, 28), None, "18", 2000),  # 29 February births turn on 28 February
    ],
)
def test_ages_over_89_are_90_plus_and_their_birth_year_is_withheld(born, on, oldest_on, age, year):
    assert age_text(born, on, oldest_on=oldest_on) == age
    assert birth_year(born, on) == year


@pytest.mark.parametrize(
    ("text", "own", "expected"),
    [
        ("Knee osteoarthritis", ("Ada", "Lovelace"), "Knee osteoarthritis"),
        ("  Chronic   low back pain ", (), "Chronic low back pain"),
        ("Lateral epicondylosis (tennis elbow)", (), "Lateral epicondylosis (tennis elbow)"),
        ("15% dextrose knee", (), "15% dextrose knee"),
        ("", (), None),
        (None, (), None),
        ("Knee pain, Lovelace family history", ("Ada", "Lovelace"), WITHHELD),  # the patient's own name
        ("knee pain since fall in SPRINGFIELD", ("Springfield",), WITHHELD),  # the patient's city
        ("MRN 448812 knee", (), WITHHELD),
        ("Knee, seen 3/14", (), WITHHELD),
        ("Knee, injured 14.03.2025", (), WITHHELD),
        ("Call ada@example.org", (), WITHHELD),
        ("see https://example.org", (), WITHHELD),
        ("Fall on Main Street", (), WITHHELD),
        ("Referred by Dr Smith", (), WITHHELD),
        ("x" * 121, (), WITHHELD),
    ],
)
def test_labels_pass_only_when_nothing_in_them_looks_identifying(text, own, expected):
    assert safe_label(text, own) == expected
