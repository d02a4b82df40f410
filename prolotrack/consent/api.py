"""JSON API of the consent app, mounted on the product's API in prolotrack/api.py."""

from ninja import Router

router = Router(tags=["consent"])
