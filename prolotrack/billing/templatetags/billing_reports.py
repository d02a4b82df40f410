"""`{{ value|amount:currency }}`: an amount in a report's table, to its currency's minor unit with thousands separated
("1,234.50"), without the code (the table says the currency once). `{{ value|zero_class }}`: "zero" for a zero cell,
which the page mutes (and leaves out of a phone's stacked rows)."""

from decimal import Decimal

from django import template

from prolotrack.domain.money import round_money

register = template.Library()


@register.filter
def amount(value: Decimal | None, currency: str) -> str:
    if value is None:
        return "—"
    return format(round_money(Decimal(value), currency), ",f")


@register.filter
def zero_class(value: Decimal | None) -> str:
    return "zero" if not value else ""
