"""Every page and document a patient reads: times in the clinic's zone with its abbreviation, no internal file names.

The clinic here is far from UTC (Auckland, UTC+13 in summer; Honolulu, UTC-10), so a time rendered in UTC, or a date
taken from UTC, shows up as a wrong hour or a wrong day. The patient's questionnaire pages (/q/<token>/, no login),
the handouts (page and PDF), the visit summary, the patient's progress report and the signed consent PDF are checked.
"""

import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.utils import timezone
from pypdf import PdfReader

from prolotrack.clinics.models import Clinic
from prolotrack.clinics.testing import actor_of
from prolotrack.core import clinictime
from prolotrack.documents import services
from prolotrack.documents.models import Document, DocumentKind, DocumentStatus
from prolotrack.documents.tests.conftest import pdf_text
from prolotrack.outcomes import services as outcome_services

# The link is created at this moment; the clinic default gives 14 days, so it expires 2030-01-24 20:36 UTC.
LINK_CREATED = datetime(2030, 1, 10, 20, 36, tzinfo=UTC)
# Session 2 is booked for 2026-11-30 09:30 in Chicago (documents conftest) = 15:30 UTC.
EXPECTED = {
    "Pacific/Auckland": {
        "link_expires": "Friday 25 January 2030, 09:36 NZDT",
        "next_session": "Tuesday 1 December 2026, 04:30 NZDT",
    },
    "Pacific/Honolulu": {
        "link_expires": "Thursday 24 January 2030, 10:36 HST",
        "next_session": "Monday 30 November 2026, 05:30 HST",
    },
}
UTC_RENDERINGS = ("20:36", "15:30", "24 January 2030, 20:36")
INTERNAL = (".md", "DOMAIN", "docs/")


@pytest.fixture(params=sorted(EXPECTED))
def clinic(request, db):
    """The test clinic, in a zone far from UTC (overrides the Chicago clinic of the root conftest)."""
    return Clinic.objects.create(name="Alpha Clinic", timezone=request.param)


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def assert_no_internal_names(text: str, where: str) -> None:
    for name in INTERNAL:
        assert name not in text, f"{where} shows the internal name {name!r}"


def test_the_questionnaire_pages_show_the_clinic_time_with_its_zone(client, clinic, clinician, patient):
    from prolotrack.treatment.testing import knee_course

    course = knee_course(clinician, patient, datetime(2026, 11, 2).date())
    timepoint = course.timepoints.filter(kind="follow_up").order_by("due_on").first()
    link, path = outcome_services.create_link(actor_of(clinician), patient, timepoint=timepoint, now=LINK_CREATED)
    assert link.expires_at == datetime(2030, 1, 24, 20, 36, tzinfo=UTC)
    expected = EXPECTED[clinic.timezone]["link_expires"]

    pages = {}
    pages["start"] = client.get(path)
    pages["page"] = client.get(f"{path}1/")
    pages["saved"] = client.post(f"{path}1/", {"action": "later"})
    pages["review"] = client.get(f"{path}review/")
    pages["thanks"] = client.post(f"{path}review/")
    pages["closed"] = client.get(path)
    assert [r.status_code for r in pages.values()] == [200, 200, 200, 200, 200, 410]
    for name, response in pages.items():
        body = response.content.decode()
        assert_no_internal_names(body, f"the {name} page")
        for utc in UTC_RENDERINGS:
            assert utc not in body, f"the {name} page shows a UTC time {utc}"
    assert f"until {expected}." in pages["start"].content.decode()
    assert f"until {expected}." in pages["saved"].content.decode()


def test_the_staff_link_page_shows_the_same_clinic_time_with_its_zone(login, clinic, clinician, patient):
    from prolotrack.treatment.testing import knee_course

    course = knee_course(clinician, patient, datetime(2026, 11, 2).date())
    timepoint = course.timepoints.filter(kind="follow_up").order_by("due_on").first()
    outcome_services.create_link(actor_of(clinician), patient, timepoint=timepoint, now=LINK_CREATED)
    body = login(clinician).get(f"/patients/{patient.uuid}/questionnaires/").content.decode()
    short = {"Pacific/Auckland": "2030-01-25 09:36 NZDT", "Pacific/Honolulu": "2030-01-24 10:36 HST"}
    assert f"expires {short[clinic.timezone]}" in body


def test_the_visit_summary_and_progress_report_show_clinic_times_and_cite_published_sources(
    clinic, clinician, signed_session, django_capture_on_commit_callbacks
):
    expected = EXPECTED[clinic.timezone]["next_session"]
    with django_capture_on_commit_callbacks(execute=True):
        services.queue_visit_summary(actor_of(clinician), signed_session.pk)
    summary = Document.objects.get(session=signed_session, kind=DocumentKind.VISIT_SUMMARY)
    assert summary.status == DocumentStatus.READY, summary.error
    text = pdf_text(services.pdf_bytes(summary))
    assert expected in text
    assert "Sources:" in text and "Rabago D, Slattengren A, Zgierska A. Prolotherapy in primary care practice" in text
    assert_no_internal_names(text, "the visit summary")

    report = services.request_document(
        actor_of(clinician), signed_session.patient, DocumentKind.PROGRESS_PATIENT, course=signed_session.course
    )
    report = services.generate(report)
    assert report.status == DocumentStatus.READY, report.error
    text = pdf_text(services.pdf_bytes(report))
    assert f"Next: session 2, {expected}." in text
    assert_no_internal_names(text, "the progress report")
    abbreviation = expected.rsplit(" ", 1)[1]
    assert f"generated {clinictime.local(report.generated_at, clinic).strftime('%Y-%m-%d')}" in text
    assert abbreviation in text


@pytest.mark.parametrize("handout", ["before", "after", "evidence"])
def test_every_handout_page_and_pdf_cites_published_sources_only(login, clinic, clinician, signed_session, handout):
    client = login(clinician)
    url = f"/patients/{signed_session.patient.uuid}/handouts/{handout}/"
    page = client.get(url)
    assert page.status_code == 200
    assert "Sources:" in page.content.decode()
    assert_no_internal_names(page.content.decode(), f"the {handout} handout page")
    pdf = client.get(f"{url}?format=pdf")
    assert pdf.status_code == 200
    text = pdf_text(b"".join(pdf.streaming_content) if pdf.streaming else pdf.content)
    assert "Sources:" in text
    assert_no_internal_names(text, f"the {handout} handout PDF")


def test_the_signed_consent_pdf_shows_the_signing_time_in_the_clinic_zone(clinic, signed_consent):
    text = " ".join((p.extract_text() or "") for p in PdfReader(io.BytesIO(signed_consent.pdf_content)).pages)
    text = " ".join(text.split())
    signed = timezone.localtime(signed_consent.signed_at, ZoneInfo(clinic.timezone))
    assert f"Signed on screen {signed:%Y-%m-%d %H:%M} {signed.tzname()}" in text
    assert_no_internal_names(text, "the consent PDF")
