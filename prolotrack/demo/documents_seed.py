"""Demo documents: every signed session of the demo clinic gets its visit summary, queued for the background worker.

Rendering is about a third of a second per PDF (docs/DOCUMENTS.md), so the seed does not render: it queues one task
per summary (the `db_worker` that `make run` starts renders them; the chart's documents card shows the progress), and
a summary still queued is rendered on its first download. Safe to run again: only missing summaries are queued.
"""

from typing import Any

from prolotrack.audit.services import Actor
from prolotrack.clinics.queries import members_with
from prolotrack.clinics.roles import Permission, Role
from prolotrack.documents.services import queue_missing_visit_summaries


def seed_documents(clinic: Any) -> dict[str, int]:
    """Queue the visit summaries the demo clinic's signed sessions do not have yet."""
    membership = members_with(clinic, Permission.SESSION_TREAT).select_related("user").order_by("id").first()
    user = membership.user if membership else None
    actor = Actor(user=user, clinic=clinic, role=Role.CLINICIAN, channel="system")
    return {"visit_summaries_queued": queue_missing_visit_summaries(clinic, actor)}
