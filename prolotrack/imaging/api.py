"""Imaging endpoints under /api."""

from ninja import Router

router = Router(tags=["imaging"])
