"""Which language a patient page is in, and that staff pages stay English whatever the browser asks (issue 16)."""

import pytest
from django.conf import settings
from django.test import RequestFactory
from django.utils import translation

from prolotrack.core import language

COOKIE = settings.LANGUAGE_COOKIE_NAME


@pytest.mark.parametrize(
    ("code", "expected"),
    [("es", "es"), ("es-MX", "es"), ("ES_us", "es"), ("en-GB", "en"), ("fr", None), ("", None), (None, None)],
)
def test_supported_maps_a_regional_code_to_its_language(code, expected):
    assert language.supported(code) == expected


def _page(request):
    from django.http import HttpResponse

    return HttpResponse(translation.get_language())


@pytest.mark.parametrize(
    ("query", "cookie", "patient", "accept", "expected"),
    [
        ("es", "en", "en", "en", "es"),  # the switch first
        ("", "es", "en", "en", "es"),  # then the remembered choice
        ("", "", "es", "en", "es"),  # then the patient's preferred language
        ("", "", "", "es-MX,en;q=0.5", "es"),  # then the browser's
        ("", "", "", "fr,de;q=0.8", "en"),  # else English
        ("xx", "zz", "", "", "en"),  # unknown codes are ignored
    ],
)
def test_the_order_switch_cookie_patient_browser_english(query, cookie, patient, accept, expected):
    def view(request):
        if patient:
            language.use_patient_language(request, type("P", (), {"preferred_language": patient})())
        return _page(request)

    request = RequestFactory().get("/q/x/", {"lang": query} if query else {}, HTTP_ACCEPT_LANGUAGE=accept)
    if cookie:
        request.COOKIES[COOKIE] = cookie
    response = language.patient_page(view)(request)
    assert response.content.decode() == expected and response["Content-Language"] == expected
    assert translation.get_language() == settings.LANGUAGE_CODE  # nothing leaks into the next request
    assert (COOKIE in response.cookies) == bool(language.supported(query))


@pytest.mark.parametrize(
    ("path", "expected"),
    [("/q/tok/", "/q/tok/"), ("/q/tok/2/", "/q/tok/"), ("/q/tok/review/", "/q/tok/"), ("/book/alpha/", "/book/alpha/")],
)
def test_a_choice_is_remembered_for_the_pages_of_its_link_only(path, expected):
    assert language.cookie_path(path) == expected


def test_the_switch_keeps_the_other_query_parameters(rf):
    request = rf.get("/book/alpha/", {"type": "follow-up", "lang": "es"})
    with translation.override("es"):
        links = language.switch_links(request)
    assert [(link["code"], link["current"]) for link in links] == [("en", False), ("es", True)]
    assert links[0]["url"] == "/book/alpha/?type=follow-up&lang=en"


STAFF_PAGES = ["/patients/", "/patients/new/", "/calendar/", "/instruments/"]


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_staff_pages_stay_english_whatever_the_browser_or_the_cookie_say(login, clinician, path):
    client = login(clinician)
    client.cookies[COOKIE] = "es"
    response = client.get(path, HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9")
    assert response.status_code == 200, path
    body = response.content.decode()
    assert '<html lang="en"' in body and "Content-Language" not in response and COOKIE not in response.cookies
    assert "Idioma" not in body and "Inicio" not in body


def test_a_staff_form_error_stays_english_with_a_spanish_browser(login, clinician):
    client = login(clinician)
    response = client.post("/patients/new/", {"given_name": ""}, HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 400 or response.status_code == 200
    body = response.content.decode()
    assert "This field is required." in body and "Este campo es obligatorio" not in body
