"""JSON API of the messaging app, mounted on the product's API in prolotrack/api.py."""

from ninja import Router

router = Router(tags=["messaging"])
