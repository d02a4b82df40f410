"""The progress report: the outcome trajectory, responder status, sessions and adverse events, for two audiences."""

import pytest

from prolotrack.clinics.testing import actor_of
from prolotrack.documents import services
from prolotrack.documents.models import DocumentKind, DocumentStatus
from prolotrack.documents.tests.conftest import pdf_text


@pytest.mark.parametrize("kind", [DocumentKind.PROGRESS_PATIENT, DocumentKind.PROGRESS_REFERRER])
def test_a_progress_report_is_made_in_the_background_for_each_audience(clinician, answered, kind):
    doc = services.request_document(actor_of(clinician), answered.patient, kind, course=answered.course)
    assert doc.status == DocumentStatus.QUEUED
    doc = services.generate(doc)
    assert doc.status == DocumentStatus.READY, doc.error
    text = pdf_text(services.pdf_bytes(doc))
    # Both: scores from baseline to latest, the change, sessions so far and the bruise.
    assert "7 (2026-11-02)" in text and "3 (2026-11-16)" in text
    assert "improved by 4 (57.1%)" in text
    assert "Bruising" in text
    assert "2026-11-02" in text  # session 1
    if kind == DocumentKind.PROGRESS_PATIENT:
        assert "Your progress" in text and "Dear Ada" in text
        assert "Your answers show an improvement large enough to count as a meaningful change." in text
        assert "does not help everyone" in text
        assert "Causality" not in text and "D50" not in text
    else:
        assert "Progress report" in text and "Lovelace, Ada" in text and "PT-000001" in text
        assert "Responder status: responder" in text
        assert "2 points or 30%" in text  # the NRS MCID (Farrar 2001)
        assert "Probable" in text and "Small bruise at site 1." in text  # causality and description
        assert "dextrose 15%" in text and "lidocaine 0.5%" in text


def test_a_report_without_answers_says_so_plainly(clinician, signed_session):
    doc = services.generate(
        services.request_document(actor_of(clinician), signed_session.patient, DocumentKind.PROGRESS_PATIENT)
    )
    text = pdf_text(services.pdf_bytes(doc))
    assert "We do not have enough answers from you yet" in text
    assert "Next: session 2, Monday 30 November 2026, 09:30 CST." in text


@pytest.mark.parametrize(
    ("baseline", "current", "expected"),
    [
        ("7", "3", "improved by 4 (57.1%)"),
        ("4", "5", "worse by 1 (25%)"),
        ("6", "6", "no change"),
        ("0", "2", "worse by 2"),
    ],
)
def test_the_change_reads_the_right_way_round(baseline, current, expected):
    from decimal import Decimal

    from prolotrack.documents.content import _change_text
    from prolotrack.domain.scoring import change_from_baseline, instrument

    assert _change_text(change_from_baseline(instrument("nrs_pain"), Decimal(baseline), Decimal(current))) == expected
    assert _change_text(None) == "—"
