"""The chart's card of SMART apps that can be launched with the patient."""

from typing import Any

from django import template

from prolotrack.clinics.roles import Permission
from prolotrack.smart import queries
from prolotrack.smart.models import SmartApp

register = template.Library()


@register.inclusion_tag("smart/_launch_card.html", takes_context=True)
def smart_launch_card(context: Any, patient: Any) -> dict[str, Any]:
    request = context["request"]
    membership = getattr(request, "membership", None)
    apps: list[SmartApp] = []
    if (
        membership is not None
        and membership.can(Permission.API_TOKEN_USE)
        and not getattr(patient, "is_entered_in_error", False)
    ):
        apps = queries.launchable_apps(membership.clinic)
    return {"apps": apps, "patient": patient, "request": request}
