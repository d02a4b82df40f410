"""The analytics API's request and response schemas (its router is api.py)."""

from datetime import date

from ninja import Schema


class DashboardParams(Schema):
    start: date | None = None
    end: date | None = None
    indication: str = ""
    period: str = ""
