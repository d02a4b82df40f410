"""The NPI check digit (CMS: Luhn over the nine-digit base with the prefix 80840) and the tax id, by tables of valid
and invalid examples and by a property against the plain Luhn test of the prefixed fifteen digits."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prolotrack.domain.errors import InputError
from prolotrack.domain.provider_ids import format_tax_id, npi_check_digit, parse_npi, parse_tax_id


def luhn_valid(number: str) -> bool:
    """ISO/IEC 7812 Luhn: from the right, every second digit doubled (its digits summed); valid when the sum ends in 0."""
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char) * (2 if position % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0


@pytest.mark.parametrize(
    ("base", "check"),
    [
        ("123456789", 3),  # CMS's worked example: NPI 1234567893
        ("124531959", 9),  # 1245319599, the NPI of many published sample claims
        ("100000000", 4),
        ("987654321", 3),
        ("199999999", 2),
    ],
)
def test_the_check_digit_table(base: str, check: int) -> None:
    assert npi_check_digit(base) == check
    assert luhn_valid("80840" + base + str(check))


@pytest.mark.parametrize(
    ("text", "stored"),
    [("1234567893", "1234567893"), ("1245319599", "1245319599"), (" 1234-567-893 ", "1234567893"), ("", "")],
)
def test_valid_npis(text: str, stored: str) -> None:
    assert parse_npi(text) == stored


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1234567890", "does not match the check digit"),  # the last digit wrong
        ("1234567839", "does not match the check digit"),  # two digits swapped
        ("1245319590", "does not match the check digit"),
        ("123456789", "is 10 digits"),
        ("12345678931", "is 10 digits"),
        ("12345A7893", "is 10 digits"),
    ],
)
def test_invalid_npis(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_npi(text)


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_every_base_gets_the_digit_that_makes_the_prefixed_number_luhn_valid(base: str) -> None:
    npi = base + str(npi_check_digit(base))
    assert parse_npi(npi) == npi and luhn_valid("80840" + npi)
    # Any other last digit is refused.
    wrong = base + str((int(npi[-1]) + 1) % 10)
    with pytest.raises(InputError):
        parse_npi(wrong)


@given(st.text(alphabet="0123456789", min_size=10, max_size=10), st.integers(0, 9), st.integers(1, 9))
def test_one_mistyped_digit_is_always_caught(npi_digits: str, where: int, shift: int) -> None:
    npi = npi_digits[:9] + str(npi_check_digit(npi_digits[:9]))
    typo = npi[:where] + str((int(npi[where]) + shift) % 10) + npi[where + 1 :]
    with pytest.raises(InputError):
        parse_npi(typo)


@pytest.mark.parametrize(
    ("text", "stored", "printed"),
    [("12-3456789", "123456789", "12-3456789"), ("123456789", "123456789", "12-3456789"), ("", "", "")],
)
def test_valid_tax_ids(text: str, stored: str, printed: str) -> None:
    assert parse_tax_id(text) == stored and format_tax_id(stored) == printed


@pytest.mark.parametrize("text", ["12-345678", "1234567890", "12-34S6789", "tax"])
def test_invalid_tax_ids(text: str) -> None:
    with pytest.raises(InputError, match="is 9 digits"):
        parse_tax_id(text)
