"""JSON API of the analytics app (the clinic dashboard's figures)."""

from ninja import Router

router = Router(tags=["analytics"])
