"""SMART on FHIR with a stock OAuth client (authlib, pinned in requirements-dev.txt) against the live test server.

The person signs in through the real staff login page and approves on the authorize page (HTTP, as a browser would);
authlib does the rest: PKCE S256, the code exchange, refresh, revocation, and private_key_jwt for a backend service
that runs a Bulk export.
"""

import time
from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import orjson
import pytest
import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from django.db import transaction
from django.utils import timezone
from joserfc.jwk import ECKey, RSAKey
from oauth2_provider.models import AccessToken

from prolotrack.audit.models import AuditEvent
from prolotrack.clinics.testing import actor_of
from prolotrack.patients import services as patient_services
from prolotrack.smart import services
from prolotrack.smart.models import SmartApp

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct horse battery"  # the conftest personas' password
REDIRECT = "http://127.0.0.1:8765/callback"  # never served: the test reads the code from the redirect
LAUNCH_URL = "http://127.0.0.1:8765/launch"


class _Forms(HTMLParser):
    """Every form of a page: its id, action and the values of its inputs (not its buttons)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[_Form] = []
        self.inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.forms.append(_Form(a.get("id"), a.get("action"), {}))
            self.inside = True
        elif tag == "input" and self.inside and a.get("name") and a.get("type") not in ("submit", "checkbox"):
            self.forms[-1].fields[a["name"] or ""] = a.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False


class _Form:
    def __init__(self, form_id: str | None, action: str | None, fields: dict[str, str]) -> None:
        self.form_id, self.action, self.fields = form_id, action, fields


def form_of(html: str, form_id: str | None = None, *, with_field: str | None = None) -> _Form:
    """The form with this id, or the first that has an input named `with_field`, or the first form."""
    parser = _Forms()
    parser.feed(html)
    for form in parser.forms:
        if (form_id is None or form.form_id == form_id) and (with_field is None or with_field in form.fields):
            return form
    raise AssertionError(f"No form {form_id or with_field} in the page: {html[:300]}")


def sign_in(base: str, username: str, next_url: str) -> tuple[requests.Session, requests.Response]:
    """Sign in on the staff login page (password, then the second factor where the product asks for one) and follow
    `next` (the authorize page), as a browser does."""
    device = _authenticator(username)
    browser = requests.Session()
    login = browser.get(f"{base}/accounts/login/", params={"next": next_url}, timeout=30)
    fields = form_of(login.text, with_field="username").fields
    fields.update({"username": username, "password": PASSWORD})
    page = browser.post(login.url, data=fields, headers={"Referer": login.url}, timeout=30)
    if "/accounts/second-factor/" in page.url and device is not None:
        from prolotrack.accounts.testing import totp_code

        fields = form_of(page.text, with_field="code").fields
        fields["code"] = totp_code(device)
        page = browser.post(page.url, data=fields, headers={"Referer": page.url}, timeout=30)
    assert "/accounts/" not in page.url, page.text[:500]
    return browser, page


def _authenticator(username: str) -> Any:
    """The user's TOTP authenticator where the product has a second factor (issue 13's MFA), else None."""
    try:
        from prolotrack.accounts.testing import enrolled_totp
    except ImportError:
        return None
    from prolotrack.clinics.models import User

    return enrolled_totp(User.objects.get(username=username))


def approve(browser: requests.Session, page: requests.Response, **extra: str) -> str:
    """Press Allow on the authorize page; the address the server redirects to (the app's redirect URI)."""
    assert 'id="authorize-form"' in page.text, page.text[:2000]
    fields = form_of(page.text, "authorize-form").fields
    fields.update(extra)
    fields["allow"] = "Authorize"
    answer = browser.post(page.url, data=fields, headers={"Referer": page.url}, allow_redirects=False, timeout=30)
    assert answer.status_code == 302, answer.text[:2000]
    return str(answer.headers["Location"])


@pytest.fixture
def two_patients(clinician: Any, make_patient: Any) -> tuple[Any, Any]:
    first = make_patient(given_name="Ada", family_name="Okafor", mrn="SM-1")
    second = make_patient(given_name="Bea", family_name="Lindqvist", mrn="SM-2")
    today = timezone.localdate(timezone=first.clinic.tz)
    with transaction.atomic():
        for p in (first, second):
            patient_services.add_child(
                actor_of(clinician),
                p,
                "weight",
                {"measured_on": today - timedelta(days=3), "weight_kg": Decimal("71.5")},
            )
    return first, second


def register(admin: Any, **fields: Any) -> services.Registration:
    return services.register_app(actor_of(admin), **fields)


def backend_session(app: SmartApp, private_key: Any, token_url: str, *, alg: str, scope: str = "system/*.rs",
                    aud: str | None = None) -> OAuth2Session:  # fmt: skip
    """authlib's backend-services client: private_key_jwt with a fresh assertion (five minutes, SMART's limit;
    authlib's default is an hour, which the server refuses) and a new jti."""
    signer = PrivateKeyJWT(aud or token_url, alg=alg, claims={"exp": int(time.time()) + 300})
    return OAuth2Session(app.client_id, private_key, token_endpoint_auth_method=signer, scope=scope)


def fhir(base: str, token: str, path: str, **kw: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/fhir+json", **kw.pop("headers", {})}
    return requests.request(kw.pop("method", "GET"), f"{base}/fhir/{path}", headers=headers, timeout=30, **kw)


def test_discovery_documents(live_server: Any) -> None:
    config = requests.get(f"{live_server.url}/fhir/.well-known/smart-configuration", timeout=30).json()
    assert config["code_challenge_methods_supported"] == ["S256"]
    assert "private_key_jwt" in config["token_endpoint_auth_methods_supported"]
    assert set(config["token_endpoint_auth_signing_alg_values_supported"]) == {"RS384", "ES384"}
    for capability in ("launch-ehr", "launch-standalone", "context-ehr-patient", "permission-v2", "sso-openid-connect"):
        assert capability in config["capabilities"]
    for key in ("authorization_endpoint", "token_endpoint", "introspection_endpoint", "revocation_endpoint"):
        assert requests.options(config[key], timeout=30).status_code < 500
    oidc = requests.get(f"{live_server.url}/oauth/.well-known/openid-configuration", timeout=30).json()
    assert oidc["issuer"] == config["issuer"] == f"{live_server.url}/oauth"
    rfc8414 = requests.get(f"{live_server.url}/oauth/.well-known/oauth-authorization-server", timeout=30).json()
    assert rfc8414["issuer"] == config["issuer"]
    assert requests.get(config["jwks_uri"], timeout=30).json()["keys"]
    statement = requests.get(f"{live_server.url}/fhir/metadata", timeout=30).json()
    security = statement["rest"][0]["security"]
    uris = {e["url"]: e.get("valueUri") for e in security["extension"][0]["extension"]}
    assert uris["authorize"] == config["authorization_endpoint"] and uris["token"] == config["token_endpoint"]
    assert security["service"][0]["coding"][0]["code"] == "SMART-on-FHIR"


def test_standalone_launch_with_pkce_reads_only_its_patient_and_scopes(
    live_server: Any, admin_user: Any, clinician: Any, two_patients: Any
) -> None:
    first, second = two_patients
    app = register(
        admin_user, name="Pain diary", kind=SmartApp.KIND_APP, redirect_uris=REDIRECT,
        allowed_scopes="launch/patient openid fhirUser offline_access patient/*.rs",
    ).app  # fmt: skip
    base = live_server.url
    client = OAuth2Session(
        app.client_id, redirect_uri=REDIRECT, code_challenge_method="S256",
        scope="launch/patient openid fhirUser offline_access patient/Observation.rs patient/Patient.rs",
    )  # fmt: skip
    verifier = "v" * 20 + "erifier-for-the-test-of-pkce-s256-only-1234567890"
    url, state = client.create_authorization_url(f"{base}/oauth/authorize/", code_verifier=verifier, aud=f"{base}/fhir")
    assert "code_challenge_method=S256" in url
    path = url.removeprefix(base)
    browser, page = sign_in(base, "clinician", path)
    assert "Pain diary" in page.text and "Work with one patient you choose here" in page.text
    callback = approve(browser, page, patient_search="SM-1")
    assert callback.startswith(REDIRECT) and parse_qs(urlsplit(callback).query)["state"] == [state]
    assert parse_qs(urlsplit(callback).query)["iss"] == [f"{base}/oauth"]  # RFC 9207: the response names its issuer

    token = client.fetch_token(f"{base}/oauth/token/", authorization_response=callback, code_verifier=verifier)
    assert token["patient"] == str(first.uuid)
    assert token["token_type"] == "Bearer" and token["refresh_token"] and token["id_token"]
    assert set(token["scope"].split()) >= {"patient/Observation.rs", "launch/patient", "openid", "fhirUser"}
    claims = orjson.loads(_b64(token["id_token"].split(".")[1]))
    assert claims["fhirUser"].endswith(f"/fhir/Practitioner/{clinician.uuid}")
    access = token["access_token"]

    # Its patient's Observations: yes; the search is limited to that patient whatever it asks.
    own = fhir(base, access, f"Observation?patient={first.uuid}")
    assert own.status_code == 200, own.text
    assert {e["resource"]["subject"]["reference"] for e in own.json()["entry"]} == {f"Patient/{first.uuid}"}
    everyone = fhir(base, access, "Observation").json()
    assert {e["resource"]["subject"]["reference"] for e in everyone["entry"]} == {f"Patient/{first.uuid}"}
    assert fhir(base, access, f"Observation?patient={second.uuid}").json().get("entry", []) == []
    assert fhir(base, access, f"Patient/{first.uuid}").status_code == 200
    # Another patient: refused, by read, by history, by search.
    other = second.weights.get()
    for path in (f"Observation/{other.uuid}", f"Observation/{other.uuid}/_history", f"Patient/{second.uuid}"):
        answer = fhir(base, access, path)
        assert answer.status_code == 403, (path, answer.text)
        assert answer.json()["resourceType"] == "OperationOutcome"
    assert fhir(base, access, f"Patient?_id={second.uuid}").json().get("entry", []) == []
    # Another type: refused (read and search), and no writes with a read-only scope.
    assert fhir(base, access, "Procedure").status_code == 403
    assert fhir(base, access, f"Condition?patient={first.uuid}").status_code == 403
    weight = {
        "resourceType": "Observation", "status": "final", "subject": {"reference": f"Patient/{first.uuid}"},
        "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
        "effectiveDateTime": str(timezone.localdate(timezone=first.clinic.tz)),
        "valueQuantity": {"value": 72, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"},
    }  # fmt: skip
    created = fhir(base, access, "Observation", method="POST", data=orjson.dumps(weight),
                   headers={"Content-Type": "application/fhir+json"})  # fmt: skip
    assert created.status_code == 403 and "create" in created.text
    assert fhir(base, access, f"Observation/{first.weights.get().uuid}", method="DELETE").status_code == 403
    # Bulk export is not for a patient-scoped token.
    assert fhir(base, access, "$export", headers={"Prefer": "respond-async"}).status_code == 403

    # Every access is in the audit trail with the app's client id.
    reads = AuditEvent.objects.filter(detail__client_id=app.client_id, action="fhir.observation.searched")
    assert reads.exists() and set(reads.values_list("patient_uuid", flat=True)) - {None} == {first.uuid}
    assert AuditEvent.objects.filter(detail__client_id=app.client_id, action="smart.authorized").count() == 1

    # Refresh (offline_access): a new token with the same patient; the old refresh token is used up.
    refreshed = client.refresh_token(f"{base}/oauth/token/", refresh_token=token["refresh_token"])
    assert refreshed["patient"] == str(first.uuid) and refreshed["access_token"] != access
    assert fhir(base, refreshed["access_token"], "Observation").status_code == 200
    replay = requests.post(f"{base}/oauth/token/", data={"grant_type": "refresh_token", "client_id": app.client_id,
                                                         "refresh_token": token["refresh_token"]}, timeout=30)  # fmt: skip
    assert replay.status_code == 400

    # Revoked: 401.
    client.token = refreshed
    assert client.revoke_token(f"{base}/oauth/revoke/", token=refreshed["access_token"]).status_code == 200
    gone = fhir(base, refreshed["access_token"], "Observation")
    assert gone.status_code == 401 and gone.headers["WWW-Authenticate"].startswith("Bearer")


def test_ehr_launch_from_the_chart_carries_the_charts_patient(
    live_server: Any, admin_user: Any, clinician: Any, two_patients: Any
) -> None:
    first, _ = two_patients
    app = register(
        admin_user, name="Knee planner", kind=SmartApp.KIND_APP, redirect_uris=REDIRECT, launch_url=LAUNCH_URL,
        allowed_scopes="launch openid fhirUser patient/*.rs user/Practitioner.rs",
    ).app  # fmt: skip
    base = live_server.url
    browser, chart = sign_in(base, "clinician", f"/patients/{first.uuid}/")
    assert "Launch Knee planner" in chart.text
    launch_form = form_of(chart.text[chart.text.index('id="smart-launch"') :])
    sent = browser.post(urljoin(base, launch_form.action or ""), data=launch_form.fields,
                        headers={"Referer": chart.url}, allow_redirects=False, timeout=30)  # fmt: skip
    assert sent.status_code == 302
    opened = urlsplit(sent.headers["Location"])
    query = parse_qs(opened.query)
    assert f"{opened.scheme}://{opened.netloc}{opened.path}" == LAUNCH_URL
    assert query["iss"] == [f"{base}/fhir"]
    # The app, opened at its launch URL, reads the server's configuration from iss and asks to authorize.
    config = requests.get(f"{query['iss'][0]}/.well-known/smart-configuration", timeout=30).json()
    client = OAuth2Session(app.client_id, redirect_uri=REDIRECT, code_challenge_method="S256",
                           scope="launch openid fhirUser patient/Observation.rs")  # fmt: skip
    verifier = "launch-verifier-" + "x" * 40
    url, _ = client.create_authorization_url(
        config["authorization_endpoint"], code_verifier=verifier, launch=query["launch"][0], aud=query["iss"][0]
    )
    page = browser.get(url, timeout=30)
    assert "Okafor, Ada" in page.text and "the chart you launched it from" in page.text
    callback = approve(browser, page)
    token = client.fetch_token(config["token_endpoint"], authorization_response=callback, code_verifier=verifier)
    assert token["patient"] == str(first.uuid)
    assert "refresh_token" not in token  # neither offline_access nor online_access was asked for
    assert fhir(base, token["access_token"], "Observation").status_code == 200
    # A launch id is single-use.
    again = browser.get(url, timeout=30, allow_redirects=False)
    assert again.status_code == 302 and "error=invalid_request" in again.headers["Location"]


def test_plain_pkce_and_missing_pkce_are_refused(live_server: Any, admin_user: Any, clinician: Any) -> None:
    app = register(admin_user, name="Old app", kind=SmartApp.KIND_APP, redirect_uris=REDIRECT,
                   allowed_scopes="openid user/*.rs").app  # fmt: skip
    base = live_server.url
    browser, _ = sign_in(base, "clinician", "/")
    common = {"response_type": "code", "client_id": app.client_id, "redirect_uri": REDIRECT, "scope": "user/*.rs",
              "state": "s1"}  # fmt: skip
    for extra in ({"code_challenge": "a" * 43, "code_challenge_method": "plain"}, {"code_challenge": "a" * 43}, {}):
        answer = browser.get(f"{base}/oauth/authorize/", params={**common, **extra}, allow_redirects=False, timeout=30)
        assert answer.status_code == 302, answer.text[:500]
        assert "error=invalid_request" in answer.headers["Location"], answer.headers["Location"]
    good = {"code_challenge": create_s256_code_challenge("z" * 50), "code_challenge_method": "S256"}
    assert browser.get(f"{base}/oauth/authorize/", params={**common, **good}, timeout=30).status_code == 200


def test_confidential_app_introspects_its_token_and_an_expired_token_is_401(
    live_server: Any, admin_user: Any, clinician: Any, two_patients: Any
) -> None:
    registration = register(admin_user, name="Server app", kind=SmartApp.KIND_APP, redirect_uris=REDIRECT,
                            confidential=True, allowed_scopes="user/*.rs openid")  # fmt: skip
    app, secret = registration.app, registration.client_secret
    assert secret
    base = live_server.url
    client = OAuth2Session(app.client_id, secret, redirect_uri=REDIRECT, code_challenge_method="S256",
                           scope="user/*.rs")  # fmt: skip
    verifier = "confidential-" + "q" * 40
    url, _ = client.create_authorization_url(f"{base}/oauth/authorize/", code_verifier=verifier)
    browser, page = sign_in(base, "clinician", url.removeprefix(base))
    token = client.fetch_token(f"{base}/oauth/token/", authorization_response=approve(browser, page),
                               code_verifier=verifier)  # fmt: skip
    assert "patient" not in token
    access = token["access_token"]
    # A user/ scope reads what the user's role may: every patient of the clinic.
    assert len(fhir(base, access, "Observation").json()["entry"]) == 2
    assert fhir(base, access, "Observation", method="POST", data=b"{}",
                headers={"Content-Type": "application/fhir+json"}).status_code == 403  # fmt: skip
    seen = requests.post(f"{base}/oauth/introspect/", data={"token": access}, auth=(app.client_id, secret), timeout=30)
    body = seen.json()
    assert body["active"] is True and body["scope"] == "user/*.rs" and body["client_id"] == app.client_id
    assert body["fhirUser"].endswith(f"/fhir/Practitioner/{clinician.uuid}")
    assert requests.post(f"{base}/oauth/introspect/", data={"token": access}, timeout=30).status_code == 401
    AccessToken.objects.filter(application=app.application).update(expires=timezone.now() - timedelta(seconds=1))
    assert fhir(base, access, "Observation").status_code == 401
    seen = requests.post(f"{base}/oauth/introspect/", data={"token": access}, auth=(app.client_id, secret), timeout=30)
    assert seen.json() == {"active": False}


def _b64(part: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


@pytest.mark.parametrize(("make_key", "alg"), [(lambda: RSAKey.generate_key(2048), "RS384"),
                                               (lambda: ECKey.generate_key("P-384"), "ES384")])  # fmt: skip
def test_backend_service_exports_in_bulk_with_private_key_jwt(
    live_server: Any, admin_user: Any, two_patients: Any, make_key: Any, alg: str
) -> None:
    key = make_key()
    public = {"keys": [{**key.as_dict(private=False), "alg": alg}]}
    app = register(admin_user, name="Analytics", kind=SmartApp.KIND_BACKEND, allowed_scopes="system/*.rs",
                   jwks=orjson.dumps(public).decode()).app  # fmt: skip
    base = live_server.url
    token_url = f"{base}/oauth/token/"
    client = backend_session(app, key, token_url, alg=alg)
    token = client.fetch_token(token_url, grant_type="client_credentials")
    assert token["expires_in"] <= 300 and "refresh_token" not in token and "patient" not in token
    access = token["access_token"]

    kick = fhir(base, access, "$export?_type=Patient,Observation", headers={"Prefer": "respond-async"})
    assert kick.status_code == 202, kick.text
    status_url = kick.headers["Content-Location"]
    for _ in range(50):
        status = requests.get(status_url, headers={"Authorization": f"Bearer {access}"}, timeout=30)
        if status.status_code == 200:
            break
        time.sleep(0.1)
    assert status.status_code == 200, status.text
    manifest = status.json()
    counts = {o["type"]: o["count"] for o in manifest["output"]}
    assert counts == {"Patient": 2, "Observation": 2}
    patients_file = next(o["url"] for o in manifest["output"] if o["type"] == "Patient")
    lines = requests.get(patients_file, headers={"Authorization": f"Bearer {access}"}, timeout=30).text.splitlines()
    assert {orjson.loads(line)["id"] for line in lines} == {str(p.uuid) for p in two_patients}
    # Another client (a clinic API token of the same administrator) does not see the app's export.
    from prolotrack.clinics.models import Membership
    from prolotrack.clinics.services import create_api_token

    other = create_api_token(Membership.objects.get(user=admin_user))
    assert requests.get(status_url, headers={"Authorization": f"Bearer {other}"}, timeout=30).status_code == 404
    # The audit rows name the service.
    assert AuditEvent.objects.filter(action="fhir.export.requested", detail__client_id=app.client_id).exists()

    # system/*.rs reads but never writes.
    assert fhir(base, access, "Patient", method="POST", data=b"{}",
                headers={"Content-Type": "application/fhir+json"}).status_code == 403  # fmt: skip


def test_backend_service_keys_are_checked(live_server: Any, admin_user: Any) -> None:
    key = RSAKey.generate_key(2048)
    stranger = RSAKey.generate_key(2048)
    app = register(admin_user, name="Analytics", kind=SmartApp.KIND_BACKEND, allowed_scopes="system/*.rs",
                   jwks=orjson.dumps({"keys": [key.as_dict(private=False)]}).decode()).app  # fmt: skip
    token_url = f"{live_server.url}/oauth/token/"

    def ask(private: Any, scope: str = "system/*.rs", alg: str = "RS384", aud: str = token_url) -> str:
        client = backend_session(app, private, token_url, alg=alg, scope=scope, aud=aud)
        try:
            client.fetch_token(token_url, grant_type="client_credentials")
        except OAuthError as error:
            return str(error.error)
        return "ok"

    assert ask(key) == "ok"
    assert ask(stranger) == "invalid_client"  # signed by a key that is not registered
    assert ask(key, alg="RS256") == "invalid_client"  # RS384 or ES384 only
    assert ask(key, aud=f"{live_server.url}/somewhere-else") == "invalid_client"
    assert ask(key, scope="system/*.cruds") == "invalid_scope"  # more than registered
    assert ask(key, scope="patient/*.rs") == "invalid_scope"
    # A client secret is no way in for a backend service.
    plain = requests.post(token_url, data={"grant_type": "client_credentials", "scope": "system/*.rs"},
                          auth=(app.client_id, "guess"), timeout=30)  # fmt: skip
    assert plain.status_code == 401
    # A stopped app gets no token, and its tokens stop working.
    token = backend_session(app, key, token_url, alg="RS384").fetch_token(token_url, grant_type="client_credentials")
    services.deactivate_app(actor_of(admin_user), app, "Contract ended")
    assert fhir(live_server.url, token["access_token"], "Patient").status_code == 401
    assert ask(key) == "invalid_client"


def test_tokens_never_cross_clinics(live_server: Any, admin_user: Any, clinician: Any, outsider: Any) -> None:
    app = register(admin_user, name="Pain diary", kind=SmartApp.KIND_APP, redirect_uris=REDIRECT,
                   allowed_scopes="user/*.rs").app  # fmt: skip
    base = live_server.url
    client = OAuth2Session(app.client_id, redirect_uri=REDIRECT, code_challenge_method="S256", scope="user/*.rs")
    url, _ = client.create_authorization_url(f"{base}/oauth/authorize/", code_verifier="c" * 50)
    _, page = sign_in(base, "outsider", url.removeprefix(base))
    assert page.status_code == 403 and "registered with another clinic" in page.text
    assert 'id="authorize-form"' not in page.text


def test_backend_service_keys_by_url(live_server: Any, admin_user: Any) -> None:
    """A JWKS registered by URL is fetched when the service asks for a token (here from a local server)."""
    import http.server
    import threading

    key = ECKey.generate_key("P-384")
    body = orjson.dumps({"keys": [key.as_dict(private=False)]})

    class Keys(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return

    server = http.server.HTTPServer(("127.0.0.1", 0), Keys)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        jwks_uri = f"http://127.0.0.1:{server.server_port}/jwks.json"
        app = register(admin_user, name="Analytics", kind=SmartApp.KIND_BACKEND, allowed_scopes="system/Patient.rs",
                       jwks_uri=jwks_uri).app  # fmt: skip
        token_url = f"{live_server.url}/oauth/token/"
        token = backend_session(app, key, token_url, alg="ES384", scope="system/Patient.rs").fetch_token(
            token_url, grant_type="client_credentials"
        )
        assert fhir(live_server.url, token["access_token"], "Patient").status_code == 200
        assert fhir(live_server.url, token["access_token"], "Observation").status_code == 403
    finally:
        server.shutdown()
