"""`{{ amount|money:currency }}`: an amount to its currency's minor unit with the code (domain/money.py)."""

from decimal import Decimal

from django import template

from prolotrack.domain.money import format_money

register = template.Library()


@register.filter
def money(amount: Decimal | None, currency: str) -> str:
    if amount is None:
        return "—"
    return format_money(Decimal(amount), currency)
