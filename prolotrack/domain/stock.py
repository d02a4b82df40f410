"""Stocks drawn into a solution: the expiry rule and the lot recall match (docs/clinical/lot-recall.md).

A stock is one vial or bag of a product (an agent or a diluent) with its lot (batch) number and expiry date, as
written on the label. Two rules live here, pure:

- **No stock past its expiry on the session date.** A product is usable up to and including its expiry date
  (21 CFR 211.137; USP <7>: a date given as month and year means the last day of that month, so the form asks for
  the full date). A stock whose expiry is before the session date is refused; one that expires on that day is not.
- **Which stocks a recall names.** A recall notice names a product and a lot, or a product and an expiry window
  (a manufacturer's recall of every lot expiring between two dates). Lots are compared as printed: case and
  surrounding spaces ignored, nothing else.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from .errors import DomainError
from .vocabulary import StockProduct


class StockError(DomainError):
    """Refuse a stock that must not be drawn up, or a recall question that cannot be answered."""


class ExpiredStockError(StockError):
    """A stock past its expiry on the session date; `index` is its place in the solution's list of stocks."""

    def __init__(self, message: str, *, index: int, product: str) -> None:
        super().__init__(message)
        self.index = index
        self.product = product


# Every product a solution records a lot for: the agents, then the diluents (domain/vocabulary.py, StockProduct).
PRODUCTS: tuple[tuple[str, str], ...] = tuple(StockProduct.choices)
PRODUCT_LABELS = dict(PRODUCTS)


def product_label(code: str) -> str:
    """The product's name as a pharmacist reads it (the code itself if it is not on the list)."""
    return PRODUCT_LABELS.get(code, code)


def normalise_lot(lot: str) -> str:
    """A lot number as compared: surrounding spaces dropped, case folded (labels print lots in either case)."""
    return " ".join(lot.split()).casefold()


def parse_expiry(value: object) -> date | None:
    """An expiry date from a date, an ISO date text (YYYY-MM-DD) or nothing; anything else is refused."""
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise StockError(f"Expiry '{value}' is not a date: give it as YYYY-MM-DD, as printed on the label.")


@dataclass(frozen=True)
class Stock:
    """One stock as drawn up: the product, its lot and its expiry date (None when not written down)."""

    product: str
    lot: str = ""
    expiry: date | None = None


def expired_problem(stock: Stock, session_day: date) -> str | None:
    """The message for a stock past its expiry on the session date, or None when it may be used that day."""
    if stock.expiry is None or stock.expiry >= session_day:
        return None
    lot = stock.lot.strip() or "(no lot given)"
    return (
        f"{product_label(stock.product)} lot {lot} expired on {stock.expiry.isoformat()}, before the session date "
        f"{session_day.isoformat()}: do not use it; draw up an in-date stock."
    )


def check_in_date(stocks: Sequence[Stock], session_day: date) -> None:
    """Refuse the first stock past its expiry on the session date (ExpiredStockError names which one)."""
    for index, stock in enumerate(stocks):
        problem = expired_problem(stock, session_day)
        if problem is not None:
            raise ExpiredStockError(problem, index=index, product=stock.product)


class RecallBy(StrEnum):
    LOT = "lot"
    EXPIRY = "expiry"


@dataclass(frozen=True)
class RecallQuestion:
    """What a recall asks for: a product and a lot, or a product and an expiry window (both ends included)."""

    product: str
    lot: str = ""
    expires_from: date | None = None
    expires_to: date | None = None

    @property
    def by(self) -> RecallBy:
        return RecallBy.LOT if self.lot.strip() else RecallBy.EXPIRY

    def problems(self) -> dict[str, str]:
        """What to fix before the question can be asked, by field ({} when it can)."""
        found: dict[str, str] = {}
        if self.product not in PRODUCT_LABELS:
            found["product"] = "Choose the product named in the recall notice."
        if not self.lot.strip() and self.expires_from is None and self.expires_to is None:
            found["lot"] = "Give the lot number from the recall notice, or an expiry window."
        if self.expires_from and self.expires_to and self.expires_from > self.expires_to:
            found["expires_to"] = "The end of the expiry window is before its start."
        return found

    def matches(self, stock: Stock) -> bool:
        """Whether a stock drawn up is one the recall names."""
        if stock.product != self.product:
            return False
        if self.lot.strip() and normalise_lot(stock.lot) != normalise_lot(self.lot):
            return False
        if self.expires_from is not None or self.expires_to is not None:
            if stock.expiry is None:
                return False
            if self.expires_from is not None and stock.expiry < self.expires_from:
                return False
            if self.expires_to is not None and stock.expiry > self.expires_to:
                return False
        return True


def recalled(question: RecallQuestion, stocks: Iterable[Stock]) -> list[Stock]:
    """The stocks of a solution that the recall names (usually none or one)."""
    return [s for s in stocks if question.matches(s)]
