"""JSON API of the outcomes app, mounted on the product's API in prolotrack/api.py."""

from ninja import Router

from prolotrack.outcomes.api_links import router as links_router
from prolotrack.outcomes.api_trajectory import router as trajectory_router

router = Router(tags=["outcomes"])
router.add_router("", links_router)
router.add_router("", trajectory_router)
