"""JSON API of the documents app, mounted on the product's API in prolotrack/api.py."""

from ninja import Router

router = Router(tags=["documents"])
