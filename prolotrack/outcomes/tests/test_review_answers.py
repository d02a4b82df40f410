"""The patient's review step shows each question with the answer given, not just "Answered"."""

import pytest
from django.core.cache import cache

from prolotrack.clinics.testing import actor_of
from prolotrack.outcomes import present, services


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def test_the_review_lists_every_question_with_its_answer(client, clinician, patient):
    _, path = services.create_link(actor_of(clinician), patient, instruments=["nrs_pain", "pgic"])
    client.post(f"{path}1/", {"now": "6", "average_week": "3", "action": "next"})
    client.post(f"{path}2/", {"pgic": "2", "action": "review"})
    body = client.get(f"{path}review/").content.decode()
    assert "How bad is your pain right now?</dt>" in body
    assert '<b class="answer">6</b> <span class="muted small">(0 = No pain, 10 = Worst pain imaginable)</span>' in body
    assert '<b class="answer">3</b>' in body
    assert "At its worst, how bad was your pain over the last 7 days?</dt>" in body
    assert "Not answered (needed)" in body  # worst_week was left out
    assert '<b class="answer">Much improved</b>' in body
    assert ">Answered<" not in body


@pytest.mark.parametrize(
    ("code", "values", "expected"),
    [
        ("nrs_pain", {"now": 0}, ("0", "0 = No pain, 10 = Worst pain imaginable")),
        ("pgic", {"pgic": 7}, ("Very much worse", "")),
        ("pgic", {}, ("", "")),
    ],
)
def test_an_answer_in_words(code, values, expected):
    first = present.answers(present.build(code, values))[0]
    assert (first.answer, first.scale) == expected
