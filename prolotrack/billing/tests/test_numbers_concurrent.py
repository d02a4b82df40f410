"""Invoice numbers are gapless and unique per clinic when several people issue at the same moment (docs/BILLING.md,
"Numbers"). Threads need committed rows and their own connections, so this is the app's one transactional test;
it runs on SQLite (BEGIN IMMEDIATE) and on PostgreSQL (SELECT ... FOR UPDATE on the counter row)."""

from collections.abc import Callable
from typing import Any

import pytest

from prolotrack.billing import services
from prolotrack.billing.models import Invoice
from prolotrack.clinics.models import User
from prolotrack.clinics.testing import actor_of
from prolotrack.core.testing import race

THREADS = 6


@pytest.mark.django_db(transaction=True)
def test_concurrent_issues_get_numbers_one_to_n(frontdesk: User, patient: Any, fees: dict[str, Any]) -> None:
    actor = actor_of(frontdesk)
    drafts = []
    for _ in range(THREADS):
        draft = services.draft_invoice(actor, patient)
        services.add_line(actor, draft, fees["FOLLOW-UP"])
        drafts.append(draft)

    def issue(n: int, go: Callable[[], None]) -> None:
        draft = Invoice.objects.get(pk=drafts[n].pk)
        go()
        services.issue_invoice(actor, draft)

    race(THREADS, issue)
    numbers = sorted(Invoice.objects.filter(clinic=patient.clinic).values_list("number", flat=True))
    assert numbers == list(range(1, THREADS + 1))
