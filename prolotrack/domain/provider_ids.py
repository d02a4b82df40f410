"""The practice's identifiers printed on a superbill: the NPI and the tax identification number (docs/BILLING.md,
"Superbill").

NPI: ten digits, the last a check digit computed with the Luhn formula (ISO/IEC 7812) over the nine first digits
prefixed with 80840 (the card-issuer prefix of the US health industry). CMS, "Requirements for National Provider
Identifier (NPI) and NPI Enumeration", check-digit section: double the alternate digits starting from the rightmost of
the nine, add the digits of the products and the undoubled digits, add the constant 24 (what the prefix 80840
contributes), and the check digit is what brings the sum to the next multiple of ten (example: 123456789 -> 3, NPI
1234567893). 45 CFR 162.406 makes the NPI the standard unique health identifier for providers.

Tax identification number: the IRS's nine-digit number (an EIN, written XX-XXXXXXX; IRS Publication 1635), which a
practice prints for a payer to report what it paid (IRS Form 1099 instructions).
"""

import re

from .errors import InputError

# What the prefix 80840 adds to the Luhn sum of a nine-digit NPI base (CMS, NPI check-digit rule).
NPI_PREFIX_CONSTANT = 24


def npi_check_digit(base: str) -> int:
    """The check digit of a nine-digit NPI base (CMS: Luhn with the 80840 prefix)."""
    if len(base) != 9 or not base.isdigit():
        raise InputError(f"An NPI base is nine digits, not {base!r}.")
    total = NPI_PREFIX_CONSTANT
    for position, char in enumerate(reversed(base)):
        digit = int(char)
        if position % 2 == 0:  # the rightmost digit of the base, then every other one, is doubled
            digit *= 2
            digit = digit - 9 if digit > 9 else digit  # the sum of the product's digits
        total += digit
    return (10 - total % 10) % 10


def _digits(text: str) -> str:
    return re.sub(r"[\s-]", "", text)


def parse_npi(text: str) -> str:
    """An NPI as ten digits, or a message saying what is wrong (empty text stays empty: not recorded)."""
    npi = _digits(text or "")
    if not npi:
        return ""
    if len(npi) != 10 or not npi.isdigit():
        raise InputError(f"An NPI is 10 digits (the number on the NPPES record), not {text!r}.")
    if int(npi[9]) != npi_check_digit(npi[:9]):
        raise InputError(
            f"{npi} is not a valid NPI: its last digit does not match the check digit (CMS rule: Luhn with the "
            "prefix 80840). Check it for a typing error against the NPPES record."
        )
    return npi


def parse_tax_id(text: str) -> str:
    """A tax identification number as nine digits (printed XX-XXXXXXX), or a message saying what is wrong."""
    tin = _digits(text or "")
    if not tin:
        return ""
    if len(tin) != 9 or not tin.isdigit():
        raise InputError(f"A tax identification number (EIN) is 9 digits, such as 12-3456789, not {text!r}.")
    return tin


def format_tax_id(tin: str) -> str:
    """Nine digits as an EIN is written: 12-3456789."""
    return f"{tin[:2]}-{tin[2:]}" if len(tin) == 9 else tin
