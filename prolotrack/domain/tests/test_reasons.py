"""Reasons from channels that carry one string: a code or label from the list, or free text read as "other"."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prolotrack.domain.errors import DomainError
from prolotrack.domain.reasons import AMENDMENT_REASONS, ENTERED_IN_ERROR_REASONS, classify, parse


@pytest.mark.parametrize(
    ("given_text", "stored"),
    [
        ("duplicate", "Duplicate of another record"),
        ("DUPLICATE", "Duplicate of another record"),
        ("duplicate: same weight twice", "Duplicate of another record: same weight twice"),
        ("Wrong value or typing error: 85 not 58", "Wrong value or typing error: 85 not 58"),
        ("wrong_patient", "Recorded on the wrong patient"),
        ("Charted twice by mistake", "Other (say why): Charted twice by mistake"),
        ("Note: scanned into the wrong chart", "Other (say why): Note: scanned into the wrong chart"),
        ("other: test   entry", "Other (say why): test entry"),
        ("Deleted through the FHIR API (DELETE)", "Other (say why): Deleted through the FHIR API (DELETE)"),
    ],
)
def test_an_entered_in_error_reason_is_stored_under_a_label_of_the_list(given_text, stored):
    assert classify(ENTERED_IN_ERROR_REASONS, given_text) == stored


@pytest.mark.parametrize("text", ["", "   ", "oops", "other", "other: ab"])
def test_too_little_to_go_on_is_refused(text):
    with pytest.raises(DomainError):
        classify(ENTERED_IN_ERROR_REASONS, text)


@given(st.text(min_size=5).filter(lambda t: len(" ".join(t.split())) >= 5))
def test_every_stored_reason_starts_with_a_label_of_the_list(text):
    stored = classify(ENTERED_IN_ERROR_REASONS, text)
    assert any(stored == r.label or stored.startswith(f"{r.label}: ") for r in ENTERED_IN_ERROR_REASONS)


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("late_entry", "Late entry of what was done"),
        ("omission: the phone call", "Adding something left out: the phone call"),
        ("Correcting a wrong value or typing error: 27 G", "Correcting a wrong value or typing error: 27 G"),
        ("other: patient told us later", "Other (say why): patient told us later"),
    ],
)
def test_an_amendment_reason_names_a_reason_of_the_list(text, stored):
    assert parse(AMENDMENT_REASONS, text) == stored


@pytest.mark.parametrize("text", ["", "Forgot this one", "other", "other: abc", "duplicate"])
def test_an_amendment_reason_outside_the_list_is_refused(text):
    with pytest.raises(DomainError, match=r"Choose a reason|at least 5"):
        parse(AMENDMENT_REASONS, text)
