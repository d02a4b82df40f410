"""Every clinical endpoint and page, for every persona: who may use it, and the outsider gets a 404 for our records."""

import pytest

from prolotrack.clinical.models import ScreeningRecord

ALL = ("clinician", "colleague", "frontdesk", "admin", "researcher", "outsider")

# Calculators and ad hoc screening read no clinic record: the outsider (a clinician elsewhere) may use them.
CALC = {"clinician": 200, "colleague": 200, "frontdesk": 403, "admin": 403, "researcher": 403, "outsider": 200}
SCREEN_STORED = {"clinician": 201, "colleague": 201, "frontdesk": 403, "admin": 403, "researcher": 403, "outsider": 404}
SCREEN_READ = {"clinician": 200, "colleague": 200, "frontdesk": 403, "admin": 403, "researcher": 403, "outsider": 404}
OVERRIDE = {"clinician": 200, "colleague": 403, "frontdesk": 403, "admin": 403, "researcher": 403, "outsider": 404}
PROTOCOLS = dict.fromkeys(ALL, 200)
OWN_PROTOCOL = {**PROTOCOLS, "outsider": 404}

MIX_BODY = {"final_volume_ml": "10", "target_dextrose_pct": "15", "dextrose_stock_pct": "50"}
LIMIT_BODY = {"drug": "lidocaine", "with_epinephrine": False, "weight_kg": "70", "planned_mg": "50"}
PROCEDURE = {"date": "2025-03-10", "region": "knee", "side": "left", "agents": ["dextrose"]}

# name, method, path template, body, {persona: status}
ENDPOINTS = [
    ("mix", "post", "/api/calculators/mix", MIX_BODY, CALC),
    ("limit", "post", "/api/calculators/anesthetic-limit", LIMIT_BODY, CALC),
    (
        "screen ad hoc",
        "post",
        "/api/screening/evaluate",
        {"patient": {"date_of_birth": "1970-01-01"}, "procedure": PROCEDURE},
        CALC,
    ),
    (
        "screen a patient",
        "post",
        "/api/screening/evaluate",
        {"patient_id": "{p}", "procedure": PROCEDURE},
        SCREEN_STORED,
    ),
    ("read a screening", "get", "/api/screenings/{s}", None, SCREEN_READ),
    (
        "override",
        "post",
        "/api/screenings/{s}/overrides",
        {"code": "caution.anticoagulant", "reason": "INR 2.1 yesterday, small needles.", "version": 1},
        OVERRIDE,
    ),
    ("list protocols", "get", "/api/protocols", None, PROTOCOLS),
    ("built-in protocol", "get", "/api/protocols/knee_oa_rabago", None, PROTOCOLS),
    ("clinic protocol", "get", "/api/protocols/{t}", None, OWN_PROTOCOL),
    ("built-in schedule", "get", "/api/protocols/knee_oa_rabago/schedule?start=2025-01-06", None, PROTOCOLS),
    ("clinic schedule", "get", "/api/protocols/{t}/schedule?start=2025-01-06", None, OWN_PROTOCOL),
]


@pytest.fixture
def screening(make_screening, patient, add):
    add(patient, "medication", name="Warfarin", drug_class="anticoagulant")
    return make_screening(patient)


def _fill(value, ids):
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


@pytest.mark.parametrize(("name", "method", "path", "body", "expected"), ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
@pytest.mark.parametrize("persona", ALL)
def test_every_endpoint_by_role_and_clinic(
    call, personas, patient, screening, clinic_template, name, method, path, body, expected, persona
):
    ids = {"p": patient.uuid, "s": screening.uuid, "t": clinic_template.uuid}
    before = ScreeningRecord.objects.count()
    response = call(personas[persona], _fill(path, ids), _fill(body, ids), method=method)
    assert response.status_code == expected[persona], response.content
    payload = response.json()
    if response.status_code >= 400:
        assert payload["code"] and payload["detail"]
        assert patient.family_name not in response.content.decode()
        assert ScreeningRecord.objects.count() == before
    if name == "list protocols" and persona == "outsider":
        assert str(clinic_template.uuid) not in response.content.decode()


# path template, method, {persona: status}
PAGES = [
    ("/tools/calculator/", "get", {**CALC}),
    # An empty calculator form is answered with what to fill in (400); other roles never get that far.
    ("/tools/calculator/mix/", "post", {**CALC, "clinician": 400, "colleague": 400, "outsider": 400}),
    ("/tools/calculator/limit/", "post", {**CALC, "clinician": 400, "colleague": 400, "outsider": 400}),
    ("/patients/{p}/screening/new/", "get", SCREEN_READ),
    ("/patients/{p}/screening/{s}/", "get", SCREEN_READ),
    ("/patients/{p}/screening/{s}/override/", "post", {**OVERRIDE, "clinician": 400}),
    ("/protocols/", "get", PROTOCOLS),
    ("/protocols/knee_oa_rabago/", "get", PROTOCOLS),
    ("/protocols/{t}/", "get", OWN_PROTOCOL),
    (
        "/protocols/new/",
        "get",
        {"clinician": 200, "colleague": 403, "frontdesk": 403, "admin": 200, "researcher": 403, "outsider": 200},
    ),
    (
        "/protocols/{t}/edit/",
        "get",
        {"clinician": 200, "colleague": 403, "frontdesk": 403, "admin": 200, "researcher": 403, "outsider": 404},
    ),
    (
        "/protocols/{t}/entered-in-error/",
        "get",
        {"clinician": 200, "colleague": 403, "frontdesk": 403, "admin": 200, "researcher": 403, "outsider": 404},
    ),
]


@pytest.mark.parametrize(("template", "method", "expected"), PAGES, ids=[f"{m} {t}" for t, m, _ in PAGES])
@pytest.mark.parametrize("persona", ALL)
def test_every_page_by_role_and_clinic(
    client, login, personas, patient, screening, clinic_template, template, method, expected, persona
):
    login(personas[persona])
    url = template.format(p=patient.uuid, s=screening.uuid, t=clinic_template.uuid)
    response = getattr(client, method)(url)
    assert response.status_code == expected[persona]
    if response.status_code in (403, 404):
        assert patient.family_name not in response.content.decode()


@pytest.mark.parametrize(("template", "method", "expected"), PAGES, ids=[f"{m} {t}" for t, m, _ in PAGES])
def test_anonymous_visitors_are_sent_to_log_in(client, patient, screening, clinic_template, template, method, expected):
    url = template.format(p=patient.uuid, s=screening.uuid, t=clinic_template.uuid)
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/api/calculators/mix", "post"),
        ("/api/calculators/anesthetic-limit", "post"),
        ("/api/screening/evaluate", "post"),
        ("/api/protocols", "get"),
        ("/api/protocols/knee_oa_rabago/schedule?start=2025-01-06", "get"),
    ],
)
def test_the_api_wants_a_token(client, path, method):
    response = getattr(client, method)(path, {}, content_type="application/json")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_a_screening_of_another_patient_is_not_found_under_this_patient(
    client, login, clinician, make_patient, screening
):
    other = make_patient(given_name="Grace", family_name="Hopper", mrn="X-2")
    login(clinician)
    assert client.get(f"/patients/{other.uuid}/screening/{screening.uuid}/").status_code == 404


@pytest.mark.parametrize(
    ("persona", "links"),
    [
        ("clinician", {"Calculator", "Protocols"}),
        ("colleague", {"Calculator", "Protocols"}),
        ("frontdesk", {"Protocols"}),
        ("admin", {"Protocols"}),
        ("researcher", {"Protocols"}),
    ],
)
def test_the_navigation_shows_the_clinical_tools_a_role_may_use(client, login, personas, persona, links):
    login(personas[persona])
    body = client.get("/protocols/").content.decode()
    nav = body[body.index('<nav class="mainnav"') : body.index("</nav>")]
    assert {name for name in ("Calculator", "Protocols") if f">{name}</a>" in nav} == links
