"""The researcher's differentially private breakdowns: the coded facts behind them (checked against a recount), the
epsilon each answer carries, the clinic's budget setting, frozen answers and their audit rows (docs/RESEARCH.md)."""

from datetime import date

import pytest
from django.test import Client

from prolotrack.accounts.testing import mark_verified
from prolotrack.analytics import research
from prolotrack.analytics.models import ResearchRelease
from prolotrack.analytics.tests.test_queries import clinic_data  # noqa: F401 (fixture)
from prolotrack.audit.models import AuditEvent
from prolotrack.clinical.queries import clinic_today
from prolotrack.domain import dpcounts
from prolotrack.treatment.models import AdverseEvent, TreatmentSession

pytestmark = pytest.mark.django_db
PERIOD = "2026-Q1"
START, END = date(2026, 1, 1), date(2026, 3, 31)


def test_the_course_facts_match_a_recount(clinic, clinic_data):  # noqa: F811
    today = clinic_today(clinic)
    facts = {
        f.ref: f for f in research.course_facts(clinic, START, END, today, {str(c.clinician_id) for c in clinic_data})
    }
    in_quarter = [c for c in clinic_data if START <= c.started_on <= END]
    assert set(facts) == {c.pk for c in in_quarter} and len(in_quarter) == 13
    for course in in_quarter:
        fact = facts[course.pk]
        course.refresh_from_db()
        done = TreatmentSession.objects.filter(course=course, status="done", entered_in_error_at__isnull=True)
        assert fact.started == done.exists()
        assert fact.status == course.status and fact.clinician == str(course.clinician_id)
        assert fact.protocol == course.protocol_id and fact.patient == str(course.patient_id)
        assert fact.adverse == ("none" if done.exists() else "no_session")
        assert set(fact.completion) == set(dpcounts.TIMEPOINT_KINDS)
    # A mix, so the comparison means something: started and not, open and stopped, two clinicians.
    assert {f.started for f in facts.values()} == {True, False}
    assert {f.status for f in facts.values()} >= {"open", "stopped"}
    assert len({f.clinician for f in facts.values()}) == 2
    assert {f.verdict for f in facts.values()} >= {"responder", "non_responder", "not_evaluable"}


def test_an_adverse_event_after_a_done_session_is_counted_by_type(clinic, clinic_data, clinician):  # noqa: F811
    from prolotrack.clinics.testing import actor_of
    from prolotrack.treatment import services as treatment_services

    course = next(c for c in clinic_data if c.started_on <= END and c.sessions.filter(status="done").exists())
    session = course.sessions.filter(status="done").first()
    # The signing gate is tested in the treatment app; this shortcut records its result (as the research tests do).
    from django.db import transaction
    from django.utils import timezone

    from prolotrack.audit.services import update_record

    with transaction.atomic():
        session = update_record(
            actor_of(clinician), session, {"signed_at": timezone.now(), "signed_by": clinician}, "test.session.signed",
            expected_version=None,
        )  # fmt: skip
    treatment_services.record_adverse_event(
        actor_of(clinician), course.patient,
        {"event_type": "bruising", "onset_on": session.planned_on, "severity": "mild", "serious": False,
         "causality": "probable", "outcome": "resolved", "description": "Bruise"},
        session=session,
    )  # fmt: skip
    assert AdverseEvent.objects.filter(course=course).exists()
    facts = {f.ref: f for f in research.course_facts(clinic, START, END, clinic_today(clinic), set())}
    assert facts[course.pk].adverse == "bruising"
    assert facts[course.pk].clinician == research.OTHER_CLINICIAN  # not on the list passed in


def test_the_researcher_answer_carries_the_epsilon_of_each_breakdown_and_is_frozen(
    clinic,
    clinic_data,  # noqa: F811
    researcher,
    api_token,
):
    headers = api_token(researcher)
    client = Client()
    answer = client.get(f"/api/dashboard?period={PERIOD}", headers=headers).json()
    dp = answer["dp"]
    assert dp["epsilon"] == pytest.approx(1.0) and dp["budget"] == 1.0 and dp["unit"] == "patient"
    names = [b["name"] for b in dp["breakdowns"]]
    assert names == ["protocol", "clinician", "funnel", "adverse_events", "completion_baseline",
                     "completion_session", "completion_follow_up"]  # fmt: skip
    for table in dp["breakdowns"]:
        assert table["epsilon"] == pytest.approx(1.0 / 7, rel=1e-6) and table["noise_95"] > 0
    clinicians = {c["label"].split(":")[0] for c in dp["breakdowns"][1]["cells"]}
    assert {"Another member of staff", "No clinician recorded"} < clinicians and len(clinicians) == 4
    assert "privacy" in answer and "dp_breakdowns" in answer["privacy"]
    # Asked again: the same noise, not a fresh draw to average.
    assert client.get(f"/api/dashboard?period={PERIOD}", headers=headers).json() == answer
    (event,) = AuditEvent.objects.filter(action="analytics.research_release.created")
    assert event.detail == {"period": PERIOD, "epsilon": dp["epsilon"]}
    # The page shows each breakdown's epsilon.
    browser = Client()
    browser.force_login(researcher, backend="django.contrib.auth.backends.ModelBackend")
    mark_verified(browser, researcher)
    html = browser.get(f"/dashboard/?period={PERIOD}").content.decode()
    assert "epsilon = 1.0" in html and f"epsilon = {round(1 / 7, 6)}" in html and "Protocol by responder" in html


def test_the_clinic_budget_applies_and_an_old_release_gets_its_breakdowns_once(
    clinic,
    clinic_data,  # noqa: F811
    researcher,
    api_token,
):
    clinic.settings = {**(clinic.settings or {}), "research_dp_epsilon_tenths": 5}
    clinic.save(update_fields=["settings"])
    headers = api_token(researcher)
    client = Client()
    answer = client.get(f"/api/dashboard?period={PERIOD}", headers=headers).json()
    assert answer["dp"]["epsilon"] == pytest.approx(0.5) and answer["dp"]["breakdowns"][0]["scale"] == 28.0
    # A quarter released before the breakdowns existed: they are drawn once, audited, then frozen with it.
    made = ResearchRelease.objects.get(period=PERIOD)
    made.figures = {k: v for k, v in made.figures.items() if k != "dp"}
    made.save(update_fields=["figures"])
    first = client.get(f"/api/dashboard?period={PERIOD}", headers=headers).json()
    assert first["dp"]["epsilon"] == pytest.approx(0.5)
    assert client.get(f"/api/dashboard?period={PERIOD}", headers=headers).json() == first
    assert AuditEvent.objects.filter(action="analytics.research_release.dp_added").count() == 1
