from datetime import date

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
