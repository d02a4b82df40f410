"""How every page a patient opens by link (no login) is answered: in the clinic's zone, never cached or indexed.

No one is logged in on these pages, so no middleware chose a time zone: times read in the clinic's (the `clinic` of
the context, core/clinictime.py). The answer is not stored by the browser or a proxy (the page holds health details
and its address is the key to it), sends no referrer off the site and asks search engines not to index it.
"""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "same-origin", "X-Robots-Tag": "noindex"}


def render_patient_page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    clinic = context.get("clinic")
    with timezone.override(clinic.tz if clinic is not None else None):
        response = render(request, template, context, status=status)
    for header, value in NO_STORE.items():
        response[header] = value
    return response
