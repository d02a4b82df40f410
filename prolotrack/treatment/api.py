"""Treatment endpoints under /api."""

from ninja import Router

router = Router(tags=["treatment"])
