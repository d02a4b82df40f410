"""Constrained types shared by every API router, so a number a client sends is bounded where it is declared.

An unbounded `int` lets a client send 9223372036854775808 as a page number; the database driver then fails to bind
the offset (HTTP 500). Every integer the API reads from a query string or path uses one of these, and
tests/test_api_inputs.py walks the OpenAPI schema to fail on any integer parameter without a maximum.
"""

from typing import Annotated

from ninja import Field

# Pages beyond this are empty for any clinic; the bound keeps OFFSET (page x size) far inside 64-bit SQL integers.
MAX_PAGE = 1_000_000
MAX_PAGE_SIZE = 200

PageNumber = Annotated[int, Field(ge=1, le=MAX_PAGE, description=f"1 to {MAX_PAGE}.")]
