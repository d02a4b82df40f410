"""The SMART consent (authorize) page in the browser: a clinician launches an app from the chart's Apps card, reads
what the app asks in plain words and for which patient, allows, and the browser lands on the app's redirect URI with a
code (the app's addresses are answered by page.route, so no app is needed); Deny sends error=access_denied. Both at
1280 px and on a 390 px phone, under the real Content-Security-Policy."""

import re
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from playwright.sync_api import Page, Route, expect

from prolotrack.audit.models import AuditEvent
from prolotrack.clinics.models import User
from prolotrack.clinics.testing import actor_of
from prolotrack.smart import services
from tests.browser.conftest import log_in, shot

pytestmark = pytest.mark.browser

APP = "https://diary.example.org"
REDIRECT = f"{APP}/callback"
VERIFIER = "v" * 64


@pytest.fixture
def diary(admin_user: User) -> Any:
    return services.register_app(
        actor_of(admin_user), name="Pain diary", kind="app", redirect_uris=REDIRECT, launch_url=f"{APP}/launch",
        allowed_scopes="launch launch/patient openid fhirUser patient/*.rs",
    ).app  # fmt: skip


def serve_the_app(page: Page) -> list[str]:
    """Answer every request to the app's own site with a blank page, and record the addresses asked for."""
    seen: list[str] = []

    def answer(route: Route) -> None:
        seen.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>Pain diary</title>")

    page.context.route(f"{APP}/**", answer)
    return seen


def authorize_url(app: Any, scope: str, **extra: str) -> str:
    query = {
        "response_type": "code", "client_id": app.client_id, "redirect_uri": REDIRECT, "scope": scope,
        "state": "st-42", "aud": "http://testserver/fhir", "code_challenge": create_s256_code_challenge(VERIFIER),
        "code_challenge_method": "S256", **extra,
    }  # fmt: skip
    return f"/oauth/authorize/?{urlencode(query)}"


def answer_of(url: str) -> dict[str, str]:
    assert url.startswith(REDIRECT), url
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_launch_from_the_chart_consent_and_allow(
    new_page: Any, live_server: Any, clinician: User, make_patient: Any, diary: Any
) -> None:
    patient = make_patient(given_name="Ada", family_name="Okafor", mrn="SM-7")
    page = log_in(new_page(), clinician)
    seen = serve_the_app(page)

    # The chart's Apps card opens the app's launch URL with iss and a one-time launch id.
    page.goto(f"/patients/{patient.uuid}/")
    card = page.locator("#smart-launch")
    expect(card).to_contain_text("you approve what it may see")
    card.get_by_role("button", name="Launch Pain diary").click()
    expect(page).to_have_url(re.compile(re.escape(f"{APP}/launch?")))
    launched = {k: v[0] for k, v in parse_qs(urlsplit(seen[-1]).query).items()}
    assert launched["iss"] == f"{live_server.url}/fhir" and launched["launch"]

    # The app sends the person to the authorize page with the launch: the page says who, what, and for whom.
    page.goto(authorize_url(diary, "launch openid fhirUser patient/Observation.rs", launch=launched["launch"]))
    expect(page.get_by_role("heading", level=1)).to_have_text("Allow Pain diary to use Alpha Clinic's records?")
    expect(page.locator("#scopes li")).to_have_text(
        [
            "Open with the patient of the chart you launched it from",
            "Know who you are (OpenID Connect)",
            "Know who you are in this clinic (your Practitioner record)",
            "Read and search: observations (weights, pain and questionnaire scores), of the selected patient only",
        ]
    )
    expect(page.locator("#launch-patient")).to_contain_text("Okafor, Ada")
    expect(page.locator("#launch-patient")).to_contain_text("SM-7")
    expect(page.locator("#authorize")).not_to_contain_text("patient/Observation.rs")  # words, not codes
    expect(page.get_by_label("Patient's record number")).to_have_count(0)  # the chart chose the patient
    shot(page, "smart-consent-01-ehr-launch")

    page.get_by_role("button", name="Allow").click()
    expect(page).to_have_url(re.compile(re.escape(f"{REDIRECT}?")))
    answer = answer_of(page.url)
    assert answer["state"] == "st-42" and answer["code"] and "error" not in answer

    # The code is good once, for this patient (the app's side of the exchange, as its server would do it).
    token = requests.post(
        f"{live_server.url}/oauth/token/",
        data={"grant_type": "authorization_code", "code": answer["code"], "redirect_uri": REDIRECT,
              "client_id": diary.client_id, "code_verifier": VERIFIER},
        timeout=30,
    ).json()  # fmt: skip
    assert token["patient"] == str(patient.uuid) and token["scope"] == "launch openid fhirUser patient/Observation.rs"
    event = AuditEvent.objects.get(action="smart.authorized")
    assert event.patient_uuid == patient.uuid and event.user == clinician


def test_standalone_consent_on_a_phone_find_the_patient_allow_and_deny(
    new_page: Any, clinician: User, make_patient: Any, diary: Any
) -> None:
    ada = make_patient(given_name="Ada", family_name="Okafor", mrn="SM-1")
    make_patient(given_name="Bea", family_name="Okafor-Lind", mrn="SM-2")
    page = log_in(new_page(phone=True), clinician)
    serve_the_app(page)
    page.goto(authorize_url(diary, "launch/patient openid fhirUser patient/*.rs"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Allow Pain diary")
    expect(page.locator("#scopes")).to_contain_text("Work with one patient you choose here")
    expect(page.locator("#scopes")).to_contain_text("Read and search: all records, of the selected patient only")
    expect(page.locator("#authorize")).to_contain_text("takes you back to the app at diary.example.org")

    # Part of the family name, then Enter: the matches are listed to choose from (Enter finds, it does not allow).
    page.get_by_label("Find the patient").fill("okaf")
    page.get_by_label("Find the patient").press("Enter")
    expect(page.locator("#matches li")).to_have_count(2)
    page.get_by_label(re.compile(r"Okafor, Ada")).check()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the consent page scrolls sideways on a phone ({width} px)"
    shot(page, "smart-consent-02-standalone-phone-picker")
    page.get_by_role("button", name="Allow").click()
    expect(page).to_have_url(re.compile(re.escape(f"{REDIRECT}?")))
    assert answer_of(page.url)["code"]
    assert AuditEvent.objects.get(action="smart.authorized").patient_uuid == ada.uuid

    # Deny: back to the app with error=access_denied and no code.
    page.goto(authorize_url(diary, "launch/patient patient/*.rs"))
    page.get_by_role("button", name="Deny").click()
    expect(page).to_have_url(re.compile(re.escape(f"{REDIRECT}?")))
    answer = answer_of(page.url)
    assert answer["error"] == "access_denied" and answer["state"] == "st-42" and "code" not in answer
    assert AuditEvent.objects.filter(action="smart.denied", detail__client_id=diary.client_id).count() == 1
