"""Questionnaire pages: access per persona, the patient's pages by link, staff paper entry, licensed-text import."""

import json
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from prolotrack.audit.models import AuditEvent
from prolotrack.clinics.testing import actor_of
from prolotrack.outcomes import hooks, queries, services
from prolotrack.outcomes.models import ClinicInstrumentText, QuestionnaireLink, QuestionnaireResponse

ALL = ("clinician", "colleague", "frontdesk", "admin", "researcher", "outsider")


def table(clinician, colleague, frontdesk, admin, researcher, outsider=404):
    return dict(zip(ALL, (clinician, colleague, frontdesk, admin, researcher, outsider), strict=True))


COLLECT = table(200, 200, 200, 403, 403)
COLLECT_POST = table(302, 302, 302, 403, 403)
INSTRUMENTS = table(200, 403, 403, 200, 403, 200)  # no patient data: the outsider's own clinic's page
INSTRUMENT_IMPORT_POST = table(400, 403, 403, 400, 403, 400)

PAGES = [
    ("/patients/{p}/questionnaires/", "get", COLLECT),
    ("/patients/{p}/questionnaires/links/", "post", COLLECT_POST),
    ("/patients/{p}/questionnaires/enter/", "get", COLLECT),
    ("/patients/{p}/questionnaires/enter/?timepoint={t}", "get", COLLECT),
    ("/patients/{p}/questionnaires/enter/", "post", COLLECT),
    ("/questionnaire-links/{link}/revoke/", "post", COLLECT_POST),
    ("/instruments/", "get", INSTRUMENTS),
    ("/instruments/koos_jr/questionnaire.json", "get", INSTRUMENTS),
    ("/instruments/koos_jr/import/", "get", INSTRUMENTS),
    ("/instruments/koos_jr/import/", "post", INSTRUMENT_IMPORT_POST),
]


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def records(clinician, patient, follow_up):
    link, path = services.create_link(actor_of(clinician), patient, timepoint=follow_up)
    return {"p": patient.uuid, "t": follow_up.uuid, "link": link.uuid, "path": path}


@pytest.mark.parametrize(("path", "method", "expected"), PAGES, ids=[f"{m} {p}" for p, m, _ in PAGES])
@pytest.mark.parametrize("persona", ALL)
def test_every_page_by_role_and_clinic(login, personas, records, path, method, expected, persona):
    client = login(personas[persona])
    before = (QuestionnaireLink.objects.count(), QuestionnaireResponse.objects.count())
    url = path.format(**records)
    response = client.get(url) if method == "get" else client.post(url, {})
    assert response.status_code == expected[persona], response.content[:2000]
    assert QuestionnaireResponse.objects.count() == before[1]
    if response.status_code in (403, 404) or persona == "outsider":
        assert b"Lovelace" not in response.content


def test_patient_pages_need_no_login_and_show_no_app_navigation(client, records):
    response = client.get(records["path"])
    body = response.content.decode()
    assert response.status_code == 200 and "Alpha Clinic" in body
    assert "Lovelace" not in body and "Ada" not in body  # nothing of the patient on a link anyone may hold
    # No link into the app (its own stylesheet is a static file: the Content-Security-Policy refuses inline style).
    assert 'href="/' not in body.replace(records["path"], "").replace('href="/static/prolotrack/questionnaire.css"', "")
    assert "no-store" in response["Cache-Control"] and response["Referrer-Policy"] == "same-origin"


def test_answer_leave_resume_submit_then_used(client, records):
    path = records["path"]
    response = client.post(f"{path}1/", {"now": "6", "average_week": "5", "action": "later"})
    assert response.status_code == 200 and "saved" in response.content.decode()
    resumed = client.get(f"{path}1/").content.decode()
    assert 'value="6" checked' in resumed and 'value="5" checked' in resumed
    assert "Welcome back" in client.get(path).content.decode()
    assert client.post(f"{path}1/", {"now": "6", "average_week": "5", "worst_week": "8"}).url == f"{path}2/"
    assert client.post(f"{path}2/", {"pgic": "2", "action": "review"}).url == f"{path}review/"
    assert "Thank you" in client.post(f"{path}review/").content.decode()
    scores = {r.instrument: (r.status, str(r.score)) for r in QuestionnaireResponse.objects.all()}
    assert scores == {"nrs_pain": ("completed", "5.00"), "pgic": ("completed", "2.00")}
    again = client.get(path)
    assert again.status_code == 410 and "already been used" in again.content.decode()
    assert "Lovelace" not in again.content.decode()
    assert AuditEvent.objects.filter(channel="patient_link", action="questionnaire_link.refused").exists()


def test_bad_answer_is_explained_and_nothing_saved(client, records):
    response = client.post(f"{records['path']}1/", {"now": "12"})
    assert response.status_code == 400 and "between 0 and 10" in response.content.decode()
    assert not QuestionnaireResponse.objects.exists()


def test_expired_and_revoked_links_say_so(client, clinician, patient, follow_up, records):
    _old, old_path = services.create_link(
        actor_of(clinician), patient, instruments=["pgic"], now=timezone.now() - timedelta(days=20)
    )
    response = client.get(old_path)
    assert response.status_code == 410 and "expired" in response.content.decode()
    assert client.post(f"{old_path}1/", {"pgic": "1"}).status_code == 410
    services.create_link(actor_of(clinician), patient, timepoint=follow_up)  # revokes the first
    revoked = client.get(records["path"])
    assert revoked.status_code == 410 and "cancelled" in revoked.content.decode()
    assert not QuestionnaireResponse.objects.exists()


def test_unknown_token_is_404_and_guessing_is_rate_limited(client, records):
    for n in range(20):
        assert client.get(f"/q/not-a-token-{n}/").status_code == 404
    assert client.get("/q/not-a-token-x/").status_code == 429
    assert client.get(records["path"]).status_code == 200  # a good link still opens (issue 19; test_rate_limit.py)


def test_a_token_opens_only_its_own_questionnaires(client, clinician, make_patient, records):
    other = make_patient(given_name="Grace", family_name="Hopper")
    _, other_path = services.create_link(actor_of(clinician), other, instruments=["vas_pain"])
    assert client.get(f"{records['path']}3/").status_code == 404  # only 2 questionnaires in this link
    client.post(f"{other_path}1/", {"vas": "40"})
    assert not QuestionnaireResponse.objects.filter(patient__family_name="Lovelace").exists()


def test_tablet_link_signs_staff_out_and_opens_the_questionnaire(login, clinician, records):
    client = login(clinician)
    response = client.post(
        f"/patients/{records['p']}/questionnaires/links/", {"timepoint": str(records["t"]), "delivery": "tablet"}
    )
    assert response.status_code == 302 and response.url.startswith("/q/")
    assert client.get(f"/patients/{records['p']}/questionnaires/").status_code == 302  # signed out: to login
    page = client.get(response.url)
    assert page.status_code == 200 and "hand the tablet back" in page.content.decode()
    link = QuestionnaireLink.objects.get(delivery="tablet")
    assert (link.expires_at - timezone.now()) <= timedelta(hours=services.TABLET_LINK_HOURS)


def test_qr_link_page_shows_the_url_once_with_an_svg_code(login, clinician, records):
    client = login(clinician)
    response = client.post(
        f"/patients/{records['p']}/questionnaires/links/", {"timepoint": str(records["t"]), "delivery": "qr"}
    )
    body = response.content.decode()
    assert response.status_code == 200 and "<svg" in body and "/q/" in body
    link = QuestionnaireLink.objects.order_by("-id").first()
    token = body.split("/q/")[1].split("/")[0]
    assert link.token_hash == queries.token_hash(token)
    listing = client.get(f"/patients/{records['p']}/questionnaires/").content.decode()
    assert token not in listing


def test_staff_enter_a_paper_form_with_the_date(login, frontdesk, records):
    client = login(frontdesk)
    url = f"/patients/{records['p']}/questionnaires/enter/"
    bad = client.post(url, {"instrument": "nrs_pain", "action": "save", "authored_on": "2999-01-01", "a_now": "3"})
    assert bad.status_code == 400 and "future" in bad.content.decode()
    assert not QuestionnaireResponse.objects.exists()
    ok = client.post(
        url,
        {"instrument": "pgic", "timepoint": str(records["t"]), "action": "save", "authored_on": "2026-11-20",
         "a_pgic": "3"},
    )  # fmt: skip
    assert ok.status_code == 302
    response = QuestionnaireResponse.objects.get()
    assert (response.source, str(response.authored_on), response.status) == ("staff_paper", "2026-11-20", "completed")
    assert response.timepoint.uuid == records["t"]


def test_frontdesk_sees_no_scores(login, frontdesk, clinician, patient, records):
    services.record_response(actor_of(clinician), patient, "vas_pain", {"vas": 73}, authored_on=timezone.localdate())
    assert "73.00" not in login(frontdesk).get(f"/patients/{records['p']}/questionnaires/").content.decode()


def _koos_jr_questionnaire(**changes):
    body = hooks.questionnaire_resource("koos_jr", None)
    for n, item in enumerate(body["item"], start=1):
        item["text"] = f"Licensed question {n}"
        for option in item["answerOption"]:
            option["valueCoding"]["display"] = f"Label {option['valueCoding']['code']}"
    body.update(changes)
    return body


def test_import_licensed_texts_then_they_are_used(login, clinician, records, patient, follow_up):
    client = login(clinician)
    url = "/instruments/koos_jr/import/"
    statement = "Mapi Research Trust licence ML-2026-001, single clinic, electronic use."
    wrong = _koos_jr_questionnaire()
    wrong["item"][0]["linkId"] = "q1"
    refused = client.post(url, {"questionnaire": json.dumps(wrong), "licence_statement": statement})
    assert refused.status_code == 400 and "missing linkIds j1" in refused.content.decode()
    assert client.post(url, {"questionnaire": "{", "licence_statement": statement}).status_code == 400
    short = client.post(url, {"questionnaire": json.dumps(_koos_jr_questionnaire()), "licence_statement": "ok"})
    assert short.status_code == 400 and not ClinicInstrumentText.objects.exists()
    good = client.post(url, {"questionnaire": json.dumps(_koos_jr_questionnaire()), "licence_statement": statement})
    assert good.status_code == 302
    row = ClinicInstrumentText.objects.get()
    assert row.texts["items"]["j1"] == "Licensed question 1" and row.licence_statement == statement
    assert AuditEvent.objects.filter(action="instrument_text.imported").exists()
    # Now the knee follow-up opens KOOS JR, with the clinic's texts.
    link, path = services.create_link(actor_of(clinician), patient, timepoint=follow_up)
    assert link.instruments == ["nrs_pain", "pgic", "koos_jr"]
    page = client.get(f"{path}3/").content.decode()
    assert "Licensed question 1" in page and "Label 4" in page
    fhir = client.get("/instruments/koos_jr/questionnaire.json").json()
    assert fhir["item"][0]["text"] == "Licensed question 1"
    # A second import is a new version of the same row.
    client.post(
        url, {"questionnaire": json.dumps(_koos_jr_questionnaire(title="KOOS JR v2")), "licence_statement": statement}
    )
    row.refresh_from_db()
    assert row.version == 2 and row.title == "KOOS JR v2"
