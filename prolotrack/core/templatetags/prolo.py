from datetime import date
from typing import Any

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def age(born: date | None) -> str:
    """Age in whole years today."""
    if born is None:
        return ""
    today = timezone.localdate()
    return str(today.year - born.year - ((today.month, today.day) < (born.month, born.day)))


@register.filter
def person(user: Any, empty: str = "—") -> str:
    """A user's full name, else username, else `empty` when there is nobody (an optional field left empty).

    Use `{{ course.clinician|person }}` rather than `x.get_full_name|default:x.username`: a filter *argument* that
    cannot be resolved (x is None) raises VariableDoesNotExist and the page answers 500 (issue 11)."""
    if user is None or user == "":
        return empty
    return (getattr(user, "get_full_name", lambda: "")() or getattr(user, "username", "") or empty).strip() or empty
