"""Typed requests: what the middleware and the token checks set on a request, for the type checker.

Nothing here runs: these classes only name the attributes that `clinics.middleware.ClinicMiddleware`,
`clinics.api_auth.BearerToken`, `fhir.http.fhir_endpoint` and django-htmx's middleware put on the request, so that
`request.clinic` in a view needs no `type: ignore`. A view annotated with `ClinicRequest` must sit behind `@require`
(pages) or an authenticated router (API), which guarantee a clinic and a membership.
"""

from typing import Any

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from prolotrack.audit.services import Actor
from prolotrack.clinics.models import Clinic, Membership, User


class MiddlewareRequest(HttpRequest):
    """Any request after `ClinicMiddleware`: a clinic and membership when the user is signed in to one, else None."""

    clinic: Clinic | None
    membership: Membership | None
    # Every membership of the signed-in user, active or not, with its clinic (the clinic switcher of base.html).
    memberships: list[Membership]
    htmx: HtmxDetails
    # Set by accounts.middleware.SecondFactorMiddleware on a signed-in session still owing its second factor.
    second_factor_pending: bool


class ClinicRequest(HttpRequest):
    """A page request that passed `@require`: a signed-in member acting in one clinic."""

    user: User
    clinic: Clinic
    membership: Membership
    htmx: HtmxDetails


class ApiRequest(ClinicRequest):
    """An API request authenticated by a bearer token: django-ninja sets `auth` to the token's membership, and
    `clinics.api_auth.api_require` sets `actor` once the membership's role holds the endpoint's permission."""

    auth: Membership
    actor: Actor


class FhirRequest(ClinicRequest):
    """A FHIR request past `fhir_endpoint`: the token's membership, also under `fhir_membership`."""

    fhir_membership: Membership
    # A SMART token (docs/SMART.md): its scopes, patient and app (fhir.http.OAuthGrant); None for a clinic API token.
    fhir_grant: Any
    # The patient a patient/ scope limits this request's answer to, or None.
    fhir_patient_limit: Any
