"""The domain's clinical limits (prolotrack/domain/limits.py) as Django validators and django-ninja schema fields."""

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from ninja import Field

from prolotrack.domain.limits import BY_KEY, Limit


@deconstructible(path="prolotrack.core.limits.LimitValidator")
class LimitValidator:
    """Refuse a value outside one domain limit, with the domain's message (migrations store only the key)."""

    def __init__(self, key: str) -> None:
        if key not in BY_KEY:
            raise ValueError(f"No clinical limit '{key}' in prolotrack/domain/limits.py.")
        self.key = key

    @property
    def limit(self) -> Limit:
        return BY_KEY[self.key]

    def __call__(self, value: Decimal | int | None) -> None:
        if value is None:
            return
        if (problem := self.limit.problem(value)) is not None:
            raise ValidationError(problem, code="limit", params={"value": value})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LimitValidator) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)


def validators(limit: Limit) -> list[LimitValidator]:
    """Return the validators a model field holding this limit's value carries."""
    return [LimitValidator(limit.key)]


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def bounds_schema(limit: Limit) -> dict[str, Any]:
    """Return the limit as JSON Schema keywords (what the OpenAPI schema publishes)."""
    low = "exclusiveMinimum" if limit.low_open else "minimum"
    return {low: _number(limit.low), "maximum": _number(limit.high)}


def limit_field(limit: Limit, default: Any = ..., *, description: str = "", enforce: bool = True) -> Any:
    """Return a schema Field that publishes the limit; enforce=False leaves the check to the domain's own message."""
    text = f"{description} Range {limit.span}.".strip()
    kwargs: dict[str, Any] = {"description": text, "json_schema_extra": bounds_schema(limit)}
    if enforce:
        low, high = (int(limit.low), int(limit.high)) if limit.whole else (limit.low, limit.high)
        kwargs["gt" if limit.low_open else "ge"] = low
        kwargs["le"] = high
    return Field(default, **kwargs)
