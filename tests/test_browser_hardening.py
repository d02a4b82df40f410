"""Browser hardening (issue 13): a Content-Security-Policy on every page, no inline script or style without a nonce,
Cache-Control: no-store on every answer the application makes, Referrer-Policy and Permissions-Policy.

The headers are checked here on pages without arguments, on the JSON API and FHIR, and, through
`hardening_problem`, on every object page of tests/test_every_page_renders.py. The templates are read for inline
code the policy would block. The browser tests (tests/browser) run under the same policy and fail on any violation
the browser reports (tests/browser/conftest.py, `csp_watch`).
"""

import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse

from prolotrack.core.headers import PERMISSIONS_POLICY, no_store

TEMPLATES = Path(settings.BASE_DIR) / "prolotrack" / "templates"
# Not web pages: rendered to PDF by WeasyPrint (documents/pdf.py, no browser; map.svg becomes an image in the PDF) or
# sent as email.
NOT_PAGES = {
    "documents/print_base.html",
    "documents/visit_summary_pdf.html",
    "documents/map.svg",
    "messaging/email.html",
}


def policy(response: Any) -> dict[str, list[str]]:
    header = response.get("Content-Security-Policy", "")
    directives = [d.strip().split() for d in header.split(";") if d.strip()]
    return {d[0]: d[1:] for d in directives}


def hardening_problem(response: Any) -> str:
    """What is missing from an answer's browser hardening headers, or "" when nothing is."""
    found = policy(response)
    problems = []
    if not found:
        problems.append("no Content-Security-Policy")
    elif "sandbox" in found and found.get("script-src", found.get("default-src")) == ["'none'"]:
        pass  # a file served as a sandboxed document that can run nothing (imaging/serve.py): stricter still
    else:
        for directive in ("script-src", "style-src"):
            sources = found.get(directive, [])
            if "'self'" not in sources or {"'unsafe-inline'", "'unsafe-eval'", "*"} & set(sources):
                problems.append(f"{directive} is {sources}")
        if found.get("object-src") != ["'none'"] or found.get("frame-ancestors") != ["'none'"]:
            problems.append("object-src or frame-ancestors is not 'none'")
    if "no-store" not in response.get("Cache-Control", ""):
        problems.append(f"Cache-Control is {response.get('Cache-Control')!r}")
    if response.get("Referrer-Policy") != "same-origin":
        problems.append(f"Referrer-Policy is {response.get('Referrer-Policy')!r}")
    if response.get("Permissions-Policy") != PERMISSIONS_POLICY:
        problems.append("no Permissions-Policy")
    return "; ".join(problems)


def test_the_check_finds_a_missing_header():
    class Bare(dict):
        def get(self, key, default=None):
            return super().get(key, default)

    assert "no Content-Security-Policy" in hardening_problem(Bare())
    loose = Bare({"Content-Security-Policy": "script-src 'self' 'unsafe-inline'; style-src 'self'"})
    assert "script-src" in hardening_problem(loose) and "Cache-Control" in hardening_problem(loose)
    sandboxed = Bare({"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox"})
    assert "script-src" not in hardening_problem(sandboxed)
    unsandboxed = Bare({"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})
    assert "style-src" in hardening_problem(unsandboxed)


def permissions(header: str) -> dict[str, str]:
    return dict(part.strip().split("=", 1) for part in header.split(",") if part.strip())


@pytest.mark.parametrize(
    ("feature", "allowlist"),
    [
        # Passkeys (docs/SECURITY.md, "Passkeys"): the site's own pages may create and use them, no embedded frame.
        ("publickey-credentials-create", "(self)"),
        ("publickey-credentials-get", "(self)"),
        # Everything else stays denied.
        ("camera", "()"),
        ("microphone", "()"),
        ("geolocation", "()"),
        ("payment", "()"),
        ("usb", "()"),
    ],
)
def test_the_permissions_policy_allows_passkeys_to_the_site_only_and_denies_the_rest(client, feature, allowlist):
    header = client.get(reverse("login"))["Permissions-Policy"]
    found = permissions(header)
    assert found[feature] == allowlist
    assert {v for k, v in found.items() if not k.startswith("publickey-credentials-")} == {"()"}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("", "no-store"),
        ("private, max-age=300", "private, no-store"),
        ("max-age=3600", "no-store"),
        ("private, no-store", "private, no-store"),
        ("max-age=0, no-cache, no-store, must-revalidate, private", "max-age=0, no-cache, no-store, must-revalidate, private"),
    ],
)  # fmt: skip
def test_every_cache_control_becomes_no_store(given, expected):
    assert no_store(given) == expected


@pytest.mark.parametrize(
    "path",
    ["/", "/accounts/login/", "/patients/", "/calendar/", "/tools/calculator/", "/dashboard/", "/outbox/", "/audit/",
     "/clinic/settings/", "/api/docs", "/patients/new/"],
)  # fmt: skip
def test_staff_pages_carry_the_policy_and_no_store(login, admin_user, clinician, path):
    client = login(clinician)
    response = client.get(path, follow=False)
    if response.status_code in (302, 403):
        response = login(admin_user).get(path)
    assert response.status_code in (200, 302), path
    assert hardening_problem(response) == "", path


def test_the_login_page_for_anyone_carries_the_policy(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200 and hardening_problem(response) == ""


def test_api_and_fhir_answers_with_patient_data_are_no_store(client, clinician, patient, api_token):
    headers = api_token(clinician)
    api = client.get("/api/patients", headers=headers)
    assert api.status_code == 200 and patient.family_name in api.content.decode()
    fhir = client.get(f"/fhir/Patient/{patient.uuid}", headers=headers)
    assert fhir.status_code == 200
    for response in (api, fhir):
        assert response["Cache-Control"] == "no-store"
        assert "default-src 'self'" in response["Content-Security-Policy"]


def test_a_view_that_allowed_caching_is_made_no_store(client, clinician):
    """The calendar feed (patients' names and appointments) once said private, max-age=300."""
    from prolotrack.clinics.testing import actor_of
    from prolotrack.messaging import services as messaging_services

    token = messaging_services.create_feed_token(actor_of(clinician))[1]
    response = client.get(reverse("messaging:calendar-feed", args=[token]))
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"


def test_the_nonce_is_in_the_policy_only_when_a_page_uses_it(login, clinician):
    client = login(clinician)
    week = client.get("/calendar/?view=week")
    nonce = re.search(r'<style nonce="([^"]+)">', week.content.decode())
    assert nonce and f"'nonce-{nonce.group(1)}'" in policy(week)["style-src"]
    assert not any(s.startswith("'nonce-") for s in policy(client.get("/patients/"))["style-src"])


# --- The templates hold no inline code the policy would block ---------------------------------------------------------

INLINE = [
    (re.compile(r"\sstyle\s*=", re.I), "a style attribute (use a class in a static stylesheet)"),
    (re.compile(r"<style(?![^>]*\bnonce=)[^>]*>", re.I), "a <style> element without the nonce"),
    (re.compile(r"<script(?![^>]*\b(src|nonce)=)(?![^>]*type=\"application/(ld\+)?json\")[^>]*>", re.I),
     "an inline <script> without the nonce"),
    (re.compile(r"\son[a-z]+\s*=\s*[\"']", re.I), "an inline event handler (use a listener in a static script)"),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
]  # fmt: skip


def template_problems(text: str) -> list[str]:
    return [why for pattern, why in INLINE if pattern.search(text)]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ('<div style="color:red">', True),
        ("<style>.a{}</style>", True),
        ('<style nonce="{{ request.csp_nonce }}">', False),
        ("<script>alert(1)</script>", True),
        ('<script src="/static/a.js" defer></script>', False),
        ('<select onchange="this.form.submit()">', True),
        ('<a href="javascript:void(0)">', True),
        ('<div class="onboarding" data-x="1">', False),
    ],
)
def test_the_template_check_finds_inline_code(text, found):
    assert bool(template_problems(text)) is found


def _page_templates() -> list[Path]:
    return sorted(
        p for p in TEMPLATES.rglob("*") if p.suffix in (".html", ".svg") and p.relative_to(TEMPLATES).as_posix() not in NOT_PAGES
    )  # fmt: skip


@pytest.mark.parametrize("path", _page_templates(), ids=lambda p: p.relative_to(TEMPLATES).as_posix())
def test_no_template_holds_inline_code_the_policy_would_block(path):
    problems = template_problems(path.read_text())
    assert not problems, f"{path.relative_to(TEMPLATES)}: " + "; ".join(problems)


def test_every_static_script_is_free_of_eval():
    scripts = (Path(settings.BASE_DIR) / "prolotrack" / "static" / "prolotrack").glob("*.js")
    for script in scripts:
        text = script.read_text()
        assert not re.search(r"\beval\(|new Function\(|setAttribute\(\s*[\"']style", text), script.name
