"""Turn user-supplied numbers into exact, finite Decimals and format them for messages."""

from decimal import Decimal, InvalidOperation

from .errors import DomainError, InputError


def as_decimal(value: object, what: str, error: type[DomainError] = InputError) -> Decimal:
    """Return value as a finite Decimal, refusing floats, booleans, text that is not a number and NaN/Infinity."""
    # bool is an int subclass: True must not silently become 1 mL.
    if isinstance(value, bool):
        raise error(f"{what} must be a number, not {value}.")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip().replace(",", "."))
        except InvalidOperation:
            raise error(f"{what} '{value}' is not a number: enter digits such as 2.5.") from None
    elif isinstance(value, float):
        # A binary float cannot hold 0.1 exactly; clinical quantities must round-trip to the digits entered.
        raise error(f"{what} was given as a binary float ({value!r}): pass it as a Decimal or as text.")
    else:
        raise error(f"{what} must be a number, not {type(value).__name__}.")
    if not number.is_finite():
        raise error(f"{what} must be a finite number, not {number}.")
    return number


def as_positive(value: object, what: str, error: type[DomainError] = InputError) -> Decimal:
    """Return value as a Decimal above zero."""
    number = as_decimal(value, what, error)
    if number <= 0:
        raise error(f"{what} must be above zero (got {fmt(number)}): enter the actual amount.")
    return number


def as_whole_days(value: object, what: str, low: int, high: int, error: type[DomainError]) -> int:
    """Return value as a whole number of days within [low, high]."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise error(f"{what} must be a whole number of days, not {value!r}.")
    if not low <= value <= high:
        raise error(f"{what} must be between {low} and {high} days (got {value}).")
    return value


def fmt(number: Decimal) -> str:
    """Format a Decimal for a message without exponent or needless trailing zeros."""
    if number == number.to_integral_value():
        return format(number.quantize(Decimal(1)), "f")
    return format(number.normalize(), "f")
